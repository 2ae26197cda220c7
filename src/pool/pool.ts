/**
 * @module pool/pool
 * A Comlink worker pool typed from {@link PoolProtocol}, runtime-neutral: the runtime entries give it a
 * `createWorker` factory (node.ts: worker_threads, browser.ts: Web Workers) and it never touches
 * `Worker` or `process` itself. `size: 0` runs every operation inline on the calling thread.
 *
 * - Dispatch: one task per worker at a time; a queued task goes to the idle worker that has been busy the
 *   least (total ms), and a new worker is started (lazily) while fewer than `size` are alive.
 * - Buffers are transferred, not copied: see {@link Pool.run} for what is detached.
 * - A worker that exits, throws outside an operation, or gives no answer within `timeoutMs` is terminated
 *   and replaced, and its task runs again (at most `maxRetries` more times), then fails with an IbfError.
 * - Errors thrown by an operation (IbfError or not) are not retried: they arrive as IbfError (code, message,
 *   hint, problems) on the caller's side.
 * - Cancellation: an aborted signal rejects its task at once with `signal.reason`, whether queued or
 *   running; a running task's worker finishes (or times out) in the background and stays in the pool.
 */
import * as Comlink from 'comlink';
import { IbfError, type Problem } from '../errors.js';
import type { ImpactKernel, KernelName } from '../kernels/types.js';
import { checkOp, createHandlers } from './handlers.js';
import type { PathOpener } from '../engine/sources.js';
import {
  POOL_ERROR_CODE, TRANSFER, errorFromWire, errorToWire,
  type OpArgs, type OpResult, type Outcome, type PoolHandlers, type PoolOp, type PoolWorkerApi, type WorkerInit,
} from './protocol.js';

/** One started worker, as a runtime entry hands it to the pool. */
export interface WorkerHandle {
  /** Comlink endpoint of the worker (worker_threads through the node adapter; a Web Worker as it is). */
  readonly endpoint: Comlink.Endpoint;
  /** Sent to the worker once, before its first task (kernel choice, WASM URLs). */
  readonly init?: WorkerInit;
  /** Registers `listener`, called (at most once) when the worker dies on its own: exit, uncaught error. */
  onFailure(listener: (reason: string) => void): void;
  /** Stops the worker now; its pending calls never answer. */
  terminate(): unknown;
  /** Whether the worker keeps the host process alive (Node `ref`/`unref`): on while it has work. */
  keepAlive?(on: boolean): void;
}

/**
 * A worker's death, reported once: `fail` records the first reason and tells every listener (those
 * registered later too). The per-runtime worker factories wire their worker's events to `fail`.
 */
export function failureLatch(): { fail(reason: string): void; onFailure(listener: (reason: string) => void): void } {
  const listeners: Array<(reason: string) => void> = [];
  let failed: string | undefined;
  return {
    fail(reason) {
      if (failed !== undefined) return;
      failed = reason;
      for (const l of listeners) l(reason);
    },
    onFailure(listener) {
      listeners.push(listener);
      if (failed !== undefined) listener(failed);
    },
  };
}

/** The logger the pool reports to (`console` fits). */
export interface PoolLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface PoolOptions {
  /** Number of workers (integer >= 0); 0 runs every operation inline on the calling thread. */
  size: number;
  /** Starts one worker; required when `size > 0`. */
  createWorker?: () => WorkerHandle;
  /** Loads the kernel of the inline path; required when `size` is 0 (called once, on the first task). */
  loadKernel?: () => Promise<ImpactKernel>;
  /** Opens file paths for `assessTile` on the inline path (Node). */
  openPath?: PathOpener;
  /** Longest one attempt of a task may run in a worker, from posting it to its answer (ms); 0 = no limit. Default 300000. */
  timeoutMs?: number;
  /** How many times a task whose worker crashed or hung runs again (integer >= 0). Default 2. */
  maxRetries?: number;
  /** Enables the diagnostic operations `sleep` and `exit` (tests only). Default false. */
  diagnostics?: boolean;
  logger?: PoolLogger;
}

/**
 * A task's arguments: the value, or a function that makes them, called once per attempt. Only the function
 * form can be retried after its buffers were transferred to a worker that then died.
 */
export type TaskArgs<K extends PoolOp> = OpArgs<K> | (() => OpArgs<K> | Promise<OpArgs<K>>);

