/**
 * Flows on durable steps (src/flow/durable.ts), against an in-memory step runner that behaves as
 * Cloudflare Workflows' `step.do` does (workers-sdk packages/workflows-shared: results persisted per step
 * name and handed back on replay; `retries.limit` retries after the first attempt, waiting
 * delay / delay x n / delay x 2^(n-1); `NonRetryableError` stops at once; `fn` gets `ctx.attempt`).
 */
import { describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { PUBLISH_STEP, runFlowOnSteps, stepRetries, type DurableStep, type DurableStepConfig } from '../../src/flow/durable.js';
import { defineFlow, memoryPublisher, memoryStore, runFlow, type Flow, type LogRecord, type TaskContext } from '../../src/flow/index.js';

class NonRetryableError extends Error {
  override readonly name = 'NonRetryableError';
}

/** Cloudflare's step runner in memory: a persisted value per step name (as JSON, as the platform keeps it). */
class MemorySteps implements DurableStep {
  readonly configs = new Map<string, DurableStepConfig>();
  /** `fn` calls, by step name, in order. */
  readonly calls: string[] = [];
  /** Waits before retries: [step, ms]. */
  readonly waits: Array<[string, number]> = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly used = new Set<string>();
  /** Steps still allowed to finish before the "isolate dies" (later ones never settle). */
  crashAfter = Infinity;

  constructor(
    readonly persisted = new Map<string, string>(),
    private readonly passAttempt = true,
  ) {}

  /** The same instance started again (after a crash, or a replay): persisted steps, nothing else. */
  replay(): MemorySteps {
    return new MemorySteps(this.persisted, this.passAttempt);
  }

  async do<T>(name: string, config: DurableStepConfig, fn: (ctx?: { attempt?: number }) => Promise<T>): Promise<T> {
    if (this.used.has(name)) throw new Error(`step name "${name}" used twice in one run`);
    this.used.add(name);
    this.configs.set(name, config);
    const hit = this.persisted.get(name);
    if (hit !== undefined) return JSON.parse(hit) as T;
    if (this.crashAfter <= 0) return new Promise<T>(() => {});
    const { limit = 5, delay = 10_000, backoff = 'exponential' } = config.retries ?? {};
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      for (let attempt = 1; ; attempt++) {
        this.calls.push(name);
        try {
          const value = await fn(this.passAttempt ? { attempt } : undefined);
          const text = JSON.stringify(value);
          // what a step returns must be plain JSON (and structured-clone) data
          expect(JSON.parse(text)).toEqual(value);
          if (this.crashAfter-- <= 0) return new Promise<T>(() => {});
          this.persisted.set(name, text);
          return JSON.parse(text) as T;
        } catch (e) {
          if (e instanceof NonRetryableError || attempt > limit) throw e;
          const d = Number(delay);
          this.waits.push([name, backoff === 'exponential' ? d * 2 ** (attempt - 1) : backoff === 'linear' ? d * attempt : d]);
          await new Promise((r) => setTimeout(r, 0));
        }
      }
    } finally {
      this.inFlight--;
    }
  }
}

