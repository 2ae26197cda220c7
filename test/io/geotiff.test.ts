/**
 * GeoTIFF reading and writing against real files.
 *
 * Expected numbers come from the `expected.json` next to each data set (/work/shared/data/*): rasterio/GDAL
 * for the rasterio CC0 edge cases, geoblaze's published tests for MapSPAM rice, the Delft-FIAT generator
 * formulas for the synthetic grids. Small extra layouts (big-endian, tiled, pixel-interleaved,
 * PixelIsPoint) are generated in memory with our own encoder.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import type { Raster } from '../../src/model/raster.js';
import { openGeoTiff, readRaster, readRasterInfo, writeGeoTiff, type ByteSource } from '../../src/io/geotiff.js';
import { encodeTiff, type TiffTag } from '../../src/io/tiff-writer.js';
import { formatGdalNodata, parseGdalMetadata, parseGdalNodata } from '../../src/io/gdal-tags.js';
import { fileByteSource, readFileBytes, writeFileAtomic } from '../../src/io/node.js';
import { ibfError } from '../helpers.js';

const DATA = '/work/shared/data';
const EDGE = `${DATA}/rasterio-cc0-edgecases`;
const FIAT = `${DATA}/fiat-synthetic-grid`;
const SPAM = `${DATA}/geoblaze-mapspam-rice/spam2005v2r0_physical-area_rice_total.tif`;

/** File contents as a plain Uint8Array (Node's Buffer#slice would return views, not copies). */
const bytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));


function stats(r: Raster, band = 0) {
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of r.bands[band]!) {
    if (v !== v || v === r.nodata) continue;
    count++;
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { count, sum, min, max };
}

/** Slice of a full band: rows y0..y1-1, cols x0..x1-1. */
function slice(band: ArrayLike<number>, width: number, [x0, y0, x1, y1]: readonly number[]): number[] {
  const out: number[] = [];
  for (let y = y0!; y < y1!; y++) for (let x = x0!; x < x1!; x++) out.push(band[y * width + x]!);
  return out;
}

const geo = (scale: number[], tie: number[], keys?: number[]): TiffTag[] => [
  { tag: 33550, type: 'DOUBLE', value: scale },
  { tag: 33922, type: 'DOUBLE', value: tie },
  ...(keys ? [{ tag: 34735, type: 'SHORT' as const, value: keys }] : []),
];

/** Sets an inline SHORT/LONG value of a tag in a little-endian TIFF we wrote (IFD at offset 8). */
function patchTag(buf: ArrayBuffer, tag: number, value: number): ArrayBuffer {
  const out = buf.slice(0);
  const v = new DataView(out);
  const ifd = v.getUint32(4, true);
  for (let i = 0; i < v.getUint16(ifd, true); i++) {
    const e = ifd + 2 + 12 * i;
    if (v.getUint16(e, true) !== tag) continue;
    if (v.getUint16(e + 2, true) === 3) v.setUint16(e + 8, value, true);
    else v.setUint32(e + 8, value, true);
    return out;
  }
  throw new Error(`tag ${tag} not found`);
}

describe('rasterio CC0 edge cases decode as GDAL reads them (expected.json)', () => {
  const expected = JSON.parse(readFileSync(`${EDGE}/expected.json`, 'utf8')) as Record<string, any>;
  for (const [file, exp] of Object.entries(expected)) {
    if (file === 'rotated.tif') continue;
    it(file, async () => {
      const src = bytes(`${EDGE}/${file}`);
      const info = await readRasterInfo(src, { name: file });
      const r = await readRaster(src, { name: file });
      for (const g of [info.grid, r.grid]) {
        expect(g.width).toBe(exp.width);
        expect(g.height).toBe(exp.height);
        expect([...g.transform]).toEqual(exp.geotransform_gdal);
        // GeoKeys give an EPSG code or nothing; a user-defined CRS (expected WKT) reads as null
        expect(g.crs).toBe(typeof exp.crs === 'string' && exp.crs.startsWith('EPSG:') ? exp.crs : null);
      }
      expect(info.dataType).toBe(exp.dtype);
      if (exp.nodata_is_nan) expect(r.nodata).toBeNaN();
      else expect(r.nodata).toBe(exp.nodata);
      expect(info.nodata).toEqual(r.nodata);
      const s = stats(r);
      expect(s.count).toBe(exp.valid_count);
      expect(s.sum).toBeCloseTo(exp.valid_sum, 9);
      expect(s.min).toBe(exp.valid_min);
      expect(s.max).toBe(exp.valid_max);
      if (exp.values_row_major) {
        const want = (exp.values_row_major as (number | null)[][]).flat().map((v) => (v === null ? NaN : v));
        expect(Array.from(r.bands[0]!)).toEqual(want);
      }
    });
  }

  it('refuses rotated.tif (ModelTransformation with rotation terms) and says to warp it', async () => {
    for (const read of [readRaster, readRasterInfo]) {
      const e = await ibfError(read(bytes(`${EDGE}/rotated.tif`), { name: 'rotated.tif' }));
      expect(e.code).toBe('E_TIFF_INVALID');
      expect(e.message).toMatch(/rotated\.tif.*rotated geotransform/);
      expect(e.hint).toMatch(/gdalwarp/);
    }
  });
});