export interface RunOptions {
  /** Rejects the task with `signal.reason` as soon as it aborts. */
  signal?: AbortSignal;
  /** Transfer the input buffers (default true). `false` copies them instead, and the caller keeps them. */
  transfer?: boolean;
}

export interface PoolStats {
  size: number;
  /** Workers alive (started, not dead). */
  workers: number;
  /** Workers running a task. */
  busy: number;
  /** Tasks waiting for a worker. */
  queued: number;
  /** Workers started since the pool was created (replacements included). */
  spawned: number;
  /** Workers terminated because they crashed, hung or could not load their kernel. */
  replaced: number;
  /** Attempts run again after a crash or timeout. */
  retries: number;
  /** Tasks answered (with a result or an operation's error). */
  completed: number;
  /** Kernel of each live worker that has loaded one (inline: the inline kernel). */
  kernels: KernelName[];
}

export interface Pool {
  readonly size: number;
  /**
   * Runs `op` on the least-busy worker (or inline when `size` is 0) and resolves with its result.
   *
   * Ownership: unless `transfer: false`, the buffers listed by `TRANSFER[op].args` are moved, on every pool
   * size (inline too, so code that works inline works pooled): for `impactZonal` the buffers of `hazard`,
   * `exposure`, `zones`, `weights` and `classes` are detached on the caller (byteLength 0) once the attempt
   * is posted; a view into a larger buffer detaches all of it. The result's buffers (`stats`, `zoneStats`,
   * `damage`) belong to the caller. When `args` is a function it is called again for each attempt.
   *
   * Rejects with: the operation's IbfError; an IbfError (`E_KERNEL` for now) when every attempt crashed or
   * hung, when a crashed task cannot be retried (moved value args), or when the pool is closed; `signal.reason`
   * when aborted.
   */
  run<K extends PoolOp>(op: K, args: TaskArgs<K>, opts?: RunOptions): Promise<OpResult<K>>;
  /** Starts every worker and loads its kernel (inline: loads the kernel); resolves with the kernels' names. */
  warmup(): Promise<KernelName[]>;
  stats(): PoolStats;
  /** Rejects queued and running tasks, terminates the workers; the pool cannot run anything afterwards. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_RETRIES = 2;

/** Creates a pool; see {@link PoolOptions}. Nothing starts until the first task or {@link Pool.warmup}. */
export function createPool(opts: PoolOptions): Pool {
  const problems: Problem[] = [];
  const { size, timeoutMs = DEFAULT_TIMEOUT_MS, maxRetries = DEFAULT_MAX_RETRIES } = opts;
  if (!Number.isInteger(size) || size < 0) problems.push({ path: 'size', message: `must be an integer >= 0, got ${size}` });
  if (!(timeoutMs >= 0)) problems.push({ path: 'timeoutMs', message: `must be >= 0 (0 = no limit), got ${timeoutMs}` });
  if (!Number.isInteger(maxRetries) || maxRetries < 0) problems.push({ path: 'maxRetries', message: `must be an integer >= 0, got ${maxRetries}` });
  if (size > 0 && !opts.createWorker) problems.push({ path: 'createWorker', message: `is needed for size ${size} (nodeWorkerFactory() or browserWorkerFactory())` });
  if (size === 0 && !opts.loadKernel) problems.push({ path: 'loadKernel', message: 'is needed for size 0 (the inline path runs the kernel on this thread)' });
  if (problems.length) throw IbfError.fromProblems('E_USAGE', 'worker pool options are invalid', problems, 'Fix the listed options of createPool.');
  const full = { ...opts, timeoutMs, maxRetries, diagnostics: opts.diagnostics === true };
  return size === 0 ? new InlinePool(full) : new WorkerPool(full);
}

type Resolved = Required<Pick<PoolOptions, 'size' | 'timeoutMs' | 'maxRetries' | 'diagnostics'>> & PoolOptions;

function closedError(op: string): IbfError {
  return new IbfError(POOL_ERROR_CODE, `the worker pool is closed; task '${op}' did not finish`, {
    hint: 'Close the pool only after its last run has settled, or create a new pool.',
    details: { op },
  });
}

const argsOf = async <K extends PoolOp>(args: TaskArgs<K>): Promise<OpArgs<K>> =>
  typeof args === 'function' ? await (args as () => OpArgs<K> | Promise<OpArgs<K>>)() : args;

/** `size: 0`: the same handlers on the calling thread, with the same transfer semantics. */
class InlinePool implements Pool {
  readonly size = 0;
  private kernel?: Promise<ImpactKernel>;
  private kernelName?: KernelName;
  private readonly handlers: PoolHandlers;
  private closed = false;
  private completed = 0;

