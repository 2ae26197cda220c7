/**
 * What only the Cloudflare side has, inside workerd: the adapters over D1 (with the migration of
 * edge/migrations), KV (keys and origin markers) and the rate-limiting Durable Object, the Cron Trigger
 * starting forecast jobs, the JSON log line of every request, and rasters the edge cannot decode
 * (ZSTD, LERC COGs: their decoders compile WASM at run time) answered 415 naming the codecs that work.
 */
import { createExecutionContext, createScheduledController, env, introspectWorkflow, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { d1JobStore, kvKeyStore, putKey, r2ObjectStore, START_ATTEMPTS, workflowRunner } from '../../../edge/adapters.js';
import { forecastEntries, forecastJobId, startForecasts } from '../../../edge/scheduled.js';
import worker from '../../../edge/worker.js';
import type { Env } from '../../../edge/env.js';
import type { Bucket } from '../../../src/api/memory.js';
import { memoryJobStore } from '../../../src/api/memory.js';
import type { JobRecord } from '../../../src/api/ports.js';
import { CASE_BUCKET, dataUrl, expectProblem, rasters, scenario } from '../../api/cases.js';
import { api, auth, postJson, seedKeys } from './helpers.js';

let keys: Awaited<ReturnType<typeof seedKeys>>;
beforeAll(async () => {
  keys = await seedKeys();
});

const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

describe('D1 job store (edge/migrations/0001_jobs.sql)', () => {
  it('creates, reads and merges updates as the in-memory store does; progress adds up to the total', async () => {
    const t = '2026-11-25T06:00:00.000Z';
    const clock = () => new Date('2026-11-25T06:01:00.000Z');
    const d1 = d1JobStore(env.DB, clock);
    const mem = memoryJobStore(clock);
    const job: JobRecord = { id: 'j-d1-1', partner: 'p1', keyId: 'k-run', status: 'queued', createdAt: t, updatedAt: t, name: 'a job' };
    for (const s of [d1, mem]) {
      await s.create(job);
      await s.update(job.id, { status: 'running', cellBands: 1_200_000, progress: { tilesDone: 0, tilesTotal: 4 } });
      await s.update(job.id, { status: 'failed', error: { code: 'E_SCENARIO_INVALID', detail: 'bad', hint: 'fix it', problems: [{ path: 'hazard', message: 'missing' }] } });
    }
    expect(await d1.get(job.id)).toEqual(await mem.get(job.id));
    expect(await d1.get('nope')).toBeNull();
    await expect(d1.create(job)).rejects.toThrow(); // ids are unique
    for (let i = 0; i < 6; i++) await d1.addTilesDone(job.id, 1);
    expect((await d1.get(job.id))!.progress).toEqual({ tilesDone: 4, tilesTotal: 4 });
  });
});

describe('R2 object store', () => {
  it('reads ranges and metadata of the real bucket; a failing R2 call is E_IO naming the object, a missing one is null', async () => {
    const store = r2ObjectStore(env.DATA);
    await store.put('t/r2.bin', new Uint8Array([1, 2, 3, 4, 5]), { sha256: 'ab'.repeat(32), contentType: 'application/octet-stream' });
    expect(await store.head('t/r2.bin')).toEqual({ size: 5, sha256: 'ab'.repeat(32) });
    expect(Array.from((await store.get('t/r2.bin', { offset: 1, length: 3 }))!)).toEqual([2, 3, 4]);
    expect(await store.get('t/none.bin')).toBeNull();
    // the platform failing (not our object missing): every operation of a bucket whose calls throw
    const down = new Proxy(env.DATA, { get: (b, p) => (['head', 'get', 'put'].includes(String(p)) ? () => Promise.reject(new Error('We encountered an internal error. Please try again.')) : Reflect.get(b, p)) });
    const broken = r2ObjectStore(down);
    for (const call of [() => broken.head('t/r2.bin'), () => broken.get('t/r2.bin'), () => broken.put('t/r2.bin', new Uint8Array(1))]) {
      await expect(call()).rejects.toMatchObject({ code: 'E_IO', message: expect.stringMatching(/^R2 (head|get|put) of t\/r2\.bin failed \(We encountered an internal error/) });
    }
    expect(await store.head('t/r2.bin')).toEqual({ size: 5, sha256: 'ab'.repeat(32) }); // nothing written by the failed put
  });
});

describe('Workflow runner', () => {
  /** A job of a small valid scenario, recorded in D1, and a binding whose create fails as `fail(n)` says for call n. */
  async function setup(name: string, fail: (call: number, create: () => Promise<unknown>) => Promise<void>) {
    const data = rasters(32, 24);
    await env.DATA.put(`data/p1/${name}/hazard.tif`, data.hazard);
    await env.DATA.put(`data/p1/${name}/exposure.tif`, data.exposure);
    const doc = scenario(`r2://${CASE_BUCKET}/${name}/hazard.tif`, `r2://${CASE_BUCKET}/${name}/exposure.tif`);
    const t = new Date().toISOString();
    const job: JobRecord = { id: `rn-${name}`, partner: 'p1', keyId: 'k', status: 'queued', createdAt: t, updatedAt: t };
    await d1JobStore(env.DB).create(job);
    let calls = 0;
    const ASSESS = new Proxy(env.ASSESS, {
      get: (w, p) => (p === 'create' ? async (o: Parameters<typeof w.create>[0]) => fail(++calls, () => w.create(o)) : Reflect.get(w, p)),
    }) as unknown as Env['ASSESS'];
    return { job, doc, runner: workflowRunner({ ASSESS, DATA: env.DATA }, 1), calls: () => calls };
  }

  it('retries a create that failed, and counts one that failed after making the instance as started', async () => {
    await using wf = await introspectWorkflow(env.ASSESS);
    await wf.modifyAll(async (m) => {
      await m.disableSleeps();
    });
    const once = await setup('once', async (n, create) => {
      if (n === 1) throw new Error('workflows: service unavailable');
      await create();
    });
    await once.runner.start(once.job, once.doc);
    expect(once.calls()).toBe(2);
    const late = await setup('late', async (n, create) => {
      await create();
      if (n === 1) throw new Error('workflows: connection reset after create');
    });
    await late.runner.start(late.job, late.doc);
    expect(late.calls()).toBe(1); // not created twice
    expect(wf.get().length).toBe(2);
    for (const i of wf.get()) await i.waitForStatus('complete');
    for (const id of ['rn-once', 'rn-late']) expect(await d1JobStore(env.DB).get(id)).toMatchObject({ status: 'succeeded' });
  });

  it(`gives up after ${START_ATTEMPTS} attempts with the binding's error`, async () => {
    const down = await setup('down', async () => {
      throw new Error('workflows: service unavailable');
    });
    await expect(down.runner.start(down.job, down.doc)).rejects.toThrow(/service unavailable/);
    expect(down.calls()).toBe(START_ATTEMPTS);
    await expect(env.ASSESS.get('rn-down')).rejects.toThrow();
  });
});

describe('KV keys and origins', () => {
  it('finds a key by the sha256 of its token; origin markers answer preflights; a revoked key marks none', async () => {
    const ks = kvKeyStore(env.KEYS);
    const rec = { id: 'k-kv', hash: 'ab'.repeat(32), partner: 'p9', scopes: ['read' as const], origins: ['https://kv.example.org'] };
    await putKey(env.KEYS, rec);
    await putKey(env.KEYS, { ...rec, id: 'k-kv-revoked', hash: 'cd'.repeat(32), origins: ['https://revoked.example.org'], revoked: true });
    expect(await ks.byHash('ab'.repeat(32))).toEqual(rec);
    expect(await ks.byHash('ef'.repeat(32))).toBeNull();
    expect(await env.KEYS.get('key:' + 'ab'.repeat(32), 'json')).toEqual(rec);
    expect(await ks.originAllowed('https://kv.example.org')).toBe(true);
    expect(await ks.originAllowed('https://revoked.example.org')).toBe(false);
    expect(await ks.originAllowed('https://other.example.org')).toBe(false);
  });
});

describe('rate limiter (Durable Object)', () => {
  it('one bucket per name: 2 per minute pass, the third waits 30 s; the bucket is in the object\'s storage', async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName('key:do-test'));
    const answers = [await stub.take(2), await stub.take(2), await stub.take(2)];
    expect(answers.map((a) => a.ok)).toEqual([true, true, false]);
    expect(answers[2]!.retryAfterSeconds).toBe(30);
    const other = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName('key:do-other'));
    expect((await other.take(2)).ok).toBe(true);
    const stored = await runInDurableObject(stub, (_o, state) => state.storage.get<Bucket>('bucket'));
    expect(stored!.tokens).toBeLessThan(1);
  });
});

