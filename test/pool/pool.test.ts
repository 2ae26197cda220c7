/**
 * The worker pool with real worker_threads (no mocks): pooled kernel results equal the inline and the
 * TypeScript twin bit for bit, for any pool size; crashed and hung workers are replaced and their tasks
 * retried (bounded); worker IbfErrors arrive with their code; abort; transferred buffers are detached.
 *
 * The pool under test is the TypeScript source (src/pool/pool.ts), its workers run the built
 * dist/src/pool/worker-node.js (worker_threads cannot load .ts on Node 20): run `npm run build:ts` first
 * (`npm test` builds). Expected values: the ReferenceKernel (the pure-TS twin) on the same chunks.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { DamageFunction } from '../../src/model/damage-function.js';
import { ReferenceKernel } from '../../src/kernels/reference.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import { NO_ZONE, emptyPartial, mergePartial, type ImpactInputs, type ImpactPartial } from '../../src/kernels/types.js';
import { createPool, type Pool, type PoolOptions } from '../../src/pool/pool.js';
import { createNodePool, defaultPoolSize, nodeWorkerEntry, nodeWorkerFactory, type NodeWorkerHandle } from '../../src/pool/node.js';
import { toImpactWire, type ImpactInputsWire, type PoolWorkerApi } from '../../src/pool/protocol.js';
import * as Comlink from 'comlink';
import { MessageChannel } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { exposePoolWorker, type WorkerRuntime } from '../../src/pool/worker-core.js';
import type { WorkerHandle } from '../../src/pool/pool.js';
import { ibfError } from '../helpers.js';

const table = DamageFunction.fromTable({ unit: 'm', intensity: [0, 0.5, 1, 2, 3], mdd: [0, 0.1, 0.3, 0.6, 0.8], paa: [0.5, 0.6, 0.8, 1, 1] });
const step = DamageFunction.fromStep([0, 1.2, 5], { unit: 'm', mdd: [0.05, 0.7] });
const N_ZONES = 3;
const N_BANDS = 2;

/** Chunk `k` of a synthetic raster: `n` cells x 2 bands, deterministic (mulberry32 seeded by k), with nodata, zones, weights, classes. */
function chunk(k: number, n = 3000, damage = false): ImpactInputs {
  let s = (0x9e3779b9 ^ Math.imul(k + 1, 0x85ebca6b)) | 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hazard = new Float32Array(N_BANDS * n);
  const exposure = new Float64Array(n);
  const zones = new Uint32Array(n);
  const weights = new Float32Array(n);
  const classes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    hazard[i] = i % 37 === 5 ? NaN : i % 41 === 7 ? -9999 : rnd() * 3.5 - 0.3;
    hazard[n + i] = i % 29 === 3 ? NaN : rnd() * 5;
    exposure[i] = i % 23 === 11 ? -1 : Math.round(rnd() * 1e5) / 7;
    zones[i] = i % 17 === 9 ? NO_ZONE : Math.floor(rnd() * N_ZONES);
    weights[i] = rnd();
    classes[i] = rnd() < 0.3 ? 1 : 0;
  }
  return {
    hazard, nBands: N_BANDS, cells: n, exposure, zones, nZones: N_ZONES, weights, classes,
    curves: [table, step], threshold: 0.5, hazardNodata: -9999, exposureNodata: -1, damage,
  };
}

/** Partials merged in chunk order (the reduce contract: fixed order, so bitwise results). */
function merged(parts: ImpactPartial[]): ImpactPartial {
  return parts.reduce((acc, p) => mergePartial(acc, p), emptyPartial(N_ZONES, N_BANDS));
}

/** Indices where `a` and `b` differ in bits (Object.is: NaN equals NaN, -0 differs from 0). */
function bitDiffs(a: ArrayLike<number>, b: ArrayLike<number>): string[] {
  const out: string[] = [];
  if (a.length !== b.length) return [`length ${a.length} != ${b.length}`];
  for (let i = 0; i < a.length && out.length < 5; i++) if (!Object.is(a[i], b[i])) out.push(`[${i}] ${a[i]} != ${b[i]}`);
  return out;
}

