/**
 * @module flow/schedule
 * Runs a job, or a flow, on a cron until stopped. One run at a time: fire times that pass while a run
 * is still going are skipped (the next run is the first fire time after it ends), as ecFlow's cron
 * does. Each flow run's id is derived from its fire time (`daily-20240301T0600Z`), so a scheduler
 * restarted while a run was half-way resumes it when it fires that minute again, and never runs one
 * fire time twice in one store. Time comes from the clock given (tests pass a ManualClock).
 */
import { IbfError } from '../errors.js';
import { systemClock, type Clock } from './clock.js';
import { parseCron, type Cron } from './cron.js';
import type { Flow } from './define.js';
import { planFlow } from './plan.js';
import { runFlow, type FlowRun, type FlowRunOptions } from './run.js';

export interface ScheduleOptions {
  clock?: Clock;
  /** Aborting it stops the schedule and cancels the run in progress. */
  signal?: AbortSignal;
  /** A job that threw (the schedule goes on). Default: ignored. */
  onError?: (error: unknown, at: Date) => void;
}

export interface Schedule {
  readonly cron: Cron;
  /** The fire time being waited for; undefined while a job runs and once stopped. */
  readonly next: Date | undefined;
  /** Stops after the job in progress (if any) ends; no new job starts. */
  stop(): void;
  /** Resolves once stopped and the last job has ended. */
  readonly done: Promise<void>;
}

/** Calls `job(at, signal)` at every fire time of `cron` (UTC), one job at a time, until stopped. */
export function startSchedule(cron: Cron | string, job: (at: Date, signal: AbortSignal) => Promise<unknown>, options: ScheduleOptions = {}): Schedule {
  const c = typeof cron === 'string' ? parseCron(cron) : cron;
  const clock = options.clock ?? systemClock;
  const stopper = new AbortController();
  const jobs = new AbortController();
  const onAbort = () => {
    stopper.abort(options.signal!.reason);
    jobs.abort(options.signal!.reason);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  let next: Date | undefined;

  const loop = async () => {
    let from = clock.now();
    while (!stopper.signal.aborted) {
      const at = c.nextAfter(new Date(from));
      next = at;
      try {
        // a long wait may end early (timer limits, a machine that slept): wait again for the rest
        while (clock.now() < at.getTime()) await clock.sleep(at.getTime() - clock.now(), stopper.signal);
      } catch {
        break;
      }
      next = undefined;
      try {
        await job(at, jobs.signal);
      } catch (e) {
        try {
          options.onError?.(e, at);
        } catch {
          // a failing error handler must not end the schedule
        }
      }
      from = Math.max(at.getTime(), clock.now());
    }
    next = undefined;
    options.signal?.removeEventListener('abort', onAbort);
  };

  const done = loop();
  return {
    cron: c,
    get next() {
      return next;
    },
    stop: () => stopper.abort(),
    done,
  };
}

export interface ScheduleFlowOptions extends Omit<FlowRunOptions, 'runId' | 'signal' | 'clock'>, ScheduleOptions {
  /** Cron expression; default: the flow's `schedule`. */
  cron?: string;
  /** Run id of the run fired at `at`; default `<flow>-<YYYYMMDD>T<HHMM>Z`. */
  runId?: (at: Date) => string;
  /** Each finished run, whatever its status. */
  onRun?: (run: FlowRun, at: Date) => void;
}

/** Runs `flow` on its cron (or `options.cron`) until stopped. Bad input (flow, cron) throws here, before any wait. */
export function scheduleFlow(flow: Flow, options: ScheduleFlowOptions = {}): Schedule {
  const expression = options.cron ?? flow.options.schedule;
  if (expression === undefined) {
    throw new IbfError('E_USAGE', `flow ${flow.name} has no schedule`, { hint: 'Give the flow a "schedule" (cron, e.g. "0 6 * * *") or pass one.' });
  }
  const cron = parseCron(expression);
  planFlow(flow, { params: options.params, concurrency: options.concurrency });
  const runIdFor = options.runId ?? ((at: Date) => `${flow.name}-${at.toISOString().slice(0, 16).replace(/[-:]/g, '')}Z`);
  return startSchedule(
    cron,
    async (at, signal) => {
      const result = await runFlow(flow, { ...options, runId: runIdFor(at), signal, clock: options.clock });
      options.onRun?.(result, at);
    },
    options,
  );
}
