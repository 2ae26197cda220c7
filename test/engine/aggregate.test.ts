/**
 * The aggregated nearest path (src/engine/aggregate.ts) against the per-cell path on the upsampled hazard:
 * a coarse ensemble over a finer exposure grid with zones (overlapping, fractional coverage, one off the
 * grid), nodata in hazard (NaN and a nodata value) and exposure, exposure cells outside the hazard grid
 * and outside every zone. Sums agree within RTOL (only the order of summation differs); maxima, counts of
 * groups that are empty and the per-cell damage raster agree exactly.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assessRasters, type AssessRastersInput, type AssessRastersOutput } from '../../src/engine/assess.js';
import { nearestIndex } from '../../src/engine/aggregate.js';
import { planResample } from '../../src/geo/resample.js';
import { readRaster } from '../../src/io/geotiff.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import type { ImpactKernel } from '../../src/kernels/types.js';
import { DamageFunction } from '../../src/model/damage-function.js';
import type { Grid } from '../../src/model/grid.js';
import type { Totals } from '../../src/engine/result.js';
import { runScenarioFile } from '../../src/node/run-scenario.js';
import { FIAT, tempDir, writeJson, writeTif } from '../helpers.js';

/** Relative tolerance of aggregated vs per-cell sums (observed ~1e-15). */
const RTOL = 1e-12;

const struct1 = DamageFunction.fromTable({
  unit: 'm',
  intensity: [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.25, 4.5, 4.75, 5],
  mdd: [0, 0, 0, 0, 0, 0.14, 0.25, 0.35, 0.43, 0.5, 0.57, 0.63, 0.68, 0.73, 0.78, 0.82, 0.86, 0.9, 0.93, 0.96, 0.96],
});

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Exposure 70 x 50 cells of 0.01 deg; hazard 4x coarser, shifted so that its last columns and rows miss the exposure grid. */
const EXP: Grid = { width: 70, height: 50, transform: [4.3, 0.01, 0, 52.1, 0, -0.01], crs: 'EPSG:4326' };
const HAZ: Grid = { width: 16, height: 11, transform: [4.29, 0.04, 0, 52.11, 0, -0.04], crs: 'EPSG:4326' };
const HAZ_ND = -9999;
const EXP_ND = -1;

function hazardBands(nBands: number): Float32Array[] {
  const rnd = lcg(11);
  return Array.from({ length: nBands }, (_, b) =>
    Float32Array.from({ length: HAZ.width * HAZ.height }, (_, k) => {
      const u = rnd();
      if (u < 0.05) return NaN;
      if (u < 0.1) return HAZ_ND;
      return Math.max(0, 2.5 + 2.5 * Math.sin(k / 7 + b * 0.4) + (rnd() - 0.5));
    }),
  );
}

function exposureBand(): Float64Array {
  const rnd = lcg(5);
  return Float64Array.from({ length: EXP.width * EXP.height }, () => {
    const u = rnd();
    return u < 0.04 ? NaN : u < 0.08 ? EXP_ND : 100 + 4900 * rnd() * rnd();
  });
}

/** Coverage windows: two overlapping zones with fractional edges, one off the grid; a strip in no zone. */
function zones() {
  const win = (x0: number, y0: number, width: number, height: number, seed: number) => {
    const rnd = lcg(seed);
    const weights = Float32Array.from({ length: width * height }, (_, k) => {
      const r = Math.floor(k / width);
      const c = k % width;
      const edge = r === 0 || c === 0 || r === height - 1 || c === width - 1;
      return edge ? (rnd() < 0.2 ? 0 : rnd()) : 1;
    });
    return { x0, y0, width, height, weights };
  };
  return [
    { id: 'A', name: 'West', window: win(0, 0, 33, 50, 1) },
    { id: 'B', window: win(25, 3, 40, 30, 2) },
    { id: 'OFF', window: null },
  ];
}

/** Largest relative difference seen (printed by the last test). */
let maxRel = 0;

function close(a: Totals, b: Totals, where: string): void {
  const num = (x: number | null, y: number | null, what: string) => {
    if (x === null || y === null) return expect(x, what).toBe(y);
    if (y !== 0) maxRel = Math.max(maxRel, Math.abs(x - y) / Math.abs(y));
    expect(Math.abs(x - y) <= RTOL * Math.abs(y), `${what}: ${x} vs ${y}`).toBe(true);
  };
  num(a.cells, b.cells, `${where}.cells`);
  num(a.exposedValue, b.exposedValue, `${where}.exposedValue`);
  for (const k of ['damage', 'affectedValue', 'meanIntensity', 'footprintValue', 'hazardCells'] as const) {
    a[k].forEach((x, i) => num(x, b[k][i]!, `${where}.${k}[${i}]`));
  }
  expect(a.maxIntensity, `${where}.maxIntensity`).toEqual(b.maxIntensity);
}

