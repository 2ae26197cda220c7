/**
 * @module flow/run
 * The runner: executes a planned flow against a store, a clock and a publisher.
 *
 * One loop decides and starts tasks; each task then goes its own way (decide, cache lookup, wait for
 * a slot, attempts, retries) and wakes the loop when its state changes. The loop commits the run
 * record with the events and logs since the last commit after every round, so the store always holds
 * a state a resume can start from. Results are put before the commit that records them Completed.
 *
 * A run id seen before resumes that run: Completed and Cached tasks are Cached (their stored results
 * are used, they do not run), a task that was Running when the process died is Crashed and runs again,
 * every other task is scheduled again. The flow and its parameters must be the ones the run started
 * with (its fingerprint), or the run is refused with `E_FLOW_STATE` before anything runs.
 */
import { IbfError, isIbfError } from '../errors.js';
import { systemClock, type Clock } from './clock.js';
import { hashValue } from './codec.js';
import type { ConcurrencyLimits, Flow, Params, TaskContext } from './define.js';
import { atLeast, logFields, type LogLevel, type LogRecord, type LogSink } from './log.js';
import { planFlow, type FlowPlan, type PlannedTask } from './plan.js';
import { retryDelay } from './policy.js';
import { checkOutputs, type Outputs, type PublishReceipt, type Publisher, type Staging } from './publish.js';
import { raceTimeout, retryable, taskContext, taskInputs, taskVerdict } from './rules.js';
import {
  FAILURE_STATES, RESUME_TRANSITIONS, TRANSITIONS, errorInfo, isFinal, isSuccess,
  type ErrorInfo, type FlowEvent, type FlowObservation, type RunStatus, type TaskEvent, type TaskState,
} from './states.js';
import { RUN_FORMAT, RUN_ID_PATTERN, memoryStore, type FlowStore, type RunRecord, type TaskRecord } from './store.js';

export interface FlowRunOptions {
  /** Run id (letters, digits, `_`, `.`, `-`); an id the store knows resumes that run. Default: `<flow>-<UTC time>-<random>`. */
  runId?: string;
  /** false: refuse (`E_FLOW_STATE`) when the run id exists, instead of resuming it. Default true. */
  resume?: boolean;
  /** Override the flow's parameters (families' and tasks' own still win). */
  params?: Params;
  /** Default: a new in-memory store (no resume across processes). */
  store?: FlowStore;
  /** Default: {@link systemClock}. */
  clock?: Clock;
  /** Source of [0, 1) for retry jitter. Default `Math.random`. */
  random?: () => number;
  /** Cancels the run: running tasks' signals abort, every unfinished task is Cancelled, nothing is published. */
  signal?: AbortSignal;
  /** Where publish steps' outputs go when the run succeeds. Without one, they are only returned. */
  publisher?: Publisher;
  /** Merged over the flow's limits. */
  concurrency?: ConcurrencyLimits;
  /** Sinks for log records (the store gets them too). */
  logs?: LogSink | readonly LogSink[];
  /** Least level kept, in the store and the sinks (default `info`). */
  logLevel?: LogLevel;
  /** Every event and progress report, as it happens. */
  onEvent?: (event: FlowObservation) => void;
}

/** What every runner reports of a run (plain data): the tasks' final states, results, errors and outputs. */
export interface RunOutcome {
  run: string;
  flow: string;
  /** Final state of every task. */
  states: Record<string, TaskState>;
  /** Results of the tasks that ended Completed or Cached. */
  results: Record<string, unknown>;
  /** The last error of every task that ended Failed or Crashed. */
  errors: Record<string, ErrorInfo>;
  /** What the publish steps produced (committed only when `published` is set). */
  outputs: Outputs;
  /** Set when the outputs were committed (in this session or an earlier one). */
  published?: PublishReceipt;
  /** Set when committing the outputs failed, or two publish steps gave one name (the run is then Failed). */
  publishError?: ErrorInfo;
}

/** The outcome of a run of {@link runFlow}. */
export interface FlowRun extends RunOutcome {
  status: Exclude<RunStatus, 'Running'>;
  session: number;
  startedAt: number;
  finishedAt: number;
}

