/**
 * hazard.fraction (CLIMADA's hazard fraction: impact = fraction x mdr x exposure) and event frequencies
 * from a CSV, through `ibf assess` on real files.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getCurve } from '../../src/catalog/index.js';
import { exactSum } from '../../src/engine/exact-sum.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import { runScenarioFile } from '../../src/node/run-scenario.js';
import { ibfError, tempDir, writeJson, writeTif } from '../helpers.js';

const W = 1500;
const H = 200;
const grid = { width: W, height: H, transform: [10, 0.01, 0, 50, 0, -0.01] as const, crs: 'EPSG:4326' };
const depth = (b: number) => new Float32Array(W * H).map((_, i) => ((i * 7919 + b * 131) % 500) / 100);
const value = new Float64Array(W * H).map((_, i) => 50 + ((i * 104729) % 997));

function setup(fraction?: { bands: Float32Array[]; nodata?: number | null }, extra: Record<string, unknown> = {}) {
  const dir = tempDir();
  writeTif(join(dir, 'hazard.tif'), grid, [depth(0), depth(1)]);
  writeTif(join(dir, 'exposure.tif'), grid, [value]);
  if (fraction) writeTif(join(dir, 'fraction.tif'), grid, fraction.bands, fraction.nodata ?? null);
  writeJson(join(dir, 's.json'), {
    hazard: { source: 'hazard.tif', unit: 'm', bands: { type: 'events', frequencies: [0.1, 0.02] }, ...(fraction ? { fraction: 'fraction.tif' } : {}) },
    exposure: { source: 'exposure.tif', unit: 'EUR' },
    vulnerability: 'jrc-flood-europe-residential',
    affectedThreshold: 0.5,
    ...extra,
  });
  return { dir, scenario: join(dir, 's.json') };
}

describe('hazard.fraction', () => {
  it('halves damage exactly with 0.5 everywhere, and leaves exposed and affected value alone', async () => {
    const kernel = await loadKernel();
    const plain = (await runScenarioFile(setup().scenario, { kernel })).result;
    const half = (await runScenarioFile(setup({ bands: [new Float32Array(W * H).fill(0.5)] }).scenario, { kernel })).result;
    // multiplying every cell by 0.5 is exact, and so is the exact sum of halves
    expect(half.totals.damage).toEqual(plain.totals.damage.map((d) => d / 2));
    expect(half.totals.affectedValue).toEqual(plain.totals.affectedValue);
    expect(half.totals.footprintValue).toEqual(plain.totals.footprintValue);
    expect(half.totals.aai).toBe(plain.totals.aai! / 2);
  });

  it('per band, with nodata cells, equals fraction x mdr x exposure summed cell by cell', async () => {
    const kernel = await loadKernel();
    const fr = [0, 1].map((b) => new Float32Array(W * H).map((_, i) => (i % 11 === 0 ? -1 : ((i * 31 + b * 7) % 101) / 100)));
    const { scenario } = setup({ bands: fr, nodata: -1 });
    const { result } = await runScenarioFile(scenario, { kernel, workers: 0 });
    const curve = getCurve('jrc-flood-europe-residential');
    for (const b of [0, 1]) {
      const x = depth(b);
      // CLIMADA: fract.multiply(mdr).multiply(exp_values); a cell without a fraction has no damage
      const cells = Array.from(value, (e, i) => (fr[b]![i] === -1 ? 0 : e * (curve.mdr(x[i]!) * fr[b]![i]!)));
      const want = exactSum(cells);
      expect(Math.abs(result.totals.damage[b]! - want)).toBeLessThanOrEqual(1e-12 * want);
    }
  });

  it('refuses fractions outside 0..1, a wrong band count or another grid, before anything is written', async () => {
    const kernel = await loadKernel();
    const bad = new Float32Array(W * H).fill(0.3);
    bad[12345] = 1.5;
    bad[777] = -0.2;
    const { scenario, dir } = setup({ bands: [bad] });
    const out = join(dir, 'out');
    const e = await ibfError(runScenarioFile(scenario, { kernel, outDir: out }));
    expect(e.message).toMatch(/2 cell\(s\) outside 0\.\.1/);
    expect(e.hint).toMatch(/between 0 and 1/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);

    const three = setup({ bands: [bad, bad, bad] });
    const e3 = await ibfError(runScenarioFile(three.scenario, { kernel }));
    expect(e3.message).toMatch(/has 3 bands; a fraction has 1 band/);

    const other = setup();
    writeTif(join(other.dir, 'fraction.tif'), { ...grid, width: W / 2 }, [new Float32Array((W / 2) * H).fill(0.5)]);
    writeJson(join(other.dir, 's.json'), {
      hazard: { source: 'hazard.tif', unit: 'm', bands: { type: 'events', frequencies: [0.1] }, fraction: 'fraction.tif' },
      exposure: { source: 'exposure.tif', unit: 'EUR' },
      vulnerability: 'jrc-flood-europe-residential',
    });
    const e4 = await ibfError(runScenarioFile(other.scenario, { kernel }));
    // every problem at once: the grid mismatch and the frequencies that do not match the band count
    expect(e4.code).toBe('E_SCENARIO_INVALID');
    expect(JSON.stringify(e4.problems)).toMatch(/E_GRID_MISMATCH/);
    expect(JSON.stringify(e4.problems)).toMatch(/frequencies/);
  });
});

describe('event frequencies from a CSV', () => {
  it('gives the same eai, aai and exceedance curve as the inline frequencies', async () => {
    const kernel = await loadKernel();
    const inline = (await runScenarioFile(setup().scenario, { kernel })).result;
    const { dir, scenario } = setup(undefined, {});
    writeFileSync(join(dir, 'freq.csv'), 'band,frequency\n2,0.02\n1,0.1\n');
    writeJson(scenario, {
      hazard: { source: 'hazard.tif', unit: 'm', bands: { type: 'events', frequencies: 'freq.csv' } },
      exposure: { source: 'exposure.tif', unit: 'EUR' },
      vulnerability: 'jrc-flood-europe-residential',
      affectedThreshold: 0.5,
    });
    const { result } = await runScenarioFile(scenario, { kernel });
    expect(result.totals.aai).toBe(inline.totals.aai);
    expect(result.totals.exceedanceCurve).toEqual(inline.totals.exceedanceCurve);
    expect(result.bands.map((b) => b.frequency)).toEqual([0.1, 0.02]);
    expect(result.manifest.inputs.map((i) => i.role)).toContain('frequencies');

    writeFileSync(join(dir, 'freq.csv'), 'band,frequency\n1,0.1\n1,0.2\n3,x\n');
    const e = await ibfError(runScenarioFile(scenario, { kernel }));
    expect(e.code).toBe('E_INPUT_FORMAT');
    const messages = e.problems!.map((p) => `${p.path}: ${p.message}`).join('\n');
    expect(messages).toMatch(/line 3: band 1 appears twice/);
    expect(messages).toMatch(/line 4: frequency "x" is not a number/);

    writeFileSync(join(dir, 'freq.csv'), 'band,frequency\n1,0.1\n');
    const e2 = await ibfError(runScenarioFile(scenario, { kernel }));
    expect(e2.message).toMatch(/no frequency for band\(s\) 2/);
  });
});