describe('Delft-FIAT synthetic grids', () => {
  const transform = [4.35, 0.01, 0, 52.05, 0, -0.01];
  const hazard = (row: number, col: number) => 3.6 - 0.2 * (row + col);

  it('event_map.tif: 10x10 EPSG:4326, depth = 3.6 - 0.2 (row + col) m', async () => {
    const r = await readRaster(bytes(`${FIAT}/event_map.tif`));
    expect(r.grid).toEqual({ width: 10, height: 10, transform, crs: 'EPSG:4326' });
    expect(r.bands[0]).toBeInstanceOf(Float32Array);
    for (let row = 0; row < 10; row++) for (let col = 0; col < 10; col++) expect(r.bands[0]![row * 10 + col]).toBe(Math.fround(hazard(row, col)));
  });

  it('exposure_max_damage.tif: 2000 + 100 (row + col), per-band metadata kept', async () => {
    const src = bytes(`${FIAT}/exposure_max_damage.tif`);
    const r = await readRaster(src, { as: 'float64' });
    expect(r.bands[0]).toBeInstanceOf(Float64Array);
    expect(r.bands[0]![2 * 10 + 4]).toBe(2600);
    expect((await readRasterInfo(src)).bandMetadata).toEqual([{ fn_damage: 'struct_1' }]);
  });

  it('risk_map_rp2_5_10_25.tif: 4 bands = hazard x [1.5, 1.8, 1.9, 1.95], return periods in band metadata', async () => {
    const src = bytes(`${FIAT}/risk_map_rp2_5_10_25.tif`);
    const info = await readRasterInfo(src);
    expect(info.bandCount).toBe(4);
    expect(info.grid.crs).toBe('EPSG:4326');
    expect(info.bandMetadata.map((m) => m.return_period)).toEqual(['2', '5', '10', '25']);
    const r = await readRaster(src);
    expect(r.bands).toHaveLength(4);
    [1.5, 1.8, 1.9, 1.95].forEach((f, b) => {
      for (let i = 0; i < 100; i++) expect(r.bands[b]![i]).toBeCloseTo(hazard(Math.floor(i / 10), i % 10) * f, 5);
    });
    // a band subset, in the order asked for
    const sub = await readRaster(src, { bands: [3, 0] });
    expect(sub.bands.map((b) => Array.from(b))).toEqual([Array.from(r.bands[3]!), Array.from(r.bands[0]!)]);
  });
});

describe('MapSPAM rice (4320x2160 float64, LZW, 2160 strips)', () => {
  let full: Raster;
  beforeAll(async () => {
    full = await readRaster(bytes(SPAM), { name: 'spam' });
  }, 60_000);

  it('whole raster: valid count 820517, sum 108343045.4, nodata -9999 (geoblaze)', () => {
    expect(full.grid.width).toBe(4320);
    expect(full.grid.height).toBe(2160);
    expect(full.grid.crs).toBe('EPSG:4326');
    expect(full.nodata).toBe(-9999);
    const s = stats(full);
    expect(s.count).toBe(820517);
    expect(Math.abs(s.sum - 108343045.4) / 108343045.4).toBeLessThan(1e-9);
    expect(s.max).toBe(8131.2);
  });

  it('window reads equal the slice of a full read, with the window grid', async () => {
    const src = await fileByteSource(SPAM);
    try {
      for (const win of [[3100, 900, 3150, 960], [0, 0, 7, 3], [4300, 2150, 4320, 2160]] as const) {
        const w = await readRaster(src, { window: win });
        expect(Array.from(w.bands[0]!)).toEqual(slice(full.bands[0]!, 4320, win));
        const [x0, dx, , y0, , dy] = full.grid.transform;
        expect(w.grid).toEqual({ width: win[2] - win[0], height: win[3] - win[1], transform: [x0 + win[0] * dx, dx, 0, y0 + win[1] * dy, 0, dy], crs: 'EPSG:4326' });
      }
    } finally {
      await src.close();
    }
  });

  it('a window over a ranged source reads only a fraction of the file', async () => {
    const data = bytes(SPAM);
    let read = 0;
    const counting: ByteSource = {
      size: data.byteLength,
      read: async (o, l) => {
        read += Math.min(l, data.byteLength - o);
        return data.buffer.slice(data.byteOffset + o, data.byteOffset + Math.min(o + l, data.byteLength)) as ArrayBuffer;
      },
    };
    await readRaster(counting, { window: [3000, 1000, 3100, 1010] });
    expect(read).toBeLessThan(data.byteLength / 20);
  });
});

