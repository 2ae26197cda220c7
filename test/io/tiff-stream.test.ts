/**
 * The streaming tiled GeoTIFF writer (io/tiff-stream) against real files on disk: windows written in
 * shuffled order read back bit for bit with our reader (readRaster) and with the independent `geotiff`
 * reader; edge tiles, sparse tiles, BigTIFF, DEFLATE + predictor 3, and the errors of misuse.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromArrayBuffer } from 'geotiff';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRaster, readRasterInfo } from '../../src/io/geotiff.js';
import { fileByteSource, fileTiffSink } from '../../src/io/node.js';
import { createTiledGeoTiff, memoryTiffSink, type TiffSink, type TileWindow, type TiledGeoTiffOptions } from '../../src/io/tiff-stream.js';
import type { Grid } from '../../src/model/grid.js';
import { ibfError, thrown } from '../helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ibf-tiff-stream-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Bands of random float32 values, with the awkward ones sprinkled in (NaN, ±0, ±inf, subnormals, nodata). */
function randomBands(width: number, height: number, n: number, seed: number, nodata: number | null): Float32Array[] {
  const rand = rng(seed);
  const special = [NaN, -0, 0, Infinity, -Infinity, 1e-45, -1.17e-38, 3.4028234663852886e38, nodata ?? 1];
  return Array.from({ length: n }, () =>
    Float32Array.from({ length: width * height }, () => (rand() < 0.05 ? special[Math.floor(rand() * special.length)]! : (rand() - 0.5) * 10 ** Math.floor(rand() * 12 - 4))),
  );
}

/** Smooth bands (compress well). */
function smoothBands(width: number, height: number, n: number): Float32Array[] {
  return Array.from({ length: n }, (_, b) => Float32Array.from({ length: width * height }, (_, i) => Math.fround(Math.sin((i % width) / 17 + b) * Math.cos(Math.floor(i / width) / 23) * 100)));
}

/** Cuts the grid into tile-aligned windows of uneven sizes (1..3 tiles, clipped at the edges). */
function windows(width: number, height: number, ts: number, rand: () => number): TileWindow[] {
  const cuts = (size: number) => {
    const out = [0];
    while (out.at(-1)! < size) out.push(Math.min(size, out.at(-1)! + ts * (1 + Math.floor(rand() * 3))));
    return out;
  };
  const xs = cuts(width);
  const ys = cuts(height);
  const out: TileWindow[] = [];
  for (let j = 0; j + 1 < ys.length; j++) for (let i = 0; i + 1 < xs.length; i++) out.push([xs[i]!, ys[j]!, xs[i + 1]!, ys[j + 1]!]);
  return out;
}

function slice(band: Float32Array, width: number, [x0, y0, x1, y1]: TileWindow): Float32Array {
  const out = new Float32Array((x1 - x0) * (y1 - y0));
  for (let y = y0; y < y1; y++) out.set(band.subarray(y * width + x0, y * width + x1), (y - y0) * (x1 - x0));
  return out;
}

/** Bit patterns, so NaN, -0 and payloads compare exactly. */
const bits = (a: ArrayLike<number>): Uint32Array => new Uint32Array(Float32Array.from(a).buffer);

function expectBitwise(got: ArrayLike<number>, want: Float32Array): void {
  expect(got).toBeInstanceOf(Float32Array);
  const g = bits(got);
  const w = bits(want);
  expect(g.length).toBe(w.length);
  let bad = -1;
  for (let i = 0; i < w.length && bad < 0; i++) if (g[i] !== w[i]) bad = i;
  expect(bad, bad < 0 ? '' : `cell ${bad}: got 0x${g[bad]!.toString(16)}, want 0x${w[bad]!.toString(16)}`).toBe(-1);
}

async function writeAll(path: string, opts: TiledGeoTiffOptions, bands: Float32Array[], wins: TileWindow[]) {
  const w = createTiledGeoTiff(await fileTiffSink(path), opts);
  for (const win of wins) await w.writeWindow(win, bands.map((b) => slice(b, opts.grid.width, win)));
  await w.close();
  return w;
}

