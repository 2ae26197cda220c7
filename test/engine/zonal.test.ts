/**
 * Zonal statistics (exactextract definitions) from given coverage windows; the windows' weights come
 * from ../shared/data/exactextract-analytic/expected.json, so this checks the statistics on their own.
 * The span path (spanStats, zonalStatsOf, zonalStatsOfSpans) must give the window path's rows bit for
 * bit: same cells, same f32 weights, same order of summation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  spanStats, type CoverageFn, unionWindow, windowStats, zonalCsv, zonalStats, zonalStatsOf, zonalStatsOfSpans, zonalStatsOfWindows,
} from '../../src/engine/zonal.js';
import { coverageSpans, coverageWindow, type CoverageSpans } from '../../src/geo/coverage.js';
import { readRaster } from '../../src/io/geotiff.js';
import { parseZones } from '../../src/io/zones.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import type { Grid } from '../../src/model/grid.js';
import type { Raster } from '../../src/model/raster.js';
import type { CoverageWindow, ZoneRule } from '../../src/model/zones.js';
import { SHARED, expectedJson, thrown } from '../helpers.js';

const ee = expectedJson('exactextract-analytic');
const basic = ee['grid3x3_1to9 x sq_0.5_2.5 (test_basic_stats, lines 61-120)'];
const window = { x0: 0, y0: 0, width: 3, height: 3, weights: Float32Array.from(basic.coverage as number[]) };

describe('zonal statistics', () => {
  it('match exactextract on the 3x3 grid with coverage weights', async () => {
    const r = await readRaster(readFileSync(join(SHARED, 'exactextract-analytic', 'grid3x3_1to9_int32.tif')));
    const s = windowStats(r.bands[0]!, r.nodata, 3, window);
    expect(s.count).toBe(basic.count);
    expect(s.sum).toBe(basic.sum);
    expect(s.mean).toBe(basic.mean);
    expect(s.min).toBe(basic.min);
    expect(s.max).toBe(basic.max);
    expect(s.stdev).toBeCloseTo(basic.stdev, 12);
  });

  it('leave nodata out and give null stats to an empty zone', () => {
    const values = new Float64Array([1, -1, 3, 4]);
    const w = { x0: 0, y0: 0, width: 2, height: 2, weights: new Float32Array([0.5, 1, 1, 0]) };
    const s = windowStats(values, -1, 2, w);
    expect(s).toEqual({ count: 1.5, sum: 3.5, mean: 3.5 / 1.5, min: 1, max: 3, stdev: expect.any(Number) });
    expect(windowStats(values, -1, 2, null)).toEqual({ count: 0, sum: 0, mean: null, min: null, max: null, stdev: null });
  });

  it('work on a window read of a larger grid, and write CSV', () => {
    const grid = { width: 4, height: 1, transform: [0, 1, 0, 1, 0, -1] as const, crs: null };
    const zones = { crs: 'EPSG:4326', idProperty: 'id', zones: [{ id: 'a', name: 'A, "quoted"', polygons: [] }, { id: 'b', polygons: [] }] };
    const windows = [{ x0: 2, y0: 0, width: 2, height: 1, weights: new Float32Array([1, 1]) }, null];
    expect(unionWindow(windows)).toEqual([2, 0, 4, 1]);
    // the raster holds only cells 2..3 of the grid
    const raster = { grid: { ...grid, width: 2 }, bands: [new Float32Array([5, 7])], nodata: null };
    const rows = zonalStatsOfWindows(raster, zones, windows, { offsetX: 2, offsetY: 0, scale: 2 });
    expect(rows[0]).toMatchObject({ id: 'a', count: 2, sum: 24, min: 10, max: 14 });
    expect(rows[1]).toMatchObject({ id: 'b', count: 0, mean: null });
    expect(zonalCsv(rows, ['count', 'sum', 'mean'])).toBe('id,name,count,sum,mean\na,"A, ""quoted""",2,24,12\nb,,0,0,\n');
  });
});

/** A dense window as row spans (runs of equal non-zero weight), in the window's grid cells. */
function spansOf(w: CoverageWindow): CoverageSpans | null {
  const out: number[] = [];
  for (let r = 0; r < w.height; r++) {
    let c = 0;
    while (c < w.width) {
      const x = w.weights[r * w.width + c]!;
      let e = c + 1;
      while (e < w.width && w.weights[r * w.width + e] === x) e++;
      if (x !== 0) out.push(w.y0 + r, w.x0 + c, w.x0 + e, 0);
      c = e;
    }
  }
  if (out.length === 0) return null;
  const spans = Int32Array.from(out);
  const weights = new Float32Array(spans.buffer);
  for (let i = 0; i < out.length; i += 4) weights[i + 3] = w.weights[(out[i]! - w.y0) * w.width + out[i + 1]! - w.x0]!;
  return { x0: w.x0, y0: w.y0, width: w.width, height: w.height, length: out.length / 4, spans, weights };
}

