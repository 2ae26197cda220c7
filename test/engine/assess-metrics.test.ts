/**
 * Probabilistic metrics through `ibf assess` (issue #4 section 3/4, wired on the whole-raster engine):
 * EAD from return-period maps against Delft-FIAT's numbers (../shared/data/fiat-synthetic-grid/
 * expected.json), event-set aai and exceedance curve, ensemble triggers per zone and lead time.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRaster } from '../../src/io/geotiff.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import type { ImpactKernel } from '../../src/kernels/types.js';
import { runScenarioFile } from '../../src/node/run-scenario.js';
import { FIAT, expectedJson, relClose, tempDir, writeJson, writeTif } from '../helpers.js';

const fiat = expectedJson('fiat-synthetic-grid');
let kernel: ImpactKernel;
beforeAll(async () => {
  kernel = await loadKernel();
});

function fiatDir(): string {
  const dir = tempDir();
  for (const f of ['event_map.tif', 'exposure_max_damage.tif', 'risk_map_rp2_5_10_25.tif', 'vulnerability_curves.csv']) copyFileSync(join(FIAT, f), join(dir, f));
  return dir;
}

const base = {
  exposure: { source: 'exposure_max_damage.tif', unit: 'EUR' },
  vulnerability: { csv: 'vulnerability_curves.csv', column: 'struct_1' },
};

describe('metrics in ibf assess', () => {
  it('return-period maps: EAD in total and per cell (ead.tif) as Delft-FIAT computes it', async () => {
    const dir = fiatDir();
    writeJson(join(dir, 's.json'), { ...base, hazard: { source: 'risk_map_rp2_5_10_25.tif', unit: 'm', bands: { type: 'return-periods', returnPeriods: [2, 5, 10, 25] } } });
    const out = tempDir();
    const { result, written } = await runScenarioFile(join(dir, 's.json'), { kernel, outDir: out });
    expect(result.eadMethod).toBe('loglinear');
    // Delft-FIAT grid risk: sum of per-cell EAD (recomputed in expected.json); f32 depths -> 1e-6
    expect(relClose(result.totals.ead!, fiat.recomputed_here.grid_risk_ead_sum, 1e-6)).toBe(true);
    expect(written.map((w) => w.slice(out.length + 1)).sort()).toEqual(['damage.tif', 'ead.tif', 'result.json']);
    const ead = (await readRaster(readFileSync(join(out, 'ead.tif')))).bands[0]!;
    // Delft-FIAT test_grid_risk: int(ead[1,2]*10) == 10920, int(ead[5,6]*10) == 8468
    expect(relClose(ead[12]!, fiat.recomputed_here['ead[1,2]'], 1e-6)).toBe(true);
    expect(relClose(ead[56]!, fiat.recomputed_here['ead[5,6]'], 1e-6)).toBe(true);
    expect(Math.trunc(ead[12]! * 10)).toBe(10920);
    expect(Math.trunc(ead[56]! * 10)).toBe(8468);
  });

  it('event sets: aai = sum of damage x frequency, and the exceedance curve', async () => {
    const dir = fiatDir();
    const frequencies = [0.5, 0.2, 0.1, 0.04];
    writeJson(join(dir, 's.json'), {
      ...base,
      hazard: { source: 'risk_map_rp2_5_10_25.tif', unit: 'm', bands: { type: 'events', frequencies } },
      exceedanceCurve: { returnPeriods: [10] },
    });
    const { result } = await runScenarioFile(join(dir, 's.json'), { kernel });
    const d = result.totals.damage;
    expect(result.totals.aai).toBeCloseTo(d.reduce((s, v, i) => s + v * frequencies[i]!, 0), 6);
    // damages grow with the band (deeper water at rarer events); sorted descending the cumulative
    // frequencies are 0.04, 0.14, 0.34, 0.84, i.e. return periods 25, 7.14, 2.94, 1.19 years: 10 years lies
    // between 7.14 (band 2) and 25 (band 3), and CLIMADA np.interp's it linearly in return period
    expect(d[0]! < d[1]! && d[1]! < d[2]! && d[2]! < d[3]!).toBe(true);
    const t = (10 - 1 / 0.14) / (25 - 1 / 0.14);
    expect(result.totals.exceedanceCurve).toEqual([{ returnPeriod: 10, impact: expect.closeTo(d[2]! + t * (d[3]! - d[2]!), 6) }]);
  });

  it('ensembles: triggers per zone and lead time with exact probability boundaries', async () => {
    const dir = fiatDir();
    const event = await readRaster(readFileSync(join(FIAT, 'event_map.tif')), { as: 'float32' });
    // 5 members x 2 lead times, member-major: member m at lead l floods (1 + m/4 + l/2) x the event depth
    const bands: Float32Array[] = [];
    for (let m = 0; m < 5; m++) for (let l = 0; l < 2; l++) bands.push(Float32Array.from(event.bands[0]!, (v) => v * (0.5 + m / 4 + l / 2)));
    writeTif(join(dir, 'ens.tif'), event.grid, bands);
    writeJson(join(dir, 'zones.geojson'), { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { id: 'all' }, geometry: { type: 'Polygon', coordinates: [[[4.35, 51.95], [4.45, 51.95], [4.45, 52.05], [4.35, 52.05], [4.35, 51.95]]] } }] });
    // members' damages sorted per lead time; choose the threshold between the 3rd and 4th largest at 24 h
    const probe = { ...base, hazard: { source: 'ens.tif', unit: 'm', bands: { type: 'ensemble', members: 5, leadTimes: ['24-hour', '48-hour'] } } };
    writeJson(join(dir, 'probe.json'), probe);
    const totals = (await runScenarioFile(join(dir, 'probe.json'), { kernel })).result.totals;
    const at24 = [0, 2, 4, 6, 8].map((b) => totals.damage[b]!).sort((a, b) => b - a);
    const threshold = (at24[2]! + at24[3]!) / 2; // 3 of 5 members at or above at 24 h
    writeJson(join(dir, 's.json'), {
      ...probe,
      zones: { source: 'zones.geojson', idProperty: 'id' },
      quantiles: [0.5],
      trigger: { metric: 'damage', threshold, pMin: 0.6, maxLeadTime: '1-day', alertClasses: [{ level: 'low', threshold, pMin: 0.2 }, { level: 'medium', threshold, pMin: 0.6 }] },
    });
    const { result } = await runScenarioFile(join(dir, 's.json'), { kernel });
    const [z] = result.zones;
    expect(z!.trigger).toEqual([
      // 3 of 5 = 0.6 >= pMin 0.6 within the 1-day horizon
      expect.objectContaining({ leadTime: '24-hour', probability: 0.6, triggered: true, alertLevel: 'medium', severity: 0.7 }),
      // deeper water at 48 h: every member over, but beyond maxLeadTime: not triggered, alert still high-probability medium
      expect.objectContaining({ leadTime: '48-hour', probability: 1, triggered: false, alertLevel: 'medium', severity: 0.7 }),
    ]);
    expect(z!.ensemble![0]!.members).toBe(5);
    // the zonal mean depth per band is available to triggers as hazardMean: member 0 at 24 h is 0.5 x the
    // event depth, whose mean over the grid is 3.6 - 0.2 x 9 = 1.8 m (f32 depths: 1e-6)
    expect(z!.meanIntensity[0]).toBeCloseTo(0.9, 6);
    expect(z!.ensemble![0]!.median).toBe(at24[2]);
    expect(result.totals.trigger![0]!.probability).toBe(0.6);
  });

  it('refuses band meanings that do not fit, listing every problem before computing', async () => {
    const dir = fiatDir();
    writeJson(join(dir, 's.json'), {
      ...base,
      hazard: { source: 'risk_map_rp2_5_10_25.tif', unit: 'm', bands: { type: 'ensemble', members: 3, leadTimes: ['24-hour'] } },
      trigger: { metric: 'damage', threshold: 1, pMin: 1.5 },
    });
    await expect(runScenarioFile(join(dir, 's.json'), { kernel })).rejects.toMatchObject({
      code: 'E_SCENARIO_INVALID',
      problems: expect.arrayContaining([expect.objectContaining({ path: expect.stringContaining('members') }), expect.objectContaining({ path: expect.stringContaining('pMin') })]),
    });
  });
});