/** Our reader over the file on disk (ranged reads), closed after. */
async function readBack(path: string, opts: Parameters<typeof readRaster>[1] = {}) {
  const src = await fileByteSource(path);
  try {
    return { info: await readRasterInfo(src), raster: await readRaster(src, opts) };
  } finally {
    await src.close();
  }
}

/** The independent reader: geotiff's own parser and decoders, no code of ours. */
async function geotiffBands(path: string) {
  const buf = await readFile(path);
  const tiff = await fromArrayBuffer(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
  const image = await tiff.getImage(0);
  const rasters = (await image.readRasters({ interleave: false })) as unknown as Float32Array[];
  return { image, bands: Array.from(rasters) };
}

const GRID: Grid = { width: 300, height: 200, transform: [500000.5, 30, 0, 4649776.25, 0, -30], crs: 'EPSG:32633' };
const NAMES = ['rp 10', 'débit <max> & co', 'member 3'];
const BASE: TiledGeoTiffOptions = {
  grid: GRID,
  nBands: 3,
  sampleType: 'float32',
  nodata: -9999,
  tileSize: 64,
  bandNames: NAMES,
  metadata: { unit: 'USD', quantity: 'damage' },
  bandMetadata: [{ member: '1' }, {}, { member: '3' }],
};

describe('windows in shuffled order, on disk', () => {
  const bands = randomBands(GRID.width, GRID.height, 3, 1, -9999);
  const path = () => join(dir, 'shuffled.tif');
  let wins: TileWindow[];

  beforeAll(async () => {
    const rand = rng(7);
    wins = shuffle(windows(GRID.width, GRID.height, 64, rand), rand);
    const w = await writeAll(path(), BASE, bands, wins);
    expect([w.tilesAcross, w.tilesDown, w.bigTiff]).toEqual([5, 4, false]);
  });

  it('the file appears only on close, with no temporary file left', async () => {
    expect(wins.length).toBeGreaterThan(4);
    expect(await readdir(dir)).toEqual(['shuffled.tif']);
  });

  it('readRaster gives every value bit for bit, and the grid, CRS, nodata, band names and metadata', async () => {
    const { info, raster } = await readBack(path());
    expect(info.grid).toEqual(GRID);
    expect(info.dataType).toBe('float32');
    expect(info.block).toEqual({ width: 64, height: 64, tiled: true });
    expect(info.compression).toBe(1);
    expect(info.nodata).toBe(-9999);
    expect(info.bandNames).toEqual(NAMES);
    expect(info.metadata).toEqual(BASE.metadata);
    expect(info.bandMetadata).toEqual(BASE.bandMetadata);
    expect(raster.grid).toEqual(GRID);
    expect(raster.nodata).toBe(-9999);
    expect(raster.bandNames).toEqual(NAMES);
    raster.bands.forEach((b, i) => expectBitwise(b, bands[i]!));
  });

  it('windows across tile edges read back as slices', async () => {
    for (const win of [[5, 7, 290, 133], [64, 64, 128, 128], [299, 199, 300, 200], [250, 190, 300, 200]] as const) {
      const { raster } = await readBack(path(), { window: win, bands: [2, 0] });
      expectBitwise(raster.bands[0]!, slice(bands[2]!, GRID.width, win));
      expectBitwise(raster.bands[1]!, slice(bands[0]!, GRID.width, win));
    }
  });

  it('the geotiff package (an independent reader) agrees: values, tiling, georeferencing, nodata', async () => {
    const { image, bands: got } = await geotiffBands(path());
    got.forEach((b, i) => expectBitwise(b, bands[i]!));
    expect([image.getWidth(), image.getHeight(), image.getSamplesPerPixel()]).toEqual([300, 200, 3]);
    expect([image.getTileWidth(), image.getTileHeight(), image.isTiled, image.planarConfiguration]).toEqual([64, 64, true, 2]);
    expect(image.getOrigin()).toEqual([500000.5, 4649776.25, 0]);
    expect(image.getResolution()).toEqual([30, -30, 0]);
    expect(image.getGDALNoData()).toBe(-9999);
    expect(image.getGeoKeys()).toMatchObject({ GTModelTypeGeoKey: 1, GTRasterTypeGeoKey: 1, ProjectedCSTypeGeoKey: 32633 });
  });

  it('edge tiles are stored full size, padded with nodata', async () => {
    const { image } = await geotiffBands(path());
    const file = await readFile(path());
    // the raw bytes of band 1's bottom-right tile: 300 - 4 * 64 = 44 columns, 200 - 3 * 64 = 8 rows of data
    const idx = 1 * 20 + 3 * 5 + 4;
    const offset = Number(((await image.fileDirectory.loadValue('TileOffsets')) as ArrayLike<number>)[idx]);
    const count = Number(((await image.fileDirectory.loadValue('TileByteCounts')) as ArrayLike<number>)[idx]);
    expect(count).toBe(64 * 64 * 4);
    const tile = new Float32Array(file.buffer.slice(file.byteOffset + offset, file.byteOffset + offset + count));
    for (let r = 0; r < 64; r++) {
      for (let c = 0; c < 64; c++) {
        const v = tile[r * 64 + c]!;
        if (r < 8 && c < 44) expect(Object.is(v, bands[1]![(192 + r) * 300 + 256 + c]!)).toBe(true);
        else expect(v).toBe(-9999);
      }
    }
  });

  it('the file is the header, one full tile per tile and band, and the IFD', async () => {
    const size = (await stat(path())).size;
    const data = 8 + 5 * 4 * 3 * 64 * 64 * 4;
    expect(size).toBeGreaterThan(data);
    expect(size).toBeLessThan(data + 2048);
  });
});

describe('sparse tiles (never written) read as nodata', () => {
  const grid: Grid = { width: 100, height: 90, transform: [4.35, 0.01, 0, 52.05, 0, -0.01], crs: 'EPSG:4326' };
  const written: TileWindow[] = [[32, 0, 64, 32], [96, 64, 100, 90], [0, 32, 64, 64]];

  for (const nodata of [-9999, NaN, null]) {
    it(`nodata ${nodata}`, async () => {
      const path = join(dir, `sparse-${nodata}.tif`);
      const bands = randomBands(grid.width, grid.height, 2, 3, nodata);
      await writeAll(path, { grid, nBands: 2, nodata, tileSize: 32 }, bands, written);
      const { info, raster } = await readBack(path);
      expect(info.grid).toEqual(grid);
      const fill = nodata ?? 0;
      const inside = (x: number, y: number) => written.some(([x0, y0, x1, y1]) => x >= x0 && x < x1 && y >= y0 && y < y1);
      const want = bands.map((b) => b.map((v, i) => (inside(i % grid.width, Math.floor(i / grid.width)) ? v : fill)));
      raster.bands.forEach((b, i) => expectBitwise(b, want[i]!));
      // 4 x 3 tiles per band, 1 + 1 + 2 written: the others take no space
      expect((await stat(path)).size).toBeLessThan(8 + 2 * 4 * 32 * 32 * 4 + 1024);
      if (nodata === -9999) {
        // geotiff fills sparse blocks with the GDAL nodata too (it would give 0 for NaN)
        const { bands: got } = await geotiffBands(path);
        got.forEach((b, i) => expectBitwise(b, want[i]!));
      }
    });
  }

  it('a writer closed without any window gives an all-nodata raster', async () => {
    const sink = memoryTiffSink();
    await createTiledGeoTiff(sink, { grid, nBands: 1, nodata: -1, tileSize: 16 }).close();
    const r = await readRaster(sink.bytes());
    expect(r.grid).toEqual(grid);
    expect(Array.from(new Set(r.bands[0]!))).toEqual([-1]);
  });
});

describe('misuse is an IbfError with a hint', () => {
  const grid: Grid = { width: 100, height: 40, transform: [0, 1, 0, 40, 0, -1], crs: null };
  const opts: TiledGeoTiffOptions = { grid, nBands: 2, nodata: 0, tileSize: 32 };
  const band = (win: TileWindow) => new Float32Array((win[2] - win[0]) * (win[3] - win[1]));

  it('misaligned or out-of-grid windows, wrong bands: E_USAGE listing every problem, nothing claimed', async () => {
    const w = createTiledGeoTiff(memoryTiffSink(), opts);
    const e1 = await ibfError(w.writeWindow([16, 0, 48, 32], [band([16, 0, 48, 32]), band([16, 0, 48, 32])]));
    expect(e1.code).toBe('E_USAGE');
    expect(e1.problems?.map((p) => p.path)).toEqual(['window.x0', 'window.x1']);
    expect(e1.message).toMatch(/x0: is 16, not a multiple of the tile size 32/);
    expect(e1.hint).toMatch(/multiples of 32 cells/);
    // x1 / y1 may end at the raster's edge (100, 40), not elsewhere short of a tile edge
    const e2 = await ibfError(w.writeWindow([64, 0, 90, 40], [band([64, 0, 90, 40]), band([64, 0, 90, 40])]));
    expect(e2.problems?.map((p) => p.path)).toEqual(['window.x1']);
    expect(e2.message).toMatch(/neither a multiple of the tile size 32 nor the raster's width 100/);
    const e3 = await ibfError(w.writeWindow([64, 32, 128, 64], []));
    expect(e3.message).toMatch(/not inside the 100x40 raster/);
    const e4 = await ibfError(w.writeWindow([0, 0, 32, 32], [band([0, 0, 32, 32]), new Float32Array(5), new Float64Array(1024) as never]));
    expect(e4.problems?.map((p) => p.path)).toEqual(['bands']);
    const e5 = await ibfError(w.writeWindow([0, 0, 32, 32], [band([0, 0, 32, 32]), new Float64Array(1024) as never]));
    expect(e5.problems?.map((p) => p.path)).toEqual(['bands[1]']);
    expect(e5.message).toMatch(/expected a Float32Array of 32x32 = 1024 cells/);
    // none of these claimed a tile
    await w.writeWindow([0, 0, 100, 40], [new Float32Array(4000), new Float32Array(4000)]);
    await w.close();
  });

  it('writing a tile twice: E_USAGE naming the tiles; an overlapping window writes nothing', async () => {
    const sink = memoryTiffSink();
    const w = createTiledGeoTiff(sink, opts);
    const win: TileWindow = [32, 0, 64, 32];
    const first = w.writeWindow(win, [band(win).fill(1), band(win).fill(2)]);
    // a second write of the same tile fails at the call, even before the first one is done
    const e1 = await ibfError(w.writeWindow(win, [band(win), band(win)]));
    await first;
    expect(e1.code).toBe('E_USAGE');
    expect(e1.message).toMatch(/tile \(1, 0\) \(column, row\) already written/);
    expect(e1.hint).toMatch(/once/);
    const e2 = await ibfError(w.writeWindow([0, 0, 100, 40], [new Float32Array(4000), new Float32Array(4000)]));
    expect(e2.message).toMatch(/tile \(1, 0\)/);
    await w.writeWindow([0, 0, 32, 40], [new Float32Array(32 * 40).fill(3), new Float32Array(32 * 40).fill(4)]);
    await w.close();
    const r = await readRaster(sink.bytes());
    expect([r.bands[0]![0], r.bands[0]![32], r.bands[1]![33], r.bands[0]![64]]).toEqual([3, 1, 2, 0]);
  });

  it('bad options are listed all at once', () => {
    const e = thrown(() =>
      createTiledGeoTiff(memoryTiffSink(), { grid: { ...grid, crs: 'PROJCS["x"]' }, nBands: 2, nodata: 0, tileSize: 100, bandNames: ['a'], sampleType: 'float64' as never }),
    );
    expect(e.code).toBe('E_USAGE');
    expect(e.problems?.map((p) => p.path)).toEqual(['sampleType', 'tileSize', 'grid.crs', 'bandNames']);
    expect(e.hint).toMatch(/multiple of 16/);
  });

  it('windows after close, and close after abort, are refused; close twice is one close', async () => {
    const w = createTiledGeoTiff(memoryTiffSink(), opts);
    const c = w.close();
    expect(w.close()).toBe(c);
    await c;
    expect((await ibfError(w.writeWindow([0, 0, 32, 32], [band([0, 0, 32, 32]), band([0, 0, 32, 32])]))).message).toMatch(/was closed/);
    const a = createTiledGeoTiff(memoryTiffSink(), opts);
    await a.abort();
    expect((await ibfError(a.close())).code).toBe('E_USAGE');
  });

  it('a failing sink fails the writer (E_IO), later calls too, and close aborts the sink', async () => {
    let writes = 0;
    let aborted = false;
    const sink: TiffSink = {
      write: async () => {
        if (++writes === 3) throw new Error('disk on fire');
      },
      abort: async () => {
        aborted = true;
      },
    };
    const w = createTiledGeoTiff(sink, opts);
    const win: TileWindow = [0, 0, 64, 32];
    const e = await ibfError(w.writeWindow(win, [band(win), band(win)]));
    expect(e.code).toBe('E_IO');
    expect(e.message).toMatch(/disk on fire/);
    expect(await ibfError(w.writeWindow([64, 0, 100, 32], [band([64, 0, 100, 32]), band([64, 0, 100, 32])]))).toBe(e);
    expect(await ibfError(w.close())).toBe(e);
    expect(aborted).toBe(true);
  });

  it('fileTiffSink: abort leaves nothing behind; a missing directory is E_IO with a hint', async () => {
    const sub = await mkdtemp(join(dir, 'abort-'));
    const path = join(sub, 'out.tif');
    const w = createTiledGeoTiff(await fileTiffSink(path), opts);
    await w.writeWindow([0, 0, 32, 32], [band([0, 0, 32, 32]), band([0, 0, 32, 32])]);
    await w.abort();
    expect(await readdir(sub)).toEqual([]);
    const e = await ibfError(fileTiffSink(join(sub, 'no', 'such', 'x.tif')));
    expect(e.code).toBe('E_IO');
    expect(e.hint).toMatch(/Create the directory/);
    expect(existsSync(path)).toBe(false);
  });
});

describe('BigTIFF', () => {
  const grid: Grid = { width: 70, height: 50, transform: [10, 0.5, 0, 60, 0, -0.5], crs: 'EPSG:4326' };

  for (const compression of ['none', 'deflate'] as const) {
    it(`forced with bigTiff: true (${compression}): both readers agree bit for bit`, async () => {
      const path = join(dir, `big-${compression}.tif`);
      const bands = randomBands(grid.width, grid.height, 2, 11, NaN);
      const rand = rng(5);
      const w = await writeAll(path, { grid, nBands: 2, nodata: NaN, tileSize: 16, bigTiff: true, compression, bandNames: ['a', 'b'] }, bands, shuffle(windows(70, 50, 16, rand), rand));
      expect(w.bigTiff).toBe(true);
      const head = new Uint8Array(await readFile(path)).subarray(0, 16);
      expect(Array.from(head.subarray(0, 8))).toEqual([0x49, 0x49, 43, 0, 8, 0, 0, 0]);
      const { info, raster } = await readBack(path);
      expect(info.grid).toEqual(grid);
      expect(info.nodata).toBeNaN();
      expect(info.bandNames).toEqual(['a', 'b']);
      expect(info.compression).toBe(compression === 'deflate' ? 8 : 1);
      raster.bands.forEach((b, i) => expectBitwise(b, bands[i]!));
      const { bands: got } = await geotiffBands(path);
      got.forEach((b, i) => expectBitwise(b, bands[i]!));
    });
  }

  it('chosen up front exactly when the file could exceed 4 GiB', async () => {
    const at = (width: number, height: number, nBands: number, extra: Partial<TiledGeoTiffOptions> = {}) => {
      const w = createTiledGeoTiff(memoryTiffSink(), { grid: { width, height, transform: [0, 1, 0, 0, 0, -1], crs: null }, nBands, nodata: NaN, ...extra });
      void w.abort();
      return w.bigTiff;
    };
    expect(at(16384, 16384, 51)).toBe(true); // 55 GB: the engine's country-sized ensemble
    expect(at(32768, 32512, 1)).toBe(false); // 3.97 GiB of tiles
    expect(at(32768, 32768, 1)).toBe(true); // 4 GiB of tiles plus header and IFD
    // 4,096,000 tiles of 16x16: 4.23e9 bytes uncompressed, but DEFLATE may add 29 bytes to each tile
    expect(at(32768, 32000, 1, { tileSize: 16 })).toBe(false);
    expect(at(32768, 32000, 1, { tileSize: 16, compression: 'deflate' })).toBe(true);
    expect(at(100, 100, 1, { bigTiff: true })).toBe(true);
    const e = thrown(() => at(32768, 32768, 1, { bigTiff: false }));
    expect(e.code).toBe('E_LIMIT');
    expect(e.hint).toMatch(/bigTiff/);
  });
});

describe('DEFLATE with the floating-point predictor (CompressionStream)', () => {
  const grid: Grid = { width: 200, height: 150, transform: [0, 100, 0, 15000, 0, -100], crs: 'EPSG:3857' };

  it('smooth data: much smaller, and both readers decode it bit for bit (edge tiles included)', async () => {
    const bands = smoothBands(grid.width, grid.height, 2);
    bands[1]!.fill(NaN, 1000, 1100);
    const opts: TiledGeoTiffOptions = { grid, nBands: 2, nodata: NaN, tileSize: 64 };
    const rand = rng(9);
    const wins = shuffle(windows(200, 150, 64, rand), rand);
    await writeAll(join(dir, 'plain.tif'), opts, bands, wins);
    await writeAll(join(dir, 'deflate.tif'), { ...opts, compression: 'deflate' }, bands, wins);
    const plain = (await stat(join(dir, 'plain.tif'))).size;
    const packed = (await stat(join(dir, 'deflate.tif'))).size;
    expect(packed).toBeLessThan(plain * 0.6);
    const { info, raster } = await readBack(join(dir, 'deflate.tif'));
    expect(info.compression).toBe(8);
    raster.bands.forEach((b, i) => expectBitwise(b, bands[i]!));
    const { image, bands: got } = await geotiffBands(join(dir, 'deflate.tif'));
    expect(await image.fileDirectory.loadValue('Predictor')).toBe(3);
    got.forEach((b, i) => expectBitwise(b, bands[i]!));
  });

  it('random bits (incompressible) still round-trip', async () => {
    const bands = randomBands(grid.width, grid.height, 1, 21, NaN);
    const sink = memoryTiffSink();
    const w = createTiledGeoTiff(sink, { grid, nBands: 1, nodata: NaN, tileSize: 32, compression: 'deflate' });
    await Promise.all(windows(200, 150, 32, rng(2)).map((win) => w.writeWindow(win, [slice(bands[0]!, 200, win)])));
    await w.close();
    expectBitwise((await readRaster(sink.bytes())).bands[0]!, bands[0]!);
  });
});

describe('bounded memory', () => {
  it('every sink write is at most one tile (the IFD and header aside), at increasing offsets', async () => {
    const grid: Grid = { width: 160, height: 96, transform: [0, 1, 0, 96, 0, -1], crs: null };
    const mem = memoryTiffSink();
    const writes: { at: number; n: number }[] = [];
    const sink: TiffSink = { write: (b, at) => (writes.push({ at, n: b.byteLength }), mem.write(b, at)) };
    const bands = randomBands(160, 96, 4, 4, null);
    const w = createTiledGeoTiff(sink, { grid, nBands: 4, nodata: null, tileSize: 32 });
    // windows far larger than a tile, not awaited one by one
    const wins: TileWindow[] = [[0, 0, 160, 64], [0, 64, 160, 96]];
    await Promise.all(wins.map((win) => w.writeWindow(win, bands.map((b) => slice(b, 160, win)))));
    await w.close();
    const tiles = writes.slice(0, -2);
    expect(tiles).toHaveLength(5 * 3 * 4);
    expect(tiles.every((t, i) => t.n === 32 * 32 * 4 && t.at === 8 + i * t.n)).toBe(true);
    expect(writes.at(-1)).toEqual({ at: 0, n: 8 }); // the header, last
    const r = await readRaster(mem.bytes());
    r.bands.forEach((b, i) => expectBitwise(b, bands[i]!));
  });
});
