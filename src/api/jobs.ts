/**
 * @module api/jobs
 * Jobs run in this process (`ibf serve`, tests): the scenario is assessed on the tiled engine exactly as
 * `ibf assess` does (so the result is the CLI's), progress goes to the job record a few times a second,
 * and result.json goes to the object store under `jobs/<id>/`. A failure is recorded with its IbfError
 * code, message and hint; nothing half-written is published (the record points at the result only once
 * it is stored). On Cloudflare the same jobs run as a Workflow (edge/workflow.ts).
 */
import { IbfError, isIbfError } from '../errors.js';
import { sha256Hex } from '../engine/manifest.js';
import { assess } from '../engine/scenario.js';
import type { Pool } from '../pool/pool.js';
import { parseScenario } from '../model/scenario.js';
import { apiScenarioIO } from './sources.js';
import type { ApiDeps, JobRecord, JobRunner } from './ports.js';

export type JobDeps = Pick<ApiDeps, 'store' | 'jobs' | 'config' | 'kernel' | 'log' | 'fetch'>;

export const resultKeyOf = (jobId: string): string => `jobs/${jobId}/result.json`;
/** Where a Workflow job's scenario document is kept (edge/adapters.ts `workflowRunner` writes it, the Workflow reads it). */
export const scenarioKeyOf = (jobId: string): string => `jobs/${jobId}/scenario.json`;

/** What a failed job records: the error as problem fields, never a stack. */
export function jobError(e: unknown): NonNullable<JobRecord['error']> {
  if (isIbfError(e)) return { code: e.code, detail: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(e.problems ? { problems: e.problems } : {}) };
  return { code: 'E_KERNEL', detail: 'internal error while running the job', hint: 'This is a bug; please report it with the scenario.' };
}

/** The cells x bands limit of jobs, checked once the plan stands. */
export function checkJobSize(cellBands: number, max: number): void {
  if (cellBands > max) {
    throw new IbfError('E_LIMIT', `the scenario is ${cellBands} cells x bands, more than this API's limit of ${max}`, {
      hint: 'Cut the area or the bands, or run it with the CLI (`ibf assess`).', details: { cellBands, maxCellBands: max },
    });
  }
}

/** Runs a store write; a failure other than an IbfError becomes `E_IO` saying what could not be done. */
async function storing(what: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (e) {
    if (isIbfError(e)) throw e;
    throw new IbfError('E_IO', `cannot ${what} (${e instanceof Error ? e.message : String(e)})`, { hint: 'Check the storage (free space, permissions, the R2 / D1 bindings), then submit the job again.', cause: e });
  }
}

/**
 * Hands a created job to the runner. If the runner cannot take it (the Workflow binding refused, the
 * scenario could not be stored), the record is marked failed, so a client polling it, or the cron's
 * next delivery, sees why instead of a job queued for ever; then throws `E_WORKER` (503: try again).
 */
export async function startJob(deps: Pick<ApiDeps, 'jobs' | 'runner' | 'log'>, job: JobRecord, doc: Record<string, unknown>): Promise<void> {
  try {
    await deps.runner.start(job, doc);
  } catch (e) {
    const reason = isIbfError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    const error = { code: 'E_WORKER' as const, detail: `job ${job.id} could not be started (${reason})`.slice(0, 2000), hint: 'Submit it again; if it keeps failing, the job runner (the Workflow binding, or the store) is down.' };
    await deps.jobs.update(job.id, { status: 'failed', error }).catch((u: unknown) => deps.log({ level: 'error', msg: 'job start failure not recorded', job: job.id, error: String(u) }));
    deps.log({ level: 'error', msg: 'job not started', job: job.id, partner: job.partner, detail: error.detail });
    throw new IbfError('E_WORKER', error.detail, { hint: error.hint, cause: e });
  }
}

/** Runs job `job` of scenario `doc` to the end; never throws (the outcome is in the job record). */
export async function runJob(deps: JobDeps, job: JobRecord, doc: Record<string, unknown>, opts: { signal?: AbortSignal; pool?: Pool } = {}): Promise<void> {
  const t0 = Date.now();
  let lastWrite = 0;
  try {
    await deps.jobs.update(job.id, { status: 'running' });
    const s = parseScenario(doc, 'the scenario');
    const out = await assess(s, {
      io: apiScenarioIO(deps, job.partner, opts.signal),
      kernel: await deps.kernel(),
      pool: opts.pool,
      signal: opts.signal,
      tileCells: deps.config.tileCells,
      scenarioSha256: await sha256Hex(JSON.stringify(doc)),
      onPlan: async (p) => {
        const cellBands = p.plan.grid.width * p.plan.grid.height * p.plan.nBands;
        checkJobSize(cellBands, deps.config.limits.maxCellBands);
        await deps.jobs.update(job.id, { cellBands, progress: { tilesDone: 0, tilesTotal: p.plan.tiles.length } });
      },
      onProgress: (p) => {
        // a few writes a second at most: the record is for polling, not a log
        if (Date.now() - lastWrite < 250) return;
        lastWrite = Date.now();
        void deps.jobs.update(job.id, { progress: { tilesDone: p.tilesDone, tilesTotal: p.tilesTotal } }).catch(() => {});
      },
    });
    const key = resultKeyOf(job.id);
    const tiles = out.planned.plan.tiles.length;
    // a store that fails (disk full, R2 or D1 down) is E_IO, whatever the platform threw: not an internal error
    await storing(`store the result of job ${job.id}`, () => deps.store.put(key, new TextEncoder().encode(`${JSON.stringify(out.result, null, 2)}\n`), { contentType: 'application/json' }));
    await storing(`record job ${job.id} as succeeded`, () => deps.jobs.update(job.id, { status: 'succeeded', resultKey: key, progress: { tilesDone: tiles, tilesTotal: tiles } }));
    deps.log({ level: 'info', msg: 'job succeeded', job: job.id, partner: job.partner, ms: Date.now() - t0, tiles });
  } catch (e) {
    const error = jobError(e);
    deps.log({ level: isIbfError(e) ? 'warn' : 'error', msg: 'job failed', job: job.id, partner: job.partner, code: error.code, detail: error.detail, ...(isIbfError(e) ? {} : { error: String(e) }) });
    await deps.jobs.update(job.id, { status: 'failed', error }).catch(() => {});
  }
}

/** Runs jobs in this process as background promises; `idle()` waits for all of them (tests, shutdown). */
export function inProcessRunner(deps: JobDeps, opts: { pool?: Pool } = {}): JobRunner & { idle(): Promise<void>; abort(): void } {
  const running = new Set<Promise<void>>();
  const controller = new AbortController();
  return {
    async start(job, doc) {
      const p = runJob(deps, job, doc, { signal: controller.signal, pool: opts.pool }).finally(() => running.delete(p));
      running.add(p);
    },
    async idle() {
      while (running.size) await Promise.allSettled([...running]);
    },
    abort: () => controller.abort(new IbfError('E_CANCELLED', 'the server is shutting down')),
  };
}