function expectSamePartial(got: ImpactPartial, want: ImpactPartial): void {
  expect(bitDiffs(got.stats, want.stats)).toEqual([]);
  expect(bitDiffs(got.zoneStats, want.zoneStats)).toEqual([]);
  if (want.damage) expect(bitDiffs(got.damage!, want.damage)).toEqual([]);
}

const twin = new ReferenceKernel();
const CHUNKS = 8;
/** Chunk 3 also returns the per-cell damage raster (so result buffers come back too). */
const withDamage = (k: number) => k === 3;
const expected = () => Array.from({ length: CHUNKS }, (_, k) => twin.impactZonal(chunk(k, 3000, withDamage(k))));

const pools: Pool[] = [];
/** A pool closed after the test; `spawned` records every worker started (replacements too). */
function pool(opts: Partial<PoolOptions> & { size: number }): { pool: Pool; spawned: NodeWorkerHandle[] } {
  const spawned: NodeWorkerHandle[] = [];
  const make = nodeWorkerFactory();
  const p = createPool({
    createWorker: () => {
      const h = make();
      spawned.push(h);
      return h;
    },
    loadKernel: () => loadKernel('auto'),
    timeoutMs: 10_000,
    ...opts,
  });
  pools.push(p);
  return { pool: p, spawned };
}

const runChunks = (p: Pool, ks: number[], n = 3000) =>
  Promise.all(ks.map((k) => p.run('impactZonal', () => toImpactWire(chunk(k, n, withDamage(k))))));

