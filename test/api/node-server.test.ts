/**
 * `ibf serve` on Node over real HTTP (startServer on 127.0.0.1, a free port, a temporary data folder and
 * keys file): the shared route cases of test/api/cases.ts, then what only the Node server has: results
 * equal to `ibf assess` (runScenarioFile) on the same files bit for bit, the data folder's layout, the
 * keys file read again when it changes, codecs Node decodes, pool workers, graceful shutdown.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine } from '../../src/api/ports.js';
import { hashKey } from '../../src/api/security.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import { runScenarioFile } from '../../src/node/run-scenario.js';
import { fsObjectStore, objectPath } from '../../src/node/fs-store.js';
import { fsJobStore } from '../../src/node/fs-jobs.js';
import { configFromEnv, createKey, mergeConfig, revokeKey, startServer, writeKeyFile, type RunningServer } from '../../src/node/serve.js';
import { REPO, ibfError, tempDir, thrown } from '../helpers.js';
import { ALLOWED_ORIGIN, CASE_BUCKET, CASE_LIMITS, apiCases, dataUrl, expectProblem, numbers, rasters, scenario, testKeys } from './cases.js';

const FORMATS = join(REPO, 'test', 'fixtures', 'formats');
/** The Delft-FIAT synthetic grid as bundled (the same bytes as ../shared/data/fiat-synthetic-grid). */
const FIAT = join(REPO, 'examples', 'fiat-grid');
const dir = tempDir('ibf-serve-');
const keysFile = join(dir, 'keys.json');
const logs: Array<LogLine & { time: string }> = [];
const { records, tokens } = await testKeys();
let server: RunningServer;

const http = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);
const auth = (token: string, headers: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...headers });
const post = (path: string, body: unknown, token = tokens.run) => http(path, { method: 'POST', body: JSON.stringify(body), headers: auth(token, { 'content-type': 'application/json' }) });
const put = (key: string, bytes: Uint8Array<ArrayBuffer>, token = tokens.upload) => http(`/v1/data/${key}`, { method: 'PUT', body: bytes, headers: auth(token, { 'content-type': 'image/tiff' }) });

async function waitJob(path: string, token = tokens.read, timeoutMs = 30_000): Promise<{ status: string; error?: { code: string } }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const j = (await (await http(path, { headers: auth(token) })).json()) as { status: string; error?: { code: string } };
    if (j.status === 'succeeded' || j.status === 'failed' || Date.now() > deadline) return j;
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  await writeKeyFile(keysFile, records);
  server = await startServer({
    port: 0, dataDir: dir, keysFile, log: (l) => logs.push(l),
    config: { bucket: CASE_BUCKET, limits: CASE_LIMITS, allowHosts: ['data.example.org'] },
  });
});
afterAll(async () => {
  await server?.close();
});

apiCases('ibf serve, Node over HTTP', () => ({ fetch: http }));

