/**
 * @module edge/scheduled
 * The Cron Trigger (wrangler.toml `[triggers] crons`): every scheduled time, each forecast scenario of
 * `FORECAST_SCENARIOS` is read from R2 and started as a job, exactly as `POST /v1/jobs` would start it,
 * on behalf of the entry's partner (its `r2://` sources resolve inside that partner's uploads). The
 * runner copies the document to the job's own `jobs/<id>/scenario.json`, so a forecast object replaced
 * while a job runs changes nothing in that job.
 *
 * Job ids are `fc-<scheduled time, UTC minutes>-<entry index>`, so a repeated delivery of one scheduled
 * event starts nothing twice (the second insert of the same id is refused and logged).
 */
import { IbfError, isIbfError } from '../src/errors.js';
import { jobError, startJob } from '../src/api/jobs.js';
import type { JobRecord } from '../src/api/ports.js';
import { parseScenario } from '../src/model/scenario.js';
import { d1JobStore, jsonLog, workflowRunner } from './adapters.js';
import type { Env } from './env.js';

/** One forecast the schedule runs: a scenario JSON object in R2 (full object key), run for `partner`. */
export interface ForecastEntry {
  partner: string;
  key: string;
}

/** The entries of `FORECAST_SCENARIOS` (a JSON list), checked. */
export function forecastEntries(value: string | undefined): ForecastEntry[] {
  if (!value || !value.trim()) return [];
  let list: unknown;
  try {
    list = JSON.parse(value);
  } catch (e) {
    throw new IbfError('E_USAGE', `FORECAST_SCENARIOS is not JSON (${e instanceof Error ? e.message : String(e)})`, { hint: 'Set it to a list like [{"partner":"mw-dodma","key":"forecasts/mw-dodma/daily-flood.json"}].' });
  }
  const ok = (x: unknown): x is ForecastEntry =>
    !!x && typeof x === 'object' && typeof (x as ForecastEntry).partner === 'string' && /^[\w.-]{1,64}$/.test((x as ForecastEntry).partner) && typeof (x as ForecastEntry).key === 'string' && (x as ForecastEntry).key.length > 0;
  if (!Array.isArray(list) || !list.every(ok)) {
    throw new IbfError('E_USAGE', 'FORECAST_SCENARIOS must be a JSON list of {"partner": "<partner id>", "key": "<R2 key of a scenario JSON>"}', { hint: 'e.g. [{"partner":"mw-dodma","key":"forecasts/mw-dodma/daily-flood.json"}]' });
  }
  return list;
}

/** `fc-20260425T0600-0`: the scheduled minute (UTC) and the entry's index. */
export const forecastJobId = (scheduledTime: number, index: number): string =>
  `fc-${new Date(scheduledTime).toISOString().slice(0, 16).replace(/[-:]/g, '')}-${index}`;

/** Starts every configured forecast as a job; a bad entry is logged and skipped, the others still start. */
export async function startForecasts(env: Env, scheduledTime: number, cron: string): Promise<{ started: string[]; skipped: Array<{ key: string; code: string; detail: string }> }> {
  const log = jsonLog(env.LOG_LEVEL);
  const jobs = d1JobStore(env.DB);
  const runner = workflowRunner(env);
  const started: string[] = [];
  const skipped: Array<{ key: string; code: string; detail: string }> = [];
  let entries: ForecastEntry[];
  try {
    entries = forecastEntries(env.FORECAST_SCENARIOS);
  } catch (e) {
    const err = jobError(e);
    log({ level: 'error', msg: 'forecasts not started', cron, code: err.code, detail: err.detail });
    return { started, skipped: [{ key: '(FORECAST_SCENARIOS)', code: err.code, detail: err.detail }] };
  }
  for (const [i, entry] of entries.entries()) {
    const id = forecastJobId(scheduledTime, i);
    try {
      const obj = await env.DATA.get(entry.key);
      if (!obj) throw new IbfError('E_INPUT_NOT_FOUND', `forecast scenario ${entry.key} is not in the bucket`, { hint: 'Put it there with `wrangler r2 object put`.' });
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(await obj.text()) as Record<string, unknown>;
      } catch (e) {
        throw new IbfError('E_INPUT_FORMAT', `forecast scenario ${entry.key} is not JSON`, { cause: e });
      }
      const s = parseScenario(doc, entry.key);
      const t = new Date().toISOString();
      const job: JobRecord = { id, partner: entry.partner, keyId: 'cron', status: 'queued', createdAt: t, updatedAt: t, ...(s.name ? { name: s.name } : {}) };
      try {
        await jobs.create(job);
      } catch (e) {
        if (await jobs.get(id)) throw new IbfError('E_USAGE', `job ${id} was started by an earlier delivery of this schedule`, { cause: e });
        throw e;
      }
      await startJob({ jobs, runner, log }, job, doc);
      started.push(id);
      log({ level: 'info', msg: 'forecast started', cron, job: id, partner: entry.partner, key: entry.key });
    } catch (e) {
      const err = jobError(e);
      skipped.push({ key: entry.key, code: err.code, detail: err.detail });
      log({ level: isIbfError(e) ? 'warn' : 'error', msg: 'forecast not started', cron, job: id, partner: entry.partner, key: entry.key, code: err.code, detail: err.detail, ...(isIbfError(e) ? {} : { error: String(e) }) });
    }
  }
  return { started, skipped };
}
