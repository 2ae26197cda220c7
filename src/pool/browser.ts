/**
 * @module pool/browser
 * Browser adapter of the pool: module Web Workers running `worker-browser.js`, each streaming its own
 * WASM kernel from the URLs given here. {@link createBrowserPool} wires a whole pool, inline (`size: 0`) included.
 */
import { loadKernelFromUrl } from '../kernels/load-browser.js';
import { ReferenceKernel } from '../kernels/reference.js';
import type { KernelName } from '../kernels/types.js';
import { createPool, failureLatch, type Pool, type PoolOptions, type WorkerHandle } from './pool.js';
import type { WorkerInit } from './protocol.js';

export interface BrowserWorkerOptions {
  /** URLs of `build/ibf.simd.wasm` and `build/ibf.scalar.wasm` (served as `application/wasm`); relative to the page. */
  wasm: { simd: string | URL; scalar: string | URL };
  /** Kernel each worker loads once (default `auto`: SIMD where supported). */
  kernel?: KernelName | 'auto';
  /**
   * URL of the worker module, when a bundler or server puts it elsewhere. Default: `worker-browser.js` next to
   * this module (`new Worker(new URL('./worker-browser.js', import.meta.url), { type: 'module' })`, which
   * Vite and webpack follow; set `worker: { format: 'es' }` in Vite).
   */
  url?: string | URL;
}

/** Absolute URL (workers resolve relative URLs against their own script, not the page). */
function absolute(u: string | URL): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  return new URL(String(u), base).href;
}

/** A `createWorker` for {@link createPool}: each call starts one module Web Worker. */
export function browserWorkerFactory(opts: BrowserWorkerOptions): () => WorkerHandle {
  const init: WorkerInit = { kernel: opts.kernel ?? 'auto', wasm: { simd: absolute(opts.wasm.simd), scalar: absolute(opts.wasm.scalar) } };
  const url = opts.url === undefined ? undefined : absolute(opts.url);
  return () => {
    const worker = url
      ? new Worker(url, { type: 'module' })
      : new Worker(new URL('./worker-browser.js', import.meta.url), { type: 'module' });
    const { fail, onFailure } = failureLatch();
    worker.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault();
      fail(`threw: ${e.message || 'error (the worker script may have failed to load)'}`);
    });
    worker.addEventListener('messageerror', () => fail('sent a message that could not be read'));
    return {
      endpoint: worker,
      init,
      onFailure,
      terminate: () => worker.terminate(),
    };
  };
}

export interface BrowserPoolOptions extends Omit<PoolOptions, 'size' | 'createWorker' | 'loadKernel'>, BrowserWorkerOptions {
  /** Web Workers; 0 = inline on this thread. Default: `navigator.hardwareConcurrency` (at least 1). */
  size?: number;
}

/** A pool of Web Workers (or inline for `size: 0`). See `Pool.run` for which buffers a run detaches. */
export function createBrowserPool(opts: BrowserPoolOptions): Pool {
  const { wasm, kernel = 'auto', url, size, ...rest } = opts;
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  const n = size ?? Math.max(1, cores);
  return createPool({
    ...rest,
    size: n,
    createWorker: n > 0 ? browserWorkerFactory({ wasm, kernel, url }) : undefined,
    loadKernel: async () => {
      if (kernel === 'ts') return new ReferenceKernel();
      const u = { simd: absolute(wasm.simd), scalar: absolute(wasm.scalar) };
      return loadKernelFromUrl(kernel === 'wasm-scalar' ? { simd: u.scalar, scalar: u.scalar } : kernel === 'wasm-simd' ? { simd: u.simd, scalar: u.simd } : u);
    },
  });
}
