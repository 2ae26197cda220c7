/**
 * Determinism across runtimes: the same scenarios assessed in Node inline (pool size 0), on 1 and 2
 * worker threads, in headless Chromium and in workerd must give the same result.json, bit for bit in
 * every number (only `manifest.createdAt` may differ), and the same manifest input hashes.
 *
 * Scenarios: the Delft-FIAT synthetic grid (one event, a CSV curve) and a small ensemble forecast
 * (12 bands: 4 members x 3 lead times on a 5x coarser grid, so the aggregated nearest path runs;
 * three zones; a trigger), tiled in one-unit tiles (1024 x 128 cells) so tiles are reduced in an order
 * that differs between runs. Their sources are data: URLs, read by the API's scenario IO in every runtime.
 *
 * The runtime-neutral engine (entry.ts) is bundled with vite into a temporary folder; Chromium loads it
 * from a local static server (test/runtimes/chromium.ts), workerd (Miniflare) as ES modules with the SIMD
 * kernel as a CompiledWasm module. The design promises bit equality here (docs/ENGINE.md "Reduce":
 * exact sums, one rounding), so there is no tolerance.
 */
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKernel } from '../../src/kernels/load-node.js';
import { createNodePool } from '../../src/pool/node.js';
import { assess } from '../../src/engine/scenario.js';
import { memoryObjectStore } from '../../src/api/memory.js';
import { apiScenarioIO } from '../../src/api/sources.js';
import { parseScenario } from '../../src/model/scenario.js';
import { writeGeoTiff } from '../../src/io/geotiff.js';
import { dataUrl } from '../api/cases.js';
import { ROOT } from '../runtimes/case.js';
import { SKIP_NO_CHROMIUM, openPage, within } from '../runtimes/chromium.js';
import { runScenario } from './entry.js';

const TILE_CELLS = 1024 * 128;
const FIAT = join(ROOT, 'examples', 'fiat-grid');
const file = (name: string) => new Uint8Array(readFileSync(join(FIAT, name)));

const fiat = {
  name: 'fiat grid',
  hazard: { source: dataUrl(file('event_map.tif')), unit: 'm', bands: { type: 'event' } },
  exposure: { source: dataUrl(file('exposure_max_damage.tif')), unit: 'EUR' },
  vulnerability: { csv: dataUrl(file('vulnerability_curves.csv'), 'text/csv'), column: 'struct_1' },
  affectedThreshold: 0.1,
};

/** 4 members x 3 lead times of flood depth (m) on a 220 x 60 grid of 0.05 deg; exposure on 1100 x 300 of 0.01 deg. */
function ensemble() {
  let s = 0x2545f491;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const [W, H, F] = [1100, 300, 5];
  const value = new Float32Array(W * H).map((_, i) => (i % 97 === 3 ? -1 : 500 + 9000 * rnd()));
  const members = 4;
  const leads = 3;
  const bands = Array.from({ length: members * leads }, (_, b) => {
    const lead = b % leads;
    return new Float32Array((W / F) * (H / F)).map((_, i) => (i % 53 === 7 ? NaN : Math.max(0, (rnd() - 0.35) * (1 + lead) * 1.8)));
  });
  const hazard = writeGeoTiff({ grid: { width: W / F, height: H / F, transform: [30, 0.05, 0, -10, 0, -0.05], crs: 'EPSG:4326' }, bands, nodata: null });
  const exposure = writeGeoTiff({ grid: { width: W, height: H, transform: [30, 0.01, 0, -10, 0, -0.01], crs: 'EPSG:4326' }, bands: [value], nodata: -1 });
  const box = (id: string, x0: number, x1: number) => ({ type: 'Feature', properties: { id }, geometry: { type: 'Polygon', coordinates: [[[x0, -10.001], [x1, -10.001], [x1, -12.9], [x0, -12.9], [x0, -10.001]]] } });
  const zones = { type: 'FeatureCollection', features: [box('A', 30.013, 33.337), box('B', 33.337, 36.5), box('C', 36.5, 40.9)] };
  return {
    name: 'small ensemble',
    hazard: { source: dataUrl(new Uint8Array(hazard)), unit: 'm', bands: { type: 'ensemble', members, leadTimes: ['24-hour', '48-hour', '72-hour'], order: 'member-major' }, resampling: 'nearest' },
    exposure: { source: dataUrl(new Uint8Array(exposure)), unit: 'USD' },
    vulnerability: 'jrc-flood-europe-residential',
    zones: { source: dataUrl(new TextEncoder().encode(JSON.stringify(zones)), 'application/geo+json'), idProperty: 'id' },
    trigger: { metric: 'damage', threshold: 1e6, pMin: 0.5 },
  };
}

const SCENARIOS: Record<string, Record<string, unknown>> = { fiat, ensemble: ensemble() };

/** result.json without its creation time, and its input hashes. */
function comparable(json: string): { result: string; inputs: string } {
  const r = JSON.parse(json) as { manifest: { createdAt?: string; inputs: Array<{ role: string; sha256: string; bytes: number }> } };
  delete r.manifest.createdAt;
  return { result: JSON.stringify(r), inputs: JSON.stringify(r.manifest.inputs.map((i) => [i.role, i.sha256, i.bytes])) };
}