describe('openGeoTiff: one header parse, many windows', () => {
  it('later windows only read their own strips', async () => {
    const data = bytes(SPAM);
    let calls = 0;
    const counting: ByteSource = {
      size: data.byteLength,
      read: async (o, l) => {
        calls++;
        return data.buffer.slice(data.byteOffset + o, data.byteOffset + Math.min(o + l, data.byteLength)) as ArrayBuffer;
      },
    };
    const reader = await openGeoTiff(counting, { name: 'spam' });
    expect(reader.info.block).toEqual({ width: 4320, height: 1, tiled: false });
    const a = await reader.read({ window: [0, 1000, 100, 1010] });
    calls = 0;
    const b = await reader.read({ window: [0, 1000, 100, 1010], as: 'float32' });
    expect(calls).toBe(10); // one read per strip (row)
    expect(b.bands[0]).toEqual(Float32Array.from(a.bands[0]!));
  });

  it('reads into arrays the caller reuses (fast row copy, with conversion to float64)', async () => {
    const reader = await openGeoTiff(bytes(SPAM), { name: 'spam' });
    const ref = await reader.read({ window: [2000, 500, 2300, 540], as: 'float64' });
    const into = [new Float64Array(300 * 40).fill(-1)];
    const got = await reader.read({ window: [2000, 500, 2300, 540], as: 'float64', into });
    expect(got.bands[0]).toBe(into[0]); // no new array
    expect(got.bands[0]).toEqual(ref.bands[0]);
    expect(got.nodata).toBe(ref.nodata);
    // the same arrays again, another window: every cell overwritten
    const ref2 = await reader.read({ window: [100, 900, 400, 940], as: 'float64' });
    await reader.read({ window: [100, 900, 400, 940], as: 'float64', into });
    expect(into[0]).toEqual(ref2.bands[0]);
  });

  it('refuses arrays of the wrong type, size or count, naming each', async () => {
    const reader = await openGeoTiff(bytes(SPAM), { name: 'spam' });
    const e = await ibfError(reader.read({ window: [0, 0, 10, 10], bands: [0], as: 'float32', into: [new Float64Array(100)] }));
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toMatch(/into\[0\].*Float64Array.*Float32Array/);
    const e2 = await ibfError(reader.read({ window: [0, 0, 10, 10], as: 'float32', into: [new Float32Array(99)] }));
    expect(e2.message).toMatch(/into\[0\].*99 cells.*100/);
    const e3 = await ibfError(reader.read({ window: [0, 0, 10, 10], as: 'float32', into: [] }));
    expect(e3.message).toMatch(/into.*one per band read \(1\)/);
  });

  it('an open-time nodata override applies to info and reads', async () => {
    const reader = await openGeoTiff(bytes(`${FIAT}/event_map.tif`), { nodata: 3.6 });
    expect(reader.info.nodata).toBe(Math.fround(3.6));
    const r = await reader.read();
    expect(r.nodata).toBe(r.bands[0]![0]);
    expect((await reader.read({ nodata: null })).nodata).toBeNull();
  });
});

