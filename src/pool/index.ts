/**
 * @module pool
 * The worker pool, runtime-neutral part: {@link createPool}, the protocol map and its wire helpers.
 * Runtime adapters: `./node.js` (worker_threads) and `./browser.js` (Web Workers). Only wires.
 */
export { createPool, type Pool, type PoolOptions, type PoolLogger, type PoolStats, type RunOptions, type TaskArgs, type WorkerHandle } from './pool.js';
export {
  TRANSFER, POOL_ERROR_CODE, toImpactWire, fromImpactWire, buffersOf,
  type PoolProtocol, type PoolOp, type OpArgs, type OpResult, type ImpactInputsWire, type WorkerInit, type PoolWorkerApi, type Outcome,
} from './protocol.js';
