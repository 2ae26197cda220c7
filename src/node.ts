/**
 * @module e4drr-ibf/node
 * Node entry: everything in the core plus file access, the WASM loader that reads the package's
 * kernels from disk, and scenario files run end to end.
 */
export * from './index.js';
export { loadKernel, wasmPath } from './kernels/load-node.js';
export { loadScenario, runScenarioFile, nodeScenarioIO, POOL_MIN_CELL_BANDS, type RunScenarioOptions, type RunScenarioOutput } from './node/run-scenario.js';
export { publishOutputs, openOutputStage, type OutputStage } from './node/outputs.js';
export { readFileBytes, fileByteSource, openByteSource, writeFileAtomic, fileTiffSink } from './io/node.js';
export { runZonal, type RunZonalOptions, type ZonalOutput } from './node/run-zonal.js';
export { createNodePool, nodeWorkerFactory, defaultPoolSize, nodeWorkerEntry } from './pool/node.js';
export { runDemo, prepareDemo } from './demo/index.js';
export * from './flow/index-node.js';
export * from './flow/ibf/index-node.js';