let outDir = '';
const runs: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'ibf-determinism-'));
  await build({
    configFile: false, logLevel: 'warn', root: ROOT,
    build: { outDir, emptyOutDir: true, minify: false, target: 'es2022', lib: { entry: join(ROOT, 'test/determinism/entry.ts'), formats: ['es'], fileName: 'engine' } },
  });
  copyFileSync(join(ROOT, 'build/ibf.simd.wasm'), join(outDir, 'ibf.simd.wasm'));
}, 60_000);
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('the same scenarios give the same bits in Node (pool 0, 1, 2), Chromium and workerd', () => {
  it('Node: inline, then 1 and 2 worker threads', async () => {
    const kernel = await loadKernel('wasm-simd');
    for (const [name, doc] of Object.entries(SCENARIOS)) {
      runs[name] = { 'node inline': await runScenario(doc, kernel, TILE_CELLS) };
      for (const size of [1, 2]) {
        const pool = createNodePool({ size, kernel: 'wasm-simd' });
        try {
          const io = apiScenarioIO({ config: { bucket: 'det', limits: { maxBodyBytes: 1 << 30, maxUploadBytes: 1 << 30, syncCellBands: 1e12, maxCellBands: 1e12, ratePerMinute: 1, stepTimeoutMs: 1e9 }, allowHosts: [] }, store: memoryObjectStore() }, 'det');
          const out = await assess(parseScenario(doc), { io, kernel, pool, tileCells: TILE_CELLS, scenarioSha256: '0'.repeat(64) });
          runs[name]![`node pool ${size}`] = JSON.stringify(out.result);
          // the tiles ran on the workers (bytes sources travel to them), not on this thread
          expect(pool.stats().spawned, `${name}, pool ${size}`).toBe(Math.min(size, out.planned.plan.tiles.length));
          expect(pool.stats().completed, `${name}, pool ${size}`).toBeGreaterThanOrEqual(out.planned.plan.tiles.length);
        } finally {
          await pool.close();
        }
      }
    }
    const ens = JSON.parse(runs.ensemble!['node inline']!) as { zones: Array<{ id: string }>; totals: { damage: number[] } };
    expect(ens.zones.map((z) => z.id)).toEqual(['A', 'B', 'C']);
    expect(ens.totals.damage.length).toBe(12);
    expect(ens.totals.damage.some((d) => d > 0)).toBe(true);
  }, 120_000);

  it.skipIf(!!SKIP_NO_CHROMIUM)('headless Chromium', async () => {
    const extra = Object.fromEntries(readdirSync(outDir).map((f) => [`/det/${f}`, join(outDir, f)]));
    const page = await openPage(`<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module">
window.ibfRun = async (doc, tileCells) => {
  const { runScenario, loadKernelFromUrl } = await import('/det/engine.js');
  const kernel = await loadKernelFromUrl({ simd: '/det/ibf.simd.wasm', scalar: '/build/ibf.scalar.wasm' });
  return { kernel: kernel.name, json: await runScenario(doc, kernel, tileCells) };
};
</script>`, { extra });
    try {
      for (const [name, doc] of Object.entries(SCENARIOS)) {
        const got = await within(page.page.evaluate(([d, t]) => (window as unknown as { ibfRun: (d: unknown, t: number) => Promise<{ kernel: string; json: string }> }).ibfRun(d, t), [doc, TILE_CELLS] as const), 60_000, `Chromium ${name}`);
        expect(got.kernel).toBe('wasm-simd');
        runs[name]!.chromium = got.json;
      }
      expect(page.pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 120_000);

  it('workerd (Miniflare)', async () => {
    writeFileSync(join(outDir, 'worker.mjs'), `import simd from './ibf.simd.wasm';
import { runScenario, loadKernelFromModule } from './engine.js';
export default { async fetch(req) {
  const { doc, tileCells } = await req.json();
  const kernel = await loadKernelFromModule(simd);
  return new Response(await runScenario(doc, kernel, tileCells), { headers: { 'x-kernel': kernel.name } });
} };`);
    const mf = new Miniflare({
      scriptPath: join(outDir, 'worker.mjs'), modules: true, modulesRoot: outDir,
      modulesRules: [{ type: 'ESModule', include: ['**/*.js', '**/*.mjs'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
      compatibilityDate: '2026-04-01', host: '127.0.0.1', port: 0, cf: false,
    });
    try {
      await mf.ready;
      for (const [name, doc] of Object.entries(SCENARIOS)) {
        const res = await mf.dispatchFetch('http://localhost/', { method: 'POST', body: JSON.stringify({ doc, tileCells: TILE_CELLS }), signal: AbortSignal.timeout(60_000) });
        const text = await res.text();
        expect(res.status, text.slice(0, 300)).toBe(200);
        expect(res.headers.get('x-kernel')).toBe('wasm-simd');
        runs[name]!.workerd = text;
      }
    } finally {
      await mf.dispose();
    }
  }, 120_000);

  it('every runtime gave the bits of Node inline, with the same input hashes', () => {
    expect(Object.keys(runs).sort()).toEqual(Object.keys(SCENARIOS).sort());
    for (const [name, byRuntime] of Object.entries(runs)) {
      const want = comparable(byRuntime['node inline']!);
      const runtimes = Object.keys(byRuntime);
      expect(runtimes.length, name).toBeGreaterThanOrEqual(SKIP_NO_CHROMIUM ? 4 : 5);
      for (const rt of runtimes) {
        const got = comparable(byRuntime[rt]!);
        expect(got.inputs, `${name} in ${rt}: input hashes`).toBe(want.inputs);
        expect(got.result === want.result, `${name} in ${rt}: result.json differs from Node inline`).toBe(true);
      }
    }
  });
});
