/**
 * @module edge/workflow
 * A job as a Cloudflare Workflow: the assessment of src/engine/steps.ts as durable steps, defined as
 * flows of the workflow layer (src/flow) and run on the Workflow's `step.do` by `runFlowOnSteps`
 * (src/flow/durable.ts), so each step's retries and timeout come from its task's policy:
 *
 *     plan                 every input checked (all problems at once), the tiling cut into batches
 *     tiles/batch-<n>      in parallel: re-plan, read the batch's COG windows from R2 (ranged gets), run
 *                          the WASM kernel on its tiles, write the exact partial to R2, return a reference
 *     publish              read and check the partials, merge, derive, write result.json to R2
 *     delete partials      best effort, once published
 *
 * What lives in R2 under `jobs/<id>/`: `scenario.json` (written by `workflowRunner` before the instance
 * starts; the params carry its key and sha256), `partials/batch-<n>.json` (one per tile batch, deleted
 * after the publish) and `result.json`. Step values and params stay a few hundred bytes, far inside the
 * platform's 1 MiB caps, whatever the size of the scenario, the zones or the bands.
 *
 * The tile batches are known only once the plan stands, so the job is two flows on one instance: the
 * plan, then the batches and the publish task. Each step is a fresh start as far as the engine goes (it
 * may run in another isolate, after a replay), so every step opens its inputs again; the result is the
 * bits `assess()` and the CLI give. Job state (running, progress, succeeded / failed with the error
 * code) goes to D1 from the steps themselves.
 *
 * Failures: an error the task policy does not retry (a bad scenario, a missing input) is persisted as
 * the step's value and fails the job at once with its code; anything else (R2 or network trouble, a
 * crash) is retried by the platform per the policy, and fails the job once the retries are spent. An
 * object of the job's own that R2 cannot give back is `E_IO` (retried); one whose bytes are not those
 * written (sha256) is `E_FLOW_STATE` (not retried: reading again gives the same bytes).
 */
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from 'cloudflare:workers';
import { IbfError } from '../src/errors.js';
import { checkJobSize, resultKeyOf } from '../src/api/jobs.js';
import type { JobRecord, LogLine, ObjectStore } from '../src/api/ports.js';
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

/** What `POST /v1/jobs` (and the Cron Trigger) hand the Workflow: the job record and where its scenario is. */
export interface AssessParams {
  job: JobRecord;
  /** R2 key of the scenario document (`jobs/<id>/scenario.json`): the bytes of `JSON.stringify(doc)`. */
  scenarioKey?: string;
  /** sha256 of those bytes (lowercase hex), checked when read; it is also the manifest's `scenarioSha256`. */
  scenarioSha256?: string;
  /** The document itself: only instances started before the scenario moved to R2 carry it. */
  scenario?: Record<string, unknown>;
}

