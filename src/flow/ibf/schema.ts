/**
 * @module flow/ibf/schema
 * The IBF flow document (`e4drr-ibf/ibf-flow@1`): one JSON file that says where the forecast, exposure,
 * admin boundaries and historical impacts are, how to assess and trigger, what to evaluate, and where to
 * publish. `ibf flow run flow.json` runs it (docs/IBF-FLOW.md). Paths are relative to the flow file;
 * sources may be http(s) URLs. Unknown keys are errors (a typo never falls back to a default), and every
 * problem is reported at once (`E_FLOW_INVALID`, each naming its field) before anything runs.
 */
import { z } from 'zod';
import { zodProblems } from '../../model/zod-problems.js';
import { IbfError, type Problem } from '../../errors.js';
import { leadTimeHoursOrProblem, leadTimeLabel } from '../../engine/derive/lead-time.js';
import { triggerProblems } from '../../engine/trigger.js';
import { CurveRefSchema, TriggerSchema, ZonesSchema } from '../../model/scenario.js';
import { parseCron } from '../cron.js';
import { templateProblems } from './glob.js';
import { parseDay } from './impacts.js';

export const IBF_FLOW_SCHEMA = 'e4drr-ibf/ibf-flow@1';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const probability = finite.refine((p) => p >= 0 && p <= 1, 'must be a probability in [0, 1]');
const source = z.string().min(1);
const isoDate = z.string().refine((s) => parseDay(s) !== undefined, 'must be a date, YYYY-MM-DD');
const leadTime = z.union([z.string().min(1), finite]);

/** Meteorological forecast rasters: an ensemble per lead time. */
export const ForecastSchema = z.strictObject({
  source: z
    .union([source, z.record(z.string(), z.union([source, z.array(source).min(1)]))])
    .describe(
      'Where the rasters are: a template (placeholders {lead}, {leadHours}, {date}, {YYYY} {MM} {DD} {HH}, {member} / {member:N}; ' +
        'wildcards * ? ** {a,b} for local paths), or per lead time label a file / URL or a list of them (one per member).',
    ),
  unit: z.string().min(1).describe('Unit of the intensity: m (flood depth), m/s (wind), mm (rain) ...'),
  leadTimes: z.array(leadTime).min(1).describe('Lead times to assess, as labels ("24-hour", "5-day") or hours.'),
  members: z.number().int().positive().optional().describe('Members expected per lead time (checked; needed for {member} in a URL).'),
  order: z.enum(['member-major', 'lead-major']).optional().describe('Band order when one file holds every lead time (default member-major).'),
  band: z.number().int().positive().optional().describe('Band of one-member-per-file rasters (default 1).'),
  nodata: finite.nullable().optional().describe("Overrides the files' nodata; null = none."),
  resampling: z.enum(['nearest', 'bilinear']).optional().describe('How the hazard comes onto the exposure grid when the grids differ (default bilinear).'),
});

/** The exposure raster. */
export const FlowExposureSchema = z.strictObject({
  source: source.describe('GeoTIFF of exposed value (path or URL).'),
  unit: z.string().min(1).describe('Unit of the value: USD, EUR, people ...'),
  band: z.number().int().positive().optional().describe('Band holding the values (default 1).'),
  nodata: finite.nullable().optional().describe("Overrides the file's nodata; null = none."),
});

/** Historical impact records (CSV: date, zone id, observed impact). */
export const ImpactsSchema = z.strictObject({
  source: source.describe('CSV with a header: date (YYYY-MM-DD), zone (zone id), impact (>= 0).'),
  columns: z
    .strictObject({ date: z.string().min(1).optional(), zone: z.string().min(1).optional(), impact: z.string().min(1).optional() })
    .optional()
    .describe('Column names when they are not date / zone / impact.'),
});

