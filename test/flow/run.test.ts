/**
 * The runner against a ManualClock: exact state sequences and times, retries and their delays,
 * timeouts, crashes, cancellation, data passing through families, progress and logs.
 */
import { describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import {
  ManualClock, consoleSink, defineFlow, flowRunError, memoryPublisher, memoryStore, runFlow, type TaskContext,
} from '../../src/flow/index.js';
import { T0, recorder } from './helpers.js';

const clockAt = () => new ManualClock(T0);

describe('states and retries', () => {
  it('a task that fails twice then succeeds is Completed after 2 retries, at the delays given', async () => {
    const clock = clockAt();
    const r = recorder();
    const f = defineFlow({ name: 'retry' });
    let calls = 0;
    const flaky = f.task('flaky', {
      retry: { count: 3, delays: [1000, 5000] },
      run: (ctx) => {
        calls++;
        if (ctx.attempt < 3) throw new IbfError('E_IO', `network down (attempt ${ctx.attempt})`);
        return 'data';
      },
    });
    const run = await runFlow(f, { clock, onEvent: r.onEvent });
    expect(run.status).toBe('Completed');
    expect(run.results[flaky.id]).toBe('data');
    expect(calls).toBe(3);
    expect(r.timeline('flaky')).toEqual([
      ['Scheduled', 0], ['Pending', 0], ['Running', 0], ['Retrying', 0], ['Running', 1000], ['Retrying', 1000], ['Running', 6000], ['Completed', 6000],
    ]);
    const events = r.taskEvents('flaky');
    expect(events.filter((e) => e.to === 'Retrying').map((e) => [e.attempt, e.delayMs, e.error?.code])).toEqual([[1, 1000, 'E_IO'], [2, 5000, 'E_IO']]);
    expect(events.filter((e) => e.to === 'Running').map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(clock.sleeps).toEqual([1000, 5000]);
    expect(run.finishedAt - run.startedAt).toBe(6000);
  });

  it('exponential backoff with jitter follows the injected random source exactly', async () => {
    const clock = clockAt();
    const r = recorder();
    const draws = [0.25, 0.5, 0.75, 0];
    const f = defineFlow({ name: 'backoff' });
    f.task('down', {
      retry: { count: 4, backoff: { initialMs: 100, factor: 3, maxMs: 1000 }, jitter: 0.5 },
      run: () => {
        throw new Error('still down');
      },
    });
    const run = await runFlow(f, { clock, random: () => draws.shift()!, onEvent: r.onEvent });
    // base 100, 300, 900, 1000 (2700 capped); x (1 + 0.5 (2r - 1)) = x0.75, x1, x1.25, x0.5
    expect(r.taskEvents('down').filter((e) => e.to === 'Retrying').map((e) => e.delayMs)).toEqual([75, 300, 1125, 500]);
    expect(r.timeline('down').filter(([s]) => s === 'Running').map(([, t]) => t)).toEqual([0, 75, 375, 1500, 2000]);
    expect(run.states.down).toBe('Failed');
    expect(run.errors.down).toEqual({ name: 'Error', message: 'still down' });
    expect(draws).toEqual([]);
  });

  it('retries only errors the condition accepts', async () => {
    const f = defineFlow({ name: 'cond' });
    let a = 0;
    let b = 0;
    f.task('codes', {
      retry: { count: 5, codes: ['E_IO'] },
      run: () => {
        a++;
        throw new IbfError(a < 3 ? 'E_IO' : 'E_INPUT_FORMAT', 'bad');
      },
    });
    f.task('when', {
      retry: { count: 5, when: (_e, attempt) => attempt < 2 },
      run: () => {
        b++;
        throw new Error('x');
      },
    });
    const run = await runFlow(f, { clock: clockAt() });
    expect([a, b]).toEqual([3, 2]);
    expect(run.errors.codes?.code).toBe('E_INPUT_FORMAT');
  });

  it('a task that always fails is Failed, everything downstream Skipped, nothing published', async () => {
    const clock = clockAt();
    const r = recorder();
    const publisher = memoryPublisher();
    const store = memoryStore();
    const f = defineFlow({ name: 'broken' });
    const fetch = f.task('fetch', {
      retry: { count: 2, delays: [10] },
      run: () => {
        throw new IbfError('E_INPUT_NOT_FOUND', 'forecast.tif does not exist');
      },
    });
    const other = f.task('other', { run: () => 'fine' });
    const assess = f.task('assess', { inputs: { raster: fetch }, run: () => 1 });
    const report = f.task('report', { after: [assess], run: () => 2 });
    f.publish('portal', { inputs: { other, assess }, run: () => ({ 'alerts.json': '{}' }) });
    const run = await runFlow(f, { clock, store, publisher, onEvent: r.onEvent, runId: 'broken-1' });
    expect(run.status).toBe('Failed');
    expect(run.states).toEqual({ fetch: 'Failed', other: 'Completed', assess: 'Skipped', report: 'Skipped', portal: 'Skipped' });
    expect(r.states('fetch')).toEqual(['Scheduled', 'Pending', 'Running', 'Retrying', 'Running', 'Retrying', 'Running', 'Failed']);
    expect(r.states('assess')).toEqual(['Scheduled', 'Skipped']);
    expect(r.taskEvents('assess').at(-1)?.reason).toBe('input raster (fetch) is Failed');
    expect(r.taskEvents('report').at(-1)?.reason).toBe('assess is Skipped');
    expect(r.taskEvents('portal').at(-1)?.reason).toBe('input assess (assess) is Skipped');
    expect(publisher.commits).toBe(0);
    expect(publisher.published.size).toBe(0);
    expect(r.seen.filter((e) => e.kind === 'publish')).toMatchObject([{ committed: false, reason: 'failed: fetch (Failed)' }]);
    const err = flowRunError(run)!;
    expect(err.code).toBe('E_FLOW_FAILED');
    expect(err.problems).toEqual([{ path: 'fetch', message: 'Failed: [E_INPUT_NOT_FOUND] forecast.tif does not exist' }]);
    expect(err.hint).toContain('same run id');
    expect((await store.loadRun('broken-1'))?.status).toBe('Failed');
  });

  it('an optional task may fail without stopping publication', async () => {
    const publisher = memoryPublisher();
    const f = defineFlow({ name: 'optional' });
    f.task('evaluate', { optional: true, run: () => Promise.reject(new Error('no history')) });
    f.publish('out', { run: () => ({ 'a.txt': 'A' }) });
    const run = await runFlow(f, { clock: clockAt(), publisher });
    expect(run.status).toBe('Completed');
    expect(run.published).toEqual({ target: 'memory', outputs: ['a.txt'] });
    expect(flowRunError(run)).toBeUndefined();
  });

  it('E_WORKER is a crash: retried like a failure, Crashed when retries run out', async () => {
    const r = recorder();
    const f = defineFlow({ name: 'crash' });
    let n = 0;
    f.task('recovers', { retry: { count: 1 }, run: () => (++n === 1 ? Promise.reject(new IbfError('E_WORKER', 'worker 2 exited')) : 'ok') });
    f.task('dies', { run: () => Promise.reject(new IbfError('E_WORKER', 'worker 3 exited')) });
    const run = await runFlow(f, { clock: clockAt(), onEvent: r.onEvent });
    expect(r.states('recovers')).toEqual(['Scheduled', 'Pending', 'Running', 'Retrying', 'Running', 'Completed']);
    expect(r.states('dies')).toEqual(['Scheduled', 'Pending', 'Running', 'Crashed']);
    expect(run.errors.dies).toMatchObject({ code: 'E_WORKER', message: 'worker 3 exited' });
    expect(run.status).toBe('Failed');
  });
});

describe('run ids', () => {
  it('default to the flow name, the start time (UTC) and a random suffix', async () => {
    const f = defineFlow({ name: 'ids' });
    f.task('t', { run: () => 1 });
    const [a, b] = await Promise.all([runFlow(f, { clock: clockAt() }), runFlow(f, { clock: clockAt() })]);
    expect(a.run).toMatch(/^ids-20240301T060000Z-[0-9a-f]{8}$/);
    expect(a.run).not.toBe(b.run);
  });
});

describe('timeouts', () => {
  it('aborts the attempt at its timeout, retries, and fails with E_TASK_TIMEOUT', async () => {
    const clock = clockAt();
    const r = recorder();
    const reasons: unknown[] = [];
    const f = defineFlow({ name: 'slow' });
    f.task('slow', {
      timeoutMs: 1000,
      retry: { count: 1, delays: [500] },
      run: async (ctx) => {
        ctx.signal.addEventListener('abort', () => reasons.push(ctx.signal.reason));
        await ctx.sleep(5000);
        return 'never';
      },
    });
    const run = await runFlow(f, { clock, onEvent: r.onEvent });
    expect(r.timeline('slow')).toEqual([['Scheduled', 0], ['Pending', 0], ['Running', 0], ['Retrying', 1000], ['Running', 1500], ['Failed', 2500]]);
    expect(run.errors.slow).toMatchObject({ code: 'E_TASK_TIMEOUT', message: 'task slow attempt 2 ran longer than its timeout of 1000 ms' });
    expect(reasons.map((e) => (e as IbfError).code)).toEqual(['E_TASK_TIMEOUT', 'E_TASK_TIMEOUT']);
  });

  it('a task that ignores its signal still fails at the timeout', async () => {
    const clock = clockAt();
    const f = defineFlow({ name: 'stuck' });
    f.task('stuck', { timeoutMs: 250, run: () => new Promise(() => {}) });
    f.task('fast', { run: async (ctx) => (await ctx.sleep(100), 'done') });
    const run = await runFlow(f, { clock });
    expect(run.states).toEqual({ stuck: 'Failed', fast: 'Completed' });
    expect(run.finishedAt - T0).toBe(250);
  });

  it('a task that finishes in time is not disturbed by its timeout', async () => {
    const clock = clockAt();
    const f = defineFlow({ name: 'quick' });
    f.task('quick', { timeoutMs: 1000, run: async (ctx) => (await ctx.sleep(999), ctx.signal.aborted) });
    const run = await runFlow(f, { clock });
    expect(run.results.quick).toBe(false);
    expect(clock.pending()).toEqual([]);
  });
});

describe('failures outside tasks', () => {
  it('a store that fails stops the run with its error; running tasks are aborted', async () => {
    const store = memoryStore();
    let commits = 0;
    const failing = { ...store, commit: async (...a: Parameters<typeof store.commit>) => (++commits > 3 ? Promise.reject(new IbfError('E_IO', 'disk full')) : store.commit(...a)) };
    let aborted: unknown;
    const f = defineFlow({ name: 'disk' });
    f.task('a', { run: async (ctx) => (await ctx.sleep(10), 1) });
    f.task('long', { run: (ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject((aborted = ctx.signal.reason)))) });
    await expect(runFlow(f, { clock: clockAt(), store: failing, runId: 'disk-1' })).rejects.toMatchObject({ code: 'E_IO', message: 'disk full' });
    expect(aborted).toMatchObject({ code: 'E_IO' });
    // the store keeps the last good commit: a resume sees long as Running, so Crashed
    expect((await store.loadRun('disk-1'))?.tasks.long?.state).toBe('Running');
  });

  it('a cache key that cannot be computed fails the task', async () => {
    const f = defineFlow({ name: 'key' });
    const src = f.task('src', { run: () => ({ fn: () => 1 }) });
    f.task('cached', { inputs: { src }, cache: true, run: () => 1 });
    const run = await runFlow(f, { clock: clockAt() });
    expect(run.states.cached).toBe('Failed');
    expect(run.errors.cached).toMatchObject({ code: 'E_FLOW_RESULT', message: 'cannot store a function at inputs.src.fn' });
  });
});

describe('cancellation', () => {
  it('aborts running tasks and cancels the rest; nothing is published', async () => {
    const clock = clockAt();
    const r = recorder();
    const ac = new AbortController();
    const publisher = memoryPublisher();
    let reason: unknown;
    const f = defineFlow({ name: 'cancel' });
    const long = f.task('long', {
      run: async (ctx) => {
        try {
          await ctx.sleep(10_000);
        } catch (e) {
          reason = e;
          throw e;
        }
      },
    });
    f.task('retrying', { retry: { count: 3, delays: [60_000] }, run: () => Promise.reject(new Error('x')) });
    f.publish('out', { after: [long], run: () => ({ 'x.txt': 'x' }) });
    void clock.sleep(500).then(() => ac.abort());
    const run = await runFlow(f, { clock, signal: ac.signal, publisher, onEvent: r.onEvent });
    expect(run.status).toBe('Cancelled');
    expect(run.states).toEqual({ long: 'Cancelled', retrying: 'Cancelled', out: 'Cancelled' });
    expect(r.timeline('long').at(-1)).toEqual(['Cancelled', 500]);
    expect(r.states('retrying')).toEqual(['Scheduled', 'Pending', 'Running', 'Retrying', 'Cancelled']);
    expect((reason as IbfError).code).toBe('E_CANCELLED');
    expect(publisher.commits).toBe(0);
    expect(flowRunError(run)?.code).toBe('E_CANCELLED');
  });
});

describe('data, families, parameters', () => {
  it('passes results as inputs and merges parameters down the tree (nearest wins)', async () => {
    const f = defineFlow({ name: 'tree', params: { a: 1, b: 1, c: 1 } });
    const seen: Record<string, unknown> = {};
    const fetch = f.task('fetch', { run: () => new Float32Array([1, 2, 3]) });
    const fc = f.family('forecast', { params: { b: 2, c: 2 } });
    const lead = fc.family('lead-24h', { params: { c: 3 } });
    const sum = lead.task('sum', {
      inputs: { raster: fetch },
      params: { d: 4 },
      run: (ctx, { raster }) => {
        seen.params = ctx.params;
        return raster.reduce((s, v) => s + v, 0);
      },
    });
    // a string link resolves among siblings first, then up the tree
    lead.task('double', { inputs: { s: 'sum' }, run: (_ctx, { s }) => (s as number) * 2 });
    const run = await runFlow(f, { clock: clockAt(), params: { a: 9, b: 9 } });
    expect(seen.params).toEqual({ a: 9, b: 2, c: 3, d: 4 });
    expect(run.results[sum.id]).toBe(6);
    expect(sum.id).toBe('forecast/lead-24h/sum');
    expect(run.results['forecast/lead-24h/double']).toBe(12);
  });

  it('after a family waits for every task in it; a family after applies to its tasks', async () => {
    const clock = clockAt();
    const r = recorder();
    const f = defineFlow({ name: 'order' });
    const ingest = f.family('ingest');
    ingest.task('a', { run: (ctx) => ctx.sleep(100) });
    ingest.task('b', { run: (ctx) => ctx.sleep(300) });
    const report = f.task('report', { after: [ingest], run: () => 'r' });
    const late = f.family('late', { after: [report] });
    late.task('c', { run: () => 'c' });
    await runFlow(f, { clock, onEvent: r.onEvent });
    expect(r.timeline('report').find(([s]) => s === 'Running')).toEqual(['Running', 300]);
    expect(r.timeline('late/c').find(([s]) => s === 'Running')).toEqual(['Running', 300]);
    expect(r.taskEvents('late/c')[1]!.seq).toBeGreaterThan(r.taskEvents('report').at(-1)!.seq);
  });

  it('typed inputs: the run function sees the result types of the refs given', async () => {
    const f = defineFlow({ name: 'typed' });
    const n = f.task('n', { run: () => 2 });
    const s = f.task('s', { run: async () => 'x' });
    const both = f.task('both', {
      inputs: { n, s },
      run: (_ctx: TaskContext, { n, s }) => {
        const check: [number, string] = [n, s];
        return check;
      },
    });
    const run = await runFlow(f, { clock: clockAt() });
    expect(run.results[both.id]).toEqual([2, 'x']);
  });
});

describe('progress and logs', () => {
  it('reports progress to observers and the record; logs carry flow, task and attempt', async () => {
    const clock = clockAt();
    const store = memoryStore();
    const r = recorder();
    const lines: string[] = [];
    const f = defineFlow({ name: 'logs' });
    f.task('work', {
      retry: { count: 1 },
      run: async (ctx) => {
        ctx.progress(0.25, 'a quarter');
        await ctx.sleep(10);
        ctx.progress(2);
        ctx.log.info('tiles done', { tiles: 4, sample: new Float32Array(3), err: new IbfError('E_IO', 'disk') });
        ctx.log.debug('not kept at info');
        if (ctx.attempt === 1) throw new Error('first try');
        return 'ok';
      },
    });
    await runFlow(f, { clock, store, runId: 'logs-1', onEvent: r.onEvent, logs: consoleSink({ write: (l) => lines.push(l) }) });
    expect(r.seen.filter((e) => e.kind === 'progress').map((e) => [e.kind === 'progress' && e.fraction, e.ts - T0])).toEqual([
      [0.25, 0], [1, 10], [0.25, 10], [1, 20],
    ]);
    const logs = await store.readLogs('logs-1');
    const mine = logs.filter((l) => l.message === 'tiles done');
    expect(mine.map((l) => [l.attempt, l.ts - T0])).toEqual([[1, 10], [2, 20]]);
    expect(mine[0]).toEqual({
      ts: T0 + 10, level: 'info', flow: 'logs', run: 'logs-1', task: 'work', attempt: 1, message: 'tiles done',
      fields: { tiles: 4, sample: 'Float32Array(3)', err: { name: 'IbfError', message: 'disk', code: 'E_IO' } },
    });
    expect(logs.some((l) => l.level === 'debug')).toBe(false);
    expect(logs.find((l) => l.level === 'warn')?.message).toBe('attempt 1 failed: first try; retrying in 0 ms');
    expect(lines).toContain('2024-03-01T06:00:00.010Z INFO  logs work#1: tiles done tiles=4 sample=Float32Array(3) err={"name":"IbfError","message":"disk","code":"E_IO"}');
    const record = await store.loadRun('logs-1');
    expect(record?.tasks.work).toMatchObject({ state: 'Completed', attempt: 2, progress: { fraction: 1 } });
    const events = await store.readEvents('logs-1');
    expect(events.map((e) => e.seq)).toEqual(events.map((_e, i) => i));
    expect(events.every((e) => e.kind !== ('progress' as string))).toBe(true);
  });
});
