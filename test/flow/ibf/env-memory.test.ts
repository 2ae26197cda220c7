/**
 * The runtime-neutral environment of the IBF flow (src/flow/ibf/env-memory.ts): the tiny fixture
 * (tiny-fixture.ts) run on the orchestrator with memoryStore + memoryPublisher, once with the Node
 * environment (files on disk) and once with the memory environment (the same files as bytes and
 * Blobs): the published outputs, result JSON (numbers, manifests) and IBF-system payloads, are the same
 * bytes. Layouts: one multi-band file per lead time, and one file per member ({member}, matched against
 * the keys and stacked into one raster in memory). Also: URL sources through the given fetch. And the
 * same flow in headless Chromium (built dist/, kernel from build/): geotiff and proj4 come as their UMD
 * browser bundles behind two small ES module shims, zod as its ESM files, all through an import map
 * (what a bundler does); the page publishes the same bytes. Needs `npm run build` first.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryPublisher, memoryStore, runFlow } from '../../../src/flow/index.js';
import { buildIbfFlow, ibfRunParams, memoryIbfFlowEnv, type IbfFlowEnv } from '../../../src/flow/ibf/index.js';
import { loadIbfFlowFile, nodeFlowEnv } from '../../../src/flow/ibf/index-node.js';
import { parseIbfFlow } from '../../../src/flow/ibf/schema.js';
import { loadKernel } from '../../../src/kernels/load-node.js';
import type { ImpactKernel } from '../../../src/kernels/types.js';
import { tempDir } from '../../helpers.js';
import { writeTinyFlow, type Layout } from './tiny-fixture.js';
import { ROOT, assertBuilt } from '../../runtimes/case.js';
import { SKIP_NO_CHROMIUM as SKIP, openPage, within, type BrowserPage } from '../../runtimes/chromium.js';

let kernel: ImpactKernel;
beforeAll(async () => {
  kernel = await loadKernel();
});

const CREATED_AT = '2019-03-14T00:00:00.000Z';
const DATE = new Date('2019-03-14T00:00:00Z');

/** Every file under `dir` (relative, `/`-separated) with its bytes; every other one as a Blob. */
function filesOf(dir: string): Record<string, Uint8Array | Blob> {
  const out: Record<string, Uint8Array | Blob> = {};
  let n = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const rel = join(e.parentPath, e.name).slice(dir.length + 1).split('\\').join('/');
    const bytes = new Uint8Array(readFileSync(join(e.parentPath, e.name)));
    out[rel] = n++ % 2 ? new Blob([bytes]) : bytes;
  }
  return out;
}

async function runWith(env: IbfFlowEnv, config: ReturnType<typeof parseIbfFlow>, sha256: string) {
  const publisher = memoryPublisher();
  const run = await runFlow(buildIbfFlow(config, { env, configSha256: sha256 }), { runId: 'r1', params: ibfRunParams(DATE), store: memoryStore(), publisher });
  return { run, published: publisher.published };
}

/** A published output as text; an output that is not there fails the test. */
const text = (v: string | Uint8Array | undefined): string => {
  if (v === undefined) throw new Error('no such output');
  return typeof v === 'string' ? v : new TextDecoder().decode(v);
};

