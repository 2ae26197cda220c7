/**
 * @module flow
 * The orchestrator: flows of typed tasks (a DAG from data passing and `after`), families that pass
 * parameters down, trigger and complete conditions, retries with backoff, timeouts, caching,
 * concurrency limits by tag, resumable runs over a store, transactional publishing, cron schedules
 * and structured logs. Runtime-neutral; the folder store and publisher for Node are in `./index-node.ts`.
 * docs/FLOW.md shows a flow end to end.
 */
export { defineFlow, flowTasks } from './define.js';
export type {
  AfterLink, ConcurrencyLimits, Family, FamilyNode, FamilyOptions, FamilyRef, Flow, FlowNode, FlowOptions,
  InputLink, InputLinks, InputValues, Params, TaskContext, TaskGroup, TaskNode, TaskOptions, TaskRef,
} from './define.js';
export { runFlow, flowRunError, type FlowRun, type FlowRunOptions, type RunOutcome } from './run.js';
export { runFlowOnSteps, stepRetries, PUBLISH_STEP, type DurableStep, type DurableStepConfig, type DurableRunOptions, type DurableFlowRun } from './durable.js';
export { planFlow, checkFlow, type FlowPlan, type PlannedTask, type FlowPlanOptions } from './plan.js';
export {
  TASK_STATES, FINAL_STATES, SUCCESS_STATES, FAILURE_STATES, TRANSITIONS, RESUME_TRANSITIONS, isFinal, isSuccess, errorInfo,
  type TaskState, type RunStatus, type ErrorInfo, type FlowEvent, type FlowObservation, type TaskEvent, type RunEvent, type PublishEvent, type ProgressEvent,
} from './states.js';
export { evaluateCondition, conditionLinks, valueAt, type Condition, type ConditionFn, type ConditionView, type StateCondition, type ResultCondition, type TaskLink } from './conditions.js';
export { retryDelay, shouldRetry, type Backoff, type RetryPolicy, type CachePolicy, type TaskPolicy } from './policy.js';
export { systemClock, ManualClock, type Clock, type ManualClockOptions } from './clock.js';
export { encodeValue, decodeValue, hashValue, type Json } from './codec.js';
export { memoryStore, RUN_FORMAT, RUN_ID_PATTERN, type FlowStore, type MemoryStore, type RunRecord, type TaskRecord, type CacheEntry, type CommitBatch } from './store.js';
export { indexedDbStore, type IndexedDbStore, type IndexedDbStoreOptions } from './store-idb.js';
export { memoryPublisher, checkOutputs, outputNameProblem, type Outputs, type Publisher, type Staging, type PublishReceipt, type MemoryPublisher } from './publish.js';
export { consoleSink, formatLogLine, logFields, atLeast, type LogLevel, type LogRecord, type LogSink, type TaskLogger, type ConsoleSinkOptions } from './log.js';
export { TaskRegistry, type TaskType } from './registry.js';
export { parseCron, CRON_FIELDS, type Cron, type CronField } from './cron.js';
export { parseFlow, type FlowDocument, type TaskDocument, type FamilyDocument, type ParseFlowOptions } from './document.js';
export { startSchedule, scheduleFlow, type Schedule, type ScheduleOptions, type ScheduleFlowOptions } from './schedule.js';