function compare(agg: AssessRastersOutput, cell: AssessRastersOutput): void {
  expect(agg.aggregated).toBe(true);
  expect(cell.aggregated).toBeUndefined();
  close(agg.totals, cell.totals, 'totals');
  expect(agg.zones.map((z) => z.id)).toEqual(cell.zones.map((z) => z.id));
  agg.zones.forEach((z, i) => close(z, cell.zones[i]!, `zones[${i}]`));
}

describe('aggregated nearest assessment', () => {
  let kernels: ImpactKernel[];
  beforeAll(async () => {
    kernels = [await loadKernel('ts'), await loadKernel('wasm-simd')];
  });

  const nBands = 7;
  const bands = hazardBands(nBands);
  const source = { grid: HAZ, bands, nodata: HAZ_ND };
  const exposure = { grid: EXP, bands: [exposureBand()], nodata: EXP_ND };
  const plan = planResample(HAZ, EXP, { method: 'nearest' });
  const window = plan.sourceWindow()!;
  const windowed = (() => {
    const [x0, y0, x1, y1] = window;
    const w = x1 - x0;
    const grid: Grid = { ...HAZ, width: w, height: y1 - y0, transform: [HAZ.transform[0] + x0 * 0.04, 0.04, 0, HAZ.transform[3] - y0 * 0.04, 0, -0.04] };
    const cut = (b: Float32Array) => Float32Array.from({ length: w * (y1 - y0) }, (_, k) => b[(y0 + Math.floor(k / w)) * HAZ.width + x0 + (k % w)]!);
    return { grid, bands: bands.map(cut), nodata: HAZ_ND };
  })();

  const base = (): Omit<AssessRastersInput, 'hazard'> => ({ hazardUnit: 'm', exposure, curves: [struct1], affectedThreshold: 1, zones: zones(), damageRaster: true });

  it('the nearest index reproduces the resampled values, with cells outside the hazard grid as -1', async () => {
    const idx = nearestIndex(plan, [0, 0, HAZ.width, HAZ.height]);
    const up = plan.run(source);
    let outside = 0;
    for (let i = 0; i < idx.length; i++) {
      const h = idx[i]!;
      if (h < 0) outside++;
      for (let b = 0; b < nBands; b++) {
        const v = h < 0 ? NaN : bands[b]![h]!;
        expect(Object.is(up.bands[b]![i], v === HAZ_ND ? NaN : v)).toBe(true);
      }
    }
    expect(outside).toBeGreaterThan(0);
  });

  for (const kind of ['ts', 'wasm-simd'] as const) {
    it(`${kind}: equals the upsample path within ${RTOL}, damage raster bit for bit`, async () => {
      const kernel = kernels.find((k) => k.name === kind)!;
      const cell = await assessRasters({ ...base(), hazard: plan.run(source, { kernel }) }, { kernel, tileCells: 2048 });
      const agg = await assessRasters({ ...base(), hazard: source, nearest: { plan, window: [0, 0, HAZ.width, HAZ.height] } }, { kernel, tileCells: 2048 });
      compare(agg, cell);
      // a decoded window of the source (as readAligned reads it) gives the same
      const aggWin = await assessRasters({ ...base(), hazard: windowed, nearest: { plan, window } }, { kernel });
      compare(aggWin, cell);
      // totals include exposure outside every zone
      const inZones = agg.zones.reduce((s, z) => s + z.exposedValue, 0);
      expect(agg.totals.exposedValue).toBeGreaterThan(agg.zones[0]!.exposedValue);
      expect(inZones).toBeGreaterThan(0);
      expect(agg.zones[2]!.cells).toBe(0);
      for (const out of [agg, aggWin]) {
        expect(out.damage!.bands).toHaveLength(nBands);
        out.damage!.bands.forEach((d, b) => expect(Buffer.from(d.buffer).equals(Buffer.from(cell.damage!.bands[b]!.buffer))).toBe(true));
      }
      expect(agg.totals.damage.every((d) => d > 0)).toBe(true);
      expect(agg.zones[0]!.cells).toBeGreaterThan(0);
      expect(agg.zones[1]!.hazardCells.every((c) => c > 0)).toBe(true);
      // the partial is the totals' (one zone)
      expect(agg.partial.nZones).toBe(1);
    });
  }

  it('with a class raster it upsamples and runs per cell (same result as upsampling first)', async () => {
    const kernel = kernels[1]!;
    const classIndex = new Uint8Array(EXP.width * EXP.height).map((_, i) => i % 3 === 0 ? 1 : 0);
    const curves = [struct1, DamageFunction.fromTable({ unit: 'm', intensity: [0, 3], mdd: [0, 1] })];
    const input = { ...base(), curves, classIndex };
    const cell = await assessRasters({ ...input, hazard: plan.run(source, { kernel }) }, { kernel });
    const viaNearest = await assessRasters({ ...input, hazard: source, nearest: { plan, window: [0, 0, HAZ.width, HAZ.height] } }, { kernel });
    expect(viaNearest.aggregated).toBeUndefined();
    expect(viaNearest.totals).toEqual(cell.totals);
    expect(viaNearest.zones).toEqual(cell.zones);
  });
});