describe('zonal statistics over row spans', () => {
  it('spanStats matches exactextract on the 3x3 grid, as windowStats', async () => {
    const r = await readRaster(readFileSync(join(SHARED, 'exactextract-analytic', 'grid3x3_1to9_int32.tif')));
    expect(spanStats(r.bands[0]!, r.nodata, 3, spansOf(window))).toEqual(windowStats(r.bands[0]!, r.nodata, 3, window));
    expect(spanStats(r.bands[0]!, r.nodata, 3, null)).toEqual({ count: 0, sum: 0, mean: null, min: null, max: null, stdev: null });
  });

  it('spanStats == windowStats bit for bit on random windows, values, NaN and nodata (fast-check, seeded)', () => {
    const weight = fc.oneof(fc.constant(0), fc.constant(1), fc.float({ min: Math.fround(1e-9), max: 1, noNaN: true }));
    const value = fc.oneof(fc.constant(-9999), fc.constant(NaN), fc.double({ min: -1e6, max: 1e9, noNaN: true }), fc.integer({ min: 0, max: 5 }));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }),
        fc.array(weight, { minLength: 108, maxLength: 108 }), fc.array(value, { minLength: 17 * 14, maxLength: 17 * 14 }), fc.boolean(),
        (w, h, x0, y0, ws, vs, runs) => {
          // runs: long runs of equal weights (interior cells), else every cell its own weight
          const weights = Float32Array.from({ length: w * h }, (_, i) => (runs ? ws[Math.floor(i / 5)]! : ws[i]!));
          const win = { x0, y0, width: w, height: h, weights };
          const values = Float64Array.from(vs);
          for (const nodata of [-9999, null]) {
            const a = windowStats(values, nodata, 17, win);
            const b = spanStats(values, nodata, 17, spansOf(win));
            expect(b).toEqual(a); // toEqual compares numbers with Object.is: bit for bit (NaN-free)
          }
        },
      ),
      { seed: 3, numRuns: 300 },
    );
  });

  it('zonalStatsOf == zonalStats over coverageWindow, bit for bit, for the Natural Earth countries, every rule and kernel', async () => {
    const doc = JSON.parse(readFileSync(join(SHARED, 'natural-earth-world-atlas', 'countries-110m.geojson'), 'utf8'));
    const zones = parseZones(doc, { idProperty: 'name', selfIntersections: 'accept' });
    // half a degree, values with zeros, NaN and a nodata sentinel, deterministic
    const grid: Grid = { width: 720, height: 360, transform: [-180, 0.5, 0, 90, 0, -0.5], crs: 'EPSG:4326' };
    let seed = 99;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const band = Float64Array.from({ length: 720 * 360 }, () => {
      const u = rnd();
      return u < 0.3 ? -1 : u < 0.35 ? NaN : u < 0.5 ? 0 : 1e6 * rnd();
    });
    const raster: Raster = { grid, bands: [new Float32Array(band.length), band], nodata: -1 };
    for (const name of ['ts', 'wasm-scalar', 'wasm-simd'] as const) {
      const kernel = await loadKernel(name);
      for (const rule of ['coverage', 'centre', 'all-touched'] as ZoneRule[]) {
        const coverage: CoverageFn = (z, crs, g, r) => coverageWindow(z, crs, g, r, kernel);
        for (const opts of [{ band: 1 }, { band: 1, scale: 0.001 }]) {
          const want = zonalStats(raster, zones, { ...opts, rule, coverage });
          const got = zonalStatsOf(raster, zones, rule, kernel, opts);
          expect(got, `${name} ${rule} ${JSON.stringify(opts)}`).toEqual(want);
          expect(want.filter((r) => r.count > 0).length).toBeGreaterThan(150);
        }
      }
    }
  });

  it('zonalStatsOfSpans works on a window read of a larger grid and refuses spans outside it', () => {
    const grid = { width: 4, height: 1, transform: [0, 1, 0, 1, 0, -1] as const, crs: null };
    const zones = { crs: 'EPSG:4326', idProperty: 'id', zones: [{ id: 'a', polygons: [[Float64Array.from([2, 0, 4, 0, 4, 1, 2, 1])]] }, { id: 'b', polygons: [] }] };
    const spans = zones.zones.map((z) => coverageSpans(z, zones.crs, grid, 'coverage'));
    expect(unionWindow(spans)).toEqual([2, 0, 4, 1]);
    const raster = { grid: { ...grid, width: 2 }, bands: [new Float32Array([5, 7])], nodata: null };
    const rows = zonalStatsOfSpans(raster, zones, spans, { offsetX: 2, offsetY: 0, scale: 2 });
    expect(rows[0]).toMatchObject({ id: 'a', count: 2, sum: 24, min: 10, max: 14 });
    expect(rows[1]).toMatchObject({ id: 'b', count: 0, mean: null });
    expect(thrown(() => zonalStatsOfSpans(raster, zones, spans, { offsetX: 1 })).code).toBe('E_USAGE');
  });
});
