/**
 * @module flow/ibf/index-node
 * The IBF flow for Node: everything in `./index.ts`, plus its Node environment (files, downloads,
 * wildcards, the worker pool), running a flow file over a folder store, schedules, and the CLI command.
 */
export * from './index.js';
export { nodeFlowEnv, walkGlob, sourceDateEpoch, FLOW_POOL_MIN_CELL_BANDS, type NodeEnv, type NodeEnvOptions } from './io-node.js';
export {
  runIbfFlowFile, scheduleIbfFlowFile, loadIbfFlowFile, scheduledRunId, parseFlowDate,
  type RunIbfFlowOptions, type ScheduleIbfFlowOptions, type IbfFlowOutcome, type RunStartInfo, type LoadedIbfFlow,
} from './run-node.js';
export { flowCommand, FlowProgress, formatAlerts, FLOW_HELP, type FlowIo } from './cli-node.js';
