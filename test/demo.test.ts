/**
 * `ibf demo`: the river-flood demo (src/demo, examples/ibf-demo) runs its two scenarios end to end from a
 * clean cache: the forecast (51 members x 3 lead times: triggers in some zones, not in others) and the risk
 * (return-period maps 2-100 years: EAD per zone, the log-linear integral of the zone's damage per return
 * period). Both results are valid e4drr-ibf/result@1 documents, deterministic, printed in one table, and
 * written all or nothing. Each run (generation + both assessments) takes several seconds on 2 cores.
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { DEMO_GENERATOR_VERSION, prepareDemo, runDemo, type DemoStamp } from '../src/demo/index.js';
import { ead } from '../src/engine/derive/index.js';
import { validateResult } from '../src/engine/result-schema.js';
import type { AssessResult } from '../src/engine/result.js';
import { readRaster } from '../src/io/geotiff.js';
import { loadKernel } from '../src/kernels/load-node.js';
import type { ImpactKernel } from '../src/kernels/types.js';
import { listFiles, relClose, tempDir } from './helpers.js';

/** Generous bound for one generation + both assessments (about 6 s here); coverage instrumentation slows it. */
const RUN_MS = 90_000;

let kernel: ImpactKernel;
let first: Awaited<ReturnType<typeof runDemo>>;
const cacheA = tempDir('ibf-demo-a-');

beforeAll(async () => {
  kernel = await loadKernel();
  first = await runDemo({ cacheDir: cacheA, kernel, workers: 0 });
}, RUN_MS);

// ~180 MB of rasters: not left behind in the temp folder
afterAll(() => rmSync(cacheA, { recursive: true, force: true }));

/** The result without what legitimately differs between runs (the creation time). */
const numbers = (r: AssessResult) => ({ ...r, manifest: { ...r.manifest, createdAt: '' } });

const RETURN_PERIODS = [2, 10, 50, 100];

/**
 * Delft-FIAT's log-linear EAD (fiat/methods/ead.py, `risk_density` then `calc_ead`), as FIAT writes the
 * algebra: with f_i = 1/T_i and l_i = ln f_i over the return periods sorted ascending, c_i = 1/(l_i - l_{i+1}),
 * G_i = f_i l_i - f_i, a_i = (1 + c_i l_{i+1})(f_i - f_{i+1}) + c_i (G_{i+1} - G_i),
 * b_i = c_i (G_i - G_{i+1} + l_{i+1} (f_{i+1} - f_i)); alpha_0 = b_0, alpha_i = a_{i-1} + b_i,
 * alpha_last = f_last + a_{last-1}; EAD = sum alpha_i D_i. Written here from the formula, independently of
 * src/engine/derive/ead.ts (which evaluates the same integral without FIAT's cancellation).
 */
function fiatEad(returnPeriods: number[], damages: number[]): number {
  const order = returnPeriods.map((_, i) => i).sort((x, y) => returnPeriods[x]! - returnPeriods[y]!);
  const T = order.map((i) => returnPeriods[i]!);
  const D = order.map((i) => damages[i]!);
  const n = T.length;
  const f = T.map((t) => 1 / t);
  const l = T.map((t) => Math.log(1 / t));
  if (n === 1) return f[0]! * D[0]!;
  const c = Array.from({ length: n - 1 }, (_, i) => 1 / (l[i]! - l[i + 1]!));
  const G = f.map((fi, i) => fi * l[i]! - fi);
  const a = c.map((ci, i) => (1 + ci * l[i + 1]!) * (f[i]! - f[i + 1]!) + ci * (G[i + 1]! - G[i]!));
  const b = c.map((ci, i) => ci * (G[i]! - G[i + 1]! + l[i + 1]! * (f[i + 1]! - f[i]!)));
  const alpha = T.map((_, i) => (i === 0 ? b[0]! : i === n - 1 ? f[i]! + a[i - 1]! : a[i - 1]! + b[i]!));
  return alpha.reduce((s, w, i) => s + w * D[i]!, 0);
}

/**
 * The same integral by quadrature: damage linear in ln p between the return periods (p = 1/T), zero for
 * p > 1/T_min, D(T_max) for p < 1/T_max. Over each segment, with x = ln p, the integral of D dp is that of
 * D(x) e^x dx: composite Simpson with 2000 steps (error ~1e-13 relative here).
 */