/** A flow with families, inherited parameters, data passing, `after`, trigger / complete conditions and a publish step. */
function dailyFlow(counts: Map<string, number>) {
  const count = (ctx: TaskContext) => counts.set(ctx.task, (counts.get(ctx.task) ?? 0) + 1);
  const f = defineFlow({ name: 'daily', params: { country: 'MWI', threshold: 300 } });
  let gate: () => void = () => {};
  const both = new Promise<void>((resolve) => (gate = resolve));
  let started = 0;
  // two independent downloads that only finish once both have started: they must run in parallel
  const parallel = async (ctx: TaskContext) => {
    count(ctx);
    if (++started === 2) gate();
    await Promise.race([both, new Promise((_, reject) => setTimeout(() => reject(new Error('not run in parallel')), 2000))]);
  };
  const forecast = f.task('fetch', {
    tags: ['download'],
    retry: { count: 2, backoff: { initialMs: 1000 } },
    run: async (ctx) => {
      await parallel(ctx);
      return { members: [120, 340, 80, 510, 610], raw: new Float32Array([1.5, NaN, -0]) };
    },
  });
  const obs = f.task('observations', {
    tags: ['download'],
    run: async (ctx) => {
      await parallel(ctx);
      return { gauges: 3, missing: NaN };
    },
  });
  const assess = f.family('assess', { params: { threshold: 350 }, after: [obs] });
  const probability = assess.task('exceedance', {
    inputs: { forecast },
    run: (ctx, { forecast }) => {
      count(ctx);
      return forecast.members.filter((q) => q > Number(ctx.params.threshold)).length / forecast.members.length;
    },
  });
  const alert = assess.task('trigger', {
    inputs: { p: probability },
    trigger: { task: probability, gte: 0.4 },
    params: { level: 'high' },
    run: (ctx, { p }) => {
      count(ctx);
      return { country: ctx.params.country, threshold: ctx.params.threshold, probability: p, level: ctx.params.level };
    },
  });
  assess.task('never', {
    inputs: { p: probability },
    trigger: { task: probability, gte: 0.9 },
    run: (ctx) => void count(ctx),
  });
  f.task('done-already', { complete: { task: obs, result: 'gauges', equals: 3 }, run: (ctx) => void count(ctx) });
  f.publish('publish', {
    inputs: { alert, forecast },
    run: (ctx, { alert, forecast }) => {
      count(ctx);
      return { 'alerts.json': JSON.stringify(alert), 'raw.bin': new Uint8Array(forecast.raw.buffer) };
    },
  });
  return f;
}

