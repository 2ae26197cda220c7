/**
 * @module flow/ibf
 * The IBF flow: one JSON document (schema.ts) run as orchestrator tasks (flow.ts): ingest, validate,
 * assess per lead time, trigger, evaluate, publish, with result files and IBF-system payloads (sent by
 * HTTP with retries when an endpoint is configured). Runtime-neutral; `./index-node.ts` adds the Node
 * environment, `runIbfFlowFile` / `scheduleIbfFlowFile` and the CLI. docs/IBF-FLOW.md describes it.
 */
export { IBF_FLOW_SCHEMA, IbfFlowSchema, parseIbfFlow, hindcastDays, type IbfFlowConfig, type ForecastConfig, type EvaluateConfig, type IbfSystemConfig } from './schema.js';
export { buildIbfFlow, ibfRunParams, outputFolder, leadScenario, indicatorsOf, evaluateHindcast, type BuildIbfFlowOptions, type HindcastResult, type EvaluationReport } from './flow.js';
export {
  flowLeads, leadSlug, ingestLead, ingestFile, validateInputs, uncoveredZones,
  type IbfFlowEnv, type FileFacts, type AssessInput, type IngestedLead, type IngestResults, type LeadPlan, type ValidatedInputs,
} from './ingest.js';
export { memoryIbfFlowEnv, type MemoryEnvOptions } from './env-memory.js';
export { alertSummary, alertsCsv, type AlertSummary, type LeadResult, type LeadTimeOutcome, type ZoneOutcome } from './alerts.js';
export {
  ibfSystemRequests, requestOutputs, ibfLeadTime, forecastSeverity, summarise, REQUESTS_OUTPUT,
  type IbfRequest, type IbfSystemOptions, type IndicatorSpec, type IndicatorMetric, type IndicatorStatistic,
} from './ibf-system.js';
export {
  httpPublisher, chainPublishers, sendWithRetry, retryableStatus, httpRetryDelay, retryAfterMs, joinUrl, abortableSleep,
  type HttpPublisher, type HttpOptions, type HttpRetry, type HttpAttempt,
} from './http-publisher.js';
export { parseImpactsCsv, parseDay, dayString, csvRows, type ImpactRecord, type ImpactColumns, type ParseImpactsOptions } from './impacts.js';
export { evaluateSkill, skillScores, type SkillCounts, type SkillScores, type SkillReport, type Decision, type MatchOptions, type PredictedEvent, type ObservedEvent, type ZoneSkill } from './skill.js';
export {
  compileGlob, matchGlob, selectMatches, fillTemplate, expandUrl, templateProblems, hasMagic, escapeGlob, unescapeGlob, naturalCompare, isoDay,
  type Glob, type GlobMatch, type TemplateValues,
} from './glob.js';
