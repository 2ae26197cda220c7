/**
 * @module flow/durable
 * Runs a flow on a durable step runner shaped like Cloudflare Workflows' `WorkflowStep`: each task is one
 * `step.do(taskId, config, fn)`, so the platform persists its result and an instance replayed after a
 * crash gets it back without running the task again. Tasks whose dependencies are done run at once
 * (parallel `step.do` calls, within the flow's concurrency limits).
 *
 * The flow is planned and checked as `runFlow` plans it (plan.ts: the DAG, parameters inherited and parsed
 * by schemas), and each task is decided by the same rules (rules.ts: complete condition, inputs, trigger,
 * `after`; the inputs it gets; whether a failure is retried; its timeout). Step results are the codec's
 * JSON (typed arrays, NaN, ±Infinity, -0, Dates ... survive; a value it cannot keep fails the task with
 * `E_FLOW_RESULT`), inside a small record that also carries failures the policy does not retry.
 *
 * Retry policy -> step config ({@link stepRetries}):
 * - `count` -> `retries.limit` (retries after the first attempt, as Cloudflare counts them).
 * - `delays` / `backoff` -> `delay` (ms) and a `backoff` kind, exactly when the platform's formula
 *   (constant d, linear d n, exponential d 2^(n-1)) gives the policy's delays for every retry; otherwise
 *   the kind closest to them, and the mapping is reported as inexact: delay lists of another shape,
 *   backoff factors other than 1 and 2, `maxMs` caps reached within `count`.
 * - `jitter` cannot be mapped (the platform spreads nothing): ignored, reported as inexact.
 * - `codes` / `when` are decided inside `fn`: an error the policy does not retry (and `E_FLOW_RESULT`,
 *   `E_CANCELLED`) is thrown as `nonRetryable(error)` when that factory is given (Cloudflare's
 *   `NonRetryableError`, which this runtime-neutral module cannot import), or else returned as a failure
 *   record: the step "succeeds", the platform persists the failure, and the task is Failed, not retried.
 * - `timeoutMs` -> `timeout` (per attempt, as the platform counts it), and inside `fn` the task's signal
 *   aborts with `E_TASK_TIMEOUT` at the deadline, as in `runFlow`.
 *
 * Publishing: every publish step runs last, all in one durable step named {@link PUBLISH_STEP}, after
 * every other task (except tasks that depend on a publish step, which run after it). Inside it each
 * publish step runs with its own retry policy (in-process, delays and jitter exact), and when no
 * required task failed the outputs go to the `publisher` (open, put each, commit). The step returns the
 * publish steps' states and the receipt, so a replay neither runs them nor publishes again; the outputs
 * themselves leave the step only with `returnOutputs` (default true; turn it off when outputs are larger
 * than a step result may be).
 *
 * Not used here: `cache` (an instance's steps are its cache), stores and resume (the platform's replay
 * is the resume), events. `ctx.attempt` is the platform's attempt number when it passes one to `fn`
 * (Cloudflare does, as `ctx.attempt`), else a count of the attempts this isolate has made.
 */
import { IbfError, isIbfError } from '../errors.js';
import { systemClock, type Clock } from './clock.js';
import { decodeValue, encodeValue, type Json } from './codec.js';
import type { ConcurrencyLimits, Flow, Params, TaskContext } from './define.js';
import { atLeast, logFields, type LogLevel, type LogRecord, type LogSink } from './log.js';
import { planFlow, type FlowPlan, type PlannedTask } from './plan.js';
import { retryDelay, type RetryPolicy } from './policy.js';
import { checkOutputs, type Outputs, type PublishReceipt, type Publisher, type Staging } from './publish.js';
import { raceTimeout, retryable, taskContext, taskInputs, taskVerdict, type TaskOutcome } from './rules.js';
import { FAILURE_STATES, errorInfo, isSuccess, type ErrorInfo, type TaskState } from './states.js';
import type { RunOutcome } from './run.js';
import { RUN_ID_PATTERN } from './store.js';

