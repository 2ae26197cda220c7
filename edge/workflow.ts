/**
 * @module edge/workflow
 * A job as a Cloudflare Workflow: the assessment of src/engine/steps.ts as durable steps, defined as
 * flows of the workflow layer (src/flow) and run on the Workflow's `step.do` by `runFlowOnSteps`
 * (src/flow/durable.ts), so each step's retries and timeout come from its task's policy:
 *
 *     plan                 every input checked (all problems at once), the tiling cut into batches
 *     tiles/batch-<n>      in parallel: re-plan, read the batch's COG windows from R2 (ranged gets), run
 *                          the WASM kernel on its tiles, return the small exact partial (plain JSON)
 *     publish              merge the partials, derive, write result.json to R2
 *
 * The tile batches are known only once the plan stands, so the job is two flows on one instance: the
 * plan, then the batches and the publish task. Each step is a fresh start as far as the engine goes (it
 * may run in another isolate, after a replay), so every step opens its inputs again; the result is the
 * bits `assess()` and the CLI give. Job state (running, progress, succeeded / failed with the error
 * code) goes to D1 from the steps themselves.
 *
 * Failures: an error the task policy does not retry (a bad scenario, a missing input) is persisted as
 * the step's value and fails the job at once with its code; anything else (R2 or network trouble, a
 * crash) is retried by the platform per the policy, and fails the job once the retries are spent.
 */
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from 'cloudflare:workers';
import { IbfError } from '../src/errors.js';
import { checkJobSize, resultKeyOf } from '../src/api/jobs.js';
import type { JobRecord, LogLine } from '../src/api/ports.js';
import { apiScenarioIO } from '../src/api/sources.js';
import { sha256Hex } from '../src/engine/manifest.js';
import { finishAssessment, planAssessment, runTileBatch, type AssessmentSummary, type BatchPartial, type StepOptions } from '../src/engine/steps.js';
import { defineFlow, type TaskRef } from '../src/flow/define.js';
import { runFlowOnSteps, type DurableFlowRun, type DurableStep } from '../src/flow/durable.js';
import type { LogSink } from '../src/flow/log.js';
import type { RetryPolicy } from '../src/flow/policy.js';
import { parseScenario, type Scenario } from '../src/model/scenario.js';
import { d1JobStore, jsonLog, r2ObjectStore } from './adapters.js';
import { configOf, type Env } from './env.js';
import { edgeKernel } from './kernel.js';

/** What `POST /v1/jobs` (and the Cron Trigger) hand the Workflow: the job record and the scenario document. */
export interface AssessParams {
  job: JobRecord;
  scenario: Record<string, unknown>;
}

/** What the instance returns when the job succeeded. */
export interface AssessOutput {
  resultKey: string;
  tiles: number;
  batches: number;
}

// Errors worth another attempt: anything that is not one of our own codes (storage and network
// trouble, a crash), and our codes for transient trouble. A bad scenario or input is refused the same
// way every time, so it fails at once.
const TRANSIENT = new Set(['E_HTTP', 'E_IO', 'E_TASK_TIMEOUT', 'E_WORKER']);
export const transient = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | null)?.code;
  return !(typeof code === 'string' && code.startsWith('E_')) || TRANSIENT.has(code);
};

/** Plan: 2 retries, after 1 s and 2 s. */
export const PLAN_RETRY: RetryPolicy = { count: 2, backoff: { initialMs: 1000, factor: 2 }, when: transient };
/** Tile batches: 2 retries, after 2 s and 4 s. */
export const BATCH_RETRY: RetryPolicy = { count: 2, backoff: { initialMs: 2000, factor: 2 }, when: transient };
/** Publish: 2 retries, after 1 s and 2 s. */
export const PUBLISH_RETRY: RetryPolicy = { count: 2, backoff: { initialMs: 1000, factor: 2 }, when: transient };

/** Step name of tile batch `i` (what the Workflow's introspection and dashboard show). */
export const batchName = (i: number): string => `tiles/batch-${String(i).padStart(4, '0')}`;
/** Every step name of a job with `batches` tile batches, in order. */
export const stepNames = (batches: number): string[] => ['plan', ...Array.from({ length: batches }, (_, i) => batchName(i)), 'publish'];