describe('ibf assess: an ensemble on a coarser grid (nearest) is aggregated', () => {
  it('gives the per-cell results (class raster of one class forces that path) within RTOL; damage.tif equal', async () => {
    const kernel = await loadKernel();
    const dir = tempDir();
    writeTif(join(dir, 'ens.tif'), HAZ, hazardBands(6), HAZ_ND);
    writeTif(join(dir, 'exposure.tif'), EXP, [exposureBand()], EXP_ND);
    writeTif(join(dir, 'classes.tif'), EXP, [new Float32Array(EXP.width * EXP.height).fill(1)]);
    copyFileSync(join(FIAT, 'vulnerability_curves.csv'), join(dir, 'curve.csv'));
    const rect = (x0: number, y0: number, x1: number, y1: number) => [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]];
    writeJson(join(dir, 'zones.geojson'), {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { code: 'W' }, geometry: { type: 'Polygon', coordinates: rect(4.3, 51.6, 4.633, 52.1) } },
        { type: 'Feature', properties: { code: 'E' }, geometry: { type: 'Polygon', coordinates: rect(4.6, 51.805, 4.955, 52.07) } },
        { type: 'Feature', properties: { code: 'SEA' }, geometry: { type: 'Polygon', coordinates: rect(6, 53, 6.1, 53.1) } },
      ],
    });
    const common = {
      hazard: { source: 'ens.tif', unit: 'm', resampling: 'nearest', bands: { type: 'ensemble', members: 3, leadTimes: ['24-hour', '48-hour'] } },
      exposure: { source: 'exposure.tif', unit: 'EUR' },
      zones: { source: 'zones.geojson', idProperty: 'code' },
      affectedThreshold: 0.5,
    };
    writeJson(join(dir, 'agg.json'), { ...common, vulnerability: { csv: 'curve.csv', column: 'struct_1' } });
    writeJson(join(dir, 'cell.json'), { ...common, vulnerability: { classes: 'classes.tif', curves: { '1': { csv: 'curve.csv', column: 'struct_1' } } } });
    const agg = await runScenarioFile(join(dir, 'agg.json'), { kernel, outDir: join(dir, 'out-agg') });
    const cell = await runScenarioFile(join(dir, 'cell.json'), { kernel, outDir: join(dir, 'out-cell') });
    expect(agg.result.grid).toMatchObject({ hazardResampling: 'nearest', aggregated: true });
    expect(cell.result.grid!.aggregated).toBeUndefined();
    close(agg.result.totals, cell.result.totals, 'totals');
    agg.result.zones.forEach((z, i) => close(z, cell.result.zones[i]!, `zones[${i}]`));
    // derived ensemble statistics follow from the same sums
    expect(agg.result.zones.map((z) => z.id)).toEqual(['W', 'E', 'SEA']);
    const read = async (d: string) => readRaster(readFileSync(join(dir, d, 'damage.tif')), { as: 'float32' });
    const [da, dc] = [await read('out-agg'), await read('out-cell')];
    console.log(`aggregated vs per-cell: largest relative difference ${maxRel.toExponential(2)}`);
    expect(agg.result.totals.damage.every((d) => d > 0)).toBe(true);
    da.bands.forEach((b, i) => expect(Buffer.from((b as Float32Array).buffer).equals(Buffer.from((dc.bands[i] as Float32Array).buffer))).toBe(true));
  });
});
