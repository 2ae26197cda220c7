/**
 * `ibf assess` end to end on real GeoTIFFs: the Delft-FIAT synthetic grid (numbers from Delft-FIAT's
 * own tests, via ../shared/data/fiat-synthetic-grid/expected.json), multi-band maps, wind with the
 * CLIMADA Emanuel function, class rasters and unit conversion. Tolerance: 1e-6 relative wherever an
 * f32 hazard stands for a decimal depth (3.6 - 0.2 * (row + col) is not exact in f32).
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRaster } from '../../src/io/geotiff.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import type { ImpactKernel } from '../../src/kernels/types.js';
import { DamageFunction } from '../../src/model/damage-function.js';
import { runScenarioFile } from '../../src/node/run-scenario.js';
import { sha256Hex } from '../../src/engine/manifest.js';
import { FIAT, REPO, expectedJson, relClose, tempDir, writeJson, writeTif } from '../helpers.js';

const RTOL = 1e-6;
const fiat = expectedJson('fiat-synthetic-grid');
const scenario = join(REPO, 'examples', 'fiat-grid', 'scenario.json');
let kernels: ImpactKernel[];

beforeAll(async () => {
  kernels = [await loadKernel('wasm-simd'), await loadKernel('wasm-scalar'), await loadKernel('ts')];
});

/** A copy of the FIAT grid in a fresh folder, to add scenarios and files next to it. */
function fiatDir(): string {
  const dir = tempDir();
  for (const f of ['event_map.tif', 'exposure_max_damage.tif', 'risk_map_rp2_5_10_25.tif', 'vulnerability_curves.csv']) copyFileSync(join(FIAT, f), join(dir, f));
  return dir;
}