/** The job's error from a failed flow run: the first failed task's error (its IbfError code, or E_WORKER). */
function failureOf(run: DurableFlowRun): NonNullable<JobRecord['error']> {
  const [task, e] = Object.entries(run.errors)[0] ?? ['(run)', { name: 'Error', message: `the ${run.flow} flow ended ${run.status}` }];
  if (e.code?.startsWith('E_')) return { code: e.code, detail: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  return { code: 'E_WORKER', detail: `step ${task} failed after its retries: ${e.message}`.slice(0, 2000), hint: 'Run the job again; if it fails the same way, report the job id.' };
}

/** The flow runner's records as the API's JSON log lines. */
const logSink = (log: (l: LogLine) => void, job: JobRecord): LogSink => (r) =>
  log({ level: r.level, msg: r.message, job: job.id, partner: job.partner, flow: r.flow, ...(r.task ? { task: r.task, attempt: r.attempt } : {}), ...(r.fields ?? {}) });

export class AssessWorkflow extends WorkflowEntrypoint<Env, AssessParams> {
  override async run(event: Readonly<WorkflowEvent<AssessParams>>, step: WorkflowStep): Promise<AssessOutput> {
    const { job, scenario: doc } = event.payload;
    const env = this.env;
    const config = configOf(env);
    const jobs = d1JobStore(env.DB);
    const store = r2ObjectStore(env.DATA);
    const log = jsonLog(env.LOG_LEVEL);
    const t0 = Date.now();
    const steps = step as unknown as DurableStep;
    const runOpts = { runId: job.id, logs: logSink(log, job), logLevel: 'warn' as const };
    const stepOptions = async (signal: AbortSignal): Promise<StepOptions> => ({
      io: apiScenarioIO({ config, store }, job.partner, signal),
      kernel: await edgeKernel(),
      tileCells: config.tileCells,
      signal,
    });
    let scenario: Scenario | undefined;
    const scenarioOf = () => (scenario ??= parseScenario(doc, 'the scenario'));

    const fail = async (run: DurableFlowRun): Promise<never> => {
      const error = failureOf(run);
      await step.do('record failure', async () => {
        await jobs.update(job.id, { status: 'failed', error });
        return error.code;
      });
      log({ level: error.code === 'E_WORKER' ? 'error' : 'warn', msg: 'job failed', job: job.id, partner: job.partner, code: error.code, detail: error.detail, ms: Date.now() - t0 });
      throw new IbfError(error.code as never, error.detail);
    };

    // 1. the plan
    const planning = defineFlow({ name: 'assess-plan' });
    planning.task('plan', {
      retry: PLAN_RETRY,
      timeoutMs: config.limits.stepTimeoutMs,
      run: async (ctx): Promise<AssessmentSummary> => {
        await jobs.update(job.id, { status: 'running' });
        const summary = await planAssessment(scenarioOf(), { ...(await stepOptions(ctx.signal)), maxTilesPerBatch: config.batchTiles });
        const cellBands = summary.cells * summary.nBands;
        checkJobSize(cellBands, config.limits.maxCellBands);
        await jobs.update(job.id, { cellBands, progress: { tilesDone: 0, tilesTotal: summary.tiles } });
        return summary;
      },
    });
    const planned = await runFlowOnSteps(planning, steps, runOpts);
    if (planned.status !== 'Completed') return fail(planned);
    const summary = planned.results.plan as AssessmentSummary;
    const ranges = summary.batches ?? [];

    // 2. tile batches in parallel, then 3. publish
    const assessing = defineFlow({ name: 'assess-tiles' });
    const tiles = assessing.family('tiles');
    const batches: Record<string, TaskRef<BatchPartial>> = {};
    ranges.forEach((range, i) => {
      batches[`b${i}`] = tiles.task(batchName(i).slice('tiles/'.length), {
        retry: BATCH_RETRY,
        timeoutMs: config.limits.stepTimeoutMs,
        run: async (ctx): Promise<BatchPartial> => {
          const partial = await runTileBatch(scenarioOf(), await stepOptions(ctx.signal), range);
          await jobs.addTilesDone(job.id, range.to - range.from).catch(() => {}); // progress is for polling only
          return partial;
        },
      });
    });
    assessing.task('publish', {
      inputs: batches,
      retry: PUBLISH_RETRY,
      timeoutMs: config.limits.stepTimeoutMs,
      run: async (ctx, partials): Promise<AssessOutput> => {
        const opts = { ...(await stepOptions(ctx.signal)), scenarioSha256: await sha256Hex(JSON.stringify(doc)) };
        const result = await finishAssessment(scenarioOf(), opts, Object.values(partials) as BatchPartial[]);
        const resultKey = resultKeyOf(job.id);
        await store.put(resultKey, new TextEncoder().encode(`${JSON.stringify(result, null, 2)}\n`), { contentType: 'application/json' });
        await jobs.update(job.id, { status: 'succeeded', resultKey, progress: { tilesDone: summary.tiles, tilesTotal: summary.tiles } });
        return { resultKey, tiles: summary.tiles, batches: ranges.length };
      },
    });
    const assessed = await runFlowOnSteps(assessing, steps, runOpts);
    if (assessed.status !== 'Completed') return fail(assessed);
    const out = assessed.results.publish as AssessOutput;
    log({ level: 'info', msg: 'job succeeded', job: job.id, partner: job.partner, tiles: out.tiles, batches: out.batches, ms: Date.now() - t0 });
    return out;
  }
}
