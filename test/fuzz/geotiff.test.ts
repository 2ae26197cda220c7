/**
 * GeoTIFF fuzz: real files (../shared/data and test/fixtures/formats: strips and tiles, classic and
 * BigTIFF, both byte orders, DEFLATE / LZW / PackBits / none, sparse, overviews) damaged by
 * tiff-mutate.ts (bytes flipped in headers and IFDs, truncated, first IFD moved, tag counts / types /
 * values set to extremes: sizes, band counts, strip and tile offsets and byte counts).
 *
 * Every case must end, within CASE_MS, in either a raster of the shape its header claims or an
 * IbfError with a code; never another exception, never a hang. Memory: every read passes a small
 * `maxCells` (2^20), which the reader checks against the header's claims before it allocates a
 * band; a case that got as far as a failed allocation (a RangeError anywhere in the cause chain)
 * fails, so "refused before allocating" is what is tested, not heap growth.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ERROR_CODES, IbfError } from '../../src/errors.js';
import { openGeoTiff, readRaster, readRasterInfo } from '../../src/io/geotiff.js';
import { REPO, SHARED } from '../helpers.js';
import { CASE_MS, FuzzStats, bounded, fuzzParams, testTimeout, trace } from './budget.js';
import { TAGS, extremeArb, layout, mutate, mutationArb } from './tiff-mutate.js';

const FORMATS = join(REPO, 'test', 'fixtures', 'formats');
const SHARED_FILES = [
  'fiat-synthetic-grid/event_map.tif', 'fiat-synthetic-grid/exposure_max_damage.tif', 'fiat-synthetic-grid/risk_map_rp2_5_10_25.tif',
  'rasterio-cc0-edgecases/byte.tif', 'rasterio-cc0-edgecases/float_nan.tif', 'rasterio-cc0-edgecases/float_raster_with_nodata.tif',
  'snail-aqueduct-oxford/inunriver_historical_WATCH_1980_rp01000.tif', 'exactextract-analytic/grid10x10_1to100_nodata_lowerleft_int32.tif',
];
const REPO_FILES = [
  'cog-deflate.tif', 'f32-deflate-pred3-tile-bigtiff.tif', 'multi-int16-band-strip-bigtiff-be.tif', 'f32-lzw-pred2-strip-be.tif', 'sparse-f32-tile.tif',
  'f32-ovr-tile.tif', 'f32-packbits-tile.tif', 'multi-int16-pixel-deflate-pred2-tile.tif', 'f32-none-strip.tif', 'uint16-none-be.tif', 'scaled-int16.tif',
];
/** Real files: ../shared/data when this checkout has it (it is beside the repo), and the repo's own fixtures. */
const FILES = [
  ...SHARED_FILES.map((f) => join(SHARED, f)).filter((f) => existsSync(f)),
  ...REPO_FILES.map((f) => join(FORMATS, f)),
].map((path) => ({ path, name: path.split('/').slice(-2).join('/'), bytes: new Uint8Array(readFileSync(path)) }));

const MAX_CELLS = 1 << 20;
const CODES = new Set(Object.keys(ERROR_CODES));

/**
 * True when `e` or any cause is a failed allocation (the reader allocated before checking): V8's
 * "Array buffer allocation failed", "Invalid array buffer length", or a typed array of more than 8x
 * MAX_CELLS. A small "Invalid typed array length" is a view past the end of a short decoded block
 * (a corrupt file caught while decoding), not an allocation.
 */
function allocationFailure(e: unknown): boolean {
  for (let x: unknown = e, depth = 0; x && depth < 8; x = (x as { cause?: unknown }).cause, depth++) {
    if (!(x instanceof RangeError)) continue;
    if (/allocation failed|invalid array buffer length|invalid array length/i.test(x.message)) return true;
    const n = /invalid typed array length: (\d+)/i.exec(x.message);
    if (n && Number(n[1]) > 8 * MAX_CELLS) return true;
  }
  return false;
}