describe('runFlowOnSteps', () => {
  it('gives the states, results and published outputs runFlow gives, independent tasks in parallel', async () => {
    const counts = new Map<string, number>();
    const steps = new MemorySteps();
    const publisher = memoryPublisher();
    const durable = await runFlowOnSteps(dailyFlow(counts), steps, { runId: 'daily-1', publisher });
    const reference = await runFlow(dailyFlow(new Map()), { runId: 'daily-1', store: memoryStore(), publisher: memoryPublisher() });

    expect(durable.status).toBe('Completed');
    expect(durable.states).toEqual(reference.states);
    expect(durable.states).toMatchObject({ 'assess/trigger': 'Completed', 'assess/never': 'Skipped', 'done-already': 'Completed', publish: 'Completed' });
    expect(durable.results).toEqual(reference.results);
    expect(durable.results['assess/trigger']).toEqual({ country: 'MWI', threshold: 350, probability: 0.4, level: 'high' });
    // typed arrays, NaN and -0 came back through the steps' JSON
    const raw = (durable.results.fetch as { raw: Float32Array }).raw;
    expect(raw).toBeInstanceOf(Float32Array);
    expect(Object.is(raw[2], -0) && Number.isNaN(raw[1])).toBe(true);
    expect(durable.outputs).toEqual(reference.outputs);
    expect(durable.published).toEqual(reference.published);
    expect(publisher.commits).toBe(1);
    expect(publisher.published.get('alerts.json')).toContain('"level":"high"');

    // one step per task that ran (task ids), the publish step last, the two downloads at once
    expect([...steps.configs.keys()].sort()).toEqual([PUBLISH_STEP, 'assess/exceedance', 'assess/trigger', 'fetch', 'observations'].sort());
    expect(steps.calls.at(-1)).toBe(PUBLISH_STEP);
    expect(steps.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(steps.configs.get('fetch')).toEqual({ retries: { limit: 2, delay: 1000, backoff: 'exponential' } });
    expect(steps.configs.get('observations')).toEqual({ retries: { limit: 0, delay: 0, backoff: 'constant' } });
    expect(counts.get('assess/never')).toBeUndefined();
    expect(counts.get('done-already')).toBeUndefined();
  });

  it('a replay after a crash re-runs nothing that completed, and a finished run replayed runs nothing and publishes nothing again', async () => {
    const counts = new Map<string, number>();
    const first = new MemorySteps();
    first.crashAfter = 3; // fetch, observations, assess/exceedance persist; the isolate dies in the next step
    const publisher = memoryPublisher();
    const lost = runFlowOnSteps(dailyFlow(counts), first, { runId: 'daily-2', publisher });
    await new Promise((r) => setTimeout(r, 50));
    expect([...first.persisted.keys()].sort()).toEqual(['assess/exceedance', 'fetch', 'observations']);
    expect(publisher.commits).toBe(0);
    void lost; // never settles: the isolate is gone

    const before = new Map(counts);
    const second = first.replay();
    const run = await runFlowOnSteps(dailyFlow(counts), second, { runId: 'daily-2', publisher });
    expect(run.status).toBe('Completed');
    // only what had not completed ran again
    expect(second.calls).toEqual(['assess/trigger', PUBLISH_STEP]);
    for (const t of ['fetch', 'observations', 'assess/exceedance']) expect(counts.get(t)).toBe(before.get(t));
    expect(counts.get('assess/trigger')).toBe((before.get('assess/trigger') ?? 0) + 1);
    expect(publisher.commits).toBe(1);
    const reference = await runFlow(dailyFlow(new Map()), { runId: 'daily-2' });
    expect(run.results).toEqual(reference.results);

    const third = second.replay();
    const again = await runFlowOnSteps(dailyFlow(counts), third, { runId: 'daily-2', publisher });
    expect(third.calls).toEqual([]);
    expect(again.results).toEqual(run.results);
    expect(again.published).toEqual(run.published);
    expect(publisher.commits).toBe(1);
  });

  it('retries a task that fails once, per its policy, with the attempt number the platform gives', async () => {
    for (const passAttempt of [true, false]) {
      const f = defineFlow({ name: 'flaky' });
      const attempts: number[] = [];
      f.task('fetch', {
        retry: { count: 3, delays: [500] },
        run: (ctx) => {
          attempts.push(ctx.attempt);
          if (ctx.attempt === 1) throw new IbfError('E_IO', 'connection reset');
          return 'data';
        },
      });
      const steps = new MemorySteps(new Map(), passAttempt);
      const logs: LogRecord[] = [];
      const run = await runFlowOnSteps(f, steps, { logs: (r) => logs.push(r) });
      expect(run.status).toBe('Completed');
      expect(run.results.fetch).toBe('data');
      expect(attempts).toEqual([1, 2]);
      expect(steps.configs.get('fetch')).toEqual({ retries: { limit: 3, delay: 500, backoff: 'constant' } });
      expect(steps.waits).toEqual([['fetch', 500]]);
      expect(logs.find((l) => l.level === 'warn')).toMatchObject({ task: 'fetch', attempt: 1, message: 'attempt 1 failed: connection reset' });
    }
  });

  it('retries run out: Failed with the last error, downstream Skipped, nothing published', async () => {
    const f = defineFlow({ name: 'down' });
    const fetch = f.task('fetch', { retry: { count: 2, backoff: { initialMs: 100 } }, run: () => Promise.reject(new IbfError('E_HTTP', 'server said 503')) });
    f.publish('out', { inputs: { fetch }, run: () => ({ 'a.txt': 'a' }) });
    const steps = new MemorySteps();
    const publisher = memoryPublisher();
    const run = await runFlowOnSteps(f, steps, { publisher });
    expect(run.status).toBe('Failed');
    expect(run.states).toEqual({ fetch: 'Failed', out: 'Skipped' });
    expect(run.errors.fetch).toMatchObject({ code: 'E_HTTP', message: 'server said 503' });
    expect(steps.calls).toEqual(['fetch', 'fetch', 'fetch', PUBLISH_STEP]);
    expect(steps.waits).toEqual([['fetch', 100], ['fetch', 200]]);
    expect(publisher.commits).toBe(0);
    expect(run.published).toBeUndefined();
  });

  it('does not retry an error whose code the policy does not list: NonRetryableError, or a persisted failure without the factory', async () => {
    const make = (calls: { n: number }) => {
      const f = defineFlow({ name: 'codes' });
      f.task('read', {
        retry: { count: 4, codes: ['E_IO', 'E_HTTP'] },
        run: () => {
          calls.n++;
          throw new IbfError('E_INPUT_FORMAT', 'hazard.tif is not a GeoTIFF');
        },
      });
      f.task('when', {
        retry: { count: 4, when: (_e, attempt) => attempt < 2 },
        run: () => {
          throw new Error('flaky once');
        },
      });
      return f;
    };
    const withFactory = { n: 0 };
    const a = new MemorySteps();
    const ra = await runFlowOnSteps(make(withFactory), a, { nonRetryable: (e) => new NonRetryableError((e as Error).message) });
    expect(withFactory.n).toBe(1);
    expect(ra.states.read).toBe('Failed');
    // the error as the task threw it, not the platform's wrapper
    expect(ra.errors.read).toMatchObject({ name: 'IbfError', code: 'E_INPUT_FORMAT', message: 'hazard.tif is not a GeoTIFF' });
    expect(a.calls.filter((c) => c === 'when')).toHaveLength(2); // attempt 1 retried, attempt 2 not
    expect(a.persisted.has('read')).toBe(false);

    const without = { n: 0 };
    const b = new MemorySteps();
    const rb = await runFlowOnSteps(make(without), b);
    expect(without.n).toBe(1);
    expect(rb.errors.read).toMatchObject({ code: 'E_INPUT_FORMAT' });
    expect(b.waits).toEqual([['when', 0]]);
    // the failure is persisted: a replay does not run the task again
    const replay = b.replay();
    const rc = await runFlowOnSteps(make(without), replay);
    expect(without.n).toBe(1);
    expect(replay.calls).toEqual([]);
    expect(rc.states).toEqual(rb.states);
    expect(rc.errors).toEqual(rb.errors);
  });

  it('times an attempt out (E_TASK_TIMEOUT), keeps concurrency limits, runs publish retries in the publish step', async () => {
    const f = defineFlow({ name: 'limits', concurrency: { max: 1 } });
    f.task('slow', { timeoutMs: 30, run: () => new Promise((r) => setTimeout(r, 2000)) });
    for (const n of ['a', 'b', 'c']) f.task(n, { run: async () => new Promise((r) => setTimeout(() => r(n), 5)) });
    let tries = 0;
    f.publish('out', {
      after: ['a', 'b', 'c'],
      retry: { count: 2, delays: [1] },
      run: () => {
        if (++tries < 2) throw new IbfError('E_IO', 'disk full');
        return { 'x.txt': 'x' };
      },
    });
    const steps = new MemorySteps();
    const run = await runFlowOnSteps(f, steps, { publisher: memoryPublisher() });
    expect(run.errors.slow).toMatchObject({ code: 'E_TASK_TIMEOUT' });
    expect(steps.configs.get('slow')).toMatchObject({ timeout: 30 });
    expect(steps.maxInFlight).toBe(1);
    expect(run.states).toMatchObject({ a: 'Completed', b: 'Completed', c: 'Completed', out: 'Completed' });
    expect(tries).toBe(2);
    // slow failed (not optional): the outputs were made but not published
    expect(run.status).toBe('Failed');
    expect(run.published).toBeUndefined();
    expect(run.outputs).toEqual({ 'x.txt': 'x' });
  });

  it('returnOutputs false keeps outputs out of the step; stepPrefix keeps two flows apart on one instance', async () => {
    const publisher = memoryPublisher();
    const f = (name: string) => {
      const flow = defineFlow({ name });
      flow.task('x', { run: () => name });
      flow.publish('out', { inputs: { x: 'x' }, run: (_c, { x }) => ({ [`${x}.txt`]: new Uint8Array(1000) }) });
      return flow;
    };
    const steps = new MemorySteps();
    const one = await runFlowOnSteps(f('one'), steps, { stepPrefix: 'one:', publisher, returnOutputs: false });
    const two = await runFlowOnSteps(f('two'), steps, { stepPrefix: 'two:', publisher });
    expect(one.published).toEqual({ target: 'memory', outputs: ['one.txt'] });
    expect(one.results).toEqual({ x: 'one' });
    expect(one.outputs).toEqual({});
    expect(steps.persisted.get(`one:${PUBLISH_STEP}`)!.length).toBeLessThan(200);
    expect(two.results.out).toEqual({ 'two.txt': new Uint8Array(1000) });
    expect([...steps.persisted.keys()].sort()).toEqual(['one:(publish)', 'one:x', 'two:(publish)', 'two:x']);
    // a step of another flow under the same name is not taken for this flow's
    await expect(runFlowOnSteps(f('one'), new MemorySteps(new Map([['x', '"someone else"']])))).rejects.toMatchObject({ code: 'E_FLOW_STATE' });
  });

  it('refuses a flow whose publish step depends on a task after a publish step', () => {
    const f: Flow = defineFlow({ name: 'tangled' });
    const p = f.publish('first', { run: () => ({ 'a.txt': 'a' }) });
    const mid = f.task('mid', { after: [p], run: () => 1 });
    f.publish('second', { inputs: { mid }, run: () => ({ 'b.txt': 'b' }) });
    return expect(runFlowOnSteps(f, new MemorySteps())).rejects.toMatchObject({ code: 'E_FLOW_INVALID', message: expect.stringMatching(/second: publish step depends on mid/) });
  });
});

describe('stepRetries', () => {
  it('maps counts, delays and backoff onto limit, delay and backoff kind; says what it cannot keep', () => {
    expect(stepRetries({ count: 0, delays: [5] })).toEqual({ retries: { limit: 0, delay: 0, backoff: 'constant' }, inexact: [] });
    expect(stepRetries({ count: 3, delays: [500] })).toEqual({ retries: { limit: 3, delay: 500, backoff: 'constant' }, inexact: [] });
    expect(stepRetries({ count: 3, delays: [100, 200, 300] })).toEqual({ retries: { limit: 3, delay: 100, backoff: 'linear' }, inexact: [] });
    expect(stepRetries({ count: 4, backoff: { initialMs: 1000 } })).toEqual({ retries: { limit: 4, delay: 1000, backoff: 'exponential' }, inexact: [] });
    expect(stepRetries({ count: 2, backoff: { initialMs: 1000, factor: 1 } }).retries.backoff).toBe('constant');
    // a cap not reached within count is exact
    expect(stepRetries({ count: 3, backoff: { initialMs: 1000, maxMs: 4000 } }).inexact).toEqual([]);
    // past the cap: the kind closest to the policy's delays (here linear: 3000 and 4000 ms, not 4000 and 8000)
    expect(stepRetries({ count: 4, backoff: { initialMs: 1000, maxMs: 4000 } })).toEqual({
      retries: { limit: 4, delay: 1000, backoff: 'linear' },
      inexact: ['retry delays 1000, 2000, 4000, 4000 ms become 1000, 2000, 3000, 4000 ms (linear from 1000 ms)'],
    });
    expect(stepRetries({ count: 3, backoff: { initialMs: 100, factor: 3 } })).toMatchObject({ retries: { backoff: 'exponential' }, inexact: [expect.stringMatching(/100, 300, 900 ms become 100, 200, 400/)] });
    expect(stepRetries({ count: 3, delays: [1000, 5000, 30000] }).inexact).toHaveLength(1);
    expect(stepRetries({ count: 1, delays: [10], jitter: 0.1 }).inexact).toEqual(['jitter 0.1 (steps retry without spread)']);
    expect(stepRetries({ count: 2, codes: ['E_IO'], when: () => true }).inexact).toEqual([]);
  });
});
