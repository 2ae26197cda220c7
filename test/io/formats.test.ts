/**
 * readRaster against GeoTIFFs written by GDAL 3.6 in every layout it offers (test/fixtures/formats, made by
 * make.sh): strips and tiles; none, LZW, DEFLATE and ZSTD with predictors 2 and 3, PackBits, LERC; big-endian;
 * BigTIFF; every sample type; band- and pixel-interleaved bands; COG and gdaladdo overviews; scale / offset;
 * sparse blocks.
 *
 * Provenance of the expected numbers: the cells come from values.mjs (the arrays the sources were written
 * from; GDAL converted them losslessly, and expected.json records that GDAL reads each fixture back equal to
 * its source); file facts (type, block, compression, nodata, scale, overviews) and the overview cells are
 * what GDAL's Python bindings reported when make.sh ran (expected.json).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { openGeoTiff, readRaster, readRasterInfo, type SampleType } from '../../src/io/geotiff.js';
import { encodeTiff } from '../../src/io/tiff-writer.js';
import type { BandArray } from '../../src/model/raster.js';
import { COG_CRS, COG_HEIGHT, COG_TRANSFORM, COG_WIDTH, CRS, HEIGHT, TRANSFORM, WIDTH, cells, cogCells, scaledRaw, sparseCells } from '../fixtures/formats/values.mjs';
import { ibfError } from '../helpers.js';

const DIR = new URL('../fixtures/formats/', import.meta.url);
const file = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, DIR)));

interface OverviewCells {
  size: [number, number];
  validCount: number;
  validSum: number;
  cells: [number, number, number | null][];
}
interface Fact {
  source: string;
  bytes: number;
  size: [number, number];
  bands: number;
  type: string;
  block: [number, number];
  compression: string;
  interleave: string | null;
  predictor: string | null;
  nbits: string | null;
  byteOrder: 'little' | 'big';
  bigtiff: boolean;
  nodata: number | 'nan' | null;
  scale: number | null;
  offset: number | null;
  unit: string;
  overviews: [number, number][];
  emptyBlocks: number;
  gdalEqualsSource: boolean;
  overviewCells?: OverviewCells[];
}
const EXPECTED = JSON.parse(readFileSync(new URL('expected.json', DIR), 'utf8')) as { generator: string; files: Record<string, Fact> };
const FILES = EXPECTED.files;

const TYPES: Record<string, SampleType> = {
  Int8: 'int8', Byte: 'uint8', Int16: 'int16', UInt16: 'uint16', Int32: 'int32', UInt32: 'uint32', Float32: 'float32', Float64: 'float64',
};
const COMPRESSION: Record<string, number> = {
  NONE: 1, LZW: 5, DEFLATE: 8, PACKBITS: 32773, ZSTD: 50000, LERC: 34887, LERC_DEFLATE: 34887, LERC_ZSTD: 34887, LZMA: 34925,
};

/** Files geotiff 3.0.5 cannot decode: refused with what it is and a gdal_translate command that converts it. */
const REFUSED: Record<string, { message: RegExp; hint: RegExp }> = {
  'int64-deflate.tif': { message: /Int64 cells \(64-bit signed integer\), which are not supported/, hint: /gdal_translate -ot Float64/ },
  'uint64-deflate.tif': { message: /UInt64 cells \(64-bit unsigned integer\)/, hint: /gdal_translate -ot Float64/ },
  'uint8-lzma.tif': { message: /compressed with LZMA \(TIFF compression 34925\), which geotiff cannot decode/, hint: /gdal_translate -co COMPRESS=DEFLATE/ },
  'uint32-lerc.tif': { message: /UInt32 cells compressed with LERC/, hint: /gdal_translate -co COMPRESS=DEFLATE/ },
};

/** The arrays a source of make-sources.mjs was written from. */
function source(name: string): BandArray[] {
  const three = (t: 'int16' | 'float32') => [0, 1, 2].map((b) => cells(t, b));
  switch (name) {
    case 'multi-int16.tif': return three('int16');
    case 'multi-float32.tif': return three('float32');
    case 'sparse-float32.tif': return [sparseCells('float32', NaN)];
    case 'sparse-int16.tif': return [sparseCells('int16', -9999)];
    case 'scaled-int16.tif': return [scaledRaw()];
    case 'cog.tif': return [cogCells()];
    default: return [cells(name.replace('.tif', '') as Parameters<typeof cells>[0])];
  }
}

/** Cells of `a` (width `w`) inside window `[x0, y0, x1, y1]`, as an array of the same type. */
function crop(a: BandArray, w: number, [x0, y0, x1, y1]: readonly number[]): BandArray {
  const out = new (a.constructor as new (n: number) => BandArray)((x1! - x0!) * (y1! - y0!));
  let k = 0;
  for (let y = y0!; y < y1!; y++) for (let x = x0!; x < x1!; x++) out[k++] = a[y * w + x]!;
  return out;
}

