/**
 * @module flow/ibf/run-node
 * `ibf flow run` and `ibf flow schedule` as functions: an IBF flow file run in Node over a folder store
 * (resumable by run id), publishing into a folder and, when configured, to the IBF-system API (HTTP
 * first, then the folder, so a failed upload leaves no files either).
 *
 *     <flow dir>/flow.json
 *     <flow dir>/.ibf-flow/runs/<run id>/...     the run store (dirStore): states, events, logs, results
 *     <flow dir>/.ibf-flow/downloads/...         downloaded URL sources
 *     <flow dir>/out/<date>/...                  published outputs (publish.dir)
 */
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { IbfError } from '../../errors.js';
import { readFileBytes } from '../../io/node.js';
import type { ImpactKernel } from '../../kernels/types.js';
import { parseJson } from '../../node/json.js';
import type { PoolLogger } from '../../pool/pool.js';
import { dirPublisher, dirStore, planFlow, runFlow, startSchedule, type Clock, type FlowObservation, type FlowRun, type LogLevel, type LogSink, type Schedule } from '../index-node.js';
import { buildIbfFlow, ibfRunParams, outputFolder } from './flow.js';
import { chainPublishers, httpPublisher, type HttpAttempt } from './http-publisher.js';
import { nodeFlowEnv } from './io-node.js';
import { parseIbfFlow, type IbfFlowConfig } from './schema.js';

export interface LoadedIbfFlow {
  path: string;
  /** Folder of the flow file. */
  dir: string;
  config: IbfFlowConfig;
  /** sha256 of the file's bytes. */
  sha256: string;
}

/** Reads and checks an IBF flow file; every problem in one `E_FLOW_INVALID` naming the fields. */
export async function loadIbfFlowFile(path: string): Promise<LoadedIbfFlow> {
  const bytes = await readFileBytes(path);
  const doc = parseJson(bytes, path, 'An IBF flow is a JSON object; examples/ibf-flow/flow.json is one.');
  const config = parseIbfFlow(doc, path);
  return { path, dir: dirname(resolve(path)), config, sha256: createHash('sha256').update(bytes).digest('hex') };
}

export interface RunIbfFlowOptions {
  kernel: ImpactKernel;
  /** Run id; default `<flow>-<UTC time>-<random>`. */
  runId?: string;
  /** Resume run `runId`, or (without one) the latest unfinished run of this flow in the store. */
  resume?: boolean;
  /** Forecast date (YYYY-MM-DD or ISO date-time); default: the resumed run's, else today 00:00 UTC. */
  date?: string | Date;
  /** Run store folder (default `<flow dir>/.ibf-flow`). */
  storeDir?: string;
  /** Publish folder (default publish.dir of the flow, else `<flow dir>/out`). */
  outDir?: string;
  /** Worker threads for large assessments (default 0: this thread). */
  workers?: number;
  minPoolCellBands?: number;
  signal?: AbortSignal;
  onEvent?: (e: FlowObservation) => void;
  logs?: LogSink | readonly LogSink[];
  logLevel?: LogLevel;
  /** Environment variables the endpoint and token are read from (default process.env). */
  processEnv?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  clock?: Clock;
  /** Each HTTP attempt of the publisher (retries included). */
  onHttp?: (a: HttpAttempt) => void;
  /** Once the run id and the tasks are known, before anything runs. */
  onStart?: (info: RunStartInfo) => void;
  logger?: PoolLogger;
}

export interface RunStartInfo {
  runId: string;
  resumed: boolean;
  flow: string;
  date: string;
  tasks: string[];
  storeDir: string;
  outDir: string;
  /** The IBF-system endpoint the payloads go to (without credentials), if any. */
  endpoint?: string;
}

export interface IbfFlowOutcome {
  run: FlowRun;
  config: IbfFlowConfig;
  date: string;
  storeDir: string;
  outDir: string;
  /** Folder of this forecast's outputs inside outDir. */
  folder: string;
  endpoint?: string;
}