  constructor(private readonly opts: Resolved) {
    this.handlers = createHandlers({ kernel: () => this.loadKernel(), diagnostics: opts.diagnostics, openPath: opts.openPath });
  }

  private loadKernel(): Promise<ImpactKernel> {
    this.kernel ??= this.opts.loadKernel!().then((k) => {
      this.kernelName = k.name;
      return k;
    });
    this.kernel.catch(() => (this.kernel = undefined));
    return this.kernel;
  }

  async run<K extends PoolOp>(op: K, args: TaskArgs<K>, opts: RunOptions = {}): Promise<OpResult<K>> {
    if (this.closed) throw closedError(op);
    opts.signal?.throwIfAborted();
    checkOp(op, this.opts.diagnostics);
    let a = await argsOf(args);
    opts.signal?.throwIfAborted();
    if (opts.transfer !== false) {
      const list = (TRANSFER[op].args as (x: OpArgs<K>) => ArrayBuffer[])(a);
      // Moves the buffers (no copy), exactly as posting to a worker would.
      if (list.length) a = structuredClone(a, { transfer: list });
    }
    try {
      const value = await (this.handlers[op] as (x: OpArgs<K>) => OpResult<K> | Promise<OpResult<K>>)(a);
      this.completed++;
      return value;
    } catch (e) {
      this.completed++;
      if (e instanceof IbfError) throw e;
      throw errorFromWire(errorToWire(e, op));
    }
  }

  async warmup(): Promise<KernelName[]> {
    return [(await this.loadKernel()).name];
  }

