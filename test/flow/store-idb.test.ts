/**
 * The IndexedDB store in a real browser: headless Chromium (system binary, playwright-core) imports the
 * built dist/src/flow/store-idb.js and runs the store conformance cases of store.test.ts against a real
 * IndexedDB; what the page read back comes to Node through the codec and is checked here (typed arrays,
 * NaN and -0 bit for bit). Then what only a persistent store shows: the run, its journal, results and
 * cache read back after the connection was closed and after the page was reloaded, and a flow run
 * (runFlow from dist/src/flow/index.js) killed by a page reload in the middle of its second task,
 * resumed with the same run id in the reloaded page: the first task is Cached and the results equal an
 * uninterrupted run's. Cache entries written before the reload hit after it, until the clock passes
 * their expiry.
 *
 * dist/ is served as built; the only change is the bare `zod` specifier (the flow index imports it),
 * pointed at zod's ESM entry under /node_modules/zod/ (what a bundler does). Needs `npm run build` first.
 */
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeValue, type Json } from '../../src/flow/codec.js';
import { ROOT, assertBuilt } from '../runtimes/case.js';
import { SKIP_NO_CHROMIUM as SKIP, openPage, within, type BrowserPage } from '../runtimes/chromium.js';
import { T0 } from './helpers.js';

const ZOD_DIR = resolve(ROOT, 'node_modules/zod');
const ZOD = '/node_modules/zod/index.js';

/** Every .js file of zod's package, by URL path (its own imports are relative). */
function zodFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) out['/node_modules/zod/' + relative(ZOD_DIR, p).split('\\').join('/')] = p;
    }
  };
  walk(ZOD_DIR);
  return out;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>ibf idb store</title><link rel="icon" href="data:,">
<script type="module">
const T0 = ${T0};
const DB = 'ibf-flow-test';
const load = async () => ({ ...(await import('/dist/src/flow/store-idb.js')), ...(await import('/dist/src/flow/codec.js')) });
const flowApi = () => import('/dist/src/flow/index.js');
const out = async (v) => JSON.stringify((await load()).encodeValue(v));
const caught = (p) => p.then(() => null, (e) => ({ name: e.name, code: e.code, message: e.message }));

const record = (over = {}) => ({
  format: 'e4drr-ibf/flow-run@1', run: 'r1', flow: 'f', fingerprint: 'abc', params: { when: new Date(T0) }, status: 'Running', session: 1,
  startedAt: T0, updatedAt: T0, nextSeq: 1, tasks: { a: { state: 'Running', attempt: 1, updatedAt: T0 } }, ...over,
});
const event = (seq) => ({ kind: 'task', seq, ts: T0 + seq, run: 'r1', task: 'a', attempt: 1, from: 'Pending', to: 'Running' });
const log = (message) => ({ ts: T0, level: 'info', flow: 'f', run: 'r1', task: 'a', attempt: 1, message });

// the conformance cases of test/flow/store.test.ts, then the writes the reload must keep
window.ibfStore = async () => {
  const { indexedDbStore } = await load();
  const s = indexedDbStore(DB);
  const r = {};
  r.before = { run: await s.loadRun('r1'), events: await s.readEvents('r1'), logs: await s.readLogs('r1'), result: await s.getResult('r1', 'a'), cache: await s.getCache('k') };
  await s.commit('r1', { record: record(), events: [event(0)], logs: [log('one')] });
  await s.commit('r1', { record: record({ status: 'Completed', nextSeq: 3 }), events: [event(1), event(2)], logs: [] });
  await s.commit('r1', { record: record({ status: 'Completed', nextSeq: 3 }), events: [], logs: [log('two')] });
  r.run = await s.loadRun('r1');
  r.events = await s.readEvents('r1');
  r.logs = await s.readLogs('r1');
  r.r2 = await s.loadRun('r2');
  const copy = await s.loadRun('r1');
  copy.status = 'Failed';
  r.afterChange = (await s.loadRun('r1')).status;

  const value = { hazard: new Float32Array([1.5, NaN, -0, Infinity]), damage: new Float64Array([1, NaN, -0]), zones: ['A', 'B'], missing: undefined, big: 2n ** 70n };
  await s.putResult('r1', 'forecast/assess', value);
  await s.putResult('r1', 'x', 1);
  await s.putResult('r1', 'x', 2);
  await s.putResult('r2', 'x', 3);
  r.result = await s.getResult('r1', 'forecast/assess');
  r.x = [await s.getResult('r1', 'x'), await s.getResult('r2', 'x'), await s.getResult('r1', 'undefined-result')];
  await s.putResult('r1', 'undefined-result', undefined);
  r.undef = await s.getResult('r1', 'undefined-result');

  const entry = { key: 'k/with:odd chars', task: 't', storedAt: T0, expiresAt: T0 + 5, value: new Uint8Array([1, 2]) };
  await s.putCache(entry);
  r.cache = [await s.getCache('k/with:odd chars'), await s.getCache('other')];

  // a value the codec cannot keep is refused before anything is written
  r.badResult = await caught(s.putResult('r1', 'fn', { f: () => 1 }));
  r.badCommit = await caught(s.commit('r1', { record: record({ params: { f: () => 1 } }), events: [event(9)], logs: [] }));
  r.afterBad = { run: await s.loadRun('r1'), events: (await s.readEvents('r1')).length, fn: await s.getResult('r1', 'fn') };

  // concurrent commits of one run are applied in call order
  await Promise.all([0, 1, 2, 3].map((i) => s.commit('c', { record: record({ run: 'c', nextSeq: i + 1 }), events: [event(i)], logs: [] })));
  r.concurrent = { seqs: (await s.readEvents('c')).map((e) => e.seq), nextSeq: (await s.loadRun('c')).nextSeq };

  // closed and opened again
  s.close();
  const again = indexedDbStore(DB);
  r.reopened = { run: await again.loadRun('r1'), events: (await again.readEvents('r1')).map((e) => e.seq), result: await again.getResult('r1', 'forecast/assess') };
  r.runs = await again.runs();
  again.close();
  return out(r);
};