/** What a tile-batch step returns: where the batch's partial is in R2 and how to check it (~250 bytes). */
export interface PartialRef {
  key: string;
  /** Size of the stored JSON, bytes. */
  bytes: number;
  /** sha256 of the stored JSON, lowercase hex. */
  sha256: string;
  /** Its tiles, `from` inclusive, `to` exclusive (for messages; the partial itself says the same). */
  from: number;
  to: number;
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
/** The step that deletes a published job's partials. */
export const DELETE_PARTIALS = 'delete partials';
/** Every step name of a successful job with `batches` tile batches, in order. */
export const stepNames = (batches: number): string[] => ['plan', ...Array.from({ length: batches }, (_, i) => batchName(i)), 'publish', DELETE_PARTIALS];
/** R2 key of tile batch `i`'s partial: `jobs/<id>/partials/batch-0007.json`. */
export const partialKeyOf = (jobId: string, i: number): string => `jobs/${jobId}/partials/${batchName(i).slice('tiles/'.length)}.json`;

// Every batch partial goes to R2, whatever its size, and its step returns only a PartialRef. Cloudflare
// caps a step's (non-stream) return value at 1 MiB, 2^20 bytes, as it caps a Workflow's event payload
// (developers.cloudflare.com/workflows/reference/limits/), and a partial holds exact sums for every
// zone x band its tiles touch plus a maximum for every zone x band: 1 600 admin-2 zones x 51 members is
// several MB per batch. One path for every job rather than spilling above a size: the small jobs of the
// tests and of most partners then run the code national jobs depend on, and no rarely taken branch is
// left to fail first in production. It costs one R2 put per batch and one get per batch in publish.
// (Steps may also return a ReadableStream of any size, but streamed values still count toward the
// instance's stored state, 1 GB at most, and flow/durable persists JSON records.)

const utf8 = new TextEncoder();
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** An object this job wrote, read whole: `E_IO` (retried) when R2 fails (r2ObjectStore says so) or the object is gone. */
async function readOwn(store: ObjectStore, key: string, what: string): Promise<Uint8Array> {
  const bytes = await store.get(key);
  if (!bytes) {
    throw new IbfError('E_IO', `${what} is missing from R2 (key ${key})`, {
      hint: 'It was deleted while the job ran (a lifecycle rule or a manual delete under jobs/?); submit the job again.',
    });
  }
  return bytes;
}

/** `bytes` must be what the job wrote (its size and sha256); otherwise `E_FLOW_STATE`, not retried. */
async function checkOwn(bytes: Uint8Array, want: { bytes?: number; sha256: string }, what: string, key: string): Promise<void> {
  const sha256 = await sha256Hex(bytes);
  if (sha256 === want.sha256 && (want.bytes === undefined || want.bytes === bytes.byteLength)) return;
  const wanted = `sha256 ${want.sha256.slice(0, 12)}...${want.bytes === undefined ? '' : ` (${want.bytes} bytes)`}`;
  throw new IbfError('E_FLOW_STATE', `${what} in R2 (key ${key}) is not what the job wrote: sha256 ${sha256.slice(0, 12)}... (${bytes.byteLength} bytes), expected ${wanted}`, {
    hint: 'Something changed the object after the job wrote it: submit the job again, and check what else writes under jobs/ in the bucket.',
    details: { key, sha256, expectedSha256: want.sha256 },
  });
}

const parseJson = <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes)) as T;

/** The job's scenario document, and the sha256 the manifest records (of `JSON.stringify(doc)`, as on Node). */
async function jobScenario(store: ObjectStore, p: AssessParams): Promise<{ doc: Record<string, unknown>; sha256: string }> {
  if (p.scenario) return { doc: p.scenario, sha256: await sha256Hex(JSON.stringify(p.scenario)) };
  if (!p.scenarioKey || !p.scenarioSha256) {
    throw new IbfError('E_FLOW_STATE', `job ${p.job.id} was started without its scenario (no scenarioKey and scenarioSha256 in the params)`, {
      hint: 'Start jobs with POST /v1/jobs or the Cron Trigger (workflowRunner in edge/adapters.ts), which store the scenario first.',
    });
  }
  const what = `the scenario of job ${p.job.id}`;
  const bytes = await readOwn(store, p.scenarioKey, what);
  await checkOwn(bytes, { sha256: p.scenarioSha256 }, what, p.scenarioKey);
  return { doc: parseJson(bytes), sha256: p.scenarioSha256 };
}

/** Writes a batch's partial to `key` and returns its reference; a retried step writes the same bits again. */
async function storePartial(store: ObjectStore, key: string, partial: BatchPartial): Promise<PartialRef> {
  const bytes = utf8.encode(JSON.stringify(partial)); // plain JSON by design (src/engine/steps.ts)
  const sha256 = await sha256Hex(bytes);
  await store.put(key, bytes, { contentType: 'application/json', sha256 }); // an R2 failure is E_IO, retried
  return { key, bytes: bytes.byteLength, sha256, from: partial.from, to: partial.to };
}

/**
 * A batch's partial, read back and checked. A value that is a partial itself (a step that finished
 * before partials moved to R2, in an instance started then) is used as it is.
 */
async function readPartial(store: ObjectStore, value: PartialRef | BatchPartial): Promise<BatchPartial> {
  if ('state' in value) return value;
  const what = `the partial of tiles ${value.from}..${value.to - 1}`;
  const bytes = await readOwn(store, value.key, what);
  await checkOwn(bytes, value, what, value.key);
  return parseJson<BatchPartial>(bytes);
}