describe('memoryIbfFlowEnv', () => {
  for (const layout of ['per-lead', 'per-member'] as Layout[]) {
    it(`publishes the same bytes as the Node environment (${layout})`, async () => {
      const dir = tempDir();
      const { flowPath } = writeTinyFlow(dir, { layout });
      const loaded = await loadIbfFlowFile(flowPath);
      const nodeEnv = nodeFlowEnv({ dir, kernel, createdAt: CREATED_AT });
      let a;
      try {
        a = await runWith(nodeEnv, loaded.config, loaded.sha256);
      } finally {
        await nodeEnv.close();
      }
      const b = await runWith(memoryIbfFlowEnv({ files: filesOf(dir), kernel, createdAt: CREATED_AT }), loaded.config, loaded.sha256);
      expect(a.run.status).toBe('Completed');
      expect(b.run.status).toBe('Completed');
      const names = [...a.published.keys()].sort();
      expect(names.some((n) => /results\/24-hour\.json$/.test(n))).toBe(true);
      expect(names).toContain('2019-03-14/ibf-system/requests.json');
      expect(names).toContain('2019-03-14/ibf-system/004-exposure-48-hour-damage_estimation.json');
      expect([...b.published.keys()].sort()).toEqual(names);
      for (const n of names) expect(text(b.published.get(n)), n).toBe(text(a.published.get(n)));
      const r = JSON.parse(text([...b.published].find(([n]) => n.endsWith('results/48-hour.json'))![1]));
      expect(r.zones[0].damage).toEqual([20000, 20000, 20000, 20000, 0]);
      expect(r.manifest.createdAt).toBe(CREATED_AT);
      if (layout === 'per-member') expect(r.manifest.inputs.filter((i: { role: string }) => i.role === 'hazard').map((i: { path: string }) => i.path)).toEqual([1, 2, 3, 4, 5].map((m) => `fc/2019-03-14/48-hour/m${m}.tif`));
    });
  }

  it('downloads URL sources with the given fetch; a 404 is a missing lead time', async () => {
    const dir = tempDir();
    const { flowPath, doc } = writeTinyFlow(dir);
    const loaded = await loadIbfFlowFile(flowPath);
    const files = filesOf(dir);
    const local = await runWith(memoryIbfFlowEnv({ files, kernel, createdAt: CREATED_AT }), loaded.config, loaded.sha256);
    const served: Record<string, Uint8Array | Blob> = {};
    for (const [k, v] of Object.entries(files)) if (k.startsWith('fc/')) served[`/${k}`] = v;
    const asked: string[] = [];
    const stub = (async (url: string | URL | Request) => {
      const path = new URL(String(url)).pathname;
      asked.push(path);
      const body = served[path];
      return body ? new Response(body as BodyInit) : new Response('', { status: 404 });
    }) as typeof fetch;
    const remote = parseIbfFlow({ ...doc, forecast: { ...doc.forecast, source: 'https://data.example/fc/{date}/{lead}.tif' } }, 'flow.json');
    const got = await runWith(memoryIbfFlowEnv({ files, kernel, fetch: stub, createdAt: CREATED_AT }), remote, loaded.sha256);
    expect(got.run.status).toBe('Completed');
    expect(asked).toEqual(['24-hour', '48-hour', '72-hour'].map((l) => `/fc/2019-03-14/${l}.tif`));
    expect(text(got.published.get('2019-03-14/alerts.json'))).toBe(text(local.published.get('2019-03-14/alerts.json')));
    delete served['/fc/2019-03-14/72-hour.tif'];
    const missing = await runWith(memoryIbfFlowEnv({ files, kernel, fetch: stub, createdAt: CREATED_AT }), remote, loaded.sha256);
    expect(missing.run.status).toBe('Failed');
  });
});

const node = (p: string) => resolve(ROOT, 'node_modules', p);

/** Every .js file of zod's package, by URL path (its own imports are relative). */
function zodFiles(): Record<string, string> {
  const dir = node('zod');
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.js')) out['/node_modules/zod/' + relative(dir, join(e.parentPath, e.name)).split('\\').join('/')] = join(e.parentPath, e.name);
  }
  return out;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>ibf flow, memory env</title><link rel="icon" href="data:,">
