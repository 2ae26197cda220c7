/**
 * Per-task policy: retry delay schedules (pure), caching (hits, keys, expiry), concurrency limits by
 * tag and flow-wide (the maximum observed concurrency), and trigger / complete conditions.
 */
import { describe, expect, it } from 'vitest';
import {
  ManualClock, defineFlow, memoryStore, retryDelay, runFlow, type Flow, type FlowStore,
} from '../../src/flow/index.js';
import { T0, recorder } from './helpers.js';

describe('retryDelay', () => {
  const none = () => {
    throw new Error('no jitter, no draw');
  };
  it('takes the list, repeating its last entry', () => {
    expect([1, 2, 3, 4].map((n) => retryDelay({ count: 4, delays: [10, 20] }, n, none))).toEqual([10, 20, 20, 20]);
  });
  it('grows exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay({ count: 5, backoff: { initialMs: 1000 } }, n, none))).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect([1, 2, 3].map((n) => retryDelay({ count: 3, backoff: { initialMs: 500, factor: 10, maxMs: 20_000 } }, n, none))).toEqual([500, 5000, 20000]);
  });
  it('retries at once without delays or backoff', () => {
    expect(retryDelay({ count: 1 }, 1, none)).toBe(0);
  });
  it('spreads by ±jitter around the delay', () => {
    const p = { count: 1, delays: [1000], jitter: 0.2 };
    expect([0, 0.5, 0.999].map((r) => retryDelay(p, 1, () => r))).toEqual([800, 1000, 1200]);
  });
});

describe('cache', () => {
  function cachedFlow(counter: { n: number }, version = '1') {
    const f = defineFlow({ name: 'cached', params: { country: 'MWI' } });
    const src = f.task('src', { run: (ctx) => `forecast for ${ctx.params.country as string}` });
    f.task('expensive', {
      inputs: { src },
      version,
      cache: { expiresMs: 60_000 },
      run: (_ctx, { src }) => {
        counter.n++;
        return { damage: new Float64Array([1.5, 2.5]), src };
      },
    });
    return f;
  }

  it('a hit returns the stored result and is Cached; params, inputs and version change the key; entries expire', async () => {
    const clock = new ManualClock(T0);
    const store = memoryStore();
    const counter = { n: 0 };
    const r = recorder();
    const go = (flow: Flow, params?: Record<string, unknown>) => runFlow(flow, { clock, store, params, onEvent: r.onEvent });

    const first = await go(cachedFlow(counter));
    expect(counter.n).toBe(1);
    expect(first.states.expensive).toBe('Completed');

    await clock.advance(1000);
    const second = await go(cachedFlow(counter));
    expect(counter.n).toBe(1);
    expect(second.states.expensive).toBe('Cached');
    expect(second.results.expensive).toEqual(first.results.expensive);
    const hit = r.taskEvents('expensive').at(-1)!;
    expect([hit.from, hit.to, hit.reason]).toEqual(['Pending', 'Cached', 'cache hit (stored 2024-03-01T06:00:00.000Z)']);

    await go(cachedFlow(counter), { country: 'MOZ' }); // other params and other input
    await go(cachedFlow(counter, '2')); // other version
    expect(counter.n).toBe(3);

    await clock.advance(59_000); // the first entry was stored at T0 and expires at T0 + 60 s
    const expired = await go(cachedFlow(counter));
    expect(expired.states.expensive).toBe('Completed');
    expect(counter.n).toBe(4);
  });

  it('a key function decides what identifies the result', async () => {
    const store = memoryStore();
    let n = 0;
    const flow = (url: string) => {
      const f = defineFlow({ name: 'keyed' });
      f.task('download', { params: { url, at: Math.random() }, cache: { key: ({ params }) => String(params.url) }, run: () => ++n });
      return f;
    };
    await runFlow(flow('https://a/x.tif'), { store, clock: new ManualClock(T0) });
    const again = await runFlow(flow('https://a/x.tif'), { store, clock: new ManualClock(T0) });
    expect(again.states.download).toBe('Cached');
    expect(n).toBe(1);
  });

  it('failed attempts store nothing', async () => {
    const store: FlowStore = memoryStore();
    const f = defineFlow({ name: 'nocache' });
    let n = 0;
    f.task('t', { cache: true, run: () => (++n === 1 ? Promise.reject(new Error('x')) : 'ok') });
    await runFlow(f, { store, clock: new ManualClock(T0) });
    const second = await runFlow(f, { store, clock: new ManualClock(T0) });
    expect(second.states.t).toBe('Completed');
    expect(n).toBe(2);
  });
});

