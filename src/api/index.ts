/**
 * @module api
 * The HTTP API (a Hono app) and the ports it runs on; see docs/API.md.
 */
export { createApi, jobView, ZonalRequestSchema } from './app.js';
export { inProcessRunner, runJob, jobError, checkJobSize, resultKeyOf, type JobDeps } from './jobs.js';
export { memoryJobStore, memoryKeyStore, memoryObjectStore, memoryRateLimiter, takeToken, type Bucket } from './memory.js';
export { problemOf, problemResponse, statusOf, type ProblemBody } from './problem.js';
export { checkObjectKey, checkSourceUrl, dataKey, guardedFetch, hashKey, isPrivateAddress, newToken } from './security.js';
export { apiScenarioIO, objectByteSource, resolveSource } from './sources.js';
export * from './ports.js';
