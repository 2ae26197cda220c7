/**
 * @module web/lib/rpc
 * A small typed request / reply protocol over `postMessage` for the page's own helper workers (demo
 * generation, raster previews, the widget's local mode). Errors keep their IbfError code and hint;
 * buffers listed in `transfer` move instead of being copied. (The engine's tile workers use src/pool.)
 */
import { IbfError, isIbfError } from '../../../src/errors.js';

export type Ops = Record<string, [args: unknown, result: unknown]>;

interface Request { id: number; op: string; args: unknown }
type Reply = { id: number; progress: unknown } | { id: number; value: unknown } | { id: number; error: { name: string; message: string; code?: string; hint?: string } };

export interface Done<R> { value: R; transfer?: Transferable[] }

export type Handlers<O extends Ops> = { [K in keyof O]: (args: O[K][0], progress: (p: unknown) => void) => Promise<Done<O[K][1]>> };

/** Serves `handlers` on a worker's global scope. */
export function serve<O extends Ops>(scope: { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: unknown, t?: Transferable[]): void }, handlers: Handlers<O>): void {
  scope.onmessage = async (e: MessageEvent<Request>) => {
    const { id, op, args } = e.data;
    try {
      const h = handlers[op as keyof O];
      if (!h) throw new Error(`unknown operation ${op}`);
      const done = await h(args as never, (progress) => scope.postMessage({ id, progress } satisfies Reply));
      scope.postMessage({ id, value: done.value } satisfies Reply, done.transfer ?? []);
    } catch (err) {
      const error = isIbfError(err) ? { name: 'IbfError', message: err.message, code: err.code, hint: err.hint } : { name: (err as Error)?.name ?? 'Error', message: (err as Error)?.message ?? String(err) };
      scope.postMessage({ id, error } satisfies Reply);
    }
  };
}

export interface Client<O extends Ops> {
  call<K extends keyof O & string>(op: K, args: O[K][0], opts?: { transfer?: Transferable[]; onProgress?: (p: unknown) => void; signal?: AbortSignal }): Promise<O[K][1]>;
  terminate(): void;
}

/** Calls a worker that {@link serve}s `O`. An aborted call terminates the worker (`restart` makes the next one). */
export function client<O extends Ops>(make: () => Worker): Client<O> {
  let worker: Worker | undefined;
  let next = 1;
  const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: unknown) => void; onProgress?: (p: unknown) => void }>();
  const failAll = (e: unknown) => {
    for (const p of pending.values()) p.fail(e);
    pending.clear();
  };
  const get = () => {
    if (worker) return worker;
    const w = make();
    w.onmessage = (e: MessageEvent<Reply>) => {
      const p = pending.get(e.data.id);
      if (!p) return;
      if ('progress' in e.data) return p.onProgress?.(e.data.progress);
      pending.delete(e.data.id);
      if ('error' in e.data) {
        const { name, message, code, hint } = e.data.error;
        p.fail(name === 'IbfError' && code ? new IbfError(code as never, message, { hint }) : Object.assign(new Error(message), { name }));
      } else p.ok(e.data.value);
    };
    w.onerror = (e) => {
      e.preventDefault();
      failAll(new IbfError('E_WORKER', `a helper worker failed: ${e.message || 'it could not start'}`, { hint: 'Reload the page; if it persists, the browser may block module workers here.' }));
      worker?.terminate();
      worker = undefined;
    };
    return (worker = w);
  };
  const terminate = () => {
    worker?.terminate();
    worker = undefined;
    failAll(new IbfError('E_CANCELLED', 'cancelled', { hint: 'Start it again when you are ready.' }));
  };
  return {
    call(op, args, opts = {}) {
      if (opts.signal?.aborted) return Promise.reject(new IbfError('E_CANCELLED', 'cancelled'));
      const id = next++;
      return new Promise((ok, fail) => {
        pending.set(id, { ok: ok as (v: unknown) => void, fail, onProgress: opts.onProgress });
        opts.signal?.addEventListener('abort', terminate, { once: true });
        get().postMessage({ id, op, args } satisfies Request, opts.transfer ?? []);
      });
    },
    terminate,
  };
}