<script type="importmap">{ "imports": { "geotiff": "/shim/geotiff.js", "proj4": "/shim/proj4.js", "zod": "/node_modules/zod/index.js" } }</script>
<script src="/umd/geotiff.js"></script>
<script src="/umd/proj4.js"></script>
<script type="module">
window.ibfMemoryFlow = async (doc, files, sha256, createdAt) => {
  const { memoryIbfFlowEnv, buildIbfFlow, ibfRunParams, parseIbfFlow } = await import('/dist/src/flow/ibf/index.js');
  const { runFlow, memoryStore, memoryPublisher } = await import('/dist/src/flow/index.js');
  const { loadKernelFromUrl } = await import('/dist/src/kernels/load-browser.js');
  const kernel = await loadKernelFromUrl({ simd: '/build/ibf.simd.wasm', scalar: '/build/ibf.scalar.wasm' });
  const inMemory = {};
  let n = 0;
  for (const [k, v] of Object.entries(files)) inMemory[k] = n++ % 2 ? new Blob([Uint8Array.from(v)]) : Uint8Array.from(v);
  const env = memoryIbfFlowEnv({ files: inMemory, kernel, createdAt });
  const publisher = memoryPublisher();
  const run = await runFlow(buildIbfFlow(parseIbfFlow(doc, 'flow.json'), { env, configSha256: sha256 }), { runId: 'r1', params: ibfRunParams(new Date('2019-03-14T00:00:00Z')), store: memoryStore(), publisher });
  const out = {};
  for (const [k, v] of publisher.published) out[k] = typeof v === 'string' ? v : new TextDecoder().decode(v);
  return { status: run.status, kernel: kernel.name, published: out };
};
</script>`;

describe.skipIf(!!SKIP)('memoryIbfFlowEnv in headless Chromium', () => {
  let b: BrowserPage;

  beforeAll(async () => {
    assertBuilt();
    const shims = tempDir();
    writeFileSync(join(shims, 'geotiff.js'), 'const g = globalThis.GeoTIFF;\nexport const GeoTIFF = g.GeoTIFF;\nexport const getDecoder = g.getDecoder;\n');
    writeFileSync(join(shims, 'proj4.js'), 'export default globalThis.proj4;\n');
    b = await openPage(PAGE, {
      extra: {
        ...zodFiles(),
        '/umd/geotiff.js': node('geotiff/dist-browser/geotiff.js'),
        '/umd/proj4.js': node('proj4/dist/proj4-src.js'),
        '/shim/geotiff.js': join(shims, 'geotiff.js'),
        '/shim/proj4.js': join(shims, 'proj4.js'),
      },
    });
  }, 60_000);

  afterAll(async () => {
    await b?.close();
  }, 30_000);

  it('runs the flow in the page and publishes the same bytes as the Node environment (per-member)', async () => {
    const dir = tempDir();
    const { flowPath, doc } = writeTinyFlow(dir, { layout: 'per-member' });
    const loaded = await loadIbfFlowFile(flowPath);
    const nodeEnv = nodeFlowEnv({ dir, kernel, createdAt: CREATED_AT });
    let a;
    try {
      a = await runWith(nodeEnv, loaded.config, loaded.sha256);
    } finally {
      await nodeEnv.close();
    }
    const files: Record<string, number[]> = {};
    for (const [k, v] of Object.entries(filesOf(dir))) files[k] = Array.from(v instanceof Uint8Array ? v : new Uint8Array(await v.arrayBuffer()));
    const got = await within(
      b.page.evaluate(`window.ibfMemoryFlow(${JSON.stringify(doc)}, ${JSON.stringify(files)}, ${JSON.stringify(loaded.sha256)}, ${JSON.stringify(CREATED_AT)})`) as Promise<{ status: string; kernel: string; published: Record<string, string> }>,
      30_000,
      'the page',
    );
    expect(b.pageErrors).toEqual([]);
    expect(got.status).toBe('Completed');
    expect(a.run.status).toBe('Completed');
    const names = [...a.published.keys()].sort();
    expect(Object.keys(got.published).sort()).toEqual(names);
    for (const n of names) expect(got.published[n], n).toBe(text(a.published.get(n)));
    expect(b.served).toContain('/umd/geotiff.js');
    expect(got.kernel).toBe(kernel.name);
  }, 60_000);
});

if (SKIP) it.skip(`memoryIbfFlowEnv in headless Chromium: skipped because ${SKIP}`, () => {});
