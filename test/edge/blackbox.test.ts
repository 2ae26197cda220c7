/**
 * Black-box test of the edge API: the Worker of wrangler.toml run by wrangler (`unstable_startWorker`,
 * real workerd, local R2 / D1 / KV / Durable Object / Workflow) on 127.0.0.1, driven over HTTP only.
 *
 * As an operator would: the D1 migration is applied and an API key seeded with the wrangler CLI
 * (`wrangler d1 migrations apply --local`, `wrangler kv key put --local`, into one persistence folder),
 * then the Worker starts on that folder. As a partner would: upload a real COG (MapSPAM rice, 1200 x 720,
 * test/fixtures/edge) and a hazard with PUT /v1/data, run a job (12 tiles of 1024 x 128 cells, one per
 * Workflow step with wrangler.toml's TILE_CELLS / BATCH_TILES), poll it to success, and read the result.
 * Its totals and zones must be the CLI's (`runScenarioFile`) on the same files, bit for bit.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unstable_startWorker } from 'wrangler';
import { hashKey } from '../../src/api/security.js';
import { sha256Hex } from '../../src/engine/manifest.js';
import type { AssessResult } from '../../src/engine/result.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import { runScenarioFile } from '../../src/node/run-scenario.js';
import { REPO, tempDir, writeJson, writeTif } from '../helpers.js';
import { bitDiff } from '../bits.js';

const run = promisify(execFile);
const WRANGLER = join(REPO, 'node_modules', '.bin', 'wrangler');
const QUIET = { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1' };
const FIXTURES = join(REPO, 'test', 'fixtures', 'edge');
const TOKEN = 'ibf_blackbox_0123456789abcdefghij';
const BUCKET = 'ibf-data'; // wrangler.toml BUCKET_NAME

// the exposure COG's grid (test/fixtures/edge/README.md)
const W = 1200;
const H = 720;
const X0 = 60;
const Y0 = 50;
const RES = 1 / 12;

let dir: string;
let persist: string;
let worker: Awaited<ReturnType<typeof unstable_startWorker>> | undefined;
let base: URL;

/** A smooth made-up depth field (m), one per band. */
const depth = (w: number, h: number, b: number) =>
  new Float32Array(w * h).map((_, i) => {
    const x = i % w;
    const y = Math.floor(i / w);
    return (0.5 + 0.3 * b) * (2 + 2 * Math.sin(x / 29 + b) * Math.cos(y / 17)) - 0.4;
  });

const wrangler = (args: string[]) => run(WRANGLER, args, { cwd: REPO, env: QUIET, timeout: 60_000 });

beforeAll(async () => {
  dir = tempDir('ibf-blackbox-');
  persist = tempDir('ibf-blackbox-state-');
  copyFileSync(join(FIXTURES, 'rice-asia-cog.tif'), join(dir, 'rice.tif'));
  copyFileSync(join(FIXTURES, 'countries-asia.geojson'), join(dir, 'countries.geojson'));
  // two flood events on a 2x coarser grid shifted by a third of a fine cell: bilinear onto the COG's grid
  const hw = W / 2 + 2;
  const hh = H / 2 + 2;
  writeTif(join(dir, 'hazard.tif'), { width: hw, height: hh, transform: [X0 - RES - RES / 3, 2 * RES, 0, Y0 + RES + RES / 3, 0, -2 * RES], crs: 'EPSG:4326' }, [depth(hw, hh, 0), depth(hw, hh, 1)], -9999);
  const common = {
    name: 'black box: rice under two floods',
    vulnerability: 'jrc-flood-asia-agriculture',
    affectedThreshold: 0.3,
  };
  const hazard = { unit: 'm', bands: { type: 'events', frequencies: [0.1, 0.01] } };
  const zones = { idProperty: 'id', nameProperty: 'name', selfIntersections: 'accept' };
  writeJson(join(dir, 'scenario.json'), { ...common, hazard: { ...hazard, source: 'hazard.tif' }, exposure: { source: 'rice.tif', unit: 'ha' }, zones: { ...zones, source: 'countries.geojson' } });

  // the operator's steps: D1 schema, one API key (its sha256 only) in KV
  await wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist]);
  const record = { id: 'k-blackbox', hash: await hashKey(TOKEN), partner: 'bb', scopes: ['read', 'run', 'upload'], origins: [] };
  await wrangler(['kv', 'key', 'put', `key:${record.hash}`, JSON.stringify(record), '--binding', 'KEYS', '--local', '--persist-to', persist]);

  worker = await unstable_startWorker({
    config: join(REPO, 'wrangler.toml'),
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, persist, remote: false, logLevel: 'warn', watch: false },
  });
  await worker.ready;
  base = await worker.url;
}, 120_000);

