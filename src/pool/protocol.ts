/**
 * @module pool/protocol
 * The one map of what the worker pool can run (maplibre `actor_messages.ts` style): every operation
 * is `name: [Args, Result]` in {@link PoolProtocol}, and the caller ({@link createPool}), the worker
 * ({@link exposePoolWorker}), the inline path and the transfer lists are all typed from it, so they
 * cannot drift. Adding an operation means: one line here, one entry in {@link TRANSFER}, one handler
 * in handlers.ts; the compiler points at each place that is still missing.
 *
 * Args and results are what crosses `postMessage` (structured clone): plain objects and typed arrays,
 * no class instances. Damage functions travel as their spec ({@link toImpactWire}).
 *
 * No Comlink, no runtime globals here: this file is shared by the pool, the workers and the inline path.
 */
import { IbfError, type IbfErrorCode, type IbfErrorJSON } from '../errors.js';
import { DamageFunction, type DamageFunctionSpec } from '../model/damage-function.js';
import type { ImpactInputs, ImpactPartial, KernelName } from '../kernels/types.js';

import type { AssessPlan } from '../engine/plan.js';
import type { TileResult } from '../engine/tile.js';

/** {@link ImpactInputs} as it crosses a worker boundary: damage functions as specs. */
export type ImpactInputsWire = Omit<ImpactInputs, 'curves'> & { curves: DamageFunctionSpec[] };

/** Arguments of `assessTile`: a plan (or its slice for the tile, see `planSlice`) and the tile index. */
export interface AssessTileArgs {
  plan: AssessPlan;
  tile: number;
}

/** Arguments of the diagnostic `sleep` operation (tests only; see {@link WorkerInit.diagnostics}). */
export interface SleepArgs {
  /** How long the worker thread blocks, synchronously, like a hung kernel (ms). */
  ms: number;
}

/** Arguments of the diagnostic `exit` operation: the worker ends itself (tests only). */
export interface ExitArgs {
  /** Exit code of the worker thread (Node); browsers just close the worker. */
  code: number;
}

/**
 * Every operation a pool worker runs: `name: [Args, Result]`.
 * - `impactZonal`: the fused impact + zonal kernel over one chunk (the worker's own WASM kernel); a fresh
 *   partial per call (no `into`), so the caller merges partials in a fixed order (`mergePartial`).
 * - `sleep`, `exit`: diagnostics for tests of timeouts and crashes; refused unless the pool was created
 *   with `diagnostics: true`.
 *
 * - `assessTile`: `mapTile(plan, tile)` of the tiled engine (src/engine/tile.ts); the worker reads the
 *   tile's windows itself (file paths in Node workers, URLs, Blobs) and keeps files open across tiles.
 */
export interface PoolProtocol {
  impactZonal: [ImpactInputsWire, ImpactPartial];
  assessTile: [AssessTileArgs, TileResult];
  sleep: [SleepArgs, { sleptMs: number }];
  exit: [ExitArgs, never];
}

export type PoolOp = keyof PoolProtocol;
export type OpArgs<K extends PoolOp> = PoolProtocol[K][0];
export type OpResult<K extends PoolOp> = PoolProtocol[K][1];

/** Operations only a pool created with `diagnostics: true` runs. */
export const DIAGNOSTIC_OPS: ReadonlySet<PoolOp> = new Set<PoolOp>(['sleep', 'exit']);

/** What a worker is told once, before its first task. Must be structured-cloneable (URLs as strings). */
export interface WorkerInit {
  /** Kernel the worker loads once: `auto` (default) = WASM SIMD where supported, else WASM scalar. */
  kernel?: KernelName | 'auto';
  /** Absolute URLs of the kernel builds, for browser workers (`build/ibf.{simd,scalar}.wasm`). */
  wasm?: { simd: string; scalar: string };
  /** Enables the diagnostic operations (`sleep`, `exit`). Tests only. */
  diagnostics?: boolean;
}

/** A worker's answer: the result, or the error as JSON (so an {@link IbfError} keeps its code, hint, problems). */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: IbfErrorJSON };

/** What the worker exposes through Comlink (the pool's only view of a worker). */
export interface PoolWorkerApi {
  /** Loads the kernel (once per worker) and answers with its name. */
  init(init: WorkerInit): Promise<Outcome<{ kernel: KernelName }>>;
  /** Runs one operation; errors come back as an outcome, never as a Comlink rejection. */
  call<K extends PoolOp>(op: K, args: OpArgs<K>): Promise<Outcome<OpResult<K>>>;
}