/** Deletes a published job's partials, up to 1 000 keys per R2 call (the most it takes). */
async function deletePartials(bucket: R2Bucket, keys: string[]): Promise<number> {
  for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000));
  return keys.length;
}

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
    const { job } = event.payload;
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
    // read once per run of this code (steps that run here share it); a failed read is tried again
    let loaded: Promise<{ scenario: Scenario; sha256: string }> | undefined;
    const scenarioOf = (): Promise<{ scenario: Scenario; sha256: string }> => {
      if (!loaded) {
        const p = jobScenario(store, event.payload).then(({ doc, sha256 }) => ({ scenario: parseScenario(doc, 'the scenario'), sha256 }));
        p.catch(() => {
          if (loaded === p) loaded = undefined;
        });
        loaded = p;
      }
      return loaded;
    };

    const fail = async (run: DurableFlowRun): Promise<never> => {
      const error = failureOf(run);
      await step.do('record failure', async () => {
        await jobs.update(job.id, { status: 'failed', error });
        return error.code;
      });
      log({ level: error.code === 'E_WORKER' ? 'error' : 'warn', msg: 'job failed', job: job.id, partner: job.partner, code: error.code, detail: error.detail, ms: Date.now() - t0 });
      throw new IbfError(error.code as never, error.detail);
    };
    // Best effort, in its own step once the publish step is recorded (a publish retried after the delete
    // would find no partials). A delete that still fails after its retries is logged; the job has succeeded.
    const dropPartials = async (batches: number): Promise<void> => {
      const keys = Array.from({ length: batches }, (_, i) => partialKeyOf(job.id, i));
      try {
        await step.do(DELETE_PARTIALS, { retries: { limit: 2, delay: 1000, backoff: 'exponential' }, timeout: 60_000 }, () => deletePartials(env.DATA, keys));
      } catch (e) {
        log({ level: 'warn', msg: 'partials not deleted', job: job.id, partner: job.partner, keys: keys.length, error: errorText(e) });
      }
    };

    // 1. the plan
    const planning = defineFlow({ name: 'assess-plan' });
    planning.task('plan', {
      retry: PLAN_RETRY,
      timeoutMs: config.limits.stepTimeoutMs,
      run: async (ctx): Promise<AssessmentSummary> => {
        await jobs.update(job.id, { status: 'running' });
        const { scenario } = await scenarioOf();
        const summary = await planAssessment(scenario, { ...(await stepOptions(ctx.signal)), maxTilesPerBatch: config.batchTiles, maxBatches: config.maxBatches });
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
    const batches: Record<string, TaskRef<PartialRef>> = {};
    ranges.forEach((range, i) => {
      batches[`b${i}`] = tiles.task(batchName(i).slice('tiles/'.length), {
        retry: BATCH_RETRY,
        timeoutMs: config.limits.stepTimeoutMs,
        run: async (ctx): Promise<PartialRef> => {
          const { scenario } = await scenarioOf();
          const partial = await runTileBatch(scenario, await stepOptions(ctx.signal), range);
          const ref = await storePartial(store, partialKeyOf(job.id, i), partial);
          await jobs.addTilesDone(job.id, range.to - range.from).catch(() => {}); // progress is for polling only
          return ref;
        },
      });
    });
    assessing.task('publish', {
      inputs: batches,
      retry: PUBLISH_RETRY,
      timeoutMs: config.limits.stepTimeoutMs,
      run: async (ctx, refs): Promise<AssessOutput> => {
        const { scenario, sha256 } = await scenarioOf();
        const opts = { ...(await stepOptions(ctx.signal)), scenarioSha256: sha256 };
        const partials = await Promise.all(Object.values(refs as Record<string, PartialRef | BatchPartial>).map((r) => readPartial(store, r)));
        const result = await finishAssessment(scenario, opts, partials);
        const resultKey = resultKeyOf(job.id);
        await store.put(resultKey, new TextEncoder().encode(`${JSON.stringify(result, null, 2)}\n`), { contentType: 'application/json' });
        await jobs.update(job.id, { status: 'succeeded', resultKey, progress: { tilesDone: summary.tiles, tilesTotal: summary.tiles } });
        return { resultKey, tiles: summary.tiles, batches: ranges.length };
      },
    });
    const assessed = await runFlowOnSteps(assessing, steps, runOpts);
    if (assessed.status !== 'Completed') return fail(assessed);
    const out = assessed.results.publish as AssessOutput;
    await dropPartials(ranges.length);
    log({ level: 'info', msg: 'job succeeded', job: job.id, partner: job.partner, tiles: out.tiles, batches: out.batches, ms: Date.now() - t0 });
    return out;
  }
}