/** Runs `flow`; resolves when every task is final (whatever the status), rejects only for bad input or a failing store. */
export async function runFlow(flow: Flow, options: FlowRunOptions = {}): Promise<FlowRun> {
  const plan = planFlow(flow, { params: options.params, concurrency: options.concurrency });
  const clock = options.clock ?? systemClock;
  const run = options.runId ?? defaultRunId(flow.name, clock.now());
  if (!RUN_ID_PATTERN.test(run)) {
    throw new IbfError('E_USAGE', `run id "${run}" is not usable`, {
      hint: 'Use up to 128 letters, digits, "_", ".", "-", not starting with ".".',
    });
  }
  return new Runner(plan, run, clock, options).execute();
}

/** The run's failure as one IbfError (`E_FLOW_FAILED`, or `E_CANCELLED`), one problem per task; undefined when it Completed. */
export function flowRunError(r: Pick<FlowRun, 'status' | 'flow' | 'run' | 'states' | 'errors' | 'publishError'>): IbfError | undefined {
  if (r.status === 'Completed') return undefined;
  if (r.status === 'Cancelled') return new IbfError('E_CANCELLED', `flow ${r.flow} run ${r.run} was cancelled; nothing was published`);
  const problems = Object.entries(r.errors).map(([task, e]) => ({ path: task, message: `${r.states[task]}: ${e.code ? `[${e.code}] ` : ''}${e.message}` }));
  if (r.publishError) problems.push({ path: '(publish)', message: `${r.publishError.code ? `[${r.publishError.code}] ` : ''}${r.publishError.message}` });
  return IbfError.fromProblems('E_FLOW_FAILED', `flow ${r.flow} run ${r.run} failed; nothing was published`, problems);
}