describe('writeGeoTiff round trip', () => {
  it('the FIAT event map reads back with identical grid, values and nodata', async () => {
    const r = await readRaster(bytes(`${FIAT}/event_map.tif`));
    const back = await readRaster(writeGeoTiff(r as Raster<Float32Array>));
    expect(back.grid).toEqual(r.grid);
    expect(back.nodata).toBeNull();
    expect(back.bands[0]).toEqual(r.bands[0]);
  });

  it('multi-band float64, projected EPSG code, NaN nodata, band names and metadata', async () => {
    const width = 37;
    const height = 23;
    const bands = [0, 1, 2].map((b) => Float64Array.from({ length: width * height }, (_, i) => (i % 11 === 0 ? NaN : Math.sin(i + b) * 1e6 + 1 / 3)));
    const raster: Raster<Float64Array> = {
      grid: { width, height, transform: [500000.5, 30, 0, 4649776.25, 0, -30], crs: 'EPSG:32633' },
      bands,
      nodata: NaN,
    };
    const names = ['rp 10', 'débit <max> & co', 'rp100'];
    const buf = writeGeoTiff(raster, { bandNames: names, bandMetadata: [{ return_period: '10' }, {}, { return_period: '100' }], metadata: { source: 'test' } });
    const info = await readRasterInfo(buf);
    expect(info.grid).toEqual(raster.grid);
    expect(info.dataType).toBe('float64');
    expect(info.nodata).toBeNaN();
    expect(info.bandNames).toEqual(names);
    expect(info.bandMetadata).toEqual([{ return_period: '10' }, {}, { return_period: '100' }]);
    expect(info.metadata).toEqual({ source: 'test' });
    const back = await readRaster(buf);
    expect(back.bands).toEqual(bands);
    expect(back.bandNames).toEqual(names);
  });

  it('float32 with nodata -3.4e38 keeps the cells that hold it as nodata (GDAL float32 rounding)', async () => {
    const band = Float32Array.from([1, -3.4e38, 2, -3.4e38]);
    const buf = writeGeoTiff({ grid: { width: 2, height: 2, transform: [0, 1, 0, 2, 0, -1], crs: 'EPSG:4326' }, bands: [band], nodata: -3.4e38 });
    const back = await readRaster(buf);
    expect(back.nodata).toBe(Math.fround(-3.4e38));
    expect(stats(back).count).toBe(2);
  });

  it('south-up grids go through ModelTransformation; no CRS stays null', async () => {
    const r: Raster<Float32Array> = { grid: { width: 3, height: 2, transform: [10, 0.5, 0, -5, 0, 0.25], crs: null }, bands: [Float32Array.from([1, 2, 3, 4, 5, 6])], nodata: 0 };
    const back = await readRaster(writeGeoTiff(r));
    expect(back.grid).toEqual(r.grid);
    expect(back.nodata).toBe(0);
    expect(back.bands[0]).toEqual(r.bands[0]);
  });

  it('refuses a CRS it cannot encode and band names that do not match', () => {
    const r: Raster<Float32Array> = { grid: { width: 1, height: 1, transform: [0, 1, 0, 0, 0, -1], crs: 'PROJCS["x"]' }, bands: [new Float32Array(1)], nodata: null };
    expect(() => writeGeoTiff(r, { bandNames: ['a', 'b'] })).toThrow(IbfError);
    try {
      writeGeoTiff(r, { bandNames: ['a', 'b'] });
    } catch (e) {
      expect((e as IbfError).problems?.map((p) => p.path)).toEqual(['grid.crs', 'bandNames']);
    }
  });

  it('nodata text is written as GDAL writes it', () => {
    expect(formatGdalNodata(NaN)).toBe('nan');
    expect(formatGdalNodata(-9999)).toBe('-9999');
    expect(formatGdalNodata(-Infinity)).toBe('-inf');
    expect(parseGdalNodata(formatGdalNodata(Math.fround(-3.4e38)), { float32: true })).toBe(Math.fround(-3.4e38));
  });
});