describe('ibf serve (Node): results equal to ibf assess', () => {
  // the Delft-FIAT synthetic grid, with two zones (west / east of lon 4.40) so per-zone numbers are compared too
  const fiatZones = JSON.parse(readFileSync(join(FIAT, 'zones.geojson'), 'utf8')) as unknown; // west / east of lon 4.403
  const csv = readFileSync(join(FIAT, 'vulnerability_curves.csv'));
  const apiScenario = {
    name: 'fiat over http',
    hazard: { source: `r2://${CASE_BUCKET}/fiat/event_map.tif`, unit: 'm', bands: { type: 'event' } },
    exposure: { source: `r2://${CASE_BUCKET}/fiat/exposure_max_damage.tif`, unit: 'EUR' },
    vulnerability: { csv: dataUrl(csv, 'text/csv'), column: 'struct_1' },
    zones: { source: dataUrl(new TextEncoder().encode(JSON.stringify(fiatZones)), 'application/geo+json'), idProperty: 'id' },
    affectedThreshold: 0.1,
  };
  let cli: { totals: unknown; zones: unknown[] };

  beforeAll(async () => {
    const local = tempDir('ibf-serve-cli-');
    for (const f of ['event_map.tif', 'exposure_max_damage.tif', 'vulnerability_curves.csv']) copyFileSync(join(FIAT, f), join(local, f));
    writeFileSync(join(local, 'zones.geojson'), JSON.stringify(fiatZones));
    writeFileSync(join(local, 'scenario.json'), JSON.stringify({
      ...apiScenario,
      hazard: { ...apiScenario.hazard, source: 'event_map.tif' },
      exposure: { ...apiScenario.exposure, source: 'exposure_max_damage.tif' },
      vulnerability: { csv: 'vulnerability_curves.csv', column: 'struct_1' },
      zones: { source: 'zones.geojson', idProperty: 'id' },
    }));
    const out = await runScenarioFile(join(local, 'scenario.json'), { kernel: await loadKernel() });
    cli = JSON.parse(JSON.stringify(out.result)) as typeof cli; // as it would travel: JSON keeps every double exactly
  });

  it('PUT the GeoTIFFs, POST /v1/assess: totals and zones bit for bit those of the CLI', async () => {
    for (const f of ['event_map.tif', 'exposure_max_damage.tif']) {
      const bytes = new Uint8Array(readFileSync(join(FIAT, f)));
      const res = await put(`fiat/${f}`, bytes);
      expect(res.status).toBe(201);
      const body = (await res.json()) as { sha256: string; bytes: number };
      // stored as a file with its sha256 beside it
      const file = join(dir, 'objects', 'data', 'p1', 'fiat', f);
      expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
      expect(JSON.parse(readFileSync(`${file}.meta.json`, 'utf8'))).toMatchObject({ size: bytes.byteLength, sha256: body.sha256, contentType: 'image/tiff' });
    }
    const res = await post('/v1/assess', apiScenario);
    expect(res.status).toBe(200);
    const r = (await res.json()) as { totals: { damage: number[] }; zones: Array<{ id: string }> };
    expect(r.zones.map((z) => z.id)).toEqual(['W', 'E']);
    expect(r.totals.damage[0]).toBeCloseTo(89641.6, 2); // Delft-FIAT's total
    expect(numbers(r)).toBe(numbers(cli));
  });

  it('POST /v1/jobs, polled to succeeded: the result is the CLI\'s; record and result are files', async () => {
    const res = await post('/v1/jobs', apiScenario);
    expect(res.status).toBe(202);
    const job = (await res.json()) as { id: string; links: { self: string; result: string } };
    expect((await waitJob(job.links.self)).status).toBe('succeeded');
    const result = (await (await http(job.links.result, { headers: auth(tokens.read) })).json()) as typeof cli;
    expect(numbers(result)).toBe(numbers(cli));
    const record = JSON.parse(readFileSync(join(dir, 'jobs', `${job.id}.json`), 'utf8'));
    expect(record).toMatchObject({ id: job.id, partner: 'p1', keyId: 'k-run', status: 'succeeded', resultKey: `jobs/${job.id}/result.json` });
    expect(existsSync(join(dir, 'objects', 'jobs', job.id, 'result.json'))).toBe(true);
  });

  it('one JSON log line per request, with the id of its x-request-id header', async () => {
    const res = await http('/v1/jobs/none', { headers: auth(tokens.web, { origin: ALLOWED_ORIGIN }) });
    await res.body?.cancel();
    const line = logs.find((l) => l.msg === 'request' && l.requestId === res.headers.get('x-request-id'));
    expect(line).toMatchObject({ level: 'warn', method: 'GET', path: '/v1/jobs/none', status: 404, keyId: 'k-web', partner: 'p1', origin: ALLOWED_ORIGIN });
    expect(Date.parse(line!.time)).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(line))).toEqual(line);
  });
});

