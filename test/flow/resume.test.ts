/**
 * Resuming runs from a folder store: a run whose process died in the middle of a task (simulated:
 * the task never returns, the runner is dropped, a new runner with a new store object starts on the
 * same folder with the same run id), a run that failed and is fixed, and runs that must not resume.
 * Completed tasks are Cached and not run again; final results and published files equal a clean run's.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ManualClock, defineFlow, memoryPublisher, runFlow, type Flow } from '../../src/flow/index.js';
import { dirPublisher } from '../../src/flow/publish-node.js';
import { dirStore } from '../../src/flow/store-node.js';
import { T0, recorder, tempDir } from './helpers.js';

interface Knobs {
  counts: Record<string, number>;
  /** The task that never returns (the process "dies" in it). */
  hangIn?: string;
  failIn?: string;
  started?: () => void;
}

function dailyFlow(k: Knobs, members = 4): Flow {
  const f = defineFlow({ name: 'daily', params: { members } });
  const count = (name: string) => {
    k.counts[name] = (k.counts[name] ?? 0) + 1;
    if (k.failIn === name) throw new Error(`${name} is broken`);
    if (k.hangIn === name) {
      k.started?.();
      return new Promise<never>(() => {});
    }
    return undefined;
  };
  const ingest = f.task('ingest', {
    run: (ctx) => count('ingest') ?? Float32Array.from({ length: ctx.params.members as number }, (_v, i) => i * 0.5 + 0.25),
  });
  const fc = f.family('forecast', { params: { threshold: 0.6 } });
  const assess = fc.task('assess', {
    inputs: { hazard: ingest },
    run: (_ctx, { hazard }) => count('assess') ?? { damage: Float64Array.from(hazard, (h) => h * 1000 + 0.1), nan: NaN },
  });
  const alerts = fc.task('trigger', {
    inputs: { impact: assess },
    run: (ctx, { impact }) =>
      count('trigger') ?? { probability: impact.damage.filter((d) => d > 500).length / impact.damage.length, threshold: ctx.params.threshold },
  });
  f.publish('publish', {
    inputs: { impact: assess, alerts },
    run: (_ctx, { impact, alerts }) =>
      count('publish') ?? { 'alerts.json': JSON.stringify(alerts), 'damage.f64': new Uint8Array(impact.damage.buffer.slice(0)) },
  });
  return f;
}

const files = (dir: string) => Object.fromEntries(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n))]));