describe('other layouts (generated with the encoder)', () => {
  const w = 45;
  const h = 70;
  const bands = [0, 1, 2].map((b) => Int16Array.from({ length: w * h }, (_, i) => (i * 7 + b * 1000) % 30000 - 15000));

  it('big-endian file with many strips (deferred block tables; geotiff 3.0.5 misreads these)', async () => {
    const buf = encodeTiff({ width: w, height: h, bands, littleEndian: false, rowsPerStrip: 1, tags: geo([1, 1, 0], [0, 0, 0, 0, 0, 0]) });
    const r = await readRaster(buf);
    expect(r.bands).toEqual(bands);
  });

  for (const interleave of ['band', 'pixel'] as const) {
    it(`tiled 16x32, ${interleave}-interleaved: windows equal slices of the full read`, async () => {
      const buf = encodeTiff({ width: w, height: h, bands, interleave, tile: [16, 32], tags: geo([2, 2, 0], [0, 0, 0, 100, 200, 0]) });
      const info = await readRasterInfo(buf);
      expect(info.block).toEqual({ width: 16, height: 32, tiled: true });
      const full = await readRaster(buf);
      expect(full.bands).toEqual(bands);
      for (const win of [[5, 7, 40, 66], [16, 32, 32, 64], [44, 69, 45, 70]] as const) {
        const part = await readRaster(buf, { window: win, bands: [2, 1] });
        expect(part.bands.map((b) => Array.from(b))).toEqual([slice(bands[2]!, w, win), slice(bands[1]!, w, win)]);
        // the same window into reused float32 arrays (pixel-interleaved blocks take geotiff's path)
        const n = (win[2] - win[0]) * (win[3] - win[1]);
        const into = [new Float32Array(n), new Float32Array(n)];
        const again = await readRaster(buf, { window: win, bands: [2, 1], as: 'float32', into });
        expect(again.bands[0]).toBe(into[0]);
        expect(again.bands.map((b) => Array.from(b))).toEqual([slice(bands[2]!, w, win), slice(bands[1]!, w, win)]);
      }
    });
  }

  it('PixelIsPoint moves the origin by half a cell, as GDAL does', async () => {
    const keys = [1, 1, 0, 2, 1024, 0, 1, 1, 1025, 0, 1, 2];
    const info = await readRasterInfo(encodeTiff({ width: 2, height: 2, bands: [new Uint8Array(4)], tags: geo([10, 10, 0], [0, 0, 0, 1000, 2000, 0], keys) }));
    expect([...info.grid.transform]).toEqual([995, 10, 0, 2005, 0, -10]);
  });

  it('a file without georeferencing gets GDAL default transform and georeferenced=false', async () => {
    const info = await readRasterInfo(encodeTiff({ width: 2, height: 2, bands: [new Uint8Array(4)] }));
    expect(info.georeferenced).toBe(false);
    expect([...info.grid.transform]).toEqual([0, 1, 0, 0, 0, 1]);
  });

  it('ground control points only: refused, says to warp', async () => {
    const buf = encodeTiff({ width: 2, height: 2, bands: [new Uint8Array(4)], tags: [{ tag: 33922, type: 'DOUBLE', value: [0, 0, 0, 5, 5, 0, 2, 2, 0, 7, 3, 0] }] });
    const e = await ibfError(readRasterInfo(buf));
    expect(e.code).toBe('E_TIFF_INVALID');
    expect(e.hint).toMatch(/gdalwarp/);
  });

  it('as float32 / float64 converts, and nodata follows the array type', async () => {
    const buf = encodeTiff({ width: 2, height: 1, bands: [Float64Array.from([0.1, -3.4e38])], tags: [...geo([1, 1, 0], [0, 0, 0, 0, 0, 0]), { tag: 42113, type: 'ASCII', value: '-3.4e38' }] });
    const f64 = await readRaster(buf);
    expect(f64.nodata).toBe(-3.4e38);
    const f32 = await readRaster(buf, { as: 'float32' });
    expect(f32.bands[0]).toBeInstanceOf(Float32Array);
    expect(f32.nodata).toBe(f32.bands[0]![1]);
    expect((await readRaster(buf, { nodata: null })).nodata).toBeNull();
    expect((await readRaster(buf, { nodata: 0.1, as: 'float32' })).nodata).toBe(Math.fround(0.1));
    // an override on a float32 file is rounded like the cells, whatever the output type
    const nodataFile = bytes(`${EDGE}/float_raster_with_nodata.tif`);
    const wide = await readRaster(nodataFile, { nodata: -3.4e38, as: 'float64' });
    expect(wide.bands[0]).toBeInstanceOf(Float64Array);
    expect(stats(wide).count).toBe(98);
  });
});