/** The step config of `step.do` (Cloudflare's `WorkflowStepConfig`); delays and timeouts in ms here. */
export interface DurableStepConfig {
  retries?: { limit: number; delay: number | string; backoff?: 'constant' | 'linear' | 'exponential' };
  timeout?: number | string;
}

/**
 * A durable step runner (Cloudflare's `WorkflowStep`): `do` runs `fn` once per name and persists what it
 * returns; called again with that name (in a replay) it returns the persisted value without running
 * `fn`. A throwing `fn` is retried up to `retries.limit` times, after delays per `backoff`.
 */
export interface DurableStep {
  do<T>(name: string, config: DurableStepConfig, fn: (ctx?: { attempt?: number }) => Promise<T>): Promise<T>;
}

export interface DurableRunOptions {
  /** `ctx.run` and the publisher's run (e.g. the Workflow instance id). Default: the flow name. */
  runId?: string;
  /** Put before every step name, to run several flows on one instance (e.g. `"daily:"`). Default none. */
  stepPrefix?: string;
  /** Override the flow's parameters (families' and tasks' own still win). */
  params?: Params;
  /** Merged over the flow's limits: at most this many steps (with a tag) in flight. */
  concurrency?: ConcurrencyLimits;
  /** Timeouts, `ctx.sleep` and retry delays inside the publish step. Default {@link systemClock}. */
  clock?: Clock;
  /** [0, 1) for the jitter of publish-step retries. Default `Math.random`. */
  random?: () => number;
  /** Cancels: no step starts after it aborts, running tasks' signals abort, nothing is published. */
  signal?: AbortSignal;
  /** Where the publish steps' outputs go when every required task succeeded. */
  publisher?: Publisher;
  /** Config of the publish step itself (default: no retries; its tasks retry per their own policies). */
  publishStep?: DurableStepConfig;
  /** Wraps an error the policy does not retry (Cloudflare: `(e) => new NonRetryableError(message)`). */
  nonRetryable?: (error: unknown) => Error;
  /** Whether the publish step returns the outputs (into `results` and `outputs`). Default true. */
  returnOutputs?: boolean;
  logs?: LogSink | readonly LogSink[];
  /** Least level kept (default `info`). */
  logLevel?: LogLevel;
  onProgress?: (p: { task: string; attempt: number; fraction: number; message?: string }) => void;
}

/**
 * The outcome of a durable run, as `runFlow`'s: tasks end Completed, Skipped, Failed, Crashed or
 * Cancelled; publish steps' results and outputs are kept only with `returnOutputs`.
 */
export interface DurableFlowRun extends RunOutcome {
  status: 'Completed' | 'Failed' | 'Cancelled';
}

/** Name of the one step that runs the publish steps and commits their outputs (no task id has parentheses). */
export const PUBLISH_STEP = '(publish)';

/** What a task's step persists. */
type StepRecord = { ok: Json } | { failed: ErrorInfo };

/** What the publish step persists. */
interface PublishRecord {
  tasks: Record<string, { state: TaskState; result?: Json; error?: ErrorInfo; reason?: string }>;
  outputs: string[];
  published?: PublishReceipt;
  publishError?: ErrorInfo;
}

interface Outcome extends TaskOutcome {
  readonly error?: ErrorInfo;
  readonly reason?: string;
}

type Backoff = NonNullable<DurableStepConfig['retries']>['backoff'];

/**
 * The step retries for `policy` (see the module header): `retries` for the step config, and what of the
 * policy they do not reproduce (empty when exact; `codes` and `when` are handled inside the step).
 */