describe('ibf serve (Node): codecs, keys file, bad input', () => {
  it('LZW and DEFLATE uploads are fine; ZSTD and LERC too on Node (it compiles WASM); LZMA is a 415 naming what works', async () => {
    for (const f of ['f32-lzw-tile.tif', 'cog-deflate.tif', 'f32-zstd-pred3-tile.tif', 'f32-lerc-tile.tif']) {
      const res = await put(`codecs/${f}`, new Uint8Array(readFileSync(join(FORMATS, f))));
      expect({ f, status: res.status }).toEqual({ f, status: 201 });
    }
    const p = await expectProblem(await put('codecs/lzma.tif', new Uint8Array(readFileSync(join(FORMATS, 'uint8-lzma.tif')))), 415, 'E_TIFF_INVALID');
    expect(p.detail).toMatch(/LZMA/);
    expect(p.hint).toMatch(/DEFLATE/);
    // the same cells in every codec (test/fixtures/formats): zonal statistics agree exactly
    const zone = { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { id: 'all' }, geometry: { type: 'Polygon', coordinates: [[[14.9, 42.1], [15.1, 42.1], [15.1, 41.9], [14.9, 41.9], [14.9, 42.1]]] } }] };
    const stats: unknown[] = [];
    for (const f of ['f32-lzw-tile.tif', 'f32-zstd-pred3-tile.tif', 'f32-lerc-tile.tif']) {
      const res = await post('/v1/zonal', { raster: `r2://${CASE_BUCKET}/codecs/${f}`, zones: zone, rule: 'centre' });
      expect(res.status).toBe(200);
      stats.push(((await res.json()) as { zones: unknown[] }).zones);
    }
    expect((stats[0] as Array<{ count: number }>)[0]!.count).toBeGreaterThan(0);
    expect(stats[1]).toEqual(stats[0]);
    expect(stats[2]).toEqual(stats[0]);
    expect((await http('/healthz')).status).toBe(200);
  });

  it('keys created or revoked in the keys file take effect without a restart', async () => {
    const { record, token } = await createKey(keysFile, { partner: 'p3', scopes: ['read'], origins: ['https://p3.example.org'] });
    expect(JSON.stringify(JSON.parse(readFileSync(keysFile, 'utf8')))).not.toContain(token);
    expect(record.hash).toBe(await hashKey(token));
    const ok = await http('/v1/jobs/none', { headers: auth(token) });
    await expectProblem(ok, 404, 'E_NOT_FOUND'); // authorised; no such job
    await revokeKey(keysFile, record.id);
    expect((await expectProblem(await http('/v1/jobs/none', { headers: auth(token) }), 401, 'E_AUTH')).detail).toMatch(/revoked/);
    // a broken keys file keeps the last good keys (and says so in the log)
    const good = readFileSync(keysFile, 'utf8');
    writeFileSync(keysFile, '[{"id": ');
    const still = await http('/v1/jobs/none', { headers: auth(tokens.read) });
    await expectProblem(still, 404, 'E_NOT_FOUND');
    expect(logs.some((l) => l.msg.startsWith('keys file invalid'))).toBe(true);
    writeFileSync(keysFile, good);
  });

  it('a source outside the allow-list, a raster over the cell budget, a read key starting a job, a foreign origin: problems, then service as usual', async () => {
    await expectProblem(await post('/v1/assess', scenario('https://elsewhere.example.com/h.tif', `r2://${CASE_BUCKET}/fiat/exposure_max_damage.tif`)), 422, 'E_SOURCE_DENIED');
    const big = rasters(1100, 1000);
    expect((await put('budget/h.tif', big.hazard)).status).toBe(201);
    expect((await put('budget/e.tif', big.exposure)).status).toBe(201);
    const over = scenario(`r2://${CASE_BUCKET}/budget/h.tif`, `r2://${CASE_BUCKET}/budget/e.tif`);
    await expectProblem(await post('/v1/assess', over), 413, 'E_LIMIT');
    // as a job it is accepted, then fails on the same limit once planned; its result is that problem
    const job = (await (await post('/v1/jobs', over)).json()) as { links: { self: string; result: string } };
    expect(await waitJob(job.links.self)).toMatchObject({ status: 'failed', error: { code: 'E_LIMIT' } });
    await expectProblem(await http(job.links.result, { headers: auth(tokens.read) }), 413, 'E_LIMIT');
    await expectProblem(await post('/v1/jobs', scenario(dataUrl(rasters().hazard), dataUrl(rasters().exposure)), tokens.read), 403, 'E_FORBIDDEN');
    await expectProblem(await http('/v1/jobs/none', { headers: auth(tokens.web, { origin: 'https://evil.example.net' }) }), 403, 'E_FORBIDDEN');
    const after = await post('/v1/assess', scenario(dataUrl(rasters().hazard), dataUrl(rasters().exposure)));
    expect(after.status).toBe(200);
    await after.body?.cancel();
  });
});