describe('bad input gives IbfError with the source name and a hint, never a raw exception', () => {
  const half = (b: Uint8Array) => b.slice(0, Math.floor(b.byteLength / 2));

  it('empty input', async () => {
    for (const input of [new ArrayBuffer(0), new Uint8Array(0), new Blob([])]) {
      const e = await ibfError(readRaster(input, { name: 'empty.tif' }));
      expect(e.code).toBe('E_TIFF_INVALID');
      expect(e.message).toMatch(/empty\.tif.*empty/);
      expect(e.hint).toBeTruthy();
    }
  });

  it('bytes that are not a TIFF', async () => {
    const cases: [Uint8Array, RegExp][] = [
      [new TextEncoder().encode('<html><body>403 Forbidden</body></html>'), /HTML/],
      [readFileSync(`${FIAT}/vulnerability_curves.csv`), /not a TIFF/],
      [Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]), /ZIP/],
      [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]), /PNG/],
      [Uint8Array.from([0x49, 0x49]), /not a TIFF/],
    ];
    for (const [data, re] of cases) {
      for (const read of [readRaster, readRasterInfo]) {
        const e = await ibfError(read(data, { name: 'x.tif' }));
        expect(e.code).toBe('E_TIFF_INVALID');
        expect(e.message).toMatch(/^x\.tif/);
        expect(e.message).toMatch(re);
        expect(e.hint).toBeTruthy();
      }
    }
  });

  it('real files cut in half (in memory, as Blob, and on disk)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ibf-io-'));
    for (const file of [`${EDGE}/byte.tif`, `${EDGE}/float_raster_with_nodata.tif`, `${FIAT}/risk_map_rp2_5_10_25.tif`, SPAM]) {
      const cut = half(bytes(file));
      const path = join(dir, 'cut.tif');
      await writeFileAtomic(path, cut);
      const src = await fileByteSource(path);
      for (const input of [cut, new Blob([cut]), src]) {
        const e = await ibfError(readRaster(input, { name: 'cut.tif' }));
        expect(e.code).toBe('E_TIFF_INVALID');
        expect(e.message).toMatch(/cut\.tif/);
        expect(e.hint).toBeTruthy();
      }
      await src.close();
    }
    await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('a source that returns fewer bytes than its size promises is refused, never decoded', async () => {
    const data = bytes(`${FIAT}/event_map.tif`);
    const faulty: ByteSource = { size: data.byteLength, read: async (o, l) => data.slice(o, o + Math.max(0, Math.min(l, data.byteLength - o) - 1)).buffer as ArrayBuffer };
    const e = await ibfError(readRaster(faulty, { name: 'short.tif' }));
    expect(e.code).toBe('E_TIFF_INVALID');
    expect(e.message).toMatch(/^short\.tif: is truncated: bytes 0\.\.\d+ should exist \(size \d+\) but the source returned only \d+ of them/);
  });

  it('a truncated tiled file is refused before decoding, also for a window', async () => {
    const band = Float32Array.from({ length: 64 * 64 }, (_, i) => i);
    const buf = new Uint8Array(encodeTiff({ width: 64, height: 64, bands: [band], tile: [16, 16], tags: geo([1, 1, 0], [0, 0, 0, 0, 0, 0]) }));
    const cut = buf.slice(0, buf.byteLength - 100);
    expect((await readRaster(cut, { window: [0, 0, 16, 16] })).bands[0]).toEqual(slice(band, 64, [0, 0, 16, 16]).reduce((a, v, i) => ((a[i] = v), a), new Float32Array(256)));
    const e = await ibfError(readRaster(cut, { window: [48, 48, 64, 64] }));
    expect(e.message).toMatch(/truncated/);
  });

  it('random corruption of header bytes never escapes as a raw exception or hangs', async () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const originals = [bytes(`${EDGE}/byte.tif`), bytes(`${FIAT}/risk_map_rp2_5_10_25.tif`), new Uint8Array(encodeTiff({ width: 40, height: 40, bands: [new Float32Array(1600)], tile: [16, 16], tags: geo([1, 1, 0], [0, 0, 0, 0, 0, 0]) }))];
    let failures = 0;
    for (let k = 0; k < 300; k++) {
      const orig = originals[k % originals.length]!;
      const b = orig.slice();
      const ifd = new DataView(b.buffer).getUint32(4, true);
      for (let m = 0; m < 3; m++) {
        const region = rand() < 0.7 ? ifd : 0;
        const at = Math.min(b.length - 1, region + Math.floor(rand() * 200));
        b[at] = Math.floor(rand() * 256);
      }
      try {
        await readRaster(b, { name: `mutant-${k}` });
      } catch (e) {
        if (!(e instanceof IbfError)) throw new Error(`mutant ${k}: raw ${String(e)}`);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
  }, 30_000);

  it('sizes beyond maxCells are refused before allocating (E_LIMIT)', async () => {
    const small = encodeTiff({ width: 16, height: 16, bands: [new Float64Array(256)], tags: geo([1, 1, 0], [0, 0, 0, 0, 0, 0]) });
    const e1 = await ibfError(readRaster(small, { maxCells: 100 }));
    expect(e1.code).toBe('E_LIMIT');
    expect(e1.hint).toMatch(/window/);
    const huge = patchTag(patchTag(small, 256, 200_000), 257, 200_000);
    const e2 = await ibfError(readRaster(huge, { name: 'huge.tif' }));
    expect(e2.code).toBe('E_LIMIT');
    expect(e2.message).toMatch(/huge\.tif.*40000000000 cells/);
    expect((await readRasterInfo(huge)).grid.width).toBe(200_000);
  });

  it('a header claiming 10^6 x 10^6 cells: refused before reading or allocating any cell, the limit and maxCells in the message', async () => {
    const small = encodeTiff({ width: 16, height: 16, bands: [new Float32Array(256)], tags: geo([1, 1, 0], [0, 0, 0, 0, 0, 0]) });
    const huge = new Uint8Array(patchTag(patchTag(small, 256, 1_000_000), 257, 1_000_000));
    const reads: string[] = [];
    const src: ByteSource = { size: huge.byteLength, read: async (o, l) => (reads.push(`${o}+${l}`), huge.slice(o, o + l).buffer as ArrayBuffer) };
    const info = await readRasterInfo(src, { name: 'huge.tif' });
    expect([info.grid.width, info.grid.height]).toEqual([1_000_000, 1_000_000]);
    const headerReads = reads.splice(0);
    const e = await ibfError(readRaster(src, { name: 'huge.tif' }));
    expect(e.code).toBe('E_LIMIT');
    expect(e.message).toBe('huge.tif: reading 1000000x1000000 cells x 1 band(s) = 1000000000000 cells exceeds the limit of 536870912 cells (raise it with the maxCells option)');
    expect(e.details).toMatchObject({ cells: 1e12, maxCells: 2 ** 29 });
    expect(reads).toEqual(headerReads); // the header and nothing else: no block table, no cell
    // raising the limit does not make a corrupt file allocate: its block table is checked first
    const e2 = await ibfError(readRaster(src, { name: 'huge.tif', maxCells: 1e13 }));
    expect(e2.code).toBe('E_TIFF_INVALID');
    expect(e2.message).toMatch(/lists 1 data blocks but needs 62500/);
  });

  it('a looping or dangling IFD chain ends the overview list; the full-resolution image still reads', async () => {
    const band = Float32Array.from({ length: 64 }, (_, i) => i);
    const base = encodeTiff({ width: 8, height: 8, bands: [band], tags: geo([1, 1, 0], [0, 0, 0, 0, 0, 0]) });
    const v = new DataView(base);
    const ifd = v.getUint32(4, true);
    const nextAt = ifd + 2 + 12 * v.getUint16(ifd, true);
    for (const next of [ifd, 0xfffffff0, 3]) {
      const b = base.slice(0);
      new DataView(b).setUint32(nextAt, next, true);
      const info = await readRasterInfo(b);
      expect(info.overviews).toEqual([]);
      expect((await readRaster(b)).bands[0]).toEqual(band);
    }
  });

  it('unsupported sample types and unparseable GDAL_NODATA', async () => {
    const complex = patchTag(encodeTiff({ width: 2, height: 2, bands: [new Int32Array(4)] }), 339, 5);
    const e1 = await ibfError(readRasterInfo(complex));
    expect(e1.message).toMatch(/complex.*not supported/);
    expect(e1.hint).toMatch(/gdal_translate -ot/);
    const junk = encodeTiff({ width: 2, height: 2, bands: [new Float32Array(4)], tags: [{ tag: 42113, type: 'ASCII', value: 'none' }] });
    const e2 = await ibfError(readRaster(junk));
    expect(e2.message).toMatch(/GDAL_NODATA.*"none"/);
    expect((await readRaster(junk, { nodata: -1 })).nodata).toBe(-1);
  });

  it('bad options are listed all at once (E_USAGE)', async () => {
    const e = await ibfError(readRaster(bytes(`${EDGE}/byte.tif`), { bands: [0, 1, -1], window: [0, 0, 30, 10] }));
    expect(e.code).toBe('E_USAGE');
    expect(e.problems?.map((p) => p.path)).toEqual(['bands[1]', 'bands[2]', 'window']);
  });
});