/** Reads a damaged file every way an assessment does; resolves with the outcome ('ok' or the IbfError code). */
async function readAll(bytes: Uint8Array, name: string): Promise<string> {
  try {
    const info = await readRasterInfo(bytes, { name });
    const r = await readRaster(bytes, { name, maxCells: MAX_CELLS });
    // a result is whole: the shape the header claims, one array per band
    expect(r.bands.length).toBe(info.bandCount);
    for (const b of r.bands) expect(b.length).toBe(info.grid.width * info.grid.height);
    const reader = await openGeoTiff(bytes, { name });
    const w = Math.max(1, Math.floor(info.grid.width / 2));
    const h = Math.max(1, Math.floor(info.grid.height / 3));
    const win = await reader.read({ window: [0, 0, w, h], bands: [0], maxCells: MAX_CELLS, as: 'float64' });
    expect(win.bands[0]!.length).toBe(w * h);
    return 'ok';
  } catch (e) {
    if (!(e instanceof IbfError)) throw new Error(`${name}: not an IbfError: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
    expect(CODES.has(e.code)).toBe(true);
    expect(e.message.length).toBeGreaterThan(0);
    if (allocationFailure(e)) throw new Error(`${name}: allocated before checking: ${e.message}`, { cause: e });
    return e.code;
  }
}

describe('GeoTIFF fuzz: damaged real files end in a raster or an IbfError, in bounded time and memory', () => {
  const stats = new FuzzStats('geotiff');
  // geotiff's LZW decoder warns on every damaged strip ("ran off the end of the buffer"): not output worth reading
  beforeAll(() => void vi.spyOn(console, 'warn').mockImplementation(() => {}));
  afterAll(() => {
    vi.restoreAllMocks();
    stats.report();
  });

  it('the corpus parses as TIFF (both byte orders, classic and BigTIFF) and reads clean', async () => {
    expect(FILES.length).toBeGreaterThanOrEqual(REPO_FILES.length);
    const kinds = new Set(FILES.map((f) => { const l = layout(f.bytes); return `${l.little ? 'II' : 'MM'}${l.big ? '+big' : ''}`; }));
    expect([...kinds].sort()).toEqual(['II', 'II+big', 'MM', 'MM+big']);
    for (const f of FILES) {
      expect(layout(f.bytes).entries.some((e) => e.tag === TAGS.ImageWidth)).toBe(true);
      expect(await readAll(f.bytes, f.name)).toBe('ok');
    }
  });

  it('random damage: flips, truncation, IFD moves, counts, types and values of tags', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: FILES.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), async (k, ms) => {
        const f = FILES[k]!;
        trace({ file: f.name, ms });
        const t0 = performance.now();
        const outcome = await bounded(readAll(mutate(f.bytes, ms), f.name), CASE_MS, `${f.name} with ${JSON.stringify(ms)}`);
        stats.add(outcome, performance.now() - t0);
      }),
      fuzzParams(400, 12_000),
    );
  }, testTimeout(12_000));

  it('claimed sizes and band counts far past the file: E_LIMIT or E_TIFF_INVALID before any band is allocated', async () => {
    const claim = fc.record({
      width: fc.constantFrom(1, 65535, 1 << 20, 0x7fffffff, 0xffffffff),
      height: fc.constantFrom(1, 65535, 1 << 20, 0x7fffffff, 0xffffffff),
      samples: fc.constantFrom(1, 3, 255, 65535),
      block: extremeArb,
    });
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: FILES.length - 1 }), claim, async (k, c) => {
        const f = FILES[k]!;
        trace({ file: f.name, c });
        const ms = [
          { kind: 'value' as const, tag: TAGS.ImageWidth, index: 0, value: { c: c.width } },
          { kind: 'value' as const, tag: TAGS.ImageLength, index: 0, value: { c: c.height } },
          { kind: 'value' as const, tag: TAGS.SamplesPerPixel, index: 0, value: { c: c.samples } },
          { kind: 'value' as const, tag: TAGS.TileWidth, index: 0, value: c.block },
          { kind: 'value' as const, tag: TAGS.RowsPerStrip, index: 0, value: c.block },
        ];
        const t0 = performance.now();
        const outcome = await bounded(readAll(mutate(f.bytes, ms), f.name), CASE_MS, `${f.name} claiming ${JSON.stringify(c)}`);
        stats.add(outcome, performance.now() - t0);
        const lay = layout(f.bytes);
        const grows = c.width * c.height * (lay.entries.some((e) => e.tag === TAGS.SamplesPerPixel) ? c.samples : 1) > MAX_CELLS;
        if (grows) expect(['E_LIMIT', 'E_TIFF_INVALID']).toContain(outcome);
      }),
      fuzzParams(150, 6_000),
    );
  }, testTimeout(6_000));
});