export function stepRetries(policy: RetryPolicy): { retries: { limit: number; delay: number; backoff: NonNullable<Backoff> }; inexact: string[] } {
  const n = policy.count;
  const inexact: string[] = [];
  if (policy.jitter) inexact.push(`jitter ${policy.jitter} (steps retry without spread)`);
  if (n <= 0) return { retries: { limit: 0, delay: 0, backoff: 'constant' }, inexact: [] };
  const wanted = Array.from({ length: n }, (_, k) => retryDelay({ ...policy, jitter: 0 }, k + 1, () => 0.5));
  const d = wanted[0]!;
  const kinds = { constant: (_k: number) => d, linear: (k: number) => d * k, exponential: (k: number) => d * 2 ** (k - 1) } as const;
  const off = (kind: keyof typeof kinds) => wanted.reduce((s, w, i) => s + Math.abs(kinds[kind](i + 1) - w), 0);
  // ties (few retries) go to the policy's own shape: exponential for a backoff, constant first for delays
  const order = policy.backoff && !policy.delays?.length ? (['exponential', 'constant', 'linear'] as const) : (['constant', 'linear', 'exponential'] as const);
  const best = order.reduce<keyof typeof kinds>((a, b) => (off(b) < off(a) ? b : a), order[0]);
  if (off(best) > 0) {
    const as = wanted.map((_, i) => kinds[best](i + 1));
    inexact.push(`retry delays ${wanted.join(', ')} ms become ${as.join(', ')} ms (${best} from ${d} ms)`);
  }
  return { retries: { limit: n, delay: d, backoff: best }, inexact };
}

/** Runs `flow` on `step`; resolves when every task is final, rejects only for bad input (a flow that does not plan). */
export async function runFlowOnSteps(flow: Flow, step: DurableStep, options: DurableRunOptions = {}): Promise<DurableFlowRun> {
  const plan = planFlow(flow, { params: options.params, concurrency: options.concurrency });
  const run = options.runId ?? flow.name;
  if (!RUN_ID_PATTERN.test(run)) {
    throw new IbfError('E_USAGE', `run id "${run}" is not usable`, { hint: 'Use up to 128 letters, digits, "_", ".", "-", not starting with ".".' });
  }
  return new DurableRunner(plan, run, step, options).execute();
}

/** Concurrency slots (flow-wide and per tag), first come first served, passing over a task whose tag is full. */
class Slots {
  private running = 0;
  private readonly tagCounts = new Map<string, number>();
  private readonly queue: Array<{ tags: readonly string[]; grant: () => void }> = [];

  constructor(private readonly limits: FlowPlan['limits']) {}

  acquire(tags: readonly string[]): Promise<void> {
    return new Promise((grant) => {
      this.queue.push({ tags, grant });
      this.pump();
    });
  }

  release(tags: readonly string[]): void {
    this.running--;
    for (const tag of tags) this.tagCounts.set(tag, this.tagCounts.get(tag)! - 1);
    this.pump();
  }

