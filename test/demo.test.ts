/**
 * `ibf demo`: the river-flood forecast demo (src/demo, examples/ibf-demo) runs end to end from a clean
 * cache, is deterministic, triggers in some zones and not in others, and its result is a valid
 * e4drr-ibf/result@1 document. Each run (generation + assessment) takes a few seconds on 2 cores.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { DEMO_GENERATOR_VERSION, prepareDemo, runDemo, type DemoStamp } from '../src/demo/index.js';
import { validateResult } from '../src/engine/result-schema.js';
import type { AssessResult } from '../src/engine/result.js';
import { loadKernel } from '../src/kernels/load-node.js';
import type { ImpactKernel } from '../src/kernels/types.js';
import { listFiles, tempDir } from './helpers.js';

/** Generous bound for one generation + assessment (about 3 s here); coverage instrumentation slows it. */
const RUN_MS = 60_000;

let kernel: ImpactKernel;
let first: Awaited<ReturnType<typeof runDemo>>;
const cacheA = tempDir('ibf-demo-a-');

beforeAll(async () => {
  kernel = await loadKernel();
  first = await runDemo({ cacheDir: cacheA, kernel, workers: 0 });
}, RUN_MS);

// ~115 MB of rasters: not left behind in the temp folder
afterAll(() => rmSync(cacheA, { recursive: true, force: true }));

/** The result without what legitimately differs between runs (the creation time). */
const numbers = (r: AssessResult) => ({ ...r, manifest: { ...r.manifest, createdAt: '' } });

describe('ibf demo (river-flood forecast)', () => {
  it('runs end to end from a clean cache, at realistic size', () => {
    const { result, demo } = first;
    expect(demo.generated).toBe(true);
    expect(demo.stamp.generator).toBe(DEMO_GENERATOR_VERSION);
    // the budget for a new user's first `npm start`: generation + assessment within 20 s (about 3 s on 2 cores)
    expect(demo.generateSeconds + first.assessSeconds).toBeLessThan(20);
    expect(listFiles(cacheA)).toEqual(['demo-cache.json', 'exposure.tif', 'hazard.tif', 'scenario.json', 'zones.geojson']);
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
  });

  it('produces a result that validates against e4drr-ibf/result@1', () => {
    expect(validateResult(JSON.parse(JSON.stringify(first.result)))).toEqual([]);
  });

  it('triggers in some zones and in none of others', () => {
    const zones = first.result.zones;
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

  it('is deterministic: a second clean cache gives the same files and the same numbers', async () => {
    const cacheB = tempDir('ibf-demo-b-');
    try {
      const second = await runDemo({ cacheDir: cacheB, kernel, workers: 0 });
      expect(second.demo.generated).toBe(true);
      expect(second.demo.stamp.files).toEqual(first.demo.stamp.files);
      expect(numbers(second.result)).toEqual(numbers(first.result));
    } finally {
      rmSync(cacheB, { recursive: true, force: true });
    }
  }, RUN_MS);

  it('reuses the cache, and regenerates when a file is missing or the generator version changes', async () => {
    const again = await prepareDemo({ cacheDir: cacheA });
    expect(again.generated).toBe(false);
    expect(again.generateSeconds).toBe(0);

    rmSync(join(cacheA, 'hazard.tif'));
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

  it('prints the summary and the zone table with probability, trigger and alert per lead time', async () => {
    const r = await run('demo', '--workers', '0');
    expect(r.status).toBe(0);
    expect(r.out).toContain('51 members x 3 lead times = 153 hazard bands');
    expect(r.out).toMatch(/zone\s+name\s+lead time\s+probability\s+triggered\s+alert/);
    expect(r.out).toMatch(/MOZ\s+Mozambique\s+24-hour\s+1\.00\s+YES\s+medium/);
    expect(r.out).toMatch(/SWZ\s+Eswatini\s+24-hour\s+0\.00\s+no\s+none/);
    expect(r.out).toContain('triggered (2 of 6 zones):');
  }, RUN_MS);

  it('--json prints the result document, --out writes the outputs (no 153-band damage.tif)', async () => {
    const out = tempDir();
    const r = await run('demo', '--json', '--out', out, '--workers', '0');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.out);
    expect(numbers(doc)).toEqual(numbers(JSON.parse(JSON.stringify(first.result))));
    expect(listFiles(out)).toEqual(['result.json', 'zones.csv', 'zones.geojson']);
    expect(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).totals).toEqual(doc.totals);
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