function newRunId(flow: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${flow}-${stamp}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A date option as a Date (YYYY-MM-DD = 00:00 UTC). */
export function parseFlowDate(d: string | Date): Date {
  const date = typeof d === 'string' ? new Date(/^\d{4}-\d{2}-\d{2}$/.test(d.trim()) ? `${d.trim()}T00:00:00Z` : d) : d;
  if (Number.isNaN(date.getTime())) throw new IbfError('E_USAGE', `the forecast date "${String(d)}" is not a date`, { hint: 'Give it as YYYY-MM-DD or an ISO 8601 date-time (UTC), e.g. 2019-03-14 or 2019-03-14T06:00Z.' });
  return date;
}

/** Where the payloads go: the endpoint and token the flow names, read from the environment. */
function endpointOf(c: IbfFlowConfig, env: NodeJS.ProcessEnv): { endpoint?: string; token?: string } {
  const ibf = c.publish?.ibfSystem;
  if (!ibf) return {};
  const fromEnv = (name: string, what: string) => {
    const v = env[name];
    if (v === undefined || v.trim() === '') {
      throw new IbfError('E_USAGE', `publish.ibfSystem.${what} names the environment variable ${name}, which is not set`, { hint: `Set ${name}, or remove publish.ibfSystem.${what} to write the payloads to disk only.` });
    }
    return v.trim();
  };
  const endpoint = ibf.endpoint ?? (ibf.endpointEnv !== undefined ? fromEnv(ibf.endpointEnv, 'endpointEnv') : undefined);
  const token = ibf.tokenEnv !== undefined ? fromEnv(ibf.tokenEnv, 'tokenEnv') : undefined;
  return { ...(endpoint ? { endpoint } : {}), ...(token ? { token } : {}) };
}

/** The latest run of `flow` in the store that did not complete, or undefined. */
async function latestUnfinished(store: ReturnType<typeof dirStore>, flow: string): Promise<string | undefined> {
  let best: { id: string; at: number } | undefined;
  for (const id of await store.runs()) {
    const r = await store.loadRun(id);
    if (!r || r.flow !== flow || r.status === 'Completed') continue;
    if (!best || r.startedAt > best.at) best = { id, at: r.startedAt };
  }
  return best?.id;
}

/** Runs (or resumes) the IBF flow of file `path`; resolves with the run whatever its status. */
export async function runIbfFlowFile(path: string, opts: RunIbfFlowOptions): Promise<IbfFlowOutcome> {
  const loaded = await loadIbfFlowFile(path);
  const { config, dir } = loaded;
  const storeDir = resolve(opts.storeDir ?? join(dir, '.ibf-flow'));
  const outDir = resolve(opts.outDir ?? resolve(dir, config.publish?.dir ?? 'out'));
  const store = dirStore(storeDir);
  const now = opts.clock?.now() ?? Date.now();
  let runId = opts.runId;
  let date = opts.date === undefined ? undefined : parseFlowDate(opts.date);
  if (opts.resume) {
    runId ??= await latestUnfinished(store, config.name);
    if (runId === undefined) throw new IbfError('E_FLOW_STATE', `there is no unfinished run of flow ${config.name} in ${storeDir} to resume`, { hint: 'Start a run without --resume, or give its --run-id.' });
    const rec = await store.loadRun(runId);
    if (!rec) throw new IbfError('E_FLOW_STATE', `run ${runId} is not in ${storeDir}`, { hint: 'Check the run id (and --store); without --resume a new run starts.' });
    if (date === undefined && typeof rec.params.date === 'string') date = parseFlowDate(rec.params.date);
  } else if (runId !== undefined && (await store.loadRun(runId))) {
    throw new IbfError('E_FLOW_STATE', `run ${runId} exists already in ${storeDir}`, { hint: 'Add --resume to finish it, or choose another --run-id.' });
  }
  runId ??= newRunId(config.name, now);
  date ??= new Date(Math.floor(now / 86_400_000) * 86_400_000);
  const params = ibfRunParams(date);
  const { endpoint, token } = endpointOf(config, opts.processEnv ?? process.env);
  const env = nodeFlowEnv({ dir, kernel: opts.kernel, workers: opts.workers, minPoolCellBands: opts.minPoolCellBands, logger: opts.logger, fetch: opts.fetch, workDir: join(storeDir, 'downloads') });
  try {
    const flow = buildIbfFlow(config, { env, configSha256: loaded.sha256 });
    const plan = planFlow(flow, { params });
    const ibf = config.publish?.ibfSystem;
    const http = endpoint
      ? [httpPublisher({ endpoint, ...(token ? { token } : {}), ...(ibf?.retry ? { retry: ibf.retry } : {}), ...(ibf?.timeoutMs ? { timeoutMs: ibf.timeoutMs } : {}), signal: opts.signal, fetch: opts.fetch, onAttempt: opts.onHttp })]
      : [];
    const publisher = chainPublishers([...http, dirPublisher(outDir)]);
    const shownEndpoint = http[0]?.target;
    opts.onStart?.({ runId, resumed: Boolean(opts.resume), flow: config.name, date: params.date, tasks: plan.tasks.map((t) => t.id), storeDir, outDir, ...(shownEndpoint ? { endpoint: shownEndpoint } : {}) });
    const run = await runFlow(flow, {
      runId,
      resume: Boolean(opts.resume),
      params,
      store,
      publisher,
      signal: opts.signal,
      onEvent: opts.onEvent,
      logs: opts.logs,
      logLevel: opts.logLevel,
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    return { run, config, date: params.date, storeDir, outDir, folder: outputFolder(params.date), ...(shownEndpoint ? { endpoint: shownEndpoint } : {}) };
  } finally {
    await env.close();
  }
}

export interface ScheduleIbfFlowOptions extends Omit<RunIbfFlowOptions, 'runId' | 'resume' | 'date' | 'signal'> {
  /** Stops the schedule and cancels the run in progress. */
  signal?: AbortSignal;
  /** Each finished run, whatever its status. */
  onRun?: (outcome: IbfFlowOutcome, at: Date) => void;
  /** A run that could not start or threw (the schedule goes on). */
  onError?: (error: unknown, at: Date) => void;
}

/** The run id of the scheduled run fired at `at`: `<flow>-<YYYYMMDD>T<HHMM>Z`. */
export function scheduledRunId(flow: string, at: Date): string {
  return `${flow}-${at.toISOString().slice(0, 16).replace(/[-:]/g, '')}Z`;
}

/**
 * Runs the flow on its `schedule` (cron, UTC) until the signal aborts: each run's forecast date is its
 * fire time, its run id {@link scheduledRunId}, so a scheduler restarted while a run was half-way
 * resumes it when that minute fires again. The flow file is read again for every run (edits apply).
 */
export async function scheduleIbfFlowFile(path: string, opts: ScheduleIbfFlowOptions): Promise<Schedule> {
  const { config } = await loadIbfFlowFile(path);
  if (config.schedule === undefined) {
    throw new IbfError('E_USAGE', `flow ${config.name} has no schedule`, { hint: 'Add "schedule": "<cron>" to the flow (5 fields, UTC), e.g. "0 6 * * *" for 06:00 every day.' });
  }
  const { onRun, onError, ...rest } = opts;
  return startSchedule(
    config.schedule,
    async (at, signal) => {
      const runId = scheduledRunId(config.name, at);
      const storeDir = resolve(opts.storeDir ?? join(dirname(resolve(path)), '.ibf-flow'));
      const exists = Boolean(await dirStore(storeDir).loadRun(runId));
      const outcome = await runIbfFlowFile(path, { ...rest, runId, resume: exists, date: at, signal });
      onRun?.(outcome, at);
    },
    { ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.signal ? { signal: opts.signal } : {}), ...(onError ? { onError } : {}) },
  );
}