describe('resume', () => {
  it('after a kill in the middle of a task: completed tasks are Cached, the rest runs, outputs equal a clean run', async () => {
    // the clean run, for comparison
    const cleanOut = tempDir();
    const clean = await runFlow(dailyFlow({ counts: {} }), {
      store: dirStore(tempDir(), { durable: false }), clock: new ManualClock(T0), publisher: dirPublisher(cleanOut), runId: 'clean',
    });
    expect(clean.status).toBe('Completed');

    const root = tempDir();
    const out = tempDir();
    const counts: Record<string, number> = {};
    let started!: () => void;
    const inAssess = new Promise<void>((resolve) => (started = resolve));
    // session 1: dies inside assess (never returns); dropped once the store says assess is Running
    void runFlow(dailyFlow({ counts, hangIn: 'assess', started }), {
      store: dirStore(root, { durable: false }), clock: new ManualClock(T0), publisher: dirPublisher(out), runId: 'daily-1',
    });
    await inAssess;
    await vi.waitFor(async () => {
      const rec = await dirStore(root).loadRun('daily-1');
      expect(rec?.tasks['forecast/assess']?.state).toBe('Running');
    });
    expect(readdirSync(out)).toEqual([]);

    // session 2: a new process (new store object, new flow object) with the same run id
    const r = recorder();
    const resumed = await runFlow(dailyFlow({ counts }), {
      store: dirStore(root, { durable: false }), clock: new ManualClock(T0 + 60_000), publisher: dirPublisher(out), runId: 'daily-1', onEvent: r.onEvent,
    });
    expect(resumed.status).toBe('Completed');
    expect(resumed.session).toBe(2);
    expect(counts).toEqual({ ingest: 1, assess: 2, trigger: 1, publish: 1 });
    expect(r.states('ingest')).toEqual(['Cached']);
    expect(r.taskEvents('ingest')[0]).toMatchObject({ from: 'Completed', to: 'Cached', reason: 'resumed: result from the run store' });
    expect(r.states('forecast/assess')).toEqual(['Crashed', 'Scheduled', 'Pending', 'Running', 'Completed']);
    expect(r.taskEvents('forecast/assess')[0]).toMatchObject({ from: 'Running', reason: 'it was Running when the run stopped' });
    // it was Scheduled when the process died and still is: no transition to record until it is ready
    expect(r.states('forecast/trigger')).toEqual(['Pending', 'Running', 'Completed']);
    expect(resumed.results).toEqual(clean.results);
    expect(files(out)).toEqual(files(cleanOut));

    // both sessions in one journal, numbered on
    const events = await dirStore(root).readEvents('daily-1');
    expect(events.map((e) => e.seq)).toEqual(events.map((_e, i) => i));
    expect(events.filter((e) => e.kind === 'run').map((e) => e.kind === 'run' && [e.status, e.session])).toEqual([['Running', 1], ['Running', 2], ['Completed', 2]]);
    const attempts = events.filter((e) => e.kind === 'task' && e.task === 'forecast/assess' && e.to === 'Running').map((e) => e.kind === 'task' && e.attempt);
    expect(attempts).toEqual([1, 2]);
  });

  it('after a failure: fixed and run again with the same id, only what did not complete runs', async () => {
    const root = tempDir();
    const publisher = memoryPublisher();
    const counts: Record<string, number> = {};
    const first = await runFlow(dailyFlow({ counts, failIn: 'trigger' }), { store: dirStore(root, { durable: false }), clock: new ManualClock(T0), publisher, runId: 'd' });
    expect(first.status).toBe('Failed');
    expect(publisher.commits).toBe(0);
    const second = await runFlow(dailyFlow({ counts }), { store: dirStore(root, { durable: false }), clock: new ManualClock(T0), publisher, runId: 'd' });
    expect(second.status).toBe('Completed');
    expect(second.states).toEqual({ ingest: 'Cached', 'forecast/assess': 'Cached', 'forecast/trigger': 'Completed', publish: 'Completed' });
    expect(counts).toEqual({ ingest: 1, assess: 1, trigger: 2, publish: 1 });
    expect(publisher.commits).toBe(1);
    // a third start of the finished run runs nothing and does not publish again
    const third = await runFlow(dailyFlow({ counts }), { store: dirStore(root, { durable: false }), clock: new ManualClock(T0), publisher, runId: 'd' });
    expect(Object.values(third.states)).toEqual(['Cached', 'Cached', 'Cached', 'Cached']);
    expect(third.published).toEqual(second.published);
    expect(publisher.commits).toBe(1);
    expect(counts.publish).toBe(1);
  });

  it('reruns a Completed task whose result file is gone', async () => {
    const root = tempDir();
    const counts: Record<string, number> = {};
    await runFlow(dailyFlow({ counts }), { store: dirStore(root, { durable: false }), clock: new ManualClock(T0), runId: 'g' });
    rmSync(join(root, 'runs', 'g', 'results', 'ingest.json'));
    const r = recorder();
    const again = await runFlow(dailyFlow({ counts }), { store: dirStore(root, { durable: false }), clock: new ManualClock(T0), runId: 'g', onEvent: r.onEvent });
    expect(r.taskEvents('ingest')[0]).toMatchObject({ from: 'Completed', to: 'Scheduled', reason: 'resumed: its result is missing from the run store' });
    expect(again.states.ingest).toBe('Completed');
    expect(counts.ingest).toBe(2);
  });

  it('refuses, before running anything, a run id started with other parameters or when told not to resume', async () => {
    const root = tempDir();
    const counts: Record<string, number> = {};
    await runFlow(dailyFlow({ counts }), { store: dirStore(root), clock: new ManualClock(T0), runId: 'p' });
    await expect(runFlow(dailyFlow({ counts }, 5), { store: dirStore(root), runId: 'p' })).rejects.toMatchObject({
      code: 'E_FLOW_STATE', message: 'run p was started with other parameters or another version of flow daily',
    });
    await expect(runFlow(dailyFlow({ counts }), { store: dirStore(root), runId: 'p', resume: false })).rejects.toMatchObject({
      code: 'E_FLOW_STATE', hint: 'Resume it (--resume), or pick a new run id.',
    });
    const other = defineFlow({ name: 'other' });
    other.task('x', { run: () => 1 });
    await expect(runFlow(other, { store: dirStore(root), runId: 'p' })).rejects.toMatchObject({ code: 'E_FLOW_STATE', message: 'run p belongs to flow daily, not other' });
    expect(counts).toEqual({ ingest: 1, assess: 1, trigger: 1, publish: 1 });
  });

  it('refuses a run id that cannot be a folder name', async () => {
    await expect(runFlow(dailyFlow({ counts: {} }), { runId: 'a/b' })).rejects.toMatchObject({ code: 'E_USAGE' });
  });
});
