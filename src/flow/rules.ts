/**
 * @module flow/rules
 * What a runner decides about one task, shared by the in-process runner (run.ts) and the durable one
 * (durable.ts): whether it runs at all (complete condition, inputs, trigger, `after`), the view its
 * conditions see, the inputs it gets, whether a failed attempt may be retried, and its timeout.
 */
import { IbfError, isIbfError } from '../errors.js';
import type { Clock } from './clock.js';
import { evaluateCondition, type ConditionView, type TaskLink } from './conditions.js';
import type { Params, TaskContext } from './define.js';
import type { LogLevel, TaskLogger } from './log.js';
import type { PlannedTask } from './plan.js';
import { shouldRetry, type RetryPolicy } from './policy.js';
import { isSuccess, type TaskState } from './states.js';

/** What a runner knows of a finished (or not yet finished) dependency. */
export interface TaskOutcome {
  readonly state: TaskState;
  /** The result, when the state is Completed or Cached. */
  readonly result?: unknown;
}

/** Looks up a task of the plan by id. */
export type OutcomeOf = (task: string) => TaskOutcome;

/** Error codes no retry can help with: a result that cannot be stored, a cancelled run. */
export const NEVER_RETRY: ReadonlySet<string> = new Set(['E_FLOW_RESULT', 'E_CANCELLED']);

/**
 * The view `t`'s conditions see: states and results of its dependencies only (reading any other task
 * throws `E_FLOW_INVALID`).
 */
export function conditionView(t: PlannedTask, outcomeOf: OutcomeOf): ConditionView {
  const id = (link: TaskLink) => {
    const d = t.resolve(link);
    if (d === undefined || !t.deps.includes(d)) {
      const name = typeof link === 'string' ? link : link.id;
      throw new IbfError('E_FLOW_INVALID', `a condition of ${t.id} reads ${name}, which is not among its dependencies`, {
        hint: `Add "${name}" to the task's after (or use the declarative form, which adds it).`,
      });
    }
    return outcomeOf(d);
  };
  return {
    params: t.params,
    state: (link) => id(link).state,
    result: <T>(link: TaskLink) => {
      const d = id(link);
      return (isSuccess(d.state) ? d.result : undefined) as T | undefined;
    },
  };
}

/**
 * Why `t` will not run once its dependencies are final (its complete condition holds: Completed; an
 * input or `after` task did not succeed, or its trigger is false: Skipped), or undefined: it runs.
 * Throws what a condition throws.
 */
export function taskVerdict(t: PlannedTask, outcomeOf: OutcomeOf): { to: 'Completed' | 'Skipped'; reason: string } | undefined {
  const stateOf = (d: string) => outcomeOf(d).state;
  if (t.complete && evaluateCondition(t.complete, conditionView(t, outcomeOf))) return { to: 'Completed', reason: 'its complete condition holds' };
  const input = t.inputs.find(([, d]) => !isSuccess(stateOf(d)));
  if (input) return { to: 'Skipped', reason: `input ${input[0]} (${input[1]}) is ${stateOf(input[1])}` };
  if (t.trigger) {
    return evaluateCondition(t.trigger, conditionView(t, outcomeOf)) ? undefined : { to: 'Skipped', reason: 'its trigger condition is false' };
  }
  const dep = t.after.find((d) => !isSuccess(stateOf(d)));
  return dep ? { to: 'Skipped', reason: `${dep} is ${stateOf(dep)}` } : undefined;
}

/** The values `t` gets for its inputs: its input tasks' results, by input name. */
export function taskInputs(t: PlannedTask, outcomeOf: OutcomeOf): Record<string, unknown> {
  return Object.fromEntries(t.inputs.map(([name, d]) => [name, outcomeOf(d).result]));
}

/**
 * Whether attempt `attempt` (1-based), failed with `error`, may be retried under `policy`: never for
 * {@link NEVER_RETRY} codes, else as the policy's `codes` and `when` say. Retries left are the caller's.
 */
export function retryable(policy: RetryPolicy, error: unknown, attempt: number): boolean {
  const code = isIbfError(error) ? error.code : undefined;
  return !(code && NEVER_RETRY.has(code)) && shouldRetry(policy, error, attempt);
}

/**
 * Runs `work`; past `ms` (on `clock`) `controller` aborts with `timeoutError()` and the returned promise
 * rejects with it at once, whether or not the work heeds its signal (its late outcome is dropped).
 * Without `ms`, just the work.
 */
export async function raceTimeout<T>(work: () => T | Promise<T>, ms: number | undefined, clock: Clock, controller: AbortController, timeoutError: () => Error): Promise<T> {
  const done = Promise.resolve().then(work);
  // an abandoned attempt (timed out, cancelled) may still reject later: that is no longer news
  done.catch(() => {});
  if (ms === undefined) return done;
  const timer = new AbortController();
  const timeout = clock.sleep(ms, timer.signal).then(
    () => {
      const e = timeoutError();
      controller.abort(e);
      throw e;
    },
    () => new Promise<never>(() => {}),
  );
  try {
    return await Promise.race([done, timeout]);
  } finally {
    timer.abort();
  }
}

/** What a runner gives one attempt of a task; {@link taskContext} makes the task's context of it. */
export interface AttemptHooks {
  run: string;
  flow: string;
  task: PlannedTask;
  attempt: number;
  signal: AbortSignal;
  clock: Clock;
  /** A log record of this attempt. */
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  /** Progress, already clamped to [0, 1]. */
  progress(fraction: number, message?: string): void;
}

/** The context of one attempt: its ids and parameters, logs tagged with it, the clock, clamped progress. */
export function taskContext(h: AttemptHooks): TaskContext<Params> {
  const at = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => h.log(level, message, fields);
  const log: TaskLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return {
    run: h.run,
    flow: h.flow,
    task: h.task.id,
    attempt: h.attempt,
    params: h.task.params,
    signal: h.signal,
    log,
    clock: h.clock,
    sleep: (ms) => h.clock.sleep(ms, h.signal),
    progress: (fraction, message) => h.progress(Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0, message),
  };
}