/** Trigger skill against the historical impacts over a hindcast period. */
export const EvaluateSchema = z.strictObject({
  hindcast: z
    .strictObject({
      dates: z.array(isoDate).min(1).optional().describe('Issue dates of the hindcast forecasts.'),
      from: isoDate.optional().describe('First issue date (with `to`: every `everyDays` days).'),
      to: isoDate.optional().describe('Last issue date.'),
      everyDays: z.number().int().positive().optional().describe('Days between issue dates from `from` to `to` (default 1).'),
      source: source.optional().describe("Template of the hindcast rasters (with {date}); default: forecast.source."),
    })
    .describe('The past forecasts to evaluate: `dates`, or `from` / `to` / `everyDays`.'),
  windowDays: z.number().int().min(0).optional().describe('Timing tolerance when matching triggers with impacts, days (default 1).'),
  minImpact: finite.nonnegative().optional().describe('Smallest observed impact that is an event (default: any > 0).'),
  thresholds: z.array(finite).min(1).optional().describe('Other trigger thresholds to score (metric unit), for tuning.'),
  pMins: z.array(probability).min(1).optional().describe('Other trigger probabilities to score, for tuning.'),
});

const IndicatorSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be an IBF indicator name (letters, digits, _ . -)').describe('IBF dynamic indicator, e.g. population_affected.'),
  metric: z.enum(['damage', 'affectedValue', 'affectedShare']).describe('Per zone and member: damage, affected value, or affected value / exposed value.'),
  statistic: z.union([z.enum(['mean', 'median', 'min', 'max']), probability]).optional().describe('Over the members (default median; a number = that quantile).'),
  scale: finite.optional().describe('Multiplies the amount (default 1; 100 turns a share into a percentage).'),
});

export const HttpRetrySchema = z.strictObject({
  count: z.number().int().min(0).optional().describe('Retries after the first attempt (default 4).'),
  initialMs: z.number().min(0).optional().describe('Delay before the first retry, ms (default 500).'),
  factor: z.number().min(1).optional().describe('Growth per retry (default 2).'),
  maxMs: z.number().min(0).optional().describe('Longest delay, ms (default 30000).'),
  jitter: z.number().min(0).max(1).optional().describe('Spread of each delay, 0..1 (default 0.1).'),
});

/** IBF-system payloads, written beside the results and sent to an endpoint when one is configured. */
export const IbfSystemSchema = z.strictObject({
  countryCodeISO3: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 3166-1 alpha-3 code, e.g. MOZ').describe('Country of the upload.'),
  disasterType: z.string().min(1).optional().describe('IBF disaster type (default floods).'),
  adminLevel: z.number().int().min(0).max(4).optional().describe("Admin level of the zones' place codes (default 1)."),
  eventName: z.string().min(1).nullable().optional().describe('Event name of the uploads (default null).'),
  indicators: z.array(IndicatorSchema).optional().describe('Impact indicators besides forecast_severity and forecast_trigger.'),
  processEvents: z.boolean().optional().describe('Send events/process last (default true).'),
  endpoint: z.string().url().optional().describe('Base URL of the IBF-system API (e.g. https://<host>/api/); without it nothing is sent.'),
  endpointEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional().describe('Or: the environment variable holding the base URL.'),
  tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional().describe('Environment variable holding the bearer token.'),
  retry: HttpRetrySchema.optional().describe('Retries of each request.'),
  timeoutMs: z.number().positive().optional().describe('Per request attempt, ms (default 60000).'),
});

export const PublishSchema = z.strictObject({
  dir: source.optional().describe('Folder the outputs are committed to (default "out" beside the flow file).'),
  ibfSystem: IbfSystemSchema.optional(),
});

const TaskRetrySchema = z.strictObject({
  count: z.number().int().min(0).describe('Retries after the first attempt.'),
  initialMs: z.number().min(0).optional().describe('Delay before the first retry, ms (default 1000).'),
  maxMs: z.number().min(0).optional().describe('Longest delay, ms.'),
});

/** How the flow runs. */
export const RunSchema = z.strictObject({
  assessConcurrency: z.number().int().min(1).optional().describe('Assessments at once (default 1: each uses the whole pool).'),
  downloadConcurrency: z.number().int().min(1).optional().describe('Downloads at once (default 4).'),
  ingestRetry: TaskRetrySchema.optional().describe('Retries of the ingest tasks (default 3, from 1 s).'),
  assessTimeoutMs: z.number().positive().optional().describe('Timeout of one assessment, ms (default none).'),
  cacheHindcasts: z.boolean().optional().describe('Reuse hindcast assessments of the same inputs across runs (default true).'),
});