/**
 * The implementation of every operation, typed from the map (a missing or mistyped op does not compile).
 * Used by the worker and by the inline path (`size: 0`) alike.
 */
export type PoolHandlers = { [K in PoolOp]: (args: OpArgs<K>) => OpResult<K> | Promise<OpResult<K>> };

/** Which buffers of an operation's args and result are transferred (moved) across the boundary. */
export type TransferSpec = {
  [K in PoolOp]: { args(a: OpArgs<K>): ArrayBuffer[]; result(r: OpResult<K>): ArrayBuffer[] };
};

const isArrayBuffer = (b: unknown): b is ArrayBuffer => Object.prototype.toString.call(b) === '[object ArrayBuffer]';

/**
 * The distinct, transferable (non-shared) buffers behind `views`. A view into a larger buffer
 * transfers (detaches) the whole buffer: pass a `.slice()` to keep the rest.
 */
export function buffersOf(...views: Array<ArrayBufferView | undefined>): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const v of views) {
    if (v && isArrayBuffer(v.buffer) && v.buffer.byteLength > 0 && !out.includes(v.buffer)) out.push(v.buffer);
  }
  return out;
}

/** The bands of decoded (`raster`) sources in a plan: moved with an `assessTile` task. */
function decodedBands(plan: AssessPlan): ArrayBufferView[] {
  const layers = [plan.exposure, plan.hazard, plan.fraction, plan.classes];
  return layers.flatMap((l) => (l && l.source.kind === 'raster' ? (l.source.raster.bands as ArrayBufferView[]) : []));
}

/**
 * Transfer lists per operation.
 * - `impactZonal` args: the buffers of `hazard`, `exposure`, `zones`, `weights`, `classes`, `fraction` move to the worker
 *   (detached on the caller: byteLength 0). Result: `stats`, `zoneStats` and `damage` move back.
 * - `sleep`, `exit`: nothing.
 * Handlers must return buffers they own (fresh arrays, never views on WASM memory): they are moved to the caller.
 */
export const TRANSFER: TransferSpec = {
  impactZonal: {
    args: (a) => buffersOf(a.hazard, a.exposure, a.zones, a.weights, a.classes, a.fraction),
    result: (r) => buffersOf(r.stats, r.zoneStats, r.damage),
  },
  assessTile: {
    args: (a) => buffersOf(...decodedBands(a.plan)),
    result: (r) => buffersOf(r.records, r.slots, ...(r.damage ?? []), r.ead),
  },
  sleep: { args: () => [], result: () => [] },
  exit: { args: () => [], result: () => [] },
};

/**
 * The wire form of kernel inputs: damage functions replaced by their specs. The typed arrays are the same
 * objects as in `inputs` (no copy), so running the result in a pool detaches them (see `Pool.run`).
 */
export function toImpactWire(inputs: ImpactInputs): ImpactInputsWire {
  return { ...inputs, curves: inputs.curves.map((c) => c.spec) };
}

/** Kernel inputs back from the wire (damage functions rebuilt, and so revalidated). */
export function fromImpactWire(wire: ImpactInputsWire): ImpactInputs {
  return { ...wire, curves: wire.curves.map((s) => new DamageFunction(s)) };
}

/**
 * Error code of pool failures (a worker crashed or hung on every attempt, the pool was closed, a task could
 * not be sent). A non-IbfError thrown inside an operation is a bug there and stays `E_KERNEL`.
 */
export const POOL_ERROR_CODE: IbfErrorCode = 'E_WORKER';

/** Any thrown value as IbfError JSON: IbfErrors as they are, anything else wrapped (name and stack in details). */
export function errorToWire(e: unknown, op: string): IbfErrorJSON {
  if (e instanceof IbfError) return e.toJSON();
  const o = e as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown; toJSON?: unknown } | null;
  // An IbfError from another copy of this module (another bundle, dist/ vs src/) still has its JSON form.
  if (o && o.name === 'IbfError' && typeof o.toJSON === 'function') return (o.toJSON as () => IbfErrorJSON)();
  const name = typeof o?.name === 'string' ? o.name : typeof e;
  const message = typeof o?.message === 'string' ? o.message : String(e);
  return new IbfError('E_KERNEL', `worker operation '${op}' failed: ${name}: ${message}`, {
    details: { op, name, ...(typeof o?.stack === 'string' ? { stack: o.stack } : {}) },
    hint: 'This is a bug; please report it with the scenario and this message.',
  }).toJSON();
}

/** The error of a failed outcome, rebuilt as an {@link IbfError} on the caller's side. */
export function errorFromWire(json: IbfErrorJSON): IbfError {
  return IbfError.fromJSON(json);
}