describe('ibf serve (Node): data folder', () => {
  it('object keys cannot leave the folder; a key cannot be both a file and a folder', async () => {
    const root = join(dir, 'objects');
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', 'a//b', '.hidden', 'a/.tmp', 'x.tif.meta.json', 'a\\b', '']) {
      expect(thrown(() => objectPath(root, bad)).code).toBe('E_SOURCE_DENIED');
    }
    expect(objectPath(root, 'data/p1/a.tif')).toBe(join(root, 'data', 'p1', 'a.tif'));
    const store = fsObjectStore(tempDir('ibf-objects-'));
    await store.put('a/b.bin', new Uint8Array([1, 2, 3, 4, 5]));
    expect(await store.head('a/b.bin')).toMatchObject({ size: 5, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(await store.get('a/b.bin', { offset: 1, length: 3 })).toEqual(new Uint8Array([2, 3, 4]));
    expect(await store.get('a/b.bin', { offset: 3, length: 10 })).toEqual(new Uint8Array([4, 5]));
    expect(await store.get('a/b.bin')).toEqual(new Uint8Array([1, 2, 3, 4, 5]));
    expect(await store.get('a/none')).toBeNull();
    expect(await store.head('a')).toBeNull(); // a folder is not an object
    expect((await ibfError(store.put('a', new Uint8Array(1)))).code).toBe('E_SOURCE_DENIED');
    expect((await ibfError(store.put('a/b.bin/c', new Uint8Array(1)))).code).toBe('E_SOURCE_DENIED');
    // replaced: no cache (open handle, head, whole small object) serves the old bytes
    const before = (await store.head('a/b.bin'))!.sha256;
    await store.put('a/b.bin', new Uint8Array([9]));
    expect(await store.head('a/b.bin')).toMatchObject({ size: 1 });
    expect((await store.head('a/b.bin'))!.sha256).not.toBe(before);
    expect(await store.get('a/b.bin')).toEqual(new Uint8Array([9]));
    // reads are copies: detaching one does not touch the next
    const got = (await store.get('a/b.bin'))!;
    structuredClone(got.buffer, { transfer: [got.buffer] });
    expect(await store.get('a/b.bin')).toEqual(new Uint8Array([9]));
    // a large object is read by ranges through an open file handle
    const big = new Uint8Array(300 * 1024).map((_, i) => i % 251);
    await store.put('big.bin', big);
    expect(await store.get('big.bin', { offset: 200_000, length: 5 })).toEqual(big.slice(200_000, 200_005));
    expect((await store.get('big.bin'))!.byteLength).toBe(big.byteLength);
    await store.close();
    expect(await store.keys()).toEqual(['a/b.bin', 'big.bin']);
  });

  it('a keys file that is not one is refused at start, every problem listed', async () => {
    const d = tempDir('ibf-badkeys-');
    const file = join(d, 'keys.json');
    writeFileSync(file, JSON.stringify([
      { id: 'a', hash: 'abc', partner: '../x', scopes: ['read', 'admin'], origins: 'https://x.example.org' },
      { id: 'a', hash: 'f'.repeat(64), partner: 'p', scopes: [], origins: [], expiresAt: 'never', ratePerMinute: 0.5, revoked: 'yes' },
    ]));
    const e = await ibfError(startServer({ port: 0, dataDir: d, keysFile: file, log: () => {} }));
    expect(e.code).toBe('E_INPUT_FORMAT');
    expect(e.problems!.map((p) => p.path)).toEqual(['[0].hash', '[0].partner', '[0].scopes', '[0].origins', '[1].id', '[1].expiresAt', '[1].ratePerMinute', '[1].revoked']);
    writeFileSync(file, '{}');
    expect((await ibfError(startServer({ port: 0, dataDir: d, keysFile: file, log: () => {} }))).message).toMatch(/JSON array/);
  });

  it('job updates apply in call order; a new server marks jobs a stopped one left running as failed', async () => {
    const d = tempDir('ibf-jobs-');
    const jobs = fsJobStore(d);
    const t = new Date().toISOString();
    await jobs.create({ id: 'j1', partner: 'p1', keyId: 'k', status: 'running', createdAt: t, updatedAt: t });
    await expect(jobs.create({ id: 'j1', partner: 'p1', keyId: 'k', status: 'queued', createdAt: t, updatedAt: t })).rejects.toThrow(/exists/);
    // fire-and-forget progress, then the final status: the final status wins
    void jobs.update('j1', { progress: { tilesDone: 1, tilesTotal: 2 } });
    await jobs.update('j1', { status: 'succeeded', resultKey: 'jobs/j1/result.json' });
    expect(await jobs.get('j1')).toMatchObject({ status: 'succeeded', progress: { tilesDone: 1, tilesTotal: 2 } });
    expect(await jobs.get('../j1')).toBeNull();
    await jobs.create({ id: 'j2', partner: 'p1', keyId: 'k', status: 'running', createdAt: t, updatedAt: t });
    const lines: LogLine[] = [];
    const s = await startServer({ port: 0, dataDir: d, log: (l) => lines.push(l) });
    try {
      expect(await jobs.get('j2')).toMatchObject({ status: 'failed', error: { code: 'E_CANCELLED' } });
      expect(lines.find((l) => l.msg.startsWith('jobs left unfinished'))).toMatchObject({ jobs: ['j2'] });
      expect(lines.find((l) => l.msg.startsWith('no API keys'))).toBeDefined();
      // no keys file: every keyed route is a 401, public ones answer
      await expectProblem(await fetch(`${s.url}/v1/jobs/j2`, { headers: auth(tokens.read) }), 401, 'E_AUTH');
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
      // the port is taken
      expect((await ibfError(startServer({ port: s.port, dataDir: d, log: () => {} }))).code).toBe('E_USAGE');
    } finally {
      await s.close();
    }
  });
});

describe('ibf serve (Node): workers and shutdown', () => {
  /** A server with one key (`run`, `read`, `upload`) and the hazard / exposure of a w x h grid uploaded. */
  async function withData(opts: { workers?: number; drainMs?: number }, w: number, h: number) {
    const d = tempDir('ibf-serve-x-');
    const { record, token } = await createKey(join(d, 'keys.json'), { partner: 'px', scopes: ['read', 'run', 'upload'] });
    const lines: LogLine[] = [];
    const s = await startServer({ port: 0, dataDir: d, log: (l) => lines.push(l), config: { bucket: CASE_BUCKET, limits: { syncCellBands: 1000 } }, ...opts });
    const r = rasters(w, h);
    for (const [name, bytes] of [['h', r.hazard], ['e', r.exposure]] as const) {
      const res = await fetch(`${s.url}/v1/data/x/${name}.tif`, { method: 'PUT', body: bytes, headers: auth(token, { 'content-type': 'image/tiff' }) });
      expect(res.status).toBe(201);
    }
    const job = async () => {
      const res = await fetch(`${s.url}/v1/jobs`, { method: 'POST', body: JSON.stringify(scenario(`r2://${CASE_BUCKET}/x/h.tif`, `r2://${CASE_BUCKET}/x/e.tif`)), headers: auth(token, { 'content-type': 'application/json' }) });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    return { d, s, token, record, lines, job };
  }

  it('jobs with their tiles on pool workers (reading the data folder) give the numbers of jobs on the server thread', async () => {
    const results: string[] = [];
    for (const workers of [0, 2]) {
      const x = await withData({ workers }, 300, 200);
      try {
        const id = await x.job();
        let j: { status: string } = { status: 'queued' };
        for (let i = 0; i < 600 && j.status !== 'succeeded' && j.status !== 'failed'; i++) {
          await new Promise((r) => setTimeout(r, 50));
          j = (await (await fetch(`${x.s.url}/v1/jobs/${id}`, { headers: auth(x.token) })).json()) as { status: string };
        }
        expect(j.status).toBe('succeeded');
        results.push(numbers((await (await fetch(`${x.s.url}/v1/jobs/${id}/result`, { headers: auth(x.token) })).json()) as never));
      } finally {
        await x.s.close();
      }
    }
    expect(results[1]).toBe(results[0]);
  });

  it('close() stops accepting, lets a running job finish; past drainMs it cancels the job (recorded as failed)', async () => {
    const a = await withData({}, 400, 300);
    const id = await a.job();
    await a.s.close();
    await expect(fetch(`${a.s.url}/healthz`)).rejects.toThrow();
    expect(await fsJobStore(a.d).get(id)).toMatchObject({ status: 'succeeded' });
    const msgs = a.lines.map((l) => l.msg);
    expect(msgs.indexOf('shutting down')).toBeLessThan(msgs.indexOf('job succeeded'));
    expect(msgs.at(-1)).toBe('stopped');

    const b = await withData({ drainMs: 0 }, 1000, 1000);
    const id2 = await b.job();
    await b.s.close();
    const j = await fsJobStore(b.d).get(id2);
    expect(j).toMatchObject({ status: 'failed', error: { code: 'E_CANCELLED' } });
  });
});

describe('ibf serve (Node): settings from the environment', () => {
  it('IBF_* variables, with flags over them', () => {
    expect(configFromEnv({})).toEqual({});
    expect(configFromEnv({ IBF_ALLOW_HOSTS: 'a.example.org, *.b.example.org,', IBF_ALLOW_PRIVATE: '1', IBF_BUCKET: 'my-bucket', IBF_RATE_PER_MINUTE: '6000', IBF_SYNC_CELL_BANDS: '100', IBF_TILE_CELLS: '65536' })).toEqual({
      allowHosts: ['a.example.org', '*.b.example.org'], allowPrivateAddresses: true, bucket: 'my-bucket', tileCells: 65536, limits: { ratePerMinute: 6000, syncCellBands: 100 },
    });
    for (const env of [{ IBF_RATE_PER_MINUTE: 'lots' }, { IBF_MAX_BODY_BYTES: '-1' }, { IBF_ALLOW_PRIVATE: 'yes' }, { IBF_BUCKET: 'Bad_Bucket' }]) {
      expect(thrown(() => configFromEnv(env)).code).toBe('E_USAGE');
    }
    expect(mergeConfig({ allowHosts: ['a'], limits: { ratePerMinute: 1, maxBodyBytes: 2 } }, { allowHosts: ['b'], limits: { ratePerMinute: 3 } })).toEqual({ allowHosts: ['b'], limits: { ratePerMinute: 3, maxBodyBytes: 2 } });
  });
});