// after the page was reloaded: everything as it was
window.ibfStoreAfterReload = async () => {
  const { indexedDbStore } = await load();
  const s = indexedDbStore(DB);
  const r = {
    run: await s.loadRun('r1'), events: await s.readEvents('r1'), logs: await s.readLogs('r1'),
    result: await s.getResult('r1', 'forecast/assess'), x: await s.getResult('r1', 'x'), cache: await s.getCache('k/with:odd chars'), runs: await s.runs(),
  };
  s.close();
  return out(r);
};

// a flow: ingest -> assess -> trigger; assess hangs forever in the session the page reload kills
const counts = {};
const dailyFlow = (defineFlow, hang) => {
  const f = defineFlow({ name: 'daily', params: { members: 4 } });
  const count = (name) => { counts[name] = (counts[name] ?? 0) + 1; };
  const ingest = f.task('ingest', { run: (ctx) => (count('ingest'), Float32Array.from({ length: ctx.params.members }, (_v, i) => (i === 1 ? NaN : i * 0.5 - 0.25))) });
  const assess = f.task('assess', {
    inputs: { hazard: ingest },
    run: (_ctx, { hazard }) => {
      count('assess');
      if (hang) { window.ibfHanging = true; return new Promise(() => {}); }
      return { damage: Float64Array.from(hazard, (h) => h * 1000 + 0.1), zero: -0 };
    },
  });
  f.task('trigger', {
    inputs: { impact: assess },
    run: (_ctx, { impact }) => (count('trigger'), { probability: impact.damage.filter((d) => d > 500).length / impact.damage.length }),
  });
  return f;
};

window.ibfFlowClean = async () => {
  const { defineFlow, runFlow, ManualClock, indexedDbStore } = await flowApi();
  const store = indexedDbStore(DB);
  const run = await runFlow(dailyFlow(defineFlow, false), { store, clock: new ManualClock(T0), runId: 'clean' });
  store.close();
  return out({ status: run.status, states: run.states, results: run.results });
};

// session 1: starts and never finishes; resolves once the store says ingest Completed and assess Running
window.ibfFlowStart = async () => {
  const { defineFlow, runFlow, ManualClock, indexedDbStore } = await flowApi();
  for (const k of Object.keys(counts)) delete counts[k];
  const store = indexedDbStore(DB);
  void runFlow(dailyFlow(defineFlow, true), { store, clock: new ManualClock(T0), runId: 'daily-1' });
  const probe = indexedDbStore(DB);
  for (let i = 0; i < 500; i++) {
    const rec = await probe.loadRun('daily-1');
    if (window.ibfHanging && rec?.tasks.assess?.state === 'Running') return out({ tasks: Object.fromEntries(Object.entries(rec.tasks).map(([k, t]) => [k, t.state])), counts });
    await new Promise((ok) => setTimeout(ok, 10));
  }
  throw new Error('assess never ran');
};