  stats(): PoolStats {
    return {
      size: 0, workers: 0, busy: 0, queued: 0, spawned: 0, replaced: 0, retries: 0,
      completed: this.completed, kernels: this.kernelName ? [this.kernelName] : [],
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A worker died (crashed, or was terminated for hanging): the task may run again elsewhere. */
class WorkerLost extends Error {
  constructor(readonly reason: string, readonly kind: 'crash' | 'timeout' | 'closed' | 'init') {
    super(reason);
  }
}

/** The worker answered `init` with an error (its kernel did not load): not retried. */
class InitFailed extends Error {
  constructor(readonly error: IbfError) {
    super(error.message);
  }
}

interface Failure {
  worker: number;
  kind: WorkerLost['kind'];
  reason: string;
}

interface Task {
  op: PoolOp;
  args: TaskArgs<PoolOp>;
  transfer: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  settled: boolean;
  attempts: number;
  /** Some attempt transferred buffers of value args (so they are gone). */
  moved: boolean;
  failures: Failure[];
  unlisten?: () => void;
}

interface Slot {
  id: number;
  handle: WorkerHandle;
  remote: Comlink.Remote<PoolWorkerApi>;
  /** Resolves once the kernel is loaded; rejects (InitFailed / WorkerLost) otherwise. */
  ready: Promise<void>;
  /** Rejects with WorkerLost when the worker dies. */
  death: Promise<never>;
  die(lost: WorkerLost): void;
  /** Why the worker died, once it has. */
  lost?: WorkerLost;
  /**
   * The running attempt's own death listener. Attempts do not race `death` itself: every reaction added to
   * a long-lived promise keeps its result reachable until the worker dies (results hold tile rasters).
   */
  onDeath?: (lost: WorkerLost) => void;
  dead: boolean;
  task?: Task;
  busyMs: number;
  kernel?: KernelName;
}

type Timer = ReturnType<typeof setTimeout>;

class WorkerPool implements Pool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private closed = false;
  private spawned = 0;
  private replaced = 0;
  private retries = 0;
  private completed = 0;

  constructor(private readonly opts: Resolved) {
    this.size = opts.size;
  }

  run<K extends PoolOp>(op: K, args: TaskArgs<K>, opts: RunOptions = {}): Promise<OpResult<K>> {
    return new Promise<OpResult<K>>((resolve, reject) => {
      if (this.closed) return reject(closedError(op));
      const { signal } = opts;
      if (signal?.aborted) return reject(signal.reason);
      try {
        checkOp(op, this.opts.diagnostics);
      } catch (e) {
        return reject(e);
      }
      const task: Task = {
        op, args: args as TaskArgs<PoolOp>, transfer: opts.transfer !== false,
        resolve: resolve as (v: unknown) => void, reject, settled: false, attempts: 0, moved: false, failures: [],
      };
      if (signal) {
        const onAbort = () => {
          const i = this.queue.indexOf(task);
          if (i >= 0) this.queue.splice(i, 1);
          this.settle(task, signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        task.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(task);
      this.pump();
    });
  }

  async warmup(): Promise<KernelName[]> {
    if (this.closed) throw closedError('warmup');
    while (this.live().length < this.size) this.spawn();
    const slots = this.live();
    await Promise.all(
      slots.map((s) =>
        Promise.race([s.ready, s.death]).catch((e: unknown) => {
          if (e instanceof InitFailed) {
            void this.kill(s, `could not load its kernel: ${e.error.message}`, 'init');
            throw e.error;
          }
          if (e instanceof WorkerLost) throw this.lostError('warmup', [{ worker: s.id, kind: e.kind, reason: e.reason }]);
          throw e;
        }),
      ),
    );
    return slots.map((s) => s.kernel!);
  }

  stats(): PoolStats {
    const live = this.live();
    return {
      size: this.size,
      workers: live.length,
      busy: live.filter((s) => s.task).length,
      queued: this.queue.length,
      spawned: this.spawned,
      replaced: this.replaced,
      retries: this.retries,
      completed: this.completed,
      kernels: live.flatMap((s) => (s.kernel ? [s.kernel] : [])),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.queue.splice(0)) this.settle(t, closedError(t.op));
    const slots = this.live();
    await Promise.all(slots.map((s) => this.kill(s, 'the pool was closed', 'closed')));
  }

  private live(): Slot[] {
    return this.slots.filter((s) => !s.dead);
  }

  private log(level: 'debug' | 'warn', message: string, fields?: Record<string, unknown>): void {
    this.opts.logger?.[level](message, fields);
  }

  /** Hands queued tasks to idle workers, starting workers while fewer than `size` are alive. */
  private pump(): void {
    while (!this.closed && this.queue.length) {
      let slot = this.leastBusyIdle();
      if (!slot) {
        if (this.live().length >= this.size) return;
        try {
          slot = this.spawn();
        } catch (e) {
          this.settle(this.queue.shift()!, e);
          continue;
        }
      }
      void this.execute(slot, this.queue.shift()!);
    }
  }

  private leastBusyIdle(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (!s.dead && !s.task && (!best || s.busyMs < best.busyMs)) best = s;
    return best;
  }

  private spawn(): Slot {
    const handle = this.opts.createWorker!();
    const id = ++this.spawned;
    let rejectDeath!: (lost: WorkerLost) => void;
    const death = new Promise<never>((_, reject) => (rejectDeath = reject));
    death.catch(() => {});
    const remote = Comlink.wrap<PoolWorkerApi>(handle.endpoint);
    const die = (lost: WorkerLost) => {
      slot.lost = lost;
      rejectDeath(lost);
      slot.onDeath?.(lost);
    };
    const slot: Slot = { id, handle, remote, death, die, dead: false, busyMs: 0, ready: Promise.resolve() };
    handle.keepAlive?.(true);
    handle.onFailure((reason) => {
      if (slot.dead) return;
      this.log('warn', `pool worker ${id} ${reason}`, { worker: id, task: slot.task?.op });
      void this.kill(slot, reason, 'crash');
      this.pump();
    });
    slot.ready = Promise.resolve(remote.init({ ...handle.init, diagnostics: this.opts.diagnostics })).then((o: Outcome<{ kernel: KernelName }>) => {
      if (!o.ok) throw new InitFailed(errorFromWire(o.error));
      slot.kernel = o.value.kernel;
      if (!slot.task && !slot.dead) handle.keepAlive?.(false);
    });
    slot.ready.catch(() => {});
    this.slots.push(slot);
    this.log('debug', `pool worker ${id} started`, { worker: id, size: this.size });
    return slot;
  }

  /** Marks `slot` dead, terminates its worker and fails its running attempt with `kind`. */
  private async kill(slot: Slot, reason: string, kind: WorkerLost['kind']): Promise<void> {
    if (slot.dead) return;
    slot.dead = true;
    this.slots.splice(this.slots.indexOf(slot), 1);
    if (kind !== 'closed') this.replaced++;
    slot.die(new WorkerLost(reason, kind));
    try {
      await slot.handle.terminate();
    } catch {
      // already gone
    }
  }

  private async execute(slot: Slot, task: Task): Promise<void> {
    slot.task = task;
    task.attempts++;
    slot.handle.keepAlive?.(true);
    const { timeoutMs } = this.opts;
    let timer: Timer | undefined;
    let started = Date.now();
    let outcome: Outcome<unknown> | undefined;
    let failed = false;
    let error: unknown;
    try {
      const posted = (async () => {
        await slot.ready;
        const args = await argsOf(task.args);
        if (task.settled) return undefined; // aborted while the args were made
        const list = task.transfer ? (TRANSFER[task.op].args as (a: unknown) => ArrayBuffer[])(args) : [];
        if (list.length && typeof task.args !== 'function') task.moved = true;
        started = Date.now();
        if (timeoutMs > 0) {
          timer = setTimeout(() => void this.kill(slot, `gave no answer within ${timeoutMs} ms`, 'timeout'), timeoutMs);
        }
        try {
          return await (slot.remote.call as (op: PoolOp, a: unknown) => Promise<Outcome<unknown>>)(task.op, list.length ? Comlink.transfer(args, list) : args);
        } catch (e) {
          throw new IbfError(POOL_ERROR_CODE, `task '${task.op}' could not be passed to or from a worker: ${(e as Error)?.message ?? e}`, {
            cause: e,
            hint: 'Task arguments must be structured-cloneable (plain objects, typed arrays); pass damage functions with toImpactWire().',
          });
        }
      })();
      const died = new Promise<never>((_, reject) => {
        if (slot.lost) reject(slot.lost);
        else slot.onDeath = reject;
      });
      died.catch(() => {});
      outcome = await Promise.race([posted, died]);
    } catch (e) {
      failed = true;
      error = e;
    }
    slot.onDeath = undefined;
    if (timer !== undefined) clearTimeout(timer);
    slot.busyMs += Date.now() - started;
    slot.task = undefined;
    if (!slot.dead) slot.handle.keepAlive?.(false);
    if (error instanceof WorkerLost) {
      this.lost(task, slot, error);
    } else if (error instanceof InitFailed) {
      void this.kill(slot, `could not load its kernel: ${error.error.message}`, 'init');
      this.settle(task, error.error);
    } else if (failed) {
      this.settle(task, error);
    } else if (outcome) {
      this.completed++;
      if (outcome.ok) this.settle(task, undefined, outcome.value, true);
      else this.settle(task, errorFromWire(outcome.error));
    }
    this.pump();
  }

  /** The task's worker died: run it again (front of the queue) or fail it. */
  private lost(task: Task, slot: Slot, lost: WorkerLost): void {
    task.failures.push({ worker: slot.id, kind: lost.kind, reason: lost.reason });
    if (task.settled) return;
    if (this.closed || lost.kind === 'closed') return this.settle(task, closedError(task.op));
    if (task.moved) {
      return this.settle(task, new IbfError(POOL_ERROR_CODE,
        `worker pool: worker ${slot.id} ${lost.reason} while running '${task.op}', and the task's input buffers went to it, so it cannot run again`, {
          hint: 'Pass the task arguments as a function (called again for each attempt), or run it with transfer: false.',
          details: { op: task.op, attempts: task.attempts, failures: task.failures },
        }));
    }
    if (task.attempts > this.opts.maxRetries) return this.settle(task, this.lostError(task.op, task.failures));
    this.retries++;
    this.log('warn', `pool: retrying '${task.op}' (attempt ${task.attempts + 1} of ${this.opts.maxRetries + 1}) after worker ${slot.id} ${lost.reason}`, {
      op: task.op, worker: slot.id, kind: lost.kind,
    });
    this.queue.unshift(task);
  }

  private lostError(op: string, failures: Failure[]): IbfError {
    const n = failures.length;
    const list = failures.map((f, i) => `attempt ${i + 1}: worker ${f.worker} ${f.reason}`).join('; ');
    const hung = failures.some((f) => f.kind === 'timeout');
    return new IbfError(POOL_ERROR_CODE, `worker pool: task '${op}' failed ${n} time${n === 1 ? '' : 's'} (${list})`, {
      hint: hung
        ? 'A worker gave no answer in time on every attempt: raise the pool timeout (timeoutMs) or use smaller tiles.'
        : 'A worker crashed on every attempt (often out of memory): use fewer workers or smaller tiles.',
      details: { op, attempts: n, failures },
    });
  }

  private settle(task: Task, error: unknown, value?: unknown, ok = false): void {
    if (task.settled) return;
    task.settled = true;
    task.unlisten?.();
    if (ok) task.resolve(value);
    else task.reject(error);
  }
}
