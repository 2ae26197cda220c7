/**
 * The runtime-neutral environment of the IBF flow (src/flow/ibf/env-memory.ts): the tiny fixture
 * (tiny-fixture.ts) run on the orchestrator with memoryStore + memoryPublisher, once with the Node
 * environment (files on disk) and once with the memory environment (the same files as bytes and
 * Blobs): the published outputs, result JSON (numbers, manifests) and IBF-system payloads, are the same
 * bytes. Layouts: one multi-band file per lead time, and one file per member ({member}, matched against
 * the keys and stacked into one raster in memory). Also: URL sources through the given fetch.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryPublisher, memoryStore, runFlow } from '../../../src/flow/index.js';
import { buildIbfFlow, ibfRunParams, memoryIbfFlowEnv, type IbfFlowEnv } from '../../../src/flow/ibf/index.js';
import { loadIbfFlowFile, nodeFlowEnv } from '../../../src/flow/ibf/index-node.js';
import { parseIbfFlow } from '../../../src/flow/ibf/schema.js';
import { loadKernel } from '../../../src/kernels/load-node.js';
import type { ImpactKernel } from '../../../src/kernels/types.js';
import { tempDir } from '../../helpers.js';
import { writeTinyFlow, type Layout } from './tiny-fixture.js';

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
