/**
 * Zonal statistics (exactextract definitions) from given coverage windows; the windows' weights come
 * from ../shared/data/exactextract-analytic/expected.json, so this checks the statistics on their own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unionWindow, windowStats, zonalCsv, zonalStatsOfWindows } from '../../src/engine/zonal.js';
import { readRaster } from '../../src/io/geotiff.js';
import { SHARED, expectedJson } from '../helpers.js';

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