function quadratureEad(returnPeriods: number[], damages: number[]): number {
  const order = returnPeriods.map((_, i) => i).sort((x, y) => returnPeriods[x]! - returnPeriods[y]!);
  const x = order.map((i) => Math.log(1 / returnPeriods[i]!));
  const D = order.map((i) => damages[i]!);
  let total = D[D.length - 1]! * Math.exp(x[x.length - 1]!); // the tail beyond the longest return period
  for (let i = 0; i + 1 < x.length; i++) {
    const [x0, x1] = [x[i + 1]!, x[i]!]; // x0 < x1: the rarer end first
    const d = (s: number) => D[i + 1]! + ((D[i]! - D[i + 1]!) * (s - x0)) / (x1 - x0);
    const steps = 2000;
    const h = (x1 - x0) / steps;
    let s = d(x0) * Math.exp(x0) + d(x1) * Math.exp(x1);
    for (let k = 1; k < steps; k++) s += (k % 2 ? 4 : 2) * d(x0 + k * h) * Math.exp(x0 + k * h);
    total += (s * h) / 3;
  }
  return total;
}

describe('ibf demo (river-flood forecast and risk)', () => {
  it('runs both scenarios end to end from a clean cache, at realistic size', () => {
    const { forecast, risk, demo } = first;
    const result = forecast.result;
    expect(demo.generated).toBe(true);
    expect(demo.stamp.generator).toBe(DEMO_GENERATOR_VERSION);
    // the budget for a new user's first `npm start`: generation + both assessments within 30 s (about 6 s on 2 cores)
    expect(demo.generateSeconds + forecast.seconds + risk.seconds).toBeLessThan(30);
    expect(listFiles(cacheA)).toEqual(['demo-cache.json', 'exposure.tif', 'hazard.tif', 'return-periods.tif', 'risk.json', 'scenario.json', 'zones.geojson']);
    // a 51-member x 3 lead-time ensemble on a hazard grid 5x coarser than the exposure grid
    expect(result.bandsType).toBe('ensemble');
    expect(result.bands).toHaveLength(153);
    expect(result.totals.ensemble!.map((e) => [e.leadTime, e.members])).toEqual([['24-hour', 51], ['48-hour', 51], ['72-hour', 51]]);
    expect(result.grid!.hazardResampling).toBe('nearest');
    expect(demo.stamp.cells.exposure).toBe(result.grid!.width * result.grid!.height);
    expect(demo.stamp.cells.exposure / demo.stamp.cells.hazard).toBe(25);
    // at least 2 million cells with exposure data (inside the six countries), not just in the grid
    expect(result.totals.cells).toBeGreaterThanOrEqual(2_000_000);
    expect(result.zones.map((z) => z.id)).toEqual(['BWA', 'MOZ', 'MWI', 'SWZ', 'ZMB', 'ZWE']);
    expect(result.manifest.curves.map((c) => c.id)).toEqual(['jrc-flood-africa-residential']);
    // exposure is the synthetic population x USD 3000, scaled to each country's population
    const zone = (id: string) => result.zones.find((z) => z.id === id)!;
    // (zones weigh border cells by their exact coverage, the generator by cell centre: 0.1%)
    expect(Math.abs(demo.stamp.population.MOZ! - 31_000_000)).toBeLessThan(1000);
    expect(Math.abs(zone('MOZ').exposedValue / 3000 / demo.stamp.population.MOZ! - 1)).toBeLessThan(1e-3);

    // the risk: four return-period maps on the exposure grid itself (no resampling), the same exposure and zones
    const r = risk.result;
    expect(r.bandsType).toBe('return-periods');
    expect(r.bands.map((b) => [b.name, b.returnPeriod])).toEqual([['rp2', 2], ['rp10', 10], ['rp50', 50], ['rp100', 100]]);
    expect(demo.stamp.spec.returnPeriods).toEqual(RETURN_PERIODS);
    expect(demo.stamp.cells.returnPeriodBands).toBe(4);
    expect(r.grid!.hazardResampling).toBe('none');
    expect([r.grid!.width, r.grid!.height]).toEqual([result.grid!.width, result.grid!.height]);
    expect(r.eadMethod).toBe('loglinear');
    expect(r.zones.map((z) => z.id)).toEqual(result.zones.map((z) => z.id));
    expect(relClose(r.totals.exposedValue, result.totals.exposedValue, 1e-12)).toBe(true);
    r.zones.forEach((z, i) => expect(relClose(z.exposedValue, result.zones[i]!.exposedValue, 1e-12)).toBe(true));
  });

  it('produces results that validate against e4drr-ibf/result@1', () => {
    expect(validateResult(JSON.parse(JSON.stringify(first.forecast.result)))).toEqual([]);
    expect(validateResult(JSON.parse(JSON.stringify(first.risk.result)))).toEqual([]);
  });

  it('triggers in some zones and in none of others', () => {
    const zones = first.forecast.result.zones;
    const triggered = zones.filter((z) => z.trigger!.some((t) => t.triggered)).map((z) => z.id);
    const quiet = zones.filter((z) => z.trigger!.every((t) => !t.triggered && t.alertLevel === 'none')).map((z) => z.id);
    // the scripted event: a cyclone landfall near Beira floods central Mozambique and southern Malawi
    expect(triggered).toEqual(['MOZ', 'MWI']);
    expect(quiet).toEqual(expect.arrayContaining(['BWA', 'SWZ']));
    const moz = zones.find((z) => z.id === 'MOZ')!.trigger!;
    expect(moz.map((t) => t.alertLevel)).toEqual(['medium', 'high', 'high']);
    for (const z of zones) {
      for (const t of z.trigger!) {
        // the decision is the rule: p >= 0.6 within 72 hours, p = members at or above / 51
        expect(t.probability).toBe(t.count / 51);
        expect(t.triggered).toBe(t.probability >= 0.6 && t.leadTimeHours <= 72);
      }
    }
    // members spread more with lead time (wider 10-90% range relative to the median)
    const spread = zones.find((z) => z.id === 'MOZ')!.ensemble!.map((e) => (e.quantiles[1]!.value - e.quantiles[0]!.value) / e.median);
    expect(spread[0]! < spread[1]! && spread[1]! < spread[2]!).toBe(true);
  });

  it('risk: damage grows with the return period in every zone, and EAD is its log-linear integral', () => {
    const r = first.risk.result;
    const rps = r.bands.map((b) => b.returnPeriod!);
    expect(rps).toEqual(RETURN_PERIODS); // ascending: damage[i] belongs to rps[i]
    for (const z of [...r.zones, { id: 'totals', ...r.totals }]) {
      // rarer floods are deeper and wider: damage, affected and footprint value, peak depth never fall
      for (let i = 1; i < rps.length; i++) {
        expect(z.damage[i]!, `${z.id} damage ${rps[i]} vs ${rps[i - 1]} years`).toBeGreaterThanOrEqual(z.damage[i - 1]!);
        expect(z.footprintValue[i]!).toBeGreaterThanOrEqual(z.footprintValue[i - 1]!);
        expect(z.affectedValue[i]!).toBeGreaterThanOrEqual(z.affectedValue[i - 1]!);
        expect(z.maxIntensity[i] ?? 0).toBeGreaterThanOrEqual(z.maxIntensity[i - 1] ?? 0);
      }
      // EAD = the engine's integration of exactly these damages (the same function on the same numbers)
      expect(z.ead).toBe(ead(z.damage, rps, 'loglinear'));
      // ... = Delft-FIAT's formula, written out above (1e-12: FIAT's algebra cancels a little)
      expect(relClose(z.ead!, fiatEad(rps, z.damage), 1e-12) || z.ead === 0).toBe(true);
      // ... = the integral by quadrature (Simpson, 2000 steps per segment)
      expect(relClose(z.ead!, quadratureEad(rps, z.damage), 1e-9) || z.ead === 0).toBe(true);
    }
    // every zone with a river floods, and has a positive EAD; Eswatini has no river in the network
    const flooded = r.zones.filter((z) => z.damage[rps.length - 1]! > 0).map((z) => z.id);
    expect(flooded).toEqual(['BWA', 'MOZ', 'MWI', 'ZMB', 'ZWE']);
    for (const z of r.zones) expect(z.ead! > 0).toBe(flooded.includes(z.id));
    expect(r.zones.find((z) => z.id === 'SWZ')!.damage).toEqual([0, 0, 0, 0]);
    // one zone by hand: Mozambique, from its per-band damage. For [2, 10, 50, 100] years (p = 0.5, 0.1, 0.02,
    // 0.01) the log-linear weights reduce to differences of q_i = (p_i - p_{i+1}) / ln(p_i / p_{i+1}):
    // p_0 - q_0, q_0 - q_1, q_1 - q_2, q_2 (the last includes the tail p_3 x D_3)
    const moz = r.zones.find((z) => z.id === 'MOZ')!;
    const q = [0.4 / Math.log(5), 0.08 / Math.log(5), 0.01 / Math.log(2)];
    const weights = [0.5 - q[0]!, q[0]! - q[1]!, q[1]! - q[2]!, q[2]!];
    const byHand = weights.reduce((s, w, i) => s + w * moz.damage[i]!, 0);
    expect(relClose(moz.ead!, byHand, 1e-12)).toBe(true);
    // the 2-year flood barely leaves the channel, the 100-year one costs a few % of the country's assets
    expect(moz.damage[0]! / moz.exposedValue).toBeLessThan(1e-3);
    expect(moz.damage[3]! / moz.exposedValue).toBeGreaterThan(0.01);
    // EAD per year is a fraction of a percent of the value, between the 2- and 10-year damage's shares
    expect(moz.ead! / moz.exposedValue).toBeGreaterThan(1e-3);
    expect(moz.ead!).toBeLessThan(moz.damage[1]!);
    // totals: the sum over zones (exposure lies only inside the zones; border cells split by coverage)
    const zoneSum = r.zones.reduce((s, z) => s + z.ead!, 0);
    expect(relClose(r.totals.ead!, zoneSum, 1e-3)).toBe(true);
  });

  it('risk: the return-period maps deepen cell by cell with the return period', async () => {
    const rp = await readRaster(new Uint8Array(readFileSync(join(cacheA, 'return-periods.tif'))));
    expect(rp.bands).toHaveLength(4);
    let wet = 0;
    const cells = rp.bands[0]!.length;
    for (let b = 1; b < 4; b++) {
      const lo = rp.bands[b - 1]!;
      const hi = rp.bands[b]!;
      let bad = 0;
      for (let k = 0; k < cells; k++) if (hi[k]! < lo[k]!) bad++;
      expect(bad, `cells shallower at band ${b + 1} than at band ${b}`).toBe(0);
    }
    for (let k = 0; k < cells; k++) if (rp.bands[3]![k]! > 0) wet++;
    // the 100-year flood covers a few % of the grid (floodplains), not the whole of it
    expect(wet / cells).toBeGreaterThan(0.01);
    expect(wet / cells).toBeLessThan(0.2);
  });

  it('is deterministic: a second clean cache gives the same files and the same numbers', async () => {
    const cacheB = tempDir('ibf-demo-b-');
    try {
      const second = await runDemo({ cacheDir: cacheB, kernel, workers: 0 });
      expect(second.demo.generated).toBe(true);
      expect(second.demo.stamp.files).toEqual(first.demo.stamp.files);
      expect(numbers(second.forecast.result)).toEqual(numbers(first.forecast.result));
      expect(numbers(second.risk.result)).toEqual(numbers(first.risk.result));
    } finally {
      rmSync(cacheB, { recursive: true, force: true });
    }
  }, RUN_MS);

  it('reuses the cache, and regenerates when a file is missing or the generator version changes', async () => {
    const again = await prepareDemo({ cacheDir: cacheA });
    expect(again.generated).toBe(false);
    expect(again.generateSeconds).toBe(0);

    rmSync(join(cacheA, 'return-periods.tif'));
    const missing = await prepareDemo({ cacheDir: cacheA });
    expect(missing.generated).toBe(true);
    expect(missing.stamp.files).toEqual(first.demo.stamp.files);

    const stampPath = join(cacheA, 'demo-cache.json');
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8')) as DemoStamp;
    writeFileSync(stampPath, JSON.stringify({ ...stamp, generator: DEMO_GENERATOR_VERSION - 1 }));
    const older = await prepareDemo({ cacheDir: cacheA });
    expect(older.generated).toBe(true);
    expect(JSON.parse(readFileSync(stampPath, 'utf8')).generator).toBe(DEMO_GENERATOR_VERSION);
  }, RUN_MS);

  it('writes nothing when the second scenario fails: both folders or neither', async () => {
    const out = tempDir();
    const cancel = new AbortController();
    const error = await runDemo({
      cacheDir: cacheA,
      kernel,
      workers: 0,
      outDir: out,
      signal: cancel.signal,
      // the forecast has run (and staged its files) by the time the risk reports its first tile
      onProgress: (_p, which) => which === 'risk' && cancel.abort(new Error('stop in the risk run')),
    }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('stop in the risk run');
    expect(readdirSync(out)).toEqual([]);
  }, RUN_MS);
});

describe('ibf demo on the command line', () => {
  async function run(...argv: string[]) {
    const io = { out: '', err: '' };
    const saved = process.env.IBF_DEMO_CACHE;
    process.env.IBF_DEMO_CACHE = cacheA;
    try {
      const status = await main(argv, { out: (s) => (io.out += s), err: (s) => (io.err += s), isTTY: false });
      return { status, ...io };
    } finally {
      if (saved === undefined) delete process.env.IBF_DEMO_CACHE;
      else process.env.IBF_DEMO_CACHE = saved;
    }
  }

  it('prints one zone table: EAD per year beside the trigger, alert and probability per lead time', async () => {
    const r = await run('demo', '--workers', '0');
    expect(r.status).toBe(0);
    expect(r.out).toContain('51 members x 3 lead times = 153 flood-depth bands');
    expect(r.out).toContain('return periods 2, 10, 50, 100 years');
    expect(r.out).toMatch(/zone\s+name\s+EAD \(USD\/yr\)\s+of value\s+trigger 24-hour\s+trigger 48-hour\s+trigger 72-hour/);
    for (const id of ['BWA', 'MOZ', 'MWI', 'SWZ', 'ZMB', 'ZWE']) expect(r.out).toMatch(new RegExp(`^${id}  `, 'm'));
    // the printed EAD is the risk result's, rounded to 4 digits
    const mozEad = first.risk.result.zones.find((z) => z.id === 'MOZ')!.ead!;
    const shown = mozEad >= 1e9 ? `${(mozEad / 1e9).toPrecision(4)} B` : `${(mozEad / 1e6).toPrecision(4)} M`;
    expect(r.out).toMatch(new RegExp(`MOZ\\s+Mozambique\\s+${shown.replace('.', '\\.')}\\s+[\\d.]+%\\s+YES medium 1\\.00\\s+YES high\\s+1\\.00\\s+YES high\\s+1\\.00`));
    expect(r.out).toMatch(/SWZ\s+Eswatini\s+0\s+0%\s+no\s+none\s+0\.00\s+no\s+none\s+0\.00\s+no\s+none\s+0\.00/);
    expect(r.out).toContain('triggered (2 of 6 zones):');
    expect(r.out).toContain('trigger: damage >= 250.0 M USD in >= 60% of members, up to 72-hour');
  }, RUN_MS);

  it('--json prints { forecast, risk }, --out writes DIR/forecast and DIR/risk (no 153-band damage.tif)', async () => {
    const out = tempDir();
    const r = await run('demo', '--json', '--out', out, '--workers', '0');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.out);
    expect(Object.keys(doc)).toEqual(['forecast', 'risk']);
    expect(numbers(doc.forecast)).toEqual(numbers(JSON.parse(JSON.stringify(first.forecast.result))));
    expect(numbers(doc.risk)).toEqual(numbers(JSON.parse(JSON.stringify(first.risk.result))));
    expect(listFiles(out)).toEqual(['forecast', 'risk']); // and no staging folder left behind
    expect(listFiles(join(out, 'forecast'))).toEqual(['result.json', 'zones.csv', 'zones.geojson']);
    expect(listFiles(join(out, 'risk'))).toEqual(['ead.tif', 'result.json', 'zones.csv', 'zones.geojson']);
    expect(JSON.parse(readFileSync(join(out, 'forecast', 'result.json'), 'utf8')).totals).toEqual(doc.forecast.totals);
    expect(JSON.parse(readFileSync(join(out, 'risk', 'result.json'), 'utf8')).totals).toEqual(doc.risk.totals);
    // ead.tif: EAD per cell (USD/year); its sum is the total EAD (float32 cells)
    const eadTif = await readRaster(new Uint8Array(readFileSync(join(out, 'risk', 'ead.tif'))));
    let sum = 0;
    for (const v of eadTif.bands[0]!) if (v === v) sum += v;
    expect(relClose(sum, doc.risk.totals.ead, 1e-5)).toBe(true);
    rmSync(out, { recursive: true, force: true });
  }, RUN_MS);

  it('keeps the Delft-FIAT demo as `ibf demo fiat`, and refuses other arguments', async () => {
    const fiat = await run('demo', 'fiat');
    expect(fiat.status).toBe(0);
    expect(fiat.out).toContain('89,641.6');
    const bad = await run('demo', 'nope');
    expect(bad.status).toBe(2);
    expect(bad.err).toMatch(/^error \[E_USAGE\].*'fiat'/);
  });
});