describe('GDAL nodata and metadata text', () => {
  it('parses nodata as GDAL CPLAtofM does', () => {
    expect(parseGdalNodata('nan\0')).toBeNaN();
    expect(parseGdalNodata('-nan')).toBeNaN();
    expect(parseGdalNodata('NaN')).toBeNaN();
    expect(parseGdalNodata('1.#QNAN')).toBeNaN();
    expect(parseGdalNodata('-inf')).toBe(-Infinity);
    expect(parseGdalNodata(' -9999 ')).toBe(-9999);
    expect(parseGdalNodata('-3.4e+38')).toBe(-3.4e38);
    expect(parseGdalNodata('-3.4e+38', { float32: true })).toBe(Math.fround(-3.4e38));
    expect(parseGdalNodata('3.4028234664e+38', { float32: true })).toBe(3.4028234663852886e38);
    expect(parseGdalNodata('3.40282e+38', { float32: true })).toBe(Math.fround(3.40282e38));
    expect(parseGdalNodata('-3.39999999999999996e+38', { float32: true })).toBe(-3.3999999521443642e38);
    expect(parseGdalNodata('255 (byte)')).toBe(255);
    expect(parseGdalNodata('abc')).toBeNull();
  });

  it('reads band descriptions and per-band items, skipping other domains', () => {
    const m = parseGdalMetadata(
      '<GDALMetadata>\n  <Item name="compress" domain="rio_creation_kwds">packbits</Item>\n  <Item name="DESCRIPTION" sample="1" role="description">b&amp;1</Item>\n  <Item name="rp" sample="0">2</Item>\n' +
        '  <Item name="OFFSET" sample="1" role="offset">5</Item>\n  <Item name="SCALE" sample="1" role="scale">0.100000000000000006</Item>\n  <Item name="UNITTYPE" sample="0" role="unittype">m</Item>\n</GDALMetadata>\n\0',
    );
    // GDAL roles (description, scale, offset, unittype) are not band metadata items, as in GDAL's GetMetadata()
    expect(m).toEqual({ metadata: {}, bandMetadata: [{ rp: '2' }], descriptions: [undefined, 'b&1'], scales: [undefined, '0.100000000000000006'], offsets: [undefined, '5'], units: ['m'] });
  });
});

