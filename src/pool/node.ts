/**
 * @module pool/node
 * Node adapter of the pool: starts workers with worker_threads (entry: the built `dist/src/pool/worker-node.js`)
 * and wraps them for Comlink with its node adapter. {@link createNodePool} wires a whole pool, inline
 * (`size: 0`) included.
 */
import { existsSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { IbfError } from '../errors.js';
import { loadKernel } from '../kernels/load-node.js';
import { fileByteSource } from '../io/node.js';
import type { KernelName } from '../kernels/types.js';
import { createPool, failureLatch, type Pool, type PoolOptions, type WorkerHandle } from './pool.js';

/** A worker_threads worker of the pool; `worker` is the underlying thread (tests kill it). */
export interface NodeWorkerHandle extends WorkerHandle {
  readonly worker: Worker;
}

export interface NodeWorkerOptions {
  /** Kernel each worker loads once (default `auto`: WASM SIMD where supported). */
  kernel?: KernelName | 'auto';
  /** Worker entry file (default {@link nodeWorkerEntry}); e.g. a `.mjs` boot file that registers tsx. */
  entry?: string | URL;
  /** Heap limits per worker thread. */
  resourceLimits?: ResourceLimits;
}

/** Workers a machine runs well at once: its available parallelism (cores). */
export function defaultPoolSize(): number {
  return typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
}

/**
 * The worker entry file: `worker-node.js` next to this module when running built JS; when running the
 * TypeScript sources (vitest, tsx: worker_threads cannot load `.ts` on Node 20) the built
 * `dist/src/pool/worker-node.js`. An `entry` given (a path, relative to the working directory, or a
 * file URL) replaces it. Throws a clear IbfError when the file is missing.
 */
export function nodeWorkerEntry(entry?: string | URL): URL {
  const here = import.meta.url;
  const url = entry !== undefined
    ? typeof entry === 'string' && !entry.startsWith('file:') ? pathToFileURL(resolve(entry)) : new URL(String(entry))
    : /\.[cm]?js$/.test(here) ? new URL('./worker-node.js', here) : new URL('../../dist/src/pool/worker-node.js', here);
  const path = fileURLToPath(url);
  if (!existsSync(path)) {
    throw new IbfError('E_INPUT_NOT_FOUND', `the pool's worker entry ${path} is missing`, {
      hint: entry !== undefined
        ? 'Check the entry path given to nodeWorkerFactory / createNodePool.'
        : 'Build the JavaScript first: npm run build:ts (pool workers run the built dist/, not the TypeScript sources).',
      details: { path },
    });
  }
  return url;
}

/** A `createWorker` for {@link createPool}: each call starts one worker thread. */
export function nodeWorkerFactory(opts: NodeWorkerOptions = {}): () => NodeWorkerHandle {
  const entry = nodeWorkerEntry(opts.entry);
  const init = { kernel: opts.kernel ?? 'auto' } as const;
  return () => {
    // geotiff imports the `web-worker` package, which on a worker thread reads `workerData` and throws when
    // it is undefined: an empty object tells it this thread is not one of its workers.
    const worker = new Worker(entry, { workerData: {}, ...(opts.resourceLimits ? { resourceLimits: opts.resourceLimits } : {}) });
    const { fail, onFailure } = failureLatch();
    // Always listen: an 'error' event without a listener would throw on the calling thread.
    worker.on('error', (e: Error) => fail(`threw ${e?.name ?? 'Error'}: ${e?.message ?? e}`));
    worker.on('messageerror', (e: Error) => fail(`sent a message that could not be read: ${e?.message ?? e}`));
    worker.on('exit', (code: number) => fail(`exited with code ${code}`));
    return {
      worker,
      endpoint: nodeEndpoint(worker),
      init,
      onFailure,
      terminate: () => worker.terminate(),
      keepAlive: (on) => (on ? worker.ref() : worker.unref()),
    };
  };
}

export interface NodePoolOptions extends Omit<PoolOptions, 'size' | 'createWorker' | 'loadKernel'>, NodeWorkerOptions {
  /** Worker threads; 0 = inline on this thread. Default {@link defaultPoolSize}. */
  size?: number;
}

/**
 * A pool of worker threads (or inline for `size: 0`), each with its own kernel of kind `kernel`.
 * See {@link Pool.run} for which buffers a run detaches. Close it when done.
 */
export function createNodePool(opts: NodePoolOptions = {}): Pool {
  const { kernel = 'auto', entry, resourceLimits, size = defaultPoolSize(), ...rest } = opts;
  return createPool({
    ...rest,
    size,
    createWorker: size > 0 ? nodeWorkerFactory({ kernel, entry, resourceLimits }) : undefined,
    loadKernel: () => loadKernel(kernel),
    openPath: fileByteSource,
  });
}