  private pump(): void {
    const { max, tags: limits } = this.limits;
    for (let i = 0; i < this.queue.length && this.running < max; ) {
      const q = this.queue[i]!;
      if (q.tags.some((tag) => (this.tagCounts.get(tag) ?? 0) >= (limits[tag] ?? Infinity))) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.running++;
      for (const tag of q.tags) this.tagCounts.set(tag, (this.tagCounts.get(tag) ?? 0) + 1);
      q.grant();
    }
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

class DurableRunner {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly sinks: readonly LogSink[];
  private readonly logLevel: LogLevel;
  private readonly slots: Slots;
  private readonly outcomes = new Map<string, Promise<Outcome>>();
  private readonly settled = new Map<string, Outcome>();
  /** Attempts this isolate made per task (when the platform does not number them). */
  private readonly attempts = new Map<string, number>();
  /** The error of a task's last attempt here (the platform may hand back a plainer one). */
  private readonly lastError = new Map<string, unknown>();
  /** Non-publish tasks that depend on a publish step: they run after the publish step. */
  private readonly afterPublish = new Set<string>();
  private publishing: Promise<Map<string, Outcome>> | undefined;
  private published?: PublishReceipt;
  private publishError?: ErrorInfo;
  private outputs: Outputs = {};

  constructor(
    private readonly plan: FlowPlan,
    private readonly id: string,
    private readonly step: DurableStep,
    private readonly options: DurableRunOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.sinks = options.logs === undefined ? [] : typeof options.logs === 'function' ? [options.logs] : (options.logs as readonly LogSink[]);
    this.logLevel = options.logLevel ?? 'info';
    this.slots = new Slots(plan.limits);
    const isPublish = (d: string) => this.plan.byId.get(d)!.publish;
    for (let changed = true; changed; ) {
      changed = false;
      for (const t of plan.tasks) {
        if (t.publish || this.afterPublish.has(t.id) || !t.deps.some((d) => isPublish(d) || this.afterPublish.has(d))) continue;
        this.afterPublish.add(t.id);
        changed = true;
      }
    }
    const bad = plan.tasks.flatMap((t) => (t.publish ? t.deps.filter((d) => this.afterPublish.has(d)).map((d) => ({ t, d })) : []));
    if (bad.length) {
      throw IbfError.fromProblems('E_FLOW_INVALID', `flow "${plan.flow.name}" cannot run on durable steps`, bad.map(({ t, d }) => ({
        path: t.id,
        message: `publish step depends on ${d}, which depends on a publish step; durable runs run every publish step in one step, after the other tasks`,
      })), 'Let publish steps depend only on tasks that do not depend on publish steps.');
    }
  }

  private get cancelled(): boolean {
    return this.options.signal?.aborted === true;
  }

  private cancelError(): IbfError {
    return new IbfError('E_CANCELLED', `flow ${this.plan.flow.name} run ${this.id} was cancelled`);
  }

  async execute(): Promise<DurableFlowRun> {
    this.log('info', 'run started on durable steps', undefined, { tasks: this.plan.tasks.length });
    for (const t of this.plan.tasks) {
      const { inexact } = stepRetries(t.retry);
      if (inexact.length) this.log('debug', `retry policy mapped to step retries inexactly: ${inexact.join('; ')}`, { task: t.id, attempt: 0 });
    }
    const all = await Promise.all(this.plan.tasks.map((t) => this.outcome(t.id)));
    const states: Record<string, TaskState> = {};
    const results: Record<string, unknown> = {};
    const errors: Record<string, ErrorInfo> = {};
    this.plan.tasks.forEach((t, i) => {
      const o = all[i]!;
      states[t.id] = o.state;
      if (isSuccess(o.state) && (o.result !== undefined || !t.publish)) results[t.id] = o.result;
      if ((o.state === 'Failed' || o.state === 'Crashed') && o.error) errors[t.id] = o.error;
    });
    const failed = this.plan.tasks.filter((t, i) => FAILURE_STATES.has(all[i]!.state) && !t.optional);
    const status: DurableFlowRun['status'] = this.cancelled ? 'Cancelled' : failed.length > 0 || this.publishError ? 'Failed' : 'Completed';
    this.log(status === 'Completed' ? 'info' : 'error', `run ${status}`, undefined, { failed: failed.map((t) => t.id) });
    return {
      run: this.id,
      flow: this.plan.flow.name,
      status,
      states,
      results,
      errors,
      outputs: this.outputs,
      ...(this.published ? { published: this.published } : {}),
      ...(this.publishError ? { publishError: this.publishError } : {}),
    };
  }

  /** The outcome of task `id` (started once, when first asked for). */
  private outcome(id: string): Promise<Outcome> {
    let p = this.outcomes.get(id);
    if (!p) {
      const t = this.plan.byId.get(id)!;
      p = (t.publish ? this.publishAll().then((m) => m.get(id)!) : this.runTask(t)).then((o) => {
        this.settled.set(id, o);
        return o;
      });
      this.outcomes.set(id, p);
    }
    return p;
  }

  private readonly outcomeOf = (id: string): Outcome => this.settled.get(id)!;

  /** Cancelled, or the verdict of the shared rules; undefined: the task runs. */
  private decide(t: PlannedTask, outcomeOf: (id: string) => Outcome): Outcome | undefined {
    if (this.cancelled) return { state: 'Cancelled', reason: 'the run was cancelled' };
    try {
      const v = taskVerdict(t, outcomeOf);
      return v ? { state: v.to, reason: v.reason } : undefined;
    } catch (e) {
      return { state: 'Failed', reason: 'a condition threw', error: errorInfo(e) };
    }
  }

  private stepName(name: string): string {
    return `${this.options.stepPrefix ?? ''}${name}`;
  }

  private async runTask(t: PlannedTask): Promise<Outcome> {
    await Promise.all(t.deps.map((d) => this.outcome(d)));
    const decided = this.decide(t, this.outcomeOf);
    if (decided) return this.done(t, decided);
    const inputs = taskInputs(t, this.outcomeOf);
    await this.slots.acquire(t.tags);
    try {
      if (this.cancelled) return this.done(t, { state: 'Cancelled', reason: 'the run was cancelled' });
      const { retries } = stepRetries(t.retry);
      const config: DurableStepConfig = { retries, ...(t.timeoutMs !== undefined ? { timeout: t.timeoutMs } : {}) };
      let rec: unknown;
      try {
        rec = await this.step.do(this.stepName(t.id), config, (sctx) => this.attempt(t, inputs, sctx?.attempt));
      } catch (e) {
        if (this.cancelled) return this.done(t, { state: 'Cancelled', reason: 'the run was cancelled' });
        rec = { failed: errorInfo(this.lastError.get(t.id) ?? e) };
      }
      if (isRecord(rec) && 'ok' in rec) return this.done(t, { state: 'Completed', result: decodeValue(rec.ok as Json) });
      if (isRecord(rec) && isRecord(rec.failed) && typeof rec.failed.message === 'string') {
        const error = rec.failed as unknown as ErrorInfo;
        return this.done(t, { state: error.code === 'E_WORKER' ? 'Crashed' : 'Failed', error });
      }
      throw new IbfError('E_FLOW_STATE', `step ${this.stepName(t.id)} gave back ${JSON.stringify(rec)?.slice(0, 80)}, not a record of this runner`, {
        hint: 'Another step of the workflow has this name: give the flow a stepPrefix.',
      });
    } finally {
      this.slots.release(t.tags);
    }
  }

  /** One attempt of `t`, as the step's `fn`. */
  private async attempt(t: PlannedTask, inputs: Record<string, unknown>, platformAttempt: number | undefined): Promise<StepRecord> {
    const attempt = platformAttempt ?? (this.attempts.get(t.id) ?? 0) + 1;
    this.attempts.set(t.id, attempt);
    this.lastError.delete(t.id);
    const controller = new AbortController();
    const onAbort = () => controller.abort(this.cancelError());
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (this.cancelled) throw this.cancelError();
      this.log('debug', `attempt ${attempt} started`, { task: t.id, attempt });
      const value = await raceTimeout(() => t.node.options.run(this.context(t, attempt, controller.signal), inputs), t.timeoutMs, this.clock, controller,
        () => new IbfError('E_TASK_TIMEOUT', `task ${t.id} attempt ${attempt} ran longer than its timeout of ${t.timeoutMs} ms`));
      return { ok: encodeValue(value) };
    } catch (e) {
      this.lastError.set(t.id, e);
      if (retryable(t.retry, e, attempt) && !this.cancelled) {
        this.log('warn', `attempt ${attempt} failed: ${(e as Error)?.message ?? String(e)}`, { task: t.id, attempt }, { error: errorInfo(e) });
        throw e;
      }
      if (this.options.nonRetryable) throw this.options.nonRetryable(e);
      if (this.cancelled) throw e;
      // a failure the policy does not retry: persisted as the step's value, so it is final
      return { failed: errorInfo(e) };
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private done(t: PlannedTask, o: Outcome): Outcome {
    const where = { task: t.id, attempt: this.attempts.get(t.id) ?? 0 };
    const why = o.reason ? `: ${o.reason}` : '';
    if (o.state === 'Failed' || o.state === 'Crashed') this.log('error', `${o.state}${why}${o.error ? `: ${o.error.message}` : ''}`, where, o.error ? { error: o.error } : undefined);
    else this.log(o.state === 'Cancelled' ? 'warn' : 'info', `${o.state}${why}`, where);
    return o;
  }

  // ---- the publish step

  private publishAll(): Promise<Map<string, Outcome>> {
    this.publishing ??= this.publishStep();
    return this.publishing;
  }

  private async publishStep(): Promise<Map<string, Outcome>> {
    const before = this.plan.tasks.filter((t) => !t.publish && !this.afterPublish.has(t.id));
    await Promise.all(before.map((t) => this.outcome(t.id)));
    const pubs = this.plan.tasks.filter((t) => t.publish);
    const all = (o: Outcome) => new Map(pubs.map((t) => [t.id, this.done(t, o)]));
    if (this.cancelled) return all({ state: 'Cancelled', reason: 'the run was cancelled' });
    let rec: PublishRecord;
    try {
      const config = this.options.publishStep ?? { retries: { limit: 0, delay: 0, backoff: 'constant' } };
      rec = await this.step.do(this.stepName(PUBLISH_STEP), config, () => this.publishInStep(pubs, before));
    } catch (e) {
      if (this.cancelled) return all({ state: 'Cancelled', reason: 'the run was cancelled' });
      return all({ state: 'Failed', reason: 'the publish step failed', error: errorInfo(e) });
    }
    if (!isRecord(rec) || !isRecord(rec.tasks) || !Array.isArray(rec.outputs)) {
      throw new IbfError('E_FLOW_STATE', `step ${this.stepName(PUBLISH_STEP)} gave back something else than this runner's publish record`, {
        hint: 'Another step of the workflow has this name: give the flow a stepPrefix.',
      });
    }
    if (rec.published) this.published = rec.published;
    if (rec.publishError) this.publishError = rec.publishError;
    const out = new Map<string, Outcome>();
    for (const t of pubs) {
      const r = rec.tasks[t.id] ?? { state: 'Failed' as const, error: { name: 'IbfError', message: 'missing from the publish record', code: 'E_FLOW_STATE' } };
      const result = r.result === undefined ? undefined : decodeValue(r.result);
      if (isSuccess(r.state) && result !== undefined) Object.assign(this.outputs, result as Outputs);
      out.set(t.id, this.done(t, { state: r.state, ...(result !== undefined ? { result } : {}), ...(r.error ? { error: r.error } : {}), ...(r.reason ? { reason: r.reason } : {}) }));
    }
    return out;
  }

  /** The publish step's `fn`: every publish step (own retries), then the commit. Returns; throws only if cancelled. */
  private async publishInStep(pubs: readonly PlannedTask[], before: readonly PlannedTask[]): Promise<PublishRecord> {
    const local = new Map<string, Outcome>();
    const started = new Map<string, Promise<Outcome>>();
    const outcomeOf = (d: string) => local.get(d) ?? this.outcomeOf(d);
    const runPub = (t: PlannedTask): Promise<Outcome> => {
      let p = started.get(t.id);
      if (!p) {
        p = (async () => {
          await Promise.all(t.deps.filter((d) => this.plan.byId.get(d)!.publish).map((d) => runPub(this.plan.byId.get(d)!)));
          const o = this.decide(t, outcomeOf) ?? (await this.inProcess(t, taskInputs(t, outcomeOf)));
          local.set(t.id, o);
          return o;
        })();
        started.set(t.id, p);
      }
      return p;
    };
    await Promise.all(pubs.map(runPub));
    if (this.cancelled) throw this.options.nonRetryable ? this.options.nonRetryable(this.cancelError()) : this.cancelError();

    const outputs: Outputs = {};
    const collisions: string[] = [];
    for (const t of pubs) {
      const o = local.get(t.id)!;
      if (!isSuccess(o.state) || o.result === undefined) continue;
      for (const [name, data] of Object.entries(o.result as Outputs)) {
        if (name in outputs) collisions.push(name);
        outputs[name] = data;
      }
    }
    const names = Object.keys(outputs).sort();
    const failed = [...before, ...pubs].filter((t) => FAILURE_STATES.has(outcomeOf(t.id).state) && !t.optional);
    const rec: PublishRecord = { tasks: {}, outputs: names };
    for (const t of pubs) {
      const o = local.get(t.id)!;
      rec.tasks[t.id] = {
        state: o.state,
        ...(o.result !== undefined && this.options.returnOutputs !== false ? { result: encodeValue(o.result) } : {}),
        ...(o.error ? { error: o.error } : {}),
        ...(o.reason ? { reason: o.reason } : {}),
      };
    }
    if (failed.length > 0) {
      this.log('warn', `nothing published: failed: ${failed.map((t) => `${t.id} (${outcomeOf(t.id).state})`).join(', ')}`);
    } else if (collisions.length > 0) {
      const e = new IbfError('E_FLOW_RESULT', `publish steps gave the same output names: ${[...new Set(collisions)].join(', ')}`, { hint: 'Give every output of a run its own name.' });
      rec.publishError = errorInfo(e);
      this.log('error', e.message);
    } else if (this.options.publisher) {
      const publisher = this.options.publisher;
      let staging: Staging | undefined;
      try {
        staging = await publisher.open(this.id);
        for (const name of names) await staging.put(name, outputs[name]!);
        rec.published = await staging.commit();
        this.log('info', `published ${names.length} output${names.length === 1 ? '' : 's'} to ${rec.published.target}`);
      } catch (e) {
        await staging?.abort().catch(() => {});
        rec.publishError = errorInfo(e);
        this.log('error', `publishing to ${publisher.target} failed: ${(e as Error)?.message ?? String(e)}`);
      }
    }
    return rec;
  }

  /** A publish step's attempts inside the publish step: its own retry policy, delays and jitter as in `runFlow`. */
  private async inProcess(t: PlannedTask, inputs: Record<string, unknown>): Promise<Outcome> {
    for (let attempt = 1; ; attempt++) {
      this.attempts.set(t.id, attempt);
      const controller = new AbortController();
      const onAbort = () => controller.abort(this.cancelError());
      this.options.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        if (this.cancelled) return { state: 'Cancelled', reason: 'the run was cancelled' };
        const value = await raceTimeout(() => t.node.options.run(this.context(t, attempt, controller.signal), inputs), t.timeoutMs, this.clock, controller,
          () => new IbfError('E_TASK_TIMEOUT', `task ${t.id} attempt ${attempt} ran longer than its timeout of ${t.timeoutMs} ms`));
        checkOutputs(value, t.id);
        return { state: 'Completed', result: value };
      } catch (e) {
        if (this.cancelled) return { state: 'Cancelled', reason: 'the run was cancelled' };
        const error = errorInfo(e);
        if (!(attempt <= t.retry.count && retryable(t.retry, e, attempt))) return { state: isIbfError(e) && e.code === 'E_WORKER' ? 'Crashed' : 'Failed', error };
        const delayMs = retryDelay(t.retry, attempt, this.random);
        this.log('warn', `attempt ${attempt} failed: ${error.message}; retrying in ${delayMs} ms`, { task: t.id, attempt }, { error });
        try {
          await this.clock.sleep(delayMs, this.options.signal);
        } catch {
          return { state: 'Cancelled', reason: 'the run was cancelled' };
        }
      } finally {
        this.options.signal?.removeEventListener('abort', onAbort);
      }
    }
  }

  // ---- task context and logs

  private context(t: PlannedTask, attempt: number, signal: AbortSignal): TaskContext<Params> {
    return taskContext({
      run: this.id, flow: this.plan.flow.name, task: t, attempt, signal, clock: this.clock,
      log: (level, message, fields) => this.log(level, message, { task: t.id, attempt }, fields),
      progress: (fraction, message) => {
        try {
          this.options.onProgress?.({ task: t.id, attempt, fraction, ...(message === undefined ? {} : { message }) });
        } catch {
          // an observer's bug must not stop the task
        }
      },
    });
  }

  private log(level: LogLevel, message: string, where?: { task: string; attempt: number }, fields?: Record<string, unknown>): void {
    if (!atLeast(level, this.logLevel) || this.sinks.length === 0) return;
    const r: LogRecord = {
      ts: this.clock.now(), level, flow: this.plan.flow.name, run: this.id,
      ...(where ? { task: where.task, attempt: where.attempt } : {}),
      message,
      ...(fields && Object.keys(fields).length > 0 ? { fields: logFields(fields) } : {}),
    };
    for (const sink of this.sinks) {
      try {
        sink(r);
      } catch {
        // a sink's failure must not stop the run
      }
    }
  }
}
