/**
 * @module pool/worker-core
 * The worker side of the pool, runtime-neutral: exposes {@link PoolWorkerApi} over a Comlink endpoint.
 * The worker entries (worker-node.ts, worker-browser.ts) only pass the endpoint and how to load the
 * kernel and how to exit. Results are transferred back (see {@link TRANSFER}); errors come back as
 * IbfError JSON in the outcome.
 */
import * as Comlink from 'comlink';
import type { ImpactKernel, KernelName } from '../kernels/types.js';
import { checkOp, createHandlers } from './handlers.js';
import type { PathOpener } from '../engine/sources.js';
import { TRANSFER, errorToWire, type Outcome, type PoolOp, type PoolWorkerApi, type WorkerInit } from './protocol.js';

export interface WorkerRuntime {
  /** Loads this runtime's kernel; called once per worker, with the pool's {@link WorkerInit}. */
  loadKernel(init: WorkerInit): Promise<ImpactKernel>;
  /** Ends the worker (used by the diagnostic `exit` op). */
  exit(code: number): void;
  /** Opens file paths for `assessTile` (Node workers only). */
  openPath?: PathOpener;
}

/** Serves the pool protocol on `endpoint` (a worker_threads `parentPort` via the node adapter, or `self`). */
export function exposePoolWorker(endpoint: Comlink.Endpoint, runtime: WorkerRuntime): void {
  let init: WorkerInit = {};
  let kernel: Promise<ImpactKernel> | undefined;
  const loadOnce = (): Promise<ImpactKernel> => (kernel ??= runtime.loadKernel(init));
  const handlers = createHandlers({
    kernel: loadOnce,
    exit: (code) => runtime.exit(code),
    openPath: runtime.openPath,
    get diagnostics() {
      return init.diagnostics === true;
    },
  });

  const api: PoolWorkerApi = {
    async init(next) {
      init = next ?? {};
      kernel = undefined;
      try {
        const k = await loadOnce();
        return { ok: true, value: { kernel: k.name as KernelName } };
      } catch (e) {
        kernel = undefined;
        return { ok: false, error: errorToWire(e, 'init') };
      }
    },
    async call(op, args) {
      try {
        checkOp(op, init.diagnostics === true);
        const value = await (handlers[op] as (a: unknown) => unknown)(args);
        const out: Outcome<unknown> = { ok: true, value };
        return Comlink.transfer(out, (TRANSFER[op as PoolOp].result as (r: unknown) => ArrayBuffer[])(value)) as never;
      } catch (e) {
        return { ok: false, error: errorToWire(e, String(op)) };
      }
    },
  };
  Comlink.expose(api, endpoint);
}
