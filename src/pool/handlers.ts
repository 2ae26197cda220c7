/**
 * @module pool/handlers
 * The implementation of every {@link PoolProtocol} operation, runtime-neutral: the worker entries and
 * the inline path (`size: 0`) run the same functions. The runtime supplies only how to load a kernel
 * and how to end the worker.
 */
import { IbfError } from '../errors.js';
import type { ImpactKernel } from '../kernels/types.js';
import type { PathOpener, SourceCache } from '../engine/sources.js';
import { DIAGNOSTIC_OPS, POOL_ERROR_CODE, TRANSFER, fromImpactWire, type PoolHandlers, type PoolOp } from './protocol.js';

export interface HandlerRuntime {
  /** The kernel, loaded once and reused by every call (memoise it). */
  kernel(): Promise<ImpactKernel>;
  /** Ends the current worker (Node: `process.exit(code)` in the worker thread). Absent inline. */
  exit?(code: number): never | void;
  /** Whether the diagnostic ops (`sleep`, `exit`) run. */
  diagnostics: boolean;
  /** Opens file paths for `assessTile` (Node only). */
  openPath?: PathOpener;
}

/** Blocks the calling thread for `ms` milliseconds, as a hung kernel would (no event loop turns meanwhile). */
export function blockFor(ms: number): number {
  const t0 = Date.now();
  if (typeof SharedArrayBuffer === 'function' && typeof Atomics === 'object') {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    } catch {
      // Atomics.wait is not allowed on this thread (a browser main thread): spin instead.
    }
  }
  while (Date.now() - t0 < ms) {
    // spin
  }
  return Date.now() - t0;
}

/** The handlers, typed from the protocol map. */
export function createHandlers(rt: HandlerRuntime): PoolHandlers {
  let cache: SourceCache | undefined;
  return {
    async impactZonal(args) {
      const kernel = await rt.kernel();
      return kernel.impactZonal(fromImpactWire(args));
    },
    async assessTile(args) {
      const kernel = await rt.kernel();
      // loaded on first use: the GeoTIFF reader stays out of workers that only run kernels
      const [{ SourceCache }, { mapTile }] = await Promise.all([import('../engine/sources.js'), import('../engine/tile.js')]);
      cache ??= new SourceCache(rt.openPath);
      return mapTile(args.plan, args.tile, { kernel, cache });
    },
    sleep(args) {
      return { sleptMs: blockFor(args.ms) };
    },
    exit(args) {
      if (!rt.exit) throw new IbfError(POOL_ERROR_CODE, "the diagnostic 'exit' operation only runs in a worker, not inline");
      rt.exit(args.code);
      // A browser worker closes only after this turn: never answer, as a dead worker would not.
      return new Promise<never>(() => {});
    },
  };
}

/** Refuses operations the protocol does not have, and diagnostic ones on pools that did not enable them. */
export function checkOp(op: PoolOp, diagnostics: boolean): void {
  if (!Object.hasOwn(TRANSFER, op)) {
    throw new IbfError('E_USAGE', `unknown pool operation '${String(op)}'`, { hint: `Known operations: ${Object.keys(TRANSFER).join(', ')}.` });
  }
  if (DIAGNOSTIC_OPS.has(op) && !diagnostics) {
    throw new IbfError('E_USAGE', `pool operation '${op}' is a diagnostic for tests`, {
      hint: 'Create the pool with diagnostics: true to run it.',
    });
  }
}
