/**
 * @module node/serve-worker
 * Pool worker of `ibf serve` (worker_threads): the pool protocol of pool/worker-node.ts, except that tiles
 * open the API's `object:<key>` sources as files of the data folder (`workerData.objectsRoot`) instead of
 * paths. Only wires.
 */
import { parentPort, workerData } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { loadKernel } from '../kernels/load-node.js';
import { exposePoolWorker } from '../pool/worker-core.js';
import { objectPathOpener } from './fs-store.js';

const root = (workerData as { objectsRoot?: unknown } | undefined)?.objectsRoot;
if (!parentPort || typeof root !== 'string') throw new Error('node/serve-worker.js runs inside a worker started by startServer (src/node/serve.ts)');

exposePoolWorker(nodeEndpoint(parentPort), {
  loadKernel: (init) => loadKernel(init.kernel ?? 'auto'),
  exit: (code) => process.exit(code),
  openPath: objectPathOpener(root),
});