function defaultRunId(flow: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  // getRandomValues, not randomUUID: browsers offer the latter only on https pages
  const suffix = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${flow}-${stamp}-${suffix}`;
}

// buffered log records that make the loop commit before the next state change
const LOG_FLUSH_AT = 256;

/** Whether the task is still where its routine left it (cancellation may have moved it meanwhile). */
const still = (tr: TaskRun, state: TaskState): boolean => tr.state === state;

/** An event before the runner numbers and stamps it. */
type Unstamped<E> = E extends unknown ? Omit<E, 'seq' | 'ts'> : never;

interface TaskRun {
  readonly t: PlannedTask;
  /** Position in the flow's definition order (ties go to the earlier task). */
  readonly index: number;
  /** Tasks that depend on this one. */
  readonly dependents: TaskRun[];
  /** Dependencies not final yet. */
  waitingOn: number;
  state: TaskState;
  /** Attempts over every session. */
  attempt: number;
  /** Attempts in this session (what the retry count limits). */
  tries: number;
  result?: unknown;
  error?: ErrorInfo;
  /** A routine (decide, attempts) owns the task. */
  busy: boolean;
  holdsSlot: boolean;
  /** Set while queued for a slot. */
  grant?: () => void;
  controller?: AbortController;
  cacheKey?: string;
  startedAt?: number;
}

class Runner {
  private readonly store: FlowStore;
  private readonly random: () => number;
  private readonly sinks: readonly LogSink[];
  private readonly logLevel: LogLevel;
  private readonly tasks = new Map<string, TaskRun>();
  private readonly order: TaskRun[] = [];
  private record!: RunRecord;
  private events: FlowEvent[] = [];
  private logs: LogRecord[] = [];
  private dirty = false;
  private queue: TaskRun[] = [];
  /** Tasks whose last dependency became final since the loop last looked. */
  private ready: TaskRun[] = [];
  private running = 0;
  private readonly tagCounts = new Map<string, number>();
  /** Aborted when the run is cancelled: wakes retry delays. */
  private readonly stop = new AbortController();
  private cancelRequested = false;
  private cancelled = false;
  private resuming = false;
  private fatal: { error: unknown } | undefined;
  private woken = false;
  private resolveWake: (() => void) | undefined;
  private outputs: Outputs = {};
  private receipt: PublishReceipt | undefined;
  private publishError: ErrorInfo | undefined;

  constructor(
    private readonly plan: FlowPlan,
    private readonly id: string,
    private readonly clock: Clock,
    private readonly options: FlowRunOptions,
  ) {
    this.store = options.store ?? memoryStore();
    this.random = options.random ?? Math.random;
    this.sinks = options.logs === undefined ? [] : typeof options.logs === 'function' ? [options.logs] : (options.logs as readonly LogSink[]);
    this.logLevel = options.logLevel ?? 'info';
    plan.tasks.forEach((t, index) => {
      const tr: TaskRun = { t, index, state: 'Scheduled', attempt: 0, tries: 0, busy: false, holdsSlot: false, dependents: [], waitingOn: 0 };
      this.tasks.set(t.id, tr);
      this.order.push(tr);
    });
    for (const tr of this.order) for (const d of tr.t.deps) this.tasks.get(d)!.dependents.push(tr);
  }

  async execute(): Promise<FlowRun> {
    const signal = this.options.signal;
    const onAbort = () => {
      this.cancelRequested = true;
      this.wake();
    };
    await this.init();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      for (;;) {
        if (this.fatal) throw this.fatal.error;
        if (this.cancelRequested && !this.cancelled) this.cancelAll();
        this.decideReady();
        this.grantSlots();
        await this.flush();
        if (this.order.every((tr) => isFinal(tr.state))) break;
        await this.waitForWake();
      }
      await this.finish();
    } catch (e) {
      // a failing store (or a bug): stop every task, say so, and hand the error to the caller
      this.cancelled = true;
      this.stop.abort(e);
      for (const tr of this.order) tr.controller?.abort(e);
      this.log('error', `run stopped: ${(e as Error).message}`, undefined, { error: e });
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return this.outcome();
  }

  // ---- start and resume

  private async init(): Promise<void> {
    const now = this.clock.now();
    const existing = await this.store.loadRun(this.id);
    if (existing) {
      if (this.options.resume === false) {
        throw new IbfError('E_FLOW_STATE', `run ${this.id} exists already (status ${existing.status})`, {
          hint: 'Resume it (--resume), or pick a new run id.',
        });
      }
      if (existing.format !== RUN_FORMAT || existing.flow !== this.plan.flow.name || existing.fingerprint !== this.plan.fingerprint) {
        const what = existing.flow === this.plan.flow.name
          ? `was started with other parameters or another version of flow ${existing.flow}`
          : `belongs to flow ${existing.flow}, not ${this.plan.flow.name}`;
        throw new IbfError('E_FLOW_STATE', `run ${this.id} ${what}`, {
          details: { stored: existing.fingerprint, planned: this.plan.fingerprint },
        });
      }
    }
    const session = (existing?.session ?? 0) + 1;
    this.record = existing
      ? { ...existing, status: 'Running', session, updatedAt: now }
      : {
          format: RUN_FORMAT, run: this.id, flow: this.plan.flow.name, fingerprint: this.plan.fingerprint,
          params: this.options.params ?? {}, status: 'Running', session, startedAt: now, updatedAt: now, nextSeq: 0, tasks: {},
        };
    delete this.record.finishedAt;
    this.emit({ kind: 'run', run: this.id, status: 'Running', session, ...(existing ? { reason: `resumed (was ${existing.status})` } : {}) });
    this.log('info', existing ? `run resumed (session ${session})` : 'run started', undefined, { tasks: this.order.length });

    this.resuming = true;
    for (const tr of this.order) {
      const prev = existing?.tasks[tr.t.id];
      if (!prev) {
        this.transition(tr, 'Scheduled', {}, null);
        continue;
      }
      tr.state = prev.state;
      tr.attempt = prev.attempt;
      tr.cacheKey = prev.cacheKey;
      if (prev.state === 'Completed' || prev.state === 'Cached') {
        const stored = await this.store.getResult(this.id, tr.t.id);
        if (stored) {
          tr.result = stored.value;
          this.transition(tr, 'Cached', { reason: 'resumed: result from the run store' });
        } else {
          this.transition(tr, 'Scheduled', { reason: 'resumed: its result is missing from the run store' });
        }
      } else if (prev.state === 'Running') {
        this.transition(tr, 'Crashed', { reason: 'it was Running when the run stopped' });
        this.transition(tr, 'Scheduled', { reason: 'resumed' });
      } else if (prev.state !== 'Scheduled') {
        this.transition(tr, 'Scheduled', { reason: 'resumed' });
      }
    }
    this.resuming = false;
    for (const tr of this.order) {
      tr.waitingOn = tr.t.deps.filter((d) => !isFinal(this.tasks.get(d)!.state)).length;
      if (tr.waitingOn === 0) this.ready.push(tr);
    }
    await this.flush();
  }

  // ---- the loop's steps

  /** Starts deciding every Scheduled task whose dependencies are all final, in definition order. */
  private decideReady(): void {
    const ready = this.ready.splice(0).sort((a, b) => a.index - b.index);
    for (const tr of ready) {
      if (tr.state !== 'Scheduled' || tr.busy) continue;
      tr.busy = true;
      this.spawn(this.decide(tr));
    }
  }

  private grantSlots(): void {
    const { max, tags } = this.plan.limits;
    for (let i = 0; i < this.queue.length && this.running < max; ) {
      const tr = this.queue[i]!;
      if (tr.t.tags.some((tag) => (this.tagCounts.get(tag) ?? 0) >= (tags[tag] ?? Infinity))) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.running++;
      for (const tag of tr.t.tags) this.tagCounts.set(tag, (this.tagCounts.get(tag) ?? 0) + 1);
      tr.holdsSlot = true;
      const grant = tr.grant!;
      tr.grant = undefined;
      grant();
    }
  }

  private release(tr: TaskRun): void {
    if (!tr.holdsSlot) return;
    tr.holdsSlot = false;
    this.running--;
    for (const tag of tr.t.tags) this.tagCounts.set(tag, this.tagCounts.get(tag)! - 1);
    this.wake();
  }

  private cancelAll(): void {
    this.cancelled = true;
    const reason = new IbfError('E_CANCELLED', `flow ${this.plan.flow.name} run ${this.id} was cancelled`);
    this.stop.abort(reason);
    for (const tr of this.order) {
      if (isFinal(tr.state)) continue;
      tr.controller?.abort(reason);
      this.release(tr);
      this.transition(tr, 'Cancelled', { reason: 'the run was cancelled' });
      const grant = tr.grant;
      tr.grant = undefined;
      grant?.();
    }
    this.queue = [];
  }

  // ---- one task's way

  private async decide(tr: TaskRun): Promise<void> {
    const t = tr.t;
    let verdict: { to: 'Completed' | 'Skipped' | 'Failed'; reason: string; error?: ErrorInfo } | undefined;
    try {
      verdict = taskVerdict(t, this.outcomeOf);
    } catch (e) {
      verdict = { to: 'Failed', reason: 'a condition threw', error: errorInfo(e) };
    }
    if (verdict?.to === 'Completed') await this.store.putResult(this.id, t.id, undefined);
    if (!still(tr, 'Scheduled')) return;
    if (verdict) {
      tr.result = undefined;
      return this.transition(tr, verdict.to, { reason: verdict.reason, ...(verdict.error ? { error: (tr.error = verdict.error) } : {}) });
    }
    this.transition(tr, 'Pending', {});
    const inputs = taskInputs(t, this.outcomeOf);
    if (t.cache) {
      try {
        const info = { task: t.id, version: t.version, params: t.params, inputs };
        tr.cacheKey = t.cache.key ? t.cache.key(info) : hashValue(info);
      } catch (e) {
        return this.transition(tr, 'Failed', { reason: 'its cache key could not be computed', error: (tr.error = errorInfo(e)) });
      }
      const hit = await this.store.getCache(tr.cacheKey);
      if (!still(tr, 'Pending')) return;
      const now = this.clock.now();
      if (hit && (hit.expiresAt === undefined || hit.expiresAt > now)) {
        await this.store.putResult(this.id, t.id, hit.value);
        if (!still(tr, 'Pending')) return;
        tr.result = hit.value;
        return this.transition(tr, 'Cached', { reason: `cache hit (stored ${new Date(hit.storedAt).toISOString()})` });
      }
    }
    await this.acquire(tr);
    if (!still(tr, 'Pending')) return;
    await this.attempts(tr, inputs);
  }

  /** A task's state and result, as the shared rules (rules.ts) read them. */
  private readonly outcomeOf = (id: string): TaskRun => this.tasks.get(id)!;

  private acquire(tr: TaskRun): Promise<void> {
    return new Promise((resolve) => {
      tr.grant = resolve;
      this.queue.push(tr);
      this.wake();
    });
  }

  private async attempts(tr: TaskRun, inputs: Record<string, unknown>): Promise<void> {
    const t = tr.t;
    for (;;) {
      tr.attempt++;
      tr.tries++;
      const controller = new AbortController();
      tr.controller = controller;
      tr.startedAt = this.clock.now();
      this.transition(tr, 'Running', {});
      const current = () => tr.controller === controller && tr.state === 'Running';
      let value: unknown;
      let failure: { error: unknown } | undefined;
      try {
        value = await this.withTimeout(tr, controller, () => t.node.options.run(this.context(tr, controller.signal), inputs));
        if (t.publish) checkOutputs(value, t.id);
        if (!current()) return;
        await this.store.putResult(this.id, t.id, value);
        if (t.cache && tr.cacheKey !== undefined && current()) {
          const now = this.clock.now();
          const expiresMs = t.cache.expiresMs;
          await this.store.putCache({ key: tr.cacheKey, task: t.id, storedAt: now, ...(expiresMs !== undefined ? { expiresAt: now + expiresMs } : {}), value });
        }
      } catch (e) {
        failure = { error: e };
      }
      if (!current()) return;
      tr.controller = undefined;
      this.release(tr);
      if (!failure) {
        tr.result = value;
        return this.transition(tr, 'Completed', {});
      }
      const e = failure.error;
      const error = errorInfo(e);
      tr.error = error;
      const code = isIbfError(e) ? e.code : undefined;
      const retry = tr.tries <= t.retry.count && retryable(t.retry, e, tr.attempt);
      if (!retry) return this.transition(tr, code === 'E_WORKER' ? 'Crashed' : 'Failed', { error });
      const delayMs = retryDelay(t.retry, tr.tries, this.random);
      this.transition(tr, 'Retrying', { error, delayMs });
      try {
        await this.clock.sleep(delayMs, this.stop.signal);
      } catch {
        return; // cancelled: cancelAll has set the state
      }
      if (!still(tr, 'Retrying')) return;
      await this.acquire(tr);
      if (!still(tr, 'Retrying')) return;
    }
  }

  /** Runs `work`; past the task's timeout the attempt fails at once (`E_TASK_TIMEOUT`) and its signal aborts. */
  private withTimeout(tr: TaskRun, controller: AbortController, work: () => unknown): Promise<unknown> {
    const ms = tr.t.timeoutMs;
    return raceTimeout(work, ms, this.clock, controller, () => new IbfError('E_TASK_TIMEOUT', `task ${tr.t.id} attempt ${tr.attempt} ran longer than its timeout of ${ms} ms`));
  }

  private context(tr: TaskRun, signal: AbortSignal): TaskContext<Params> {
    const t = tr.t;
    const attempt = tr.attempt;
    return taskContext({
      run: this.id, flow: this.plan.flow.name, task: t, attempt, signal, clock: this.clock,
      log: (level, message, fields) => this.log(level, message, { task: t.id, attempt }, fields),
      progress: (fraction, message) => {
        if (tr.attempt !== attempt || !still(tr, 'Running')) return;
        const progress = message === undefined ? { fraction } : { fraction, message };
        this.record.tasks[t.id] = { ...this.record.tasks[t.id]!, progress };
        this.dirty = true;
        this.observe({ kind: 'progress', ts: this.clock.now(), run: this.id, task: t.id, attempt, ...progress });
      },
    });
  }

  // ---- end of the run

  private async finish(): Promise<void> {
    const failed = this.order.filter((tr) => FAILURE_STATES.has(tr.state) && !tr.t.optional);
    let status: FlowRun['status'] = this.cancelled ? 'Cancelled' : failed.length > 0 ? 'Failed' : 'Completed';
    const publishers = this.order.filter((tr) => tr.t.publish);
    const collisions: string[] = [];
    for (const tr of publishers) {
      if (!isSuccess(tr.state) || tr.result === undefined) continue;
      for (const [name, data] of Object.entries(tr.result as Outputs)) {
        if (name in this.outputs) collisions.push(name);
        this.outputs[name] = data;
      }
    }
    const names = Object.keys(this.outputs).sort();
    const publishEvent = (committed: boolean, reason?: string, target?: string) =>
      this.emit({ kind: 'publish', run: this.id, committed, outputs: names, ...(target ? { target } : {}), ...(reason ? { reason } : {}) });
    if (publishers.length > 0 && status !== 'Completed') {
      const why = status === 'Cancelled' ? 'the run was cancelled' : `failed: ${failed.map((tr) => `${tr.t.id} (${tr.state})`).join(', ')}`;
      publishEvent(false, why);
      this.log('warn', `nothing published: ${why}`);
    } else if (collisions.length > 0) {
      status = 'Failed';
      const e = new IbfError('E_FLOW_RESULT', `publish steps gave the same output names: ${[...new Set(collisions)].join(', ')}`, {
        hint: 'Give every output of a run its own name.',
      });
      this.publishError = errorInfo(e);
      publishEvent(false, e.message);
      this.log('error', e.message);
    } else if (publishers.length > 0 && this.record.published) {
      this.receipt = { target: this.record.published.target, outputs: this.record.published.outputs };
      this.log('info', `outputs were published in an earlier session (${this.record.published.target})`);
    } else if (publishers.length > 0 && this.options.publisher) {
      status = await this.publish(this.options.publisher, names, publishEvent);
    }
    this.record.status = status;
    this.record.finishedAt = this.clock.now();
    this.emit({ kind: 'run', run: this.id, status, session: this.record.session });
    const ms = this.record.finishedAt - this.record.startedAt;
    this.log(status === 'Completed' ? 'info' : 'error', `run ${status}`, undefined, { ms, failed: failed.map((tr) => tr.t.id) });
    await this.flush();
  }

  private async publish(publisher: Publisher, names: string[], publishEvent: (committed: boolean, reason?: string, target?: string) => void): Promise<FlowRun['status']> {
    let staging: Staging | undefined;
    try {
      staging = await publisher.open(this.id);
      for (const name of names) await staging.put(name, this.outputs[name]!);
      this.receipt = await staging.commit();
    } catch (e) {
      await staging?.abort().catch(() => {});
      this.publishError = errorInfo(e);
      publishEvent(false, `publishing to ${publisher.target} failed: ${(e as Error).message}`, publisher.target);
      this.log('error', `publishing failed: ${(e as Error).message}`, undefined, { error: e });
      return 'Failed';
    }
    this.record.published = { at: this.clock.now(), target: this.receipt.target, outputs: this.receipt.outputs };
    publishEvent(true, undefined, this.receipt.target);
    this.log('info', `published ${names.length} output${names.length === 1 ? '' : 's'} to ${this.receipt.target}`);
    return 'Completed';
  }

  private outcome(): FlowRun {
    const states: Record<string, TaskState> = {};
    const results: Record<string, unknown> = {};
    const errors: Record<string, ErrorInfo> = {};
    for (const tr of this.order) {
      states[tr.t.id] = tr.state;
      if (isSuccess(tr.state)) results[tr.t.id] = tr.result;
      if ((tr.state === 'Failed' || tr.state === 'Crashed') && tr.error) errors[tr.t.id] = tr.error;
    }
    return {
      run: this.id,
      flow: this.plan.flow.name,
      status: this.record.status as FlowRun['status'],
      session: this.record.session,
      startedAt: this.record.startedAt,
      finishedAt: this.record.finishedAt!,
      states,
      results,
      errors,
      outputs: this.outputs,
      ...(this.receipt ? { published: this.receipt } : {}),
      ...(this.publishError ? { publishError: this.publishError } : {}),
    };
  }

  // ---- state, events, logs, commits

  private transition(tr: TaskRun, to: TaskState, extra: Pick<TaskEvent, 'reason' | 'error' | 'delayMs'>, from: TaskState | null = tr.state): void {
    if (from !== null) {
      const allowed = (this.resuming ? RESUME_TRANSITIONS : TRANSITIONS)[from];
      if (!allowed.includes(to)) throw new Error(`flow runner bug: ${tr.t.id} cannot go from ${from} to ${to}`);
    }
    const now = this.clock.now();
    tr.state = to;
    if (to === 'Scheduled') tr.error = undefined;
    const rec: TaskRecord = {
      state: to,
      attempt: tr.attempt,
      updatedAt: now,
      ...(extra.reason ? { reason: extra.reason } : {}),
      ...(tr.error ? { error: tr.error } : {}),
      ...(tr.cacheKey !== undefined ? { cacheKey: tr.cacheKey } : {}),
      ...(to === 'Running' || !this.record.tasks[tr.t.id]?.progress ? {} : { progress: this.record.tasks[tr.t.id]!.progress }),
    };
    this.record.tasks[tr.t.id] = rec;
    if (to === 'Scheduled') tr.busy = false;
    if (!this.resuming && isFinal(to)) {
      for (const d of tr.dependents) if (--d.waitingOn === 0) this.ready.push(d);
    }
    this.emit({ kind: 'task', run: this.id, task: tr.t.id, attempt: tr.attempt, from, to, ...extra });
    const where = { task: tr.t.id, attempt: tr.attempt };
    const why = extra.reason ? `: ${extra.reason}` : '';
    switch (to) {
      case 'Running':
        this.log('debug', `attempt ${tr.attempt} started`, where);
        break;
      case 'Completed':
        this.log('info', `Completed${why}`, where, tr.startedAt !== undefined && !extra.reason ? { ms: now - tr.startedAt } : undefined);
        break;
      case 'Cached':
      case 'Skipped':
        this.log('info', `${to}${why}`, where);
        break;
      case 'Retrying':
        this.log('warn', `attempt ${tr.attempt} failed: ${extra.error?.message}; retrying in ${extra.delayMs} ms`, where, { error: extra.error });
        break;
      case 'Failed':
      case 'Crashed':
        this.log('error', `${to}${why}${extra.error ? `: ${extra.error.message}` : ''}`, where, extra.error ? { error: extra.error } : undefined);
        break;
      case 'Cancelled':
        this.log('warn', `Cancelled${why}`, where);
        break;
    }
    this.wake();
  }

  private emit(e: Unstamped<FlowEvent>): void {
    const event = { seq: this.record.nextSeq++, ts: this.clock.now(), ...e } as FlowEvent;
    this.events.push(event);
    this.dirty = true;
    this.observe(event);
  }

  private observe(e: FlowObservation): void {
    try {
      this.options.onEvent?.(e);
    } catch {
      // an observer's bug must not stop the run
    }
  }

  private log(level: LogLevel, message: string, where?: { task: string; attempt: number }, fields?: Record<string, unknown>): void {
    if (!atLeast(level, this.logLevel)) return;
    const r: LogRecord = {
      ts: this.clock.now(), level, flow: this.plan.flow.name, run: this.id,
      ...(where ? { task: where.task, attempt: where.attempt } : {}),
      message,
      ...(fields && Object.keys(fields).length > 0 ? { fields: logFields(fields) } : {}),
    };
    this.logs.push(r);
    this.dirty = true;
    if (this.logs.length >= LOG_FLUSH_AT) this.wake();
    for (const sink of this.sinks) {
      try {
        sink(r);
      } catch {
        // a sink's failure must not stop the run
      }
    }
  }

  private async flush(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    this.record.updatedAt = this.clock.now();
    const record = { ...this.record, tasks: { ...this.record.tasks } };
    await this.store.commit(this.id, { record, events: this.events.splice(0), logs: this.logs.splice(0) });
  }

  private spawn(p: Promise<void>): void {
    p.catch((e: unknown) => {
      this.fatal ??= { error: e };
      this.wake();
    });
  }

  private wake(): void {
    this.woken = true;
    const resolve = this.resolveWake;
    this.resolveWake = undefined;
    resolve?.();
  }

  private async waitForWake(): Promise<void> {
    if (!this.woken) await new Promise<void>((resolve) => (this.resolveWake = resolve));
    this.woken = false;
  }
}