// session 2, in the reloaded page
window.ibfFlowResume = async () => {
  const { defineFlow, runFlow, ManualClock, indexedDbStore } = await flowApi();
  const store = indexedDbStore(DB);
  const seen = [];
  const run = await runFlow(dailyFlow(defineFlow, false), { store, clock: new ManualClock(T0 + 60_000), runId: 'daily-1', onEvent: (e) => e.kind === 'task' && seen.push([e.task, e.to]) });
  const events = await store.readEvents('daily-1');
  store.close();
  return out({ status: run.status, session: run.session, states: run.states, results: run.results, seen, counts, seqs: events.map((e) => e.seq) });
};

// a cached task with a 60 s expiry; each call is a new run at the given clock time
window.ibfCached = async (at, runId) => {
  const { defineFlow, runFlow, ManualClock, indexedDbStore } = await flowApi();
  const store = indexedDbStore(DB);
  let computed = 0;
  const f = defineFlow({ name: 'cached' });
  f.task('expensive', { cache: { expiresMs: 60_000 }, run: () => (computed++, { damage: new Float32Array([NaN, -0, 2.5]) }) });
  const run = await runFlow(f, { store, clock: new ManualClock(at), runId });
  store.close();
  return out({ state: run.states.expensive, computed, result: run.results.expensive });
};
window.ibfReady = true;
</script>`;

type Dict = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

const RECORD = (over: Dict = {}) => ({
  format: 'e4drr-ibf/flow-run@1', run: 'r1', flow: 'f', fingerprint: 'abc', params: { when: new Date(T0) }, status: 'Running', session: 1,
  startedAt: T0, updatedAt: T0, nextSeq: 1, tasks: { a: { state: 'Running', attempt: 1, updatedAt: T0 } }, ...over,
});

describe.skipIf(!!SKIP)('indexedDbStore in headless Chromium (IndexedDB)', () => {
  let b: BrowserPage;

  /** Calls `window.<fn>(...args)` in the page and decodes what it returned. */
  const call = async (fn: string, ...args: unknown[]): Promise<Dict> => {
    const text = await within(b.page.evaluate(`window.${fn}(${args.map((a) => JSON.stringify(a)).join(', ')})`) as Promise<string>, 20_000, fn);
    return decodeValue(JSON.parse(text) as Json) as Dict;
  };
  const reload = async () => {
    await b.page.reload({ timeout: 15_000 });
    await b.page.waitForFunction('window.ibfReady === true', undefined, { timeout: 10_000 });
  };

  beforeAll(async () => {
    assertBuilt();
    b = await openPage(PAGE, {
      extra: zodFiles(),
      rewrite: (js) => js.replace(/from\s+(['"])zod\1/g, `from '${ZOD}'`),
    });
    await b.page.waitForFunction('window.ibfReady === true', undefined, { timeout: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await b?.close();
  }, 30_000);

  it('passes the store conformance cases, refuses what the codec cannot keep, and reads back after close and reload', async () => {
    const r = await call('ibfStore');
    expect(b.pageErrors).toEqual([]);
    expect(b.served).toContain('/dist/src/flow/store-idb.js');
    expect(r.before).toEqual({ run: undefined, events: [], logs: [], result: undefined, cache: undefined });

    const last = RECORD({ status: 'Completed', nextSeq: 3 });
    expect(r.run).toEqual(last);
    expect(r.run.params.when).toBeInstanceOf(Date);
    expect(r.events.map((e: Dict) => e.seq)).toEqual([0, 1, 2]);
    expect(r.logs.map((l: Dict) => l.message)).toEqual(['one', 'two']);
    expect(r.r2).toBeUndefined();
    expect(r.afterChange).toBe('Completed');

    const v = r.result.value;
    expect(v.hazard).toBeInstanceOf(Float32Array);
    expect(sameBits(v.hazard, [1.5, NaN, -0, Infinity])).toBe(true);
    expect(v.damage).toBeInstanceOf(Float64Array);
    expect(sameBits(v.damage, [1, NaN, -0])).toBe(true);
    expect(v.zones).toEqual(['A', 'B']);
    expect(Object.hasOwn(v, 'missing') && v.missing === undefined).toBe(true);
    expect(v.big).toBe(2n ** 70n);
    expect(r.x).toEqual([{ value: 2 }, { value: 3 }, undefined]);
    expect(r.undef).toEqual({ value: undefined });
    expect(Object.hasOwn(r.undef, 'value')).toBe(true);

    expect(r.cache[0]).toEqual({ key: 'k/with:odd chars', task: 't', storedAt: T0, expiresAt: T0 + 5, value: new Uint8Array([1, 2]) });
    expect(r.cache[0].value).toBeInstanceOf(Uint8Array);
    expect(r.cache[1]).toBeUndefined();

    expect(r.badResult).toMatchObject({ name: 'IbfError', code: 'E_FLOW_RESULT' });
    expect(r.badCommit).toMatchObject({ name: 'IbfError', code: 'E_FLOW_RESULT' });
    expect(r.afterBad).toEqual({ run: last, events: 3, fn: undefined });
    expect(r.concurrent).toEqual({ seqs: [0, 1, 2, 3], nextSeq: 4 });

    expect(r.reopened.run).toEqual(last);
    expect(r.reopened.events).toEqual([0, 1, 2]);
    expect(sameBits(r.reopened.result.value.hazard, [1.5, NaN, -0, Infinity])).toBe(true);
    expect(r.runs).toEqual(['c', 'r1']);

    // a reload: the page's memory is gone, the database is not
    await reload();
    const after = await call('ibfStoreAfterReload');
    expect(after.run).toEqual(last);
    expect(after.events.map((e: Dict) => e.seq)).toEqual([0, 1, 2]);
    expect(after.logs.map((l: Dict) => l.message)).toEqual(['one', 'two']);
    expect(after.result.value.hazard).toBeInstanceOf(Float32Array);
    expect(sameBits(after.result.value.hazard, [1.5, NaN, -0, Infinity])).toBe(true);
    expect(sameBits(after.result.value.damage, [1, NaN, -0])).toBe(true);
    expect(after.x).toEqual({ value: 2 });
    expect(after.cache).toEqual(r.cache[0]);
    expect(after.runs).toEqual(['c', 'r1']);
    expect(b.pageErrors).toEqual([]);
  }, 60_000);

  it('resumes a run killed by a page reload in the middle of a task: the completed task is Cached, results equal a clean run', async () => {
    const clean = await call('ibfFlowClean');
    expect(clean.status).toBe('Completed');
    expect(b.served).toContain(ZOD);

    const started = await call('ibfFlowStart');
    expect(started.tasks).toEqual({ ingest: 'Completed', assess: 'Running', trigger: 'Scheduled' });
    expect(started.counts).toEqual({ ingest: 1, assess: 1 });

    await reload(); // kills session 1 inside assess
    const resumed = await call('ibfFlowResume');
    expect(resumed.status).toBe('Completed');
    expect(resumed.session).toBe(2);
    expect(resumed.states).toEqual({ ingest: 'Cached', assess: 'Completed', trigger: 'Completed' });
    // in the new page only assess and trigger ran
    expect(resumed.counts).toEqual({ assess: 1, trigger: 1 });
    expect(resumed.seen.filter(([t]: [string]) => t === 'ingest')).toEqual([['ingest', 'Cached']]);
    expect(resumed.seen.filter(([t]: [string]) => t === 'assess').map(([, s]: [string, string]) => s)).toEqual(['Crashed', 'Scheduled', 'Pending', 'Running', 'Completed']);
    expect(resumed.seqs).toEqual(resumed.seqs.map((_s: number, i: number) => i));

    expect(resumed.results).toEqual(clean.results);
    expect(sameBits(resumed.results.ingest, clean.results.ingest)).toBe(true);
    expect(resumed.results.ingest).toBeInstanceOf(Float32Array);
    expect(sameBits(resumed.results.assess.damage, clean.results.assess.damage)).toBe(true);
    expect(Object.is(resumed.results.assess.zero, -0)).toBe(true);
    expect(b.pageErrors).toEqual([]);
  }, 60_000);

  it('keeps cache entries across a reload until the clock passes their expiry', async () => {
    const first = await call('ibfCached', T0, 'c1');
    expect([first.state, first.computed]).toEqual(['Completed', 1]);
    const hit = await call('ibfCached', T0 + 1000, 'c2');
    expect([hit.state, hit.computed]).toEqual(['Cached', 0]);
    await reload();
    const afterReload = await call('ibfCached', T0 + 59_999, 'c3');
    expect([afterReload.state, afterReload.computed]).toEqual(['Cached', 0]);
    expect(afterReload.result.damage).toBeInstanceOf(Float32Array);
    expect(sameBits(afterReload.result.damage, [NaN, -0, 2.5])).toBe(true);
    const expired = await call('ibfCached', T0 + 60_000, 'c4');
    expect([expired.state, expired.computed]).toEqual(['Completed', 1]);
    expect(b.pageErrors).toEqual([]);
  }, 60_000);
});

if (SKIP) it.skip(`indexedDbStore in headless Chromium: skipped because ${SKIP}`, () => {});