describe('io/node helpers', () => {
  it('readFileBytes / fileByteSource: E_INPUT_NOT_FOUND with the path and a hint', async () => {
    for (const open of [readFileBytes, fileByteSource]) {
      const missing = await ibfError(open('/nonexistent/dir/x.tif'));
      expect(missing.code).toBe('E_INPUT_NOT_FOUND');
      expect(missing.message).toMatch(/\/nonexistent\/dir\/x\.tif does not exist/);
      expect(missing.hint).toBeTruthy();
      const dir = await ibfError(open(EDGE));
      expect(dir.code).toBe('E_INPUT_NOT_FOUND');
      expect(dir.message).toMatch(/is a directory/);
    }
  });

  it('fileByteSource serves ranges and its size', async () => {
    const src = await fileByteSource(`${EDGE}/byte.tif`);
    const all = bytes(`${EDGE}/byte.tif`);
    expect(src.size).toBe(all.byteLength);
    expect(Array.from(new Uint8Array(await src.read(4, 8)))).toEqual(Array.from(all.subarray(4, 12)));
    expect((await src.read(all.byteLength - 3, 100)).byteLength).toBe(3);
    await src.close();
  });

  it('writeFileAtomic replaces the file whole and leaves no temporary file on failure', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ibf-atomic-'));
    const path = join(dir, 'out.tif');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    await writeFileAtomic(path, 'second');
    expect(await readFile(path, 'utf8')).toBe('second');
    await mkdir(join(dir, 'taken'));
    const e = await ibfError(writeFileAtomic(join(dir, 'taken'), 'x'));
    expect(e.code).toBe('E_IO');
    expect(e.message).toMatch(/taken/);
    const e2 = await ibfError(writeFileAtomic(join(dir, 'no', 'such', 'f.tif'), 'x'));
    expect(e2.hint).toMatch(/Create the directory/);
    expect((await readdir(dir)).sort()).toEqual(['out.tif', 'taken']);
    await rm(dir, { recursive: true, force: true });
  });
});