export const IbfFlowSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", ".", "-"').describe('Flow name (run ids start with it).'),
  description: z.string().optional(),
  schedule: z.string().optional().describe('Cron (5 fields, UTC) for `ibf flow schedule`.'),
  forecast: ForecastSchema,
  exposure: FlowExposureSchema,
  zones: ZonesSchema.describe('Admin boundaries (GeoJSON) and the property holding the place code.'),
  vulnerability: CurveRefSchema.describe('The damage function, as in a scenario: a catalog id, an inline table, { emanuel }, or { csv, column }.'),
  affectedThreshold: finite.optional().describe('A cell is affected at or above this intensity (hazard unit).'),
  quantiles: z.array(probability).optional().describe('Quantiles of the member distribution to report.'),
  trigger: TriggerSchema.describe('Early-action trigger: metric, threshold, pMin, maxLeadTime, alert classes.'),
  impacts: ImpactsSchema.optional(),
  evaluate: EvaluateSchema.optional(),
  publish: PublishSchema.optional(),
  run: RunSchema.optional(),
});

export type IbfFlowConfig = z.infer<typeof IbfFlowSchema>;
export type ForecastConfig = z.infer<typeof ForecastSchema>;
export type EvaluateConfig = z.infer<typeof EvaluateSchema>;
export type IbfSystemConfig = z.infer<typeof IbfSystemSchema>;

/** Problems the schema cannot see: templates, lead times, the cron, the trigger rule, the hindcast period. */
function crossProblems(c: IbfFlowConfig): Problem[] {
  return crossChecks.flatMap((check) => check(c));
}

function forecastProblems(c: IbfFlowConfig): Problem[] {
  const problems: Problem[] = [];
  const f = c.forecast;
  const hours = new Map<number, number>();
  f.leadTimes.forEach((lt, i) => {
    const h = leadTimeHoursOrProblem(lt);
    if (typeof h === 'string') problems.push({ path: `forecast.leadTimes[${i}]`, message: h });
    else if (hours.has(h)) problems.push({ path: `forecast.leadTimes[${i}]`, message: `lead time ${JSON.stringify(lt)} is ${h} hours, as forecast.leadTimes[${hours.get(h)}] is; give each once` });
    else hours.set(h, i);
  });
  const isUrl = (s: string) => /^https?:\/\//i.test(s);
  if (typeof f.source === 'string') {
    problems.push(...templateProblems(f.source, 'forecast.source', { url: isUrl(f.source) }));
  } else {
    const labels = new Set(f.leadTimes.flatMap((lt) => [String(lt), leadTimeLabel(lt)]));
    for (const [k, v] of Object.entries(f.source)) {
      if (!labels.has(k)) problems.push({ path: `forecast.source.${k}`, message: `"${k}" is not one of forecast.leadTimes (${[...labels].join(', ')})` });
      for (const [i, s] of (Array.isArray(v) ? v : [v]).entries()) {
        problems.push(...templateProblems(s, Array.isArray(v) ? `forecast.source.${k}[${i}]` : `forecast.source.${k}`, { url: isUrl(s) }));
      }
    }
  }
  return problems;
}

function scheduleProblems(c: IbfFlowConfig): Problem[] {
  const problems: Problem[] = [];
  if (c.schedule !== undefined) {
    try {
      parseCron(c.schedule);
    } catch (e) {
      problems.push({ path: 'schedule', message: (e as Error).message.split('\n')[0]! });
    }
  }
  return problems;
}

