/**
 * @module pool/worker-node
 * Node worker_threads entry of the pool (started by `nodeWorkerFactory`): serves the pool protocol on
 * `parentPort` and loads its own WASM kernel once with `loadKernel()`. Only wires; the work is in worker-core.ts.
 */
import { parentPort } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { loadKernel } from '../kernels/load-node.js';
import { exposePoolWorker } from './worker-core.js';
import { fileByteSource } from '../io/node.js';

if (!parentPort) throw new Error('pool/worker-node.js runs inside a worker_threads Worker; create it with nodeWorkerFactory()');

exposePoolWorker(nodeEndpoint(parentPort), {
  loadKernel: (init) => loadKernel(init.kernel ?? 'auto'),
  exit: (code) => process.exit(code),
  openPath: fileByteSource,
});