beforeAll(() => {
  nodeWorkerEntry(); // fails with "... missing; hint: npm run build:ts" when dist/ is not built
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('worker pool: results', () => {
  it('pooled impactZonal equals inline and the TS twin bit for bit; size 0, 1, 2 identical', async () => {
    const want = expected();
    const wantTotal = merged(want);
    const ks = Array.from({ length: CHUNKS }, (_, k) => k);
    for (const size of [0, 1, 2]) {
      const { pool: p } = pool({ size });
      const parts = await runChunks(p, ks);
      parts.forEach((part, k) => expectSamePartial(part, want[k]!));
      expectSamePartial(merged(parts), wantTotal);
      const st = p.stats();
      expect(st.completed).toBe(CHUNKS);
      expect(st.kernels.every((k) => k === 'wasm-simd')).toBe(true);
      expect(st.workers).toBe(size);
    }
  });

  it('transfers: input buffers are detached on the caller (every size), kept with transfer: false', async () => {
    for (const size of [0, 1]) {
      const { pool: p } = pool({ size });
      const wire = toImpactWire(chunk(3, 3000, true));
      const part = await p.run('impactZonal', wire);
      expect([wire.hazard, wire.exposure, wire.zones!, wire.weights!, wire.classes!].map((a) => a.buffer.byteLength)).toEqual([0, 0, 0, 0, 0]);
      expect(part.damage!.length).toBe(2 * 3000);
      expect(part.stats.buffer.byteLength).toBe(part.stats.length * 8);

      const kept = toImpactWire(chunk(3, 3000, true));
      const again = await p.run('impactZonal', kept, { transfer: false });
      expect(kept.hazard.byteLength).toBe(2 * 3000 * 4);
      expect(kept.exposure.byteLength).toBe(3000 * 8);
      expectSamePartial(again, part);
    }
  });
});

describe('createNodePool', () => {
  it('wires worker threads (or inline) with the chosen kernel; default size = cores', async () => {
    expect(defaultPoolSize()).toBeGreaterThanOrEqual(1);
    for (const size of [0, 1]) {
      const p = createNodePool({ size, kernel: 'wasm-scalar' });
      pools.push(p);
      expect(await p.warmup()).toEqual(['wasm-scalar']);
      expectSamePartial(await p.run('impactZonal', toImpactWire(chunk(6))), twin.impactZonal(chunk(6)));
      expect(p.size).toBe(size);
    }
    const d = createNodePool();
    pools.push(d);
    expect(d.size).toBe(defaultPoolSize());
  });
});

describe('worker pool: failures', () => {
  it('a worker killed mid-run is replaced, its task retried, and the totals are the same', async () => {
    // tasks long enough (several ms each) that both workers are still busy when the first answer is read,
    // even on a loaded machine
    const n = 400_000;
    const want = merged(Array.from({ length: 12 }, (_, k) => twin.impactZonal(chunk(k, n))));
    const { pool: p, spawned } = pool({ size: 2, maxRetries: 1 });
    const calls = new Array<number>(12).fill(0);
    const tasks = Array.from({ length: 12 }, (_, k) =>
      p.run('impactZonal', () => {
        calls[k]!++;
        return toImpactWire(chunk(k, n));
      }),
    );
    await tasks[0]; // both workers are up; the freed one took the next task at once
    expect(p.stats().busy).toBe(2);
    await spawned[0]!.worker.terminate();
    const parts = await Promise.all(tasks);
    expectSamePartial(merged(parts), want);
    const st = p.stats();
    expect(st).toMatchObject({ spawned: 3, replaced: 1, retries: 1, workers: 2, completed: 12 });
    expect(calls.reduce((a, b) => a + b)).toBe(13); // one task made its inputs twice
  });

  it('a worker that exits on every attempt: retried maxRetries times, then a clear IbfError; the pool stays usable', async () => {
    const { pool: p, spawned } = pool({ size: 1, maxRetries: 2, diagnostics: true });
    const e = await ibfError(p.run('exit', { code: 3 }));
    expect(e.code).toBe('E_WORKER');
    expect(e.message).toMatch(/task 'exit' failed 3 times/);
    expect(e.message).toMatch(/exited with code 3/);
    expect(e.hint).toMatch(/crashed/);
    expect(e.details).toMatchObject({ op: 'exit', attempts: 3 });
    expect(spawned).toHaveLength(3);
    expectSamePartial(await p.run('impactZonal', toImpactWire(chunk(1))), twin.impactZonal(chunk(1)));
    expect(p.stats()).toMatchObject({ spawned: 4, replaced: 3, retries: 2 });
  });

  it('a hung task times out, is retried once on a new worker, then fails with a clear IbfError', async () => {
    const { pool: p } = pool({ size: 1, timeoutMs: 300, maxRetries: 1, diagnostics: true });
    await p.warmup();
    const t0 = Date.now();
    const e = await ibfError(p.run('sleep', { ms: 20_000 }));
    const ms = Date.now() - t0;
    expect(e.code).toBe('E_WORKER');
    expect(e.message).toMatch(/task 'sleep' failed 2 times \(attempt 1: worker 1 gave no answer within 300 ms; attempt 2: worker 2 gave no answer within 300 ms\)/);
    expect(e.hint).toMatch(/timeoutMs/);
    expect(ms).toBeGreaterThanOrEqual(600);
    expect(ms).toBeLessThan(5_000);
    expect(p.stats()).toMatchObject({ replaced: 2, retries: 1 });
    // A short sleep within the limit, then real work on the replacement worker.
    expect((await p.run('sleep', { ms: 10 })).sleptMs).toBeGreaterThanOrEqual(10);
    expectSamePartial(await p.run('impactZonal', toImpactWire(chunk(2))), twin.impactZonal(chunk(2)));
  });

  it('a crash after value args were transferred cannot be retried: clear IbfError (functions can)', async () => {
    const { pool: p } = pool({ size: 1, timeoutMs: 1, maxRetries: 2 });
    await p.warmup();
    const e = await ibfError(p.run('impactZonal', toImpactWire(chunk(0, 1_000_000))));
    expect(e.message).toMatch(/input buffers went to it, so it cannot run again/);
    expect(e.hint).toMatch(/as a function/);
  });

  it('IbfErrors thrown in a worker arrive as IbfError with code, hint and problems; not retried', async () => {
    for (const size of [0, 1]) {
      const { pool: p } = pool({ size });
      const bad = toImpactWire(chunk(0));
      bad.zones![10] = 7; // zone index >= nZones (3)
      const e = await ibfError(p.run('impactZonal', bad));
      expect(e.code).toBe('E_KERNEL');
      expect(e.message).toBe('impact kernel failed: a zone index is >= the number of zones');
      expect(e.hint).toMatch(/zones < nZones/);
      expect(e.details).toEqual({ status: 2 });

      const curve: ImpactInputsWire = toImpactWire(chunk(0));
      curve.curves = [{ kind: 'table', unit: 'm', intensity: [0, 2, 1], mdd: [0, 1.5, 1], paa: [1, 1, 1] }];
      const c = await ibfError(p.run('impactZonal', curve));
      expect(c.code).toBe('E_CURVE_INVALID');
      expect(c.problems!.length).toBeGreaterThanOrEqual(2);
      expect(c.problems!.map((q) => q.path)).toEqual(expect.arrayContaining([expect.stringMatching(/intensity/), expect.stringMatching(/mdd/)]));
      expect(p.stats()).toMatchObject({ retries: 0, replaced: 0 });
    }
  });
});

describe('worker pool: cancellation and lifecycle', () => {
  it('abort rejects queued and running tasks at once with the reason; the pool stays usable', async () => {
    const { pool: p } = pool({ size: 1, diagnostics: true });
    await p.warmup();
    const running = new AbortController();
    const queued = new AbortController();
    const slow = p.run('sleep', { ms: 400 }, { signal: running.signal });
    const next = p.run('impactZonal', () => toImpactWire(chunk(4)), { signal: queued.signal });
    const t0 = Date.now();
    queued.abort();
    running.abort(new Error('stop'));
    await expect(next).rejects.toMatchObject({ name: 'AbortError' });
    await expect(slow).rejects.toThrow('stop');
    expect(Date.now() - t0).toBeLessThan(250);
    expect(p.stats().queued).toBe(0);
    // Already aborted: rejects without running.
    await expect(p.run('impactZonal', toImpactWire(chunk(4)), { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    // The worker finishes its sleep in the background, then takes new work.
    expectSamePartial(await p.run('impactZonal', toImpactWire(chunk(4))), twin.impactZonal(chunk(4)));
    expect(p.stats()).toMatchObject({ spawned: 1, replaced: 0 });
  });

  it('abort inline (size 0)', async () => {
    const { pool: p } = pool({ size: 0 });
    await expect(p.run('impactZonal', toImpactWire(chunk(4)), { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    const ctl = new AbortController();
    const r = p.run('impactZonal', async () => {
      ctl.abort();
      return toImpactWire(chunk(4));
    }, { signal: ctl.signal });
    await expect(r).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('close rejects queued work and later runs; warmup starts every worker', async () => {
    const { pool: p } = pool({ size: 2, diagnostics: true });
    expect(await p.warmup()).toEqual(['wasm-simd', 'wasm-simd']);
    const a = p.run('sleep', { ms: 200 });
    const b = p.run('sleep', { ms: 200 });
    const c = p.run('impactZonal', toImpactWire(chunk(0)));
    const errors = Promise.all([a, b, c].map((t) => ibfError(t)));
    await p.close();
    for (const e of await errors) expect(e.message).toMatch(/the worker pool is closed/);
    expect((await ibfError(p.run('impactZonal', toImpactWire(chunk(0))))).message).toMatch(/closed/);
    expect(p.stats().workers).toBe(0);
  });

  it('diagnostic ops are refused unless enabled; bad options list every problem; a missing entry is clear', async () => {
    const { pool: p } = pool({ size: 1 });
    expect((await ibfError(p.run('sleep', { ms: 1 }))).code).toBe('E_USAGE');
    let e: unknown;
    try {
      createPool({ size: -1, timeoutMs: -5, maxRetries: 0.5 });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(IbfError);
    expect((e as IbfError).problems!.map((q) => q.path)).toEqual(['size', 'timeoutMs', 'maxRetries']);
    expect(() => createPool({ size: 2 })).toThrow(/createWorker/);
    expect(() => createPool({ size: 0 })).toThrow(/loadKernel/);
    expect(() => nodeWorkerFactory({ entry: '/nonexistent/worker.js' })).toThrow(/worker entry .*nonexistent.* is missing/);
  });
});

/**
 * The worker side (worker-core.ts) served on a real MessageChannel in this thread: the same structured
 * clone and transfer as a worker thread, and the TypeScript sources, so its error paths run under coverage.
 */
function channelWorker(runtime: Partial<WorkerRuntime> = {}, kernel: 'wasm-scalar' | 'ts' = 'wasm-scalar'): WorkerHandle {
  const { port1, port2 } = new MessageChannel();
  exposePoolWorker(nodeEndpoint(port2), {
    loadKernel: (init) => loadKernel(init.kernel ?? 'auto'),
    exit: () => port2.close(),
    ...runtime,
  });
  return {
    endpoint: nodeEndpoint(port1),
    init: { kernel },
    onFailure: (listener) => port1.once('close', () => listener('closed its port')),
    terminate: () => port1.close(),
  };
}

describe('worker side over a MessageChannel', () => {
  it('computes the same partials with the scalar and TS kernels; wraps non-IbfErrors; an exit is retried', async () => {
    for (const kernel of ['wasm-scalar', 'ts'] as const) {
      const p = createPool({ size: 1, createWorker: () => channelWorker({}, kernel), diagnostics: true, maxRetries: 1 });
      pools.push(p);
      expect(await p.warmup()).toEqual([kernel]);
      expectSamePartial(await p.run('impactZonal', toImpactWire(chunk(5, 3000, true))), twin.impactZonal(chunk(5, 3000, true)));
      const broken = { ...toImpactWire(chunk(5)), curves: null } as unknown as ImpactInputsWire;
      const e = await ibfError(p.run('impactZonal', broken));
      expect(e.code).toBe('E_KERNEL');
      expect(e.message).toMatch(/^worker operation 'impactZonal' failed: TypeError: /);
      expect(e.details).toMatchObject({ op: 'impactZonal', name: 'TypeError' });
      const x = await ibfError(p.run('exit', { code: 1 }));
      expect(x.message).toMatch(/task 'exit' failed 2 times .*closed its port/);
      expect((await p.run('sleep', { ms: 1 })).sleptMs).toBeGreaterThanOrEqual(1);
    }
  });

  it('a worker whose kernel does not load: its IbfError, the worker dropped, no retry loop', async () => {
    const loadFails = async (): Promise<never> => {
      throw new IbfError('E_INPUT_NOT_FOUND', 'kernel build/ibf.simd.wasm is missing', { hint: 'Build the kernels first: npm run build:asm' });
    };
    const p = createPool({ size: 1, createWorker: () => channelWorker({ loadKernel: loadFails }) });
    pools.push(p);
    const e = await ibfError(p.run('impactZonal', toImpactWire(chunk(0))));
    expect(e).toMatchObject({ code: 'E_INPUT_NOT_FOUND', hint: 'Build the kernels first: npm run build:asm' });
    expect(p.stats()).toMatchObject({ workers: 0, replaced: 1, retries: 0 });
    expect((await ibfError(p.warmup())).code).toBe('E_INPUT_NOT_FOUND');
  });

  it('a createWorker that throws rejects the task with its error', async () => {
    const p = createPool({ size: 1, createWorker: () => nodeWorkerFactory({ entry: '/nonexistent/worker.js' })() });
    pools.push(p);
    expect((await ibfError(p.run('impactZonal', toImpactWire(chunk(0))))).code).toBe('E_INPUT_NOT_FOUND');
  });

  it('an unknown operation (an untyped caller) and args that cannot be cloned are clear IbfErrors', async () => {
    const p = createPool({ size: 1, createWorker: () => channelWorker() });
    pools.push(p);
    const u = await ibfError(p.run('mapTile' as 'sleep', { ms: 1 }));
    expect(u).toMatchObject({ code: 'E_USAGE', message: "unknown pool operation 'mapTile'" });
    // The worker side refuses it too (a caller that skips the pool).
    const remote = Comlink.wrap<PoolWorkerApi>(channelWorker().endpoint);
    const out = await remote.call('mapTile' as 'sleep', { ms: 1 });
    expect(out).toMatchObject({ ok: false, error: { code: 'E_USAGE', message: "unknown pool operation 'mapTile'" } });
    remote[Comlink.releaseProxy]();
    const c = await ibfError(p.run('impactZonal', { ...toImpactWire(chunk(0)), onProgress: () => {} } as ImpactInputsWire));
    expect(c.message).toMatch(/could not be passed to or from a worker/);
    expect(c.hint).toMatch(/toImpactWire/);
  });
});