afterAll(async () => {
  await worker?.dispose();
  for (const d of [dir, persist]) if (d) rmSync(d, { recursive: true, force: true });
}, 60_000);

const call = (path: string, init: RequestInit = {}) =>
  fetch(new URL(path, base), { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) }, signal: AbortSignal.timeout(60_000) });


describe('edge API under wrangler (black box)', () => {
  it('upload a COG, run a 12-step job to success, and get the CLI\'s numbers bit for bit', async () => {
    expect((await (await fetch(new URL('/healthz', base))).json())).toMatchObject({ ok: true });

    // uploads: PUT /v1/data (the COG and the hazard), answered with their sha256
    for (const [key, file] of [['bb/rice.tif', 'rice.tif'], ['bb/hazard.tif', 'hazard.tif']]) {
      const bytes = readFileSync(join(dir, file));
      const res = await call(`/v1/data/${key}`, { method: 'PUT', body: bytes, headers: { 'content-type': 'image/tiff' } });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ source: `r2://${BUCKET}/${key}`, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) });
    }

    // the job: the CLI's scenario with r2:// sources and the zones inline
    const cli = JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8'));
    const zonesUrl = `data:application/geo+json;base64,${readFileSync(join(dir, 'countries.geojson')).toString('base64')}`;
    const doc = { ...cli, hazard: { ...cli.hazard, source: `r2://${BUCKET}/bb/hazard.tif` }, exposure: { ...cli.exposure, source: `r2://${BUCKET}/bb/rice.tif` }, zones: { ...cli.zones, source: zonesUrl } };
    const res = await call('/v1/jobs', { method: 'POST', body: JSON.stringify(doc), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(202);
    const job = (await res.json()) as { id: string; links: { self: string; result: string } };
    type View = { status: string; cellBands?: number; progress?: { tilesDone: number; tilesTotal: number }; error?: unknown };
    let view: View = { status: 'queued' };
    const deadline = Date.now() + 180_000;
    while (!['succeeded', 'failed'].includes(view.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      view = (await (await call(job.links.self)).json()) as View;
    }
    expect(view).toMatchObject({ status: 'succeeded', cellBands: W * H * 2, progress: { tilesDone: 12, tilesTotal: 12 } });
    // wrangler.toml: one unit (1024 x 128 cells) per tile and one tile per step: 2 x 6 units = 12 tile steps
    const toml = readFileSync(join(REPO, 'wrangler.toml'), 'utf8');
    expect(toml).toMatch(/^TILE_CELLS = "131072"$/m);
    expect(toml).toMatch(/^BATCH_TILES = "1"$/m);

    const got = (await (await call(job.links.result)).json()) as AssessResult;
    const want = (await runScenarioFile(join(dir, 'scenario.json'), { kernel: await loadKernel() })).result;
    expect(want.zones.length).toBe(32);
    expect(want.totals.damage.every((d) => d > 0)).toBe(true);
    expect(bitDiff(got.totals, want.totals)).toEqual([]);
    expect(bitDiff(got.zones, want.zones)).toEqual([]);
    // the manifest hashes the same bytes the CLI read
    const hashes = (r: AssessResult) => r.manifest.inputs.filter((i) => i.role === 'hazard' || i.role === 'exposure').map((i) => `${i.role}:${i.sha256}:${i.bytes}`).sort();
    expect(hashes(got)).toEqual(hashes(want));
  }, 300_000);

  it('answers bad input with problem+json and keeps serving', async () => {
    const bad = await fetch(new URL('/v1/jobs', base), { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('content-type')).toMatch(/problem\+json/);
    const zstd = readFileSync(join(FIXTURES, 'event-zstd-cog.tif'));
    const refused = await call('/v1/data/bb/zstd.tif', { method: 'PUT', body: zstd, headers: { 'content-type': 'image/tiff' } });
    expect(refused.status).toBe(415);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/ZSTD.*these decode here/);
    expect((await fetch(new URL('/healthz', base))).status).toBe(200);
  }, 60_000);
});
