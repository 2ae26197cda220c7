/**
 * @module flow/states
 * The task state machine (Prefect's state names, ecFlow's life cycle) and the events that record it.
 *
 *     Scheduled --> Pending --> Running --> Completed
 *        |            |         |   ^  \-> Failed | Crashed | Cancelled
 *        |            |         v   |
 *        |            |        Retrying  (waits its delay and a slot, then runs again)
 *        |            \-> Cached (cache hit) | Failed (cache key threw) | Cancelled
 *        \-> Skipped | Completed (complete condition) | Failed (condition threw) | Cancelled
 *
 * Scheduled: waiting for its dependencies. Pending: ready, looking up the cache and waiting for a
 * concurrency slot. Crashed: the attempt died with `E_WORKER` (a worker or process died).
 *
 * A resumed run re-enters the machine from what the store holds: Completed and Cached become Cached
 * (their stored results are used), Running becomes Crashed (the process died under it) and then
 * Scheduled, and every other state starts again at Scheduled.
 */

/** Every state a task run can be in. */
export const TASK_STATES = ['Scheduled', 'Pending', 'Running', 'Retrying', 'Completed', 'Cached', 'Skipped', 'Failed', 'Crashed', 'Cancelled'] as const;

export type TaskState = (typeof TASK_STATES)[number];

/** States a task does not leave during a run. */
export const FINAL_STATES: ReadonlySet<TaskState> = new Set(['Completed', 'Cached', 'Skipped', 'Failed', 'Crashed', 'Cancelled']);

/** Final states whose result downstream tasks may use. */
export const SUCCESS_STATES: ReadonlySet<TaskState> = new Set(['Completed', 'Cached']);

/** Final states that stop a run from publishing (unless the task is optional). */
export const FAILURE_STATES: ReadonlySet<TaskState> = new Set(['Failed', 'Crashed', 'Cancelled']);

export const isFinal = (s: TaskState): boolean => FINAL_STATES.has(s);
export const isSuccess = (s: TaskState): boolean => SUCCESS_STATES.has(s);

/** Allowed transitions within one session of a run (see the module header for resumes). */
export const TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  Scheduled: ['Pending', 'Skipped', 'Completed', 'Failed', 'Cancelled'],
  Pending: ['Running', 'Cached', 'Failed', 'Cancelled'],
  Running: ['Completed', 'Retrying', 'Failed', 'Crashed', 'Cancelled'],
  Retrying: ['Running', 'Cancelled'],
  Completed: [],
  Cached: [],
  Skipped: [],
  Failed: [],
  Crashed: [],
  Cancelled: [],
};

/** Transitions a resumed run makes from what it finds in the store. */
export const RESUME_TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  Completed: ['Cached', 'Scheduled'],
  Cached: ['Cached', 'Scheduled'],
  Running: ['Crashed'],
  Pending: ['Scheduled'],
  Retrying: ['Scheduled'],
  Crashed: ['Scheduled'],
  Failed: ['Scheduled'],
  Skipped: ['Scheduled'],
  Cancelled: ['Scheduled'],
  Scheduled: [],
};

/** An error as events, records and results carry it (plain data: survives JSON and postMessage). */
export interface ErrorInfo {
  name: string;
  message: string;
  /** IbfError code, or a code property of another error (e.g. `ENOENT`). */
  code?: string;
  hint?: string;
}

/** Status of a whole run. */
export type RunStatus = 'Running' | 'Completed' | 'Failed' | 'Cancelled';

/** A task changed state. `ts` is ms since the epoch (UTC) from the run's clock. */
export interface TaskEvent {
  kind: 'task';
  /** Position in the run's event sequence (continues across resumes). */
  seq: number;
  ts: number;
  run: string;
  task: string;
  /** Attempt number (1 = first run of the task; continues across resumes); 0 before the first. */
  attempt: number;
  from: TaskState | null;
  to: TaskState;
  /** Why, in words: "input forecast/fetch is Failed", "trigger is false", "resumed from the run store". */
  reason?: string;
  error?: ErrorInfo;
  /** Retrying: how long the task waits before its next attempt (ms). */
  delayMs?: number;
}

/** The run started, resumed or finished. */
export interface RunEvent {
  kind: 'run';
  seq: number;
  ts: number;
  run: string;
  status: RunStatus;
  /** 1 for a new run, 2 for its first resume, ... */
  session: number;
  reason?: string;
}

/** The publish step committed the run's outputs, or withheld them. */
export interface PublishEvent {
  kind: 'publish';
  seq: number;
  ts: number;
  run: string;
  committed: boolean;
  /** Output names. */
  outputs: string[];
  /** Where they went (publisher's description). */
  target?: string;
  reason?: string;
}

/** Progress reported by a running task; sent to observers, not journaled (the latest is kept on the task's record). */
export interface ProgressEvent {
  kind: 'progress';
  ts: number;
  run: string;
  task: string;
  attempt: number;
  /** Fraction done, in [0, 1]. */
  fraction: number;
  message?: string;
}

/** What the store journals. */
export type FlowEvent = TaskEvent | RunEvent | PublishEvent;

/** What observers see. */
export type FlowObservation = FlowEvent | ProgressEvent;

/** Plain-data form of any thrown value. */
export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const hint = (e as { hint?: unknown }).hint;
    return {
      name: e.name,
      message: e.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof hint === 'string' ? { hint } : {}),
    };
  }
  return { name: 'Error', message: String(e) };
}