/** Cells where `got` and `want` differ (Object.is: NaN equals NaN, -0 differs from 0), at most 5. */
function diffs(got: ArrayLike<number>, want: ArrayLike<number>): string[] {
  const out: string[] = [];
  if (got.length !== want.length) return [`length ${got.length} !== ${want.length}`];
  for (let i = 0; i < want.length && out.length < 5; i++) if (!Object.is(got[i], want[i])) out.push(`[${i}] ${got[i]} !== ${want[i]}`);
  return out;
}


describe(`GDAL-written fixtures decode to the values they were made from (${EXPECTED.generator})`, () => {
  it('the fixture set covers what issue #3 asks for and stays small', () => {
    const facts = Object.values(FILES);
    const compressions = new Set(facts.map((f) => f.compression));
    for (const c of ['NONE', 'LZW', 'DEFLATE', 'PACKBITS', 'ZSTD', 'LERC', 'LERC_DEFLATE', 'LERC_ZSTD', 'LZMA']) expect(compressions).toContain(c);
    const types = new Set(facts.map((f) => (f.nbits === '16' ? 'Float16' : f.type)));
    for (const t of ['Int8', 'Byte', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Float16', 'Float32', 'Float64', 'Int64', 'UInt64']) expect(types).toContain(t);
    expect(facts.some((f) => f.predictor === '2' && f.type === 'Float64')).toBe(true);
    expect(facts.some((f) => f.predictor === '3')).toBe(true);
    expect(facts.some((f) => f.bigtiff)).toBe(true);
    expect(facts.some((f) => f.byteOrder === 'big' && f.predictor === '2')).toBe(true);
    expect(facts.some((f) => f.interleave === 'PIXEL' && f.bands > 1)).toBe(true);
    expect(facts.some((f) => f.interleave === 'BAND' && f.bands > 1)).toBe(true);
    expect(facts.some((f) => f.block[0] < f.size[0])).toBe(true); // tiled
    expect(facts.some((f) => f.block[0] === f.size[0] && f.block[1] < f.size[1])).toBe(true); // strips
    expect(facts.filter((f) => f.overviews.length > 0).length).toBeGreaterThanOrEqual(2);
    expect(facts.filter((f) => f.emptyBlocks > 0).length).toBeGreaterThanOrEqual(2);
    expect(facts.reduce((s, f) => s + f.bytes, 0)).toBeLessThan(400 * 1024);
    expect(facts.every((f) => f.gdalEqualsSource)).toBe(true); // GDAL itself reads each fixture as its source
  });

  for (const [name, fact] of Object.entries(FILES)) {
    const refused = REFUSED[name];
    it(`${name}: ${fact.type}${fact.nbits ? ` (NBITS=${fact.nbits})` : ''}, ${fact.compression}${fact.predictor ? ` predictor ${fact.predictor}` : ''}, ${fact.block[0] < fact.size[0] ? 'tiled' : 'strips'}, ${fact.byteOrder}-endian${fact.bigtiff ? ', BigTIFF' : ''}${fact.bands > 1 ? `, ${fact.bands} bands ${fact.interleave}` : ''}`, async () => {
      const bytes = file(name);
      expect(bytes.byteLength).toBe(fact.bytes);
      if (refused && /64/.test(fact.type)) {
        const e = await ibfError(readRasterInfo(bytes, { name }));
        expect(e.code).toBe('E_TIFF_INVALID');
        expect(e.message).toMatch(new RegExp(`^${name}: `));
        expect(e.message).toMatch(refused.message);
        expect(e.hint).toMatch(refused.hint);
        return;
      }
      const info = await readRasterInfo(bytes, { name });
      expect([info.grid.width, info.grid.height]).toEqual(fact.size);
      expect(info.bandCount).toBe(fact.bands);
      expect(info.dataType).toBe(fact.nbits === '16' ? 'float16' : TYPES[fact.type]);
      expect([info.block.width, info.block.height]).toEqual(fact.block);
      expect(info.compression).toBe(COMPRESSION[fact.compression]);
      expect(info.overviews.map((o) => [o.width, o.height])).toEqual(fact.overviews);
      if (fact.nodata === 'nan') expect(info.nodata).toBeNaN();
      else expect(info.nodata).toBe(fact.nodata === null || !info.dataType.startsWith('float32') ? fact.nodata : Math.fround(fact.nodata));
      expect(info.scale).toEqual(fact.scale === null ? undefined : [fact.scale]);
      expect(info.offset).toEqual(fact.offset === null ? undefined : [fact.offset]);
      expect(info.units).toEqual(fact.unit ? [fact.unit] : undefined);
      const big = fact.size[0] === COG_WIDTH;
      expect(info.grid.transform).toEqual(big ? COG_TRANSFORM : TRANSFORM);
      expect(info.grid.crs).toBe(big ? COG_CRS : CRS);
      if (refused) {
        const e = await ibfError(readRaster(bytes, { name }));
        expect(e.code).toBe('E_TIFF_INVALID');
        expect(e.message).toMatch(new RegExp(`^${name}: `));
        expect(e.message).toMatch(refused.message);
        expect(e.hint).toMatch(refused.hint);
        return;
      }
      const want = source(fact.source);
      const r = await readRaster(bytes, { name, scale: 1, offset: 0 }); // stored values
      expect(r.bands).toHaveLength(want.length);
      r.bands.forEach((band, b) => {
        expect(band.constructor).toBe(want[b]!.constructor);
        expect(diffs(band, want[b]!), `band ${b}`).toEqual([]);
      });
      // windows across block edges, bands in another order
      const [w, h] = fact.size;
      const order = want.map((_, b) => want.length - 1 - b);
      for (const win of [[3, 5, 20, 21], [15, 9, 33, 17], [w - 4, h - 3, w, h]] as const) {
        const part = await readRaster(bytes, { name, window: win, bands: order, scale: 1, offset: 0 });
        part.bands.forEach((band, j) => expect(diffs(band, crop(want[order[j]!]!, w, win)), `window ${win} band ${order[j]}`).toEqual([]));
        expect(part.grid.transform[0]).toBe(info.grid.transform[0] + win[0] * info.grid.transform[1]);
      }
    });
  }
});

describe('overviews: the full-resolution image unless asked, GDAL overview cells when asked', () => {
  for (const name of ['cog-deflate.tif', 'f32-ovr-tile.tif']) {
    it(`${name}: each overview matches GDAL's reading; windows of an overview are slices of it`, async () => {
      const fact = FILES[name]!;
      const reader = await openGeoTiff(file(name), { name });
      expect(reader.info.overviews.map((o) => [o.width, o.height])).toEqual(fact.overviews);
      const full = await reader.read();
      expect([full.grid.width, full.grid.height]).toEqual(fact.size); // never an overview by accident
      for (const [k, ov] of fact.overviewCells!.entries()) {
        const r = await reader.read({ overview: k });
        const [ow, oh] = ov.size;
        expect([r.grid.width, r.grid.height]).toEqual(ov.size);
        // GDAL's overview geotransform: same origin, cell size = full extent / overview size
        const t = full.grid.transform;
        expect(r.grid.transform).toEqual([t[0], (t[1] * fact.size[0]) / ow, 0, t[3], 0, (t[5] * fact.size[1]) / oh]);
        const band = r.bands[0]!;
        let count = 0;
        let sum = 0;
        for (const v of band) if (v === v) (count++, (sum += v));
        expect(count).toBe(ov.validCount);
        expect(Math.abs(sum - ov.validSum)).toBeLessThanOrEqual(1e-9 * Math.abs(ov.validSum));
        for (const [x, y, v] of ov.cells) expect(band[y * ow + x]).toBe(v === null ? NaN : Math.fround(v));
        const win = [1, 2, Math.min(ow, 40), Math.min(oh, 30)] as const;
        const part = await reader.read({ overview: k, window: win });
        expect(diffs(part.bands[0]!, crop(band, ow, win))).toEqual([]);
        expect(part.grid.transform[0]).toBe(r.grid.transform[0] + win[0] * r.grid.transform[1]);
      }
    });
  }

  it('the COG at full resolution equals the source field, in strips of windows', async () => {
    const want = cogCells();
    const reader = await openGeoTiff(file('cog-deflate.tif'));
    const r = await reader.read();
    expect(diffs(r.bands[0]!, want)).toEqual([]);
    const win = [100, 50, 400, 200] as const;
    expect(diffs((await reader.read({ window: win })).bands[0]!, crop(want, COG_WIDTH, win))).toEqual([]);
    expect(COG_HEIGHT).toBe(r.grid.height);
  });

  it('an overview that does not exist, or a window outside it, is a usage error listing what exists', async () => {
    const e1 = await ibfError(readRaster(file('cog-deflate.tif'), { overview: 2 }));
    expect(e1.code).toBe('E_USAGE');
    expect(e1.message).toMatch(/overview: is 2; the file has 2 overview\(s\), indices 0\.\.1/);
    const e2 = await ibfError(readRaster(file('f32-none-strip.tif'), { overview: 0 }));
    expect(e2.message).toMatch(/has no overviews.*gdaladdo/);
    const e3 = await ibfError(readRaster(file('cog-deflate.tif'), { overview: 1, window: [0, 0, 129, 10] }));
    expect(e3.message).toMatch(/not inside the 128x64 overview/);
  });
});

describe('GDAL scale / offset (value = raw x scale + offset after nodata masking)', () => {
  const raw = scaledRaw();
  const physical = Float64Array.from(raw, (v) => (v === -9999 ? NaN : v * 0.01 + -5));

  it("applies the file's scale and offset: float64, nodata cells NaN, nodata NaN", async () => {
    const r = await readRaster(file('scaled-int16.tif'));
    expect(r.bands[0]).toBeInstanceOf(Float64Array);
    expect(r.nodata).toBeNaN();
    expect(diffs(r.bands[0]!, physical)).toEqual([]);
    const f32 = await readRaster(file('scaled-int16.tif'), { as: 'float32', window: [2, 3, 30, 20] });
    expect(f32.bands[0]).toBeInstanceOf(Float32Array);
    expect(diffs(f32.bands[0]!, Float32Array.from(crop(physical, WIDTH, [2, 3, 30, 20])))).toEqual([]);
  });

  it('scale: 1, offset: 0 reads the stored values; other overrides replace the file values', async () => {
    const stored = await readRaster(file('scaled-int16.tif'), { scale: 1, offset: 0 });
    expect(stored.bands[0]).toBeInstanceOf(Int16Array);
    expect(stored.nodata).toBe(-9999);
    expect(diffs(stored.bands[0]!, raw)).toEqual([]);
    const doubled = await readRaster(file('scaled-int16.tif'), { scale: [2], offset: 0.5 });
    expect(diffs(doubled.bands[0]!, Float64Array.from(raw, (v) => (v === -9999 ? NaN : v * 2 + 0.5)))).toEqual([]);
    // an override on a file without scale; NaN cells stay NaN
    const f = await readRaster(file('f32-none-strip.tif'), { scale: 10, as: 'float32' });
    expect(diffs(f.bands[0]!, Float32Array.from(cells('float32'), (v) => v * 10))).toEqual([]);
    // a user nodata override is masked before scaling
    const masked = await readRaster(file('scaled-int16.tif'), { nodata: raw[1]! });
    expect(masked.bands[0]![1]).toBeNaN();
    expect(masked.bands[0]![0]).toBe(-9999 * 0.01 - 5);
  });

  it('an unparseable scale in the file: info says NaN; reads refuse it unless the scale option overrides it', async () => {
    const xml = '<GDALMetadata>\n  <Item name="SCALE" sample="0" role="scale">abc</Item>\n</GDALMetadata>\n';
    const buf = encodeTiff({ width: 2, height: 1, bands: [Int16Array.from([1, 2])], tags: [{ tag: 42112, type: 'ASCII', value: xml }] });
    expect((await readRasterInfo(buf)).scale).toEqual([NaN]);
    const e = await ibfError(readRaster(buf, { name: 'junk.tif' }));
    expect(e.code).toBe('E_TIFF_INVALID');
    expect(e.message).toMatch(/^junk\.tif: has a GDAL scale or offset that is not a number/);
    expect(e.hint).toMatch(/gdal_edit\.py -scale/);
    expect((await readRaster(buf, { scale: 1 })).bands[0]).toEqual(Int16Array.from([1, 2]));
  });

  it('refuses native output with a scale, and bad scale / offset values, all at once', async () => {
    const e = await ibfError(readRaster(file('multi-int16-band-deflate-pred2-tile.tif'), { scale: [1, 2], offset: NaN }));
    expect(e.code).toBe('E_USAGE');
    expect(e.problems?.map((p) => p.path)).toEqual(['scale', 'offset']);
    const e2 = await ibfError(readRaster(file('scaled-int16.tif'), { as: 'native' }));
    expect(e2.problems?.[0]?.path).toBe('as');
    expect(e2.message).toMatch(/scale: 1, offset: 0/);
  });
});

describe('sparse files (GDAL SPARSE_OK): omitted blocks read as the nodata value, as GDAL reads them', () => {
  it('NaN nodata (geotiff alone fills 0) and a big-endian int16 -9999 (geotiff alone swaps its bytes)', async () => {
    expect(FILES['sparse-f32-tile.tif']!.emptyBlocks).toBe(2);
    expect(FILES['sparse-int16-tile-be.tif']!.emptyBlocks).toBe(2);
    const f = await readRaster(file('sparse-f32-tile.tif'));
    expect(diffs(f.bands[0]!, sparseCells('float32', NaN))).toEqual([]);
    const i = await readRaster(file('sparse-int16-tile-be.tif'), { window: [10, 0, 37, 20] });
    expect(diffs(i.bands[0]!, crop(sparseCells('int16', -9999), WIDTH, [10, 0, 37, 20]))).toEqual([]);
    expect(HEIGHT).toBe(29);
  });
});