describe('request logs', () => {
  it('one JSON line per request, with the id the response carries', async () => {
    const spy = vi.spyOn(console, 'log');
    try {
      const res = await api('/v1/jobs/none', { headers: auth(keys.read) });
      expect(res.status).toBe(404);
      await res.body?.cancel();
      const lines = spy.mock.calls.map((c) => String(c[0])).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      const mine = lines.filter((l) => l.msg === 'request' && l.requestId === res.headers.get('x-request-id'));
      expect(mine).toEqual([expect.objectContaining({ level: 'warn', method: 'GET', path: '/v1/jobs/none', status: 404, keyId: 'k-read', partner: 'p1' })]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('codecs the edge cannot decode', () => {
  for (const [name, codec] of [['TEST_ZSTD_COG', 'ZSTD'], ['TEST_LERC_COG', 'LERC']] as const) {
    it(`a ${codec} COG: upload and inline assessment answered 415 naming the codecs that work; the service keeps serving`, async () => {
      const cog = bytes(env[name]);
      const up = await expectProblem(await api(`/v1/data/codec/${codec}.tif`, { method: 'PUT', body: cog, headers: auth(keys.upload, { 'content-type': 'image/tiff' }) }), 415, 'E_TIFF_INVALID');
      expect(up.detail).toMatch(new RegExp(`compressed with ${codec} .*this runtime forbids.*these decode here: `));
      const work = String(up.detail).replace(/.*these decode here: /, '').split(', ');
      expect(work).toEqual(expect.arrayContaining(['uncompressed', 'DEFLATE', 'LZW']));
      expect(work).not.toContain(codec);
      expect(up.hint).toMatch(/gdal_translate -of COG -co COMPRESS=DEFLATE/);
      expect(await env.DATA.head(`data/p1/codec/${codec}.tif`)).toBeNull();
      // the same map as hazard and exposure, so tiles must decode it
      const inline = await api('/v1/assess', postJson(scenario(dataUrl(cog), dataUrl(cog)), keys.run));
      expect((await expectProblem(inline, 415, 'E_TIFF_INVALID')).detail).toMatch(/these decode here/);
      expect((await api('/healthz')).status).toBe(200);
    });
  }
});

describe('Cron Trigger', () => {
  it('starts each FORECAST_SCENARIOS entry as a job once; a missing scenario is skipped and logged', async () => {
    const data = rasters(64, 48);
    await env.DATA.put('data/p1/fc/hazard.tif', data.hazard);
    await env.DATA.put('data/p1/fc/exposure.tif', data.exposure);
    const doc = { ...scenario(`r2://${CASE_BUCKET}/fc/hazard.tif`, `r2://${CASE_BUCKET}/fc/exposure.tif`), name: 'daily flood' };
    await env.DATA.put('forecasts/p1/daily.json', JSON.stringify(doc));
    const entries = [{ partner: 'p1', key: 'forecasts/p1/daily.json' }, { partner: 'p1', key: 'forecasts/p1/missing.json' }];
    const scheduledTime = Date.parse('2026-11-25T06:00:00Z');
    const id = forecastJobId(scheduledTime, 0);
    expect(id).toBe('fc-20261125T0600-0');

    await using wf = await introspectWorkflow(env.ASSESS);
    await wf.modifyAll(async (m) => {
      await m.disableSleeps();
    });
    const cronEnv: Env = Object.assign(Object.create(null), env, { FORECAST_SCENARIOS: JSON.stringify(entries) });
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ scheduledTime, cron: '0 6 * * *' }), cronEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(wf.get().length).toBe(1);
    await wf.get()[0]!.waitForStatus('complete');
    const job = await d1JobStore(env.DB).get(id);
    expect(job).toMatchObject({ id, partner: 'p1', keyId: 'cron', status: 'succeeded', name: 'daily flood', resultKey: `jobs/${id}/result.json` });
    // the partner reads it like any job
    const res = await api(`/v1/jobs/${id}/result`, { headers: auth(keys.read) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { zones: Array<{ id: string }> }).zones.map((z) => z.id)).toEqual(['W', 'E']);
    expect(await d1JobStore(env.DB).get(forecastJobId(scheduledTime, 1))).toBeNull();

    // a second delivery of the same scheduled event starts nothing
    const again = await startForecasts(cronEnv, scheduledTime, '0 6 * * *');
    expect(again.started).toEqual([]);
    expect(again.skipped.map((s) => s.code)).toEqual(['E_USAGE', 'E_INPUT_NOT_FOUND']);
  });

  it('FORECAST_SCENARIOS must be a list of { partner, key }', () => {
    expect(forecastEntries(undefined)).toEqual([]);
    expect(forecastEntries('[]')).toEqual([]);
    expect(() => forecastEntries('{')).toThrow(/not JSON/);
    expect(() => forecastEntries('[{"partner":"p1"}]')).toThrow(/list of/);
    expect(() => forecastEntries('[{"partner":"../x","key":"a.json"}]')).toThrow(/list of/);
  });
});
