/**
 * Schedules on a ManualClock: jobs fire at the cron's times (UTC), one at a time (fire times missed
 * during a long job are skipped), errors do not end the schedule, stop() ends it, and a flow runs
 * under run ids taken from its fire times.
 */
import { describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { ManualClock, defineFlow, memoryStore, scheduleFlow, startSchedule, type FlowRun } from '../../src/flow/index.js';
import { T0 } from './helpers.js';

describe('startSchedule', () => {
  it('fires at each cron time, skips those that pass during a long job, survives errors, stops', async () => {
    const clock = new ManualClock(T0); // 2024-03-01T06:00Z
    const fired: string[] = [];
    const errors: string[] = [];
    const schedule = startSchedule(
      '*/15 * * * *',
      async (at) => {
        fired.push(`${at.toISOString().slice(11, 16)} @ ${new Date(clock.now()).toISOString().slice(11, 16)}`);
        if (fired.length === 2) await clock.sleep(40 * 60_000); // 06:30 runs until 07:10: 06:45 and 07:00 are skipped
        if (fired.length === 3) throw new Error('portal down');
        if (fired.length === 4) schedule.stop();
      },
      { clock, onError: (e, at) => errors.push(`${at.toISOString().slice(11, 16)} ${(e as Error).message}`) },
    );
    expect(schedule.next?.toISOString()).toBe('2024-03-01T06:15:00.000Z');
    await schedule.done;
    expect(fired).toEqual(['06:15 @ 06:15', '06:30 @ 06:30', '07:15 @ 07:15', '07:30 @ 07:30']);
    expect(errors).toEqual(['07:15 portal down']);
    expect(schedule.next).toBeUndefined();
  });

  it('an aborted signal stops the wait at once and reaches the job in progress', async () => {
    const clock = new ManualClock(T0);
    const ac = new AbortController();
    let jobSignal: AbortSignal | undefined;
    const s = startSchedule('0 * * * *', async (_at, signal) => {
      jobSignal = signal;
      ac.abort();
    }, { clock, signal: ac.signal });
    await s.done;
    expect(jobSignal?.aborted).toBe(true);
    expect(clock.pending()).toEqual([]);
  });
});

describe('scheduleFlow', () => {
  it('runs the flow on its schedule under run ids from the fire times', async () => {
    const clock = new ManualClock(T0);
    const store = memoryStore();
    const f = defineFlow({ name: 'daily', schedule: '0 6 * * MON-FRI' });
    f.task('t', { run: (ctx) => ctx.run });
    const runs: FlowRun[] = [];
    const s = scheduleFlow(f, { clock, store, onRun: (r) => (runs.push(r), runs.length === 3 && s.stop()) });
    await s.done;
    // Friday 1 March 06:00 has passed (now is 06:00 exactly): next Monday, Tuesday, Wednesday
    expect(runs.map((r) => r.run)).toEqual(['daily-20240304T0600Z', 'daily-20240305T0600Z', 'daily-20240306T0600Z']);
    expect(runs.map((r) => r.results.t)).toEqual(runs.map((r) => r.run));
    expect(store.runs()).toEqual(runs.map((r) => r.run));
  });

  it('refuses a flow without schedule, a bad cron and a bad flow before waiting', () => {
    const f = defineFlow({ name: 'adhoc' });
    f.task('t', { run: () => 1 });
    expect(() => scheduleFlow(f)).toThrow(expect.objectContaining({ code: 'E_USAGE', message: 'flow adhoc has no schedule' }));
    expect(() => scheduleFlow(f, { cron: '0 6 * *' })).toThrow(expect.objectContaining({ code: 'E_CRON_INVALID' }));
    const bad = defineFlow({ name: 'bad', schedule: '0 6 * * *' });
    bad.task('t', { after: ['missing'], run: () => 1 });
    expect(() => scheduleFlow(bad)).toThrow(IbfError);
  });
});