describe('ibf assess on the Delft-FIAT synthetic grid', () => {
  it('gives the damage Delft-FIAT asserts, per cell and in total, with every kernel', async () => {
    const totals: number[] = [];
    for (const kernel of kernels) {
      const out = tempDir();
      const { result, written } = await runScenarioFile(scenario, { kernel, outDir: out });
      expect(written.map((w) => w.slice(out.length + 1)).sort()).toEqual(['damage.tif', 'result.json']);
      const total = result.totals.damage[0]!;
      // Delft-FIAT test_grid_event: int(d[2,4]*10) == 14092, int(d[7,3]*10) == 8700; total recomputed there
      expect(relClose(total, fiat.recomputed_here.grid_event_total_damage_sum, RTOL)).toBe(true);
      totals.push(total);
      const damage = await readRaster(readFileSync(join(out, 'damage.tif')));
      const exposure = await readRaster(readFileSync(join(FIAT, 'exposure_max_damage.tif')));
      expect(damage.grid).toEqual(exposure.grid);
      expect(damage.nodata).toBeNaN();
      const at = (row: number, col: number) => damage.bands[0]![row * 10 + col]!;
      expect(relClose(at(2, 4), fiat.recomputed_here['grid_event_damage[2,4]'], RTOL)).toBe(true);
      expect(relClose(at(7, 3), fiat.recomputed_here['grid_event_damage[7,3]'], RTOL)).toBe(true);
      expect(Math.trunc(at(2, 4) * 10)).toBe(14092);
      expect(Math.trunc(at(7, 3) * 10)).toBe(8700);
      const saved = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
      expect(saved.totals.damage).toEqual(result.totals.damage);
      expect(saved.schema).toBe('e4drr-ibf/result@1');
    }
    // the three kernels agree bit for bit (same f64 operations, same summation order)
    expect(new Set(totals).size).toBe(1);
  });

  it('reports exposure, affected value, max intensity and a manifest of the inputs', async () => {
    const { result } = await runScenarioFile(scenario, { kernel: kernels[0]! });
    const t = result.totals;
    // exposure 2000 + 100 (row + col) over 10 x 10 cells = 100 * 2000 + 100 * 900
    expect(t.exposedValue).toBe(290000);
    expect(t.cells).toBe(100);
    // affected: depth 3.6 - 0.2 k >= 0.1 for k <= 17, i.e. every cell but (9,9); its exposure is 3800
    expect(t.affectedValue[0]).toBe(290000 - 3800);
    expect(t.maxIntensity[0]).toBe(Math.fround(3.6));
    expect(result.manifest.kernel).toBe('wasm-simd');
    const hazard = result.manifest.inputs.find((i) => i.role === 'hazard')!;
    expect(hazard.sha256).toBe(await sha256Hex(readFileSync(join(FIAT, 'event_map.tif'))));
    expect(result.manifest.inputs.map((i) => i.role).sort()).toEqual(['exposure', 'hazard', 'vulnerability']);
    expect(result.manifest.curves[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('runs every band of a return-period map in one pass, matching the per-band formula', async () => {
    const dir = fiatDir();
    writeJson(join(dir, 's.json'), {
      hazard: { source: 'risk_map_rp2_5_10_25.tif', unit: 'm', bands: { type: 'return-periods', returnPeriods: [2, 5, 10, 25] } },
      exposure: { source: 'exposure_max_damage.tif', unit: 'EUR' },
      vulnerability: { csv: 'vulnerability_curves.csv', column: 'struct_1' },
    });
    const { result } = await runScenarioFile(join(dir, 's.json'), { kernel: kernels[0]! });
    expect(result.bands.map((b) => b.returnPeriod)).toEqual([2, 5, 10, 25]);
    // independent check: risk map = event depth x factor (expected.json "what"), curve struct_1, exposure formula
    const curve = DamageFunction.fromTable({
      unit: 'm',
      intensity: [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.25, 4.5, 4.75, 5],
      mdd: [0, 0, 0, 0, 0, 0.14, 0.25, 0.35, 0.43, 0.5, 0.57, 0.63, 0.68, 0.73, 0.78, 0.82, 0.86, 0.9, 0.93, 0.96, 0.96],
    });
    [1.5, 1.8, 1.9, 1.95].forEach((factor, b) => {
      let expected = 0;
      for (let r = 0; r < 10; r++) for (let c = 0; c < 10; c++) expected += (2000 + 100 * (r + c)) * curve.mdr((3.6 - 0.2 * (r + c)) * factor);
      expect(relClose(result.totals.damage[b]!, expected, RTOL)).toBe(true);
    });
  });

  it('applies a per-cell class raster choosing the curve', async () => {
    const dir = fiatDir();
    const exposure = await readRaster(readFileSync(join(dir, 'exposure_max_damage.tif')));
    // class 1 (struct_1) on the left half, class 2 (struct_2) on the right half
    const classes = new Float32Array(100).map((_, i) => (i % 10 < 5 ? 1 : 2));
    writeTif(join(dir, 'classes.tif'), exposure.grid, [classes]);
    writeJson(join(dir, 's.json'), {
      hazard: { source: 'event_map.tif', unit: 'm' },
      exposure: { source: 'exposure_max_damage.tif', unit: 'EUR' },
      vulnerability: {
        classes: 'classes.tif',
        curves: { '1': { csv: 'vulnerability_curves.csv', column: 'struct_1' }, '2': { csv: 'vulnerability_curves.csv', column: 'struct_2' } },
      },
    });
    const out = tempDir();
    const r1 = await runScenarioFile(join(dir, 's.json'), { kernel: kernels[0]!, outDir: out });
    const r2 = await runScenarioFile(join(dir, 's.json'), { kernel: kernels[2]! });
    expect(r1.result.totals.damage).toEqual(r2.result.totals.damage);
    const damage = (await readRaster(readFileSync(join(out, 'damage.tif')))).bands[0]!;
    // cell (2,7) is class 2: depth 3.6 - 1.8 = 1.8 m; struct_2 at 1.8 = 0.51 + (0.63 - 0.51) * (0.05 / 0.25); exposure 2900
    expect(relClose(damage[27]!, 2900 * (0.51 + 0.12 * 0.2), RTOL)).toBe(true);
    // cell (2,4) is class 1: the Delft-FIAT number
    expect(relClose(damage[24]!, 1409.2, RTOL)).toBe(true);
    expect(r1.result.manifest.curves.map((c) => c.class)).toEqual(['1', '2']);
  });

  it('computes wind damage with CLIMADA\'s Emanuel USA function exactly', async () => {
    const dir = tempDir();
    const grid = { width: 19, height: 1, transform: [120, 0.1, 0, 15, 0, -0.1] as const, crs: 'EPSG:4326' };
    const winds = new Float32Array(19).map((_, i) => 30 + 5 * i);
    writeTif(join(dir, 'wind.tif'), grid, [winds]);
    writeTif(join(dir, 'assets.tif'), grid, [new Float64Array(19).fill(1)]);
    writeJson(join(dir, 's.json'), {
      hazard: { source: 'wind.tif', unit: 'm/s' },
      exposure: { source: 'assets.tif', unit: 'USD' },
      vulnerability: 'emanuel-usa',
    });
    const out = tempDir();
    await runScenarioFile(join(dir, 's.json'), { kernel: kernels[0]! , outDir: out });
    const damage = (await readRaster(readFileSync(join(out, 'damage.tif')))).bands[0]!;
    // CLIMADA test_tc.py: mdd at 30..120 m/s (f32 damage raster: compare at f32)
    const climada: number[] = expectedJson('climada-oracles')['impf_emanuel_usa_default (climada/entity/impact_funcs/test/test_tc.py:33-66)']['mdd[6:25] (I=30..120)'];
    expect(Array.from(damage)).toEqual(climada.map(Math.fround));
  });

  it('converts a curve in feet to a hazard in metres', async () => {
    const dir = fiatDir();
    // struct_1's knots in feet (x / 0.3048): must give the same damage as the metre curve
    const csv = readFileSync(join(dir, 'vulnerability_curves.csv'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#') && !l.startsWith('water'));
    writeJson(join(dir, 's.json'), {
      hazard: { source: 'event_map.tif', unit: 'm' },
      exposure: { source: 'exposure_max_damage.tif', unit: 'EUR' },
      vulnerability: { intensity: csv.map((l) => Number(l.split(',')[0]) / 0.3048), mdd: csv.map((l) => Number(l.split(',')[1])), unit: 'ft' },
    });
    const { result } = await runScenarioFile(join(dir, 's.json'), { kernel: kernels[0]! });
    expect(relClose(result.totals.damage[0]!, 89641.6, RTOL)).toBe(true);
  });
});

describe('assessRasters with zone windows', () => {
  it('sums each zone over its window with coverage weights; totals still cover every cell', async () => {
    const { readRaster: read } = await import('../../src/io/geotiff.js');
    const hazard = await read(readFileSync(join(FIAT, 'event_map.tif')), { as: 'float32' });
    const exposure = await read(readFileSync(join(FIAT, 'exposure_max_damage.tif')), { as: 'float64' });
    const curve = DamageFunction.fromTable({
      unit: 'm',
      intensity: [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.25, 4.5, 4.75, 5],
      mdd: [0, 0, 0, 0, 0, 0.14, 0.25, 0.35, 0.43, 0.5, 0.57, 0.63, 0.68, 0.73, 0.78, 0.82, 0.86, 0.9, 0.93, 0.96, 0.96],
    });
    // zone a: rows 0-4 fully; zone b: rows 3-9 of columns 0-1 at half weight (overlaps a on rows 3-4)
    const a = { x0: 0, y0: 0, width: 10, height: 5, weights: new Float32Array(50).fill(1) };
    const b = { x0: 0, y0: 3, width: 2, height: 7, weights: new Float32Array(14).fill(0.5) };
    const { assessRasters } = await import('../../src/engine/assess.js');
    for (const kernel of kernels) {
      const out = await assessRasters(
        { hazard, hazardUnit: 'm', exposure, curves: [curve], zones: [{ id: 'a', window: a }, { id: 'b', name: 'B', window: b }, { id: 'c', window: null }] },
        { kernel, tileCells: 2048 },
      );
      const cell = (r: number, c: number) => (2000 + 100 * (r + c)) * curve.mdr(Math.fround(3.6 - 0.2 * (r + c)));
      let da = 0;
      for (let r = 0; r < 5; r++) for (let c = 0; c < 10; c++) da += cell(r, c);
      let db = 0;
      for (let r = 3; r < 10; r++) for (let c = 0; c < 2; c++) db += 0.5 * cell(r, c);
      expect(relClose(out.zones[0]!.damage[0]!, da, 1e-12)).toBe(true);
      expect(relClose(out.zones[1]!.damage[0]!, db, 1e-12)).toBe(true);
      expect(out.zones[1]).toMatchObject({ id: 'b', name: 'B', cells: 7 });
      expect(out.zones[2]).toMatchObject({ id: 'c', cells: 0, damage: [0], maxIntensity: [null] });
      expect(relClose(out.totals.damage[0]!, 89641.6, RTOL)).toBe(true);
    }
  });
});