describe('concurrency limits', () => {
  it('holds each tag and the flow to its limit, separately from dependencies', async () => {
    const clock = new ManualClock(T0);
    const now: Record<string, number> = { download: 0, cpu: 0, all: 0 };
    const max: Record<string, number> = { download: 0, cpu: 0, all: 0 };
    const enter = (tag: string) => {
      for (const k of [tag, 'all']) max[k] = Math.max(max[k]!, ++now[k]!);
    };
    const leave = (tag: string) => {
      now[tag]!--;
      now.all!--;
    };
    const f = defineFlow({ name: 'limits', concurrency: { tags: { download: 2 } } });
    for (let i = 0; i < 6; i++) {
      f.task(`dl${i}`, { tags: ['download'], run: async (ctx) => (enter('download'), await ctx.sleep(100), leave('download')) });
    }
    for (let i = 0; i < 4; i++) {
      f.task(`cpu${i}`, { tags: ['cpu'], run: async (ctx) => (enter('cpu'), await ctx.sleep(100), leave('cpu')) });
    }
    const run = await runFlow(f, { clock, concurrency: { max: 3 } });
    expect(run.status).toBe('Completed');
    // slots go first come first served, skipping a task whose tag is full: each round is 2 downloads + 1 cpu task
    expect(max).toEqual({ download: 2, cpu: 1, all: 3 });
    // 10 tasks of 100 ms, 3 at a time, at most 2 downloads: [dl0 dl1 cpu0] [dl2 dl3 cpu1] [dl4 dl5 cpu2] [cpu3]
    expect(run.finishedAt - T0).toBe(400);
  });

  it('a task waiting for its retry gives up its slot', async () => {
    const clock = new ManualClock(T0);
    const r = recorder();
    const f = defineFlow({ name: 'slots', concurrency: { max: 1 } });
    let n = 0;
    f.task('flaky', { retry: { count: 1, delays: [1000] }, run: () => (++n === 1 ? Promise.reject(new Error('x')) : 'ok') });
    f.task('other', { run: (ctx) => ctx.sleep(100) });
    await runFlow(f, { clock, onEvent: r.onEvent });
    expect(r.timeline('other').find(([s]) => s === 'Running')).toEqual(['Running', 0]);
    expect(r.timeline('flaky').filter(([s]) => s === 'Running')).toEqual([['Running', 0], ['Running', 1000]]);
  });
});

describe('trigger and complete conditions', () => {
  function screened(screen: { anyExceeds: boolean; maxProbability: number }) {
    const calls: string[] = [];
    const f = defineFlow({ name: 'ibf' });
    f.task('screen', { run: () => screen });
    const mark = (name: string) => () => (calls.push(name), name);
    f.task('impact', { trigger: { task: 'screen', result: 'anyExceeds' }, run: mark('impact') });
    f.task('likely', { trigger: { task: 'screen', result: 'maxProbability', gte: 0.6 }, run: mark('likely') });
    f.task('quiet', { trigger: { not: { task: 'screen', result: 'anyExceeds', equals: true } }, run: mark('quiet') });
    f.task('done-already', { complete: { task: 'screen', result: 'maxProbability', lt: 0.1 }, run: mark('done-already') });
    f.task('fn', { after: ['screen'], trigger: (v) => v.state('screen') === 'Completed' && v.result<{ maxProbability: number }>('screen')!.maxProbability > 0.5, run: mark('fn') });
    return { f, calls };
  }

  it('skips what the forecast does not call for', async () => {
    const r = recorder();
    const { f, calls } = screened({ anyExceeds: false, maxProbability: 0.05 });
    const run = await runFlow(f, { clock: new ManualClock(T0), onEvent: r.onEvent });
    expect(run.states).toEqual({ screen: 'Completed', impact: 'Skipped', likely: 'Skipped', quiet: 'Completed', 'done-already': 'Completed', fn: 'Skipped' });
    expect(calls).toEqual(['quiet']);
    expect(r.states('impact')).toEqual(['Scheduled', 'Skipped']);
    expect(r.taskEvents('impact').at(-1)?.reason).toBe('its trigger condition is false');
    expect(r.states('done-already')).toEqual(['Scheduled', 'Completed']);
    expect(r.taskEvents('done-already').at(-1)?.reason).toBe('its complete condition holds');
    expect(run.results['done-already']).toBeUndefined();
    expect(run.status).toBe('Completed');
  });

  it('runs what it does', async () => {
    const { f, calls } = screened({ anyExceeds: true, maxProbability: 0.7 });
    const run = await runFlow(f, { clock: new ManualClock(T0) });
    expect(run.states).toMatchObject({ impact: 'Completed', likely: 'Completed', quiet: 'Skipped', 'done-already': 'Completed', fn: 'Completed' });
    expect(calls.sort()).toEqual(['done-already', 'fn', 'impact', 'likely']);
  });

  it('a trigger on a failure runs a handler; all / any / is combine', async () => {
    const f = defineFlow({ name: 'notify' });
    f.task('publish', { run: () => Promise.reject(new Error('portal down')) });
    f.task('ok', { run: () => 1 });
    f.task('alarm', { trigger: { all: [{ task: 'publish', is: ['Failed', 'Crashed'] }, { any: [{ task: 'ok', is: 'Completed' }, { task: 'ok', is: 'Cached' }] }] }, run: () => 'sent' });
    f.task('normal', { after: ['publish'], run: () => 'x' });
    const run = await runFlow(f, { clock: new ManualClock(T0) });
    expect(run.states).toMatchObject({ alarm: 'Completed', normal: 'Skipped' });
    expect(run.results.alarm).toBe('sent');
  });

  it('a condition reading a task that is not a dependency fails its task, saying what to add', async () => {
    const f = defineFlow({ name: 'bad-view' });
    f.task('a', { run: () => 1 });
    f.task('b', { trigger: (v) => v.state('a') === 'Completed', run: () => 2 });
    const run = await runFlow(f, { clock: new ManualClock(T0) });
    expect(run.states.b).toBe('Failed');
    expect(run.errors.b).toMatchObject({ code: 'E_FLOW_INVALID', message: 'a condition of b reads a, which is not among its dependencies' });
  });
});