function evaluateProblems(c: IbfFlowConfig): Problem[] {
  const problems: Problem[] = [];
  const f = c.forecast;
  const isUrl = (s: string) => /^https?:\/\//i.test(s);
  const e = c.evaluate;
  if (e) {
    if (!c.impacts) problems.push({ path: 'evaluate', message: 'evaluating needs the historical impacts: add "impacts": { "source": "impacts.csv" }' });
    const h = e.hindcast;
    if (h.dates && (h.from !== undefined || h.to !== undefined)) problems.push({ path: 'evaluate.hindcast', message: 'give either dates or from / to, not both' });
    if (!h.dates && (h.from === undefined || h.to === undefined)) problems.push({ path: 'evaluate.hindcast', message: 'give the issue dates: "dates": [...], or "from" and "to"' });
    if (h.from !== undefined && h.to !== undefined && (parseDay(h.from) ?? 0) > (parseDay(h.to) ?? 0)) problems.push({ path: 'evaluate.hindcast.to', message: `${h.to} is before from (${h.from})` });
    const days = hindcastDays(e);
    if (days.length > 3660) problems.push({ path: 'evaluate.hindcast', message: `${days.length} issue dates; at most 3660 (use everyDays)` });
    const tmpl = h.source ?? (typeof f.source === 'string' ? f.source : undefined);
    if (tmpl === undefined) problems.push({ path: 'evaluate.hindcast.source', message: 'forecast.source lists files per lead time; give a template with {date} for the hindcast' });
    else if (!tmpl.includes('{date}') && !/\{(YYYY|MM|DD)\}/.test(tmpl)) {
      problems.push({ path: h.source !== undefined ? 'evaluate.hindcast.source' : 'evaluate.hindcast', message: `"${tmpl}" has no {date} (or {YYYY} {MM} {DD}), so every hindcast date would read the same files` });
    }
    if (h.source !== undefined) problems.push(...templateProblems(h.source, 'evaluate.hindcast.source', { url: isUrl(h.source) }));
    if (c.trigger.maxLeadTime === undefined) {
      problems.push({ path: 'trigger.maxLeadTime', message: 'evaluating needs the longest lead time a trigger acts on (e.g. "72-hour")' });
    }
  }
  return problems;
}

const crossChecks: Array<(c: IbfFlowConfig) => Problem[]> = [
  forecastProblems,
  scheduleProblems,
  (c) => triggerProblems(c.trigger),
  evaluateProblems,
  (c) => {
    const p = c.publish?.ibfSystem;
    return p?.endpoint !== undefined && p.endpointEnv !== undefined ? [{ path: 'publish.ibfSystem', message: 'give endpoint or endpointEnv, not both' }] : [];
  },
];

/** Issue days (days since 1970-01-01) of the hindcast, ascending. */
export function hindcastDays(e: EvaluateConfig): number[] {
  const h = e.hindcast;
  if (h.dates) return [...new Set(h.dates.map((d) => parseDay(d)!))].sort((a, b) => a - b);
  const from = h.from !== undefined ? parseDay(h.from) : undefined;
  const to = h.to !== undefined ? parseDay(h.to) : undefined;
  if (from === undefined || to === undefined || to < from) return [];
  const step = h.everyDays ?? 1;
  const out: number[] = [];
  for (let d = from; d <= to && out.length <= 3660; d += step) out.push(d);
  return out;
}

/**
 * Validates an IBF flow document (parsed JSON). Throws `E_FLOW_INVALID` listing every problem, each
 * with the dotted path of its field (`forecast.leadTimes[2]`, `publish.ibfSystem.countryCodeISO3`).
 */
export function parseIbfFlow(doc: unknown, name = 'flow'): IbfFlowConfig {
  const r = IbfFlowSchema.safeParse(doc);
  const hint = 'Fix the fields listed; docs/IBF-FLOW.md describes every field and examples/ibf-flow/flow.json is a working example.';
  if (r.success) {
    const problems = crossProblems(r.data);
    if (problems.length) throw IbfError.fromProblems('E_FLOW_INVALID', `${name} is invalid`, problems, hint);
    return r.data;
  }
  // the cross checks run on what there is too, so one pass reports everything; a field the schema
  // already refused (or one inside it) is not reported twice
  const problems = zodProblems(r.error, '(flow)');
  const refused = problems.map((p) => p.path);
  const under = (path: string) => refused.some((q) => q === '(flow)' || path === q || path.startsWith(`${q}.`) || path.startsWith(`${q}[`));
  for (const check of crossChecks) {
    try {
      for (const p of check(doc as IbfFlowConfig)) if (!under(p.path)) problems.push(p);
    } catch {
      // a check that cannot run on malformed input has nothing to add
    }
  }
  throw IbfError.fromProblems('E_FLOW_INVALID', `${name} is invalid`, problems, hint);
}
