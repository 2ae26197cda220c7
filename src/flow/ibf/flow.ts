/**
 * @module flow/ibf/flow
 * The IBF flow as orchestrator tasks (src/flow), built from one flow document (schema.ts):
 *
 *     ingest/forecast-<lead> x L   find (or download) each lead time's ensemble        tag download, retried
 *     ingest/exposure, ingest/zones, ingest/impacts, ingest/hindcast                    tag download, retried
 *     validate                     every problem of every input at once                 headers only
 *     assess/<lead> x L            the engine per lead time, on the pool               tag assess
 *     trigger                      alert levels per zone and lead time
 *     evaluate/<date> x D          hindcast assessments (cached across runs)            tag assess; with `evaluate`
 *     evaluate/skill               hits, misses, false alarms; POD, FAR, CSI            with `evaluate`
 *     publish                      result files and IBF-system payloads                 publish step
 *     publish-evaluation           evaluation.json                                      publish step; with `evaluate`
 *
 * Everything the tasks return is plain data, so the run store keeps it and a resumed run uses it (a
 * task that finished is Cached, not run again). The run's one parameter is the forecast date (`date`,
 * ISO 8601): templates fill {date} from it and it dates the payloads. Outputs carry no run id and no
 * clock time (save `manifest.createdAt` of the results, fixed by the environment when it must be
 * reproducible), so a resumed run publishes the same bytes as an uninterrupted one.
 *
 * Runtime-neutral: file access, downloads and the pool come from the {@link IbfFlowEnv}.
 */
import { IbfError } from '../../errors.js';
import { assess, type AssessOptions } from '../../engine/scenario.js';
import type { AssessResult } from '../../engine/result.js';
import { countAtOrAbove } from '../../engine/derive/ensemble.js';
import { meetsPMin, metricValues, parseLeadTime } from '../../engine/trigger.js';
import { zonesCsv } from '../../io/zones-out.js';
import { parseScenario, type Scenario } from '../../model/scenario.js';
import { ENGINE, VERSION } from '../../version.js';
import { hashValue } from '../codec.js';
import { defineFlow, type Flow, type TaskContext, type TaskRef } from '../define.js';
import type { Outputs } from '../publish.js';
import { alertSummary, alertsCsv, type AlertSummary } from './alerts.js';
import { ibfSystemRequests, requestOutputs, type IndicatorSpec } from './ibf-system.js';
import { dayString, type ImpactRecord } from './impacts.js';
import { flowLeads, ingestFile, ingestLead, leadSlug, validateInputs, type AssessInput, type IbfFlowEnv, type IngestedLead, type IngestResults, type LeadPlan, type ValidatedInputs } from './ingest.js';
import { hindcastDays, type IbfFlowConfig } from './schema.js';
import { evaluateSkill, type SkillReport } from './skill.js';

export interface BuildIbfFlowOptions {
  env: IbfFlowEnv;
  /** sha256 of the flow document: a flow param, so an edited document never resumes an older run. */
  configSha256: string;
}

/** The run parameters of a forecast issued at `date`. */
export function ibfRunParams(date: Date): { date: string } {
  if (Number.isNaN(date.getTime())) throw new IbfError('E_USAGE', 'the forecast date is not a date', { hint: 'Give it as YYYY-MM-DD or an ISO 8601 date-time (UTC).' });
  return { date: date.toISOString() };
}

/** The folder of a forecast's outputs: `YYYY-MM-DD`, or `YYYY-MM-DDTHHmmZ` when it is not issued at midnight UTC. */
export function outputFolder(date: string): string {
  const d = new Date(date);
  const day = d.toISOString().slice(0, 10);
  return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 ? day : `${day}T${d.toISOString().slice(11, 16).replace(':', '')}Z`;
}

function dateParam(ctx: TaskContext): Date {
  const d = new Date(String(ctx.params.date));
  if (ctx.params.date === undefined || Number.isNaN(d.getTime())) {
    throw new IbfError('E_USAGE', `the run has no forecast date (params.date = ${JSON.stringify(ctx.params.date)})`, { hint: 'Run the flow with params { date: "YYYY-MM-DD" } (ibf flow run --date).' });
  }
  return d;
}

const PEOPLE = new Set(['people', 'person', 'persons', 'population', 'pop', 'inhabitants']);

/** The impact indicators sent to the IBF-system: as configured, else people affected or damage by the exposure's unit. */
export function indicatorsOf(c: IbfFlowConfig): IndicatorSpec[] {
  const given = c.publish?.ibfSystem?.indicators;
  if (given) return given.map((i) => ({ name: i.name, metric: i.metric, statistic: i.statistic ?? 'median', ...(i.scale !== undefined ? { scale: i.scale } : {}) }));
  return PEOPLE.has(c.exposure.unit.toLowerCase())
    ? [{ name: 'population_affected', metric: 'affectedValue', statistic: 'median' }]
    : [{ name: 'damage_estimation', metric: 'damage', statistic: 'median' }];
}

/** The engine scenario of one lead time (inputs named by role; the environment's IO maps them to files). */
export function leadScenario(c: IbfFlowConfig, plan: LeadPlan, opts: { trigger?: boolean } = {}): Scenario {
  const f = c.forecast;
  const doc = {
    name: `${c.name} ${plan.leadTime}`,
    hazard: {
      source: 'hazard',
      unit: f.unit,
      bands: { type: 'ensemble', members: plan.members, leadTimes: [plan.leadTime], order: 'member-major' },
      ...(plan.select ? { select: plan.select } : {}),
      ...(f.resampling ? { resampling: f.resampling } : {}),
      ...(f.nodata !== undefined ? { nodata: f.nodata } : {}),
    },
    exposure: { source: 'exposure', unit: c.exposure.unit, ...(c.exposure.band !== undefined ? { band: c.exposure.band } : {}), ...(c.exposure.nodata !== undefined ? { nodata: c.exposure.nodata } : {}) },
    zones: { ...c.zones, source: 'zones' },
    vulnerability: c.vulnerability,
    ...(c.affectedThreshold !== undefined ? { affectedThreshold: c.affectedThreshold } : {}),
    ...(opts.trigger !== false && c.quantiles ? { quantiles: c.quantiles } : {}),
    ...(opts.trigger !== false ? { trigger: c.trigger } : {}),
  };
  return parseScenario(doc, `the scenario of ${plan.leadTime}`);
}

/** Runs the engine on one lead time; progress goes to the task. */
async function assessLead(c: IbfFlowConfig, v: ValidatedInputs, plan: LeadPlan, env: IbfFlowEnv, ctx: TaskContext, configSha256: string, opts: { trigger?: boolean } = {}): Promise<AssessResult> {
  const scenario = leadScenario(c, plan, opts);
  const inputs: Record<string, AssessInput> = { hazard: plan.hazard, exposure: { kind: 'file', file: v.exposure }, zones: { kind: 'file', file: v.zones } };
  for (const [name, file] of Object.entries(v.curveFiles)) inputs[name] = { kind: 'file', file };
  const aopts: AssessOptions = {
    io: env.scenarioIO(inputs, ctx.signal),
    kernel: env.kernel,
    signal: ctx.signal,
    scenarioSha256: configSha256,
    logger: { debug: (m, f) => ctx.log.debug(m, f), warn: (m, f) => ctx.log.warn(m, f) },
    onProgress: (p) => ctx.progress(p.tilesTotal ? p.tilesDone / p.tilesTotal : 0, `tile ${p.tilesDone} of ${p.tilesTotal}`),
    onPlan: (p) => {
      const pool = env.pool?.(p.plan.grid.width * p.plan.grid.height * p.plan.nBands);
      if (pool) aopts.pool = pool;
    },
  };
  const { result } = await assess(scenario, aopts);
  return env.createdAt ? { ...result, manifest: { ...result.manifest, createdAt: env.createdAt } } : result;
}

/** One hindcast issue date: per lead time (up to maxLeadTime) and zone, the trigger metric of every member. */
export interface HindcastResult {
  date: string;
  zones: string[];
  leads: Array<{ leadTime: string; leadTimeHours: number; members: number; values: number[][] }>;
}

/** The evaluation published as evaluation.json. */
export interface EvaluationReport {
  schema: 'e4drr-ibf/ibf-evaluation@1';
  metric: string;
  rule: { threshold: number; pMin: number; maxLeadTime: string | number; maxLeadTimeHours: number };
  windowDays: number;
  minImpact: number;
  hindcast: { dates: string[]; from: string; to: string };
  /** Skill of the flow's trigger rule; days as YYYY-MM-DD. */
  skill: Omit<SkillReport, 'predicted' | 'observed' | 'span'> & {
    span: { from: string; to: string } | null;
    predicted: Array<{ zone: string; from: string; to: string; issued: string[]; observed: string[] }>;
    observed: Array<{ zone: string; date: string; impact: number; hit: boolean }>;
  };
  /** Every (threshold, pMin) of the tuning grid (the rule's own included), with its scores. */
  tuning: Array<{ threshold: number; pMin: number; hits: number; misses: number; falseAlarms: number; pod: number | null; far: number | null; csi: number | null }>;
}

/**
 * Trigger skill of the hindcast (see skill.ts for the event matching): the rule's decisions (a zone
 * triggers on an issue date when, at some lead time up to maxLeadTime, at least pMin of the members
 * reach the threshold) and those of every threshold x pMin of the tuning grid.
 */
export function evaluateHindcast(c: IbfFlowConfig, hindcast: readonly HindcastResult[], impacts: readonly ImpactRecord[]): EvaluationReport {
  const e = c.evaluate!;
  const maxHours = parseLeadTime(c.trigger.maxLeadTime!, 'trigger.maxLeadTime');
  const windowDays = e.windowDays ?? 1;
  const minImpact = e.minImpact ?? 0;
  const leadDays = maxHours / 24;
  const decisions = (threshold: number, pMin: number) =>
    hindcast.flatMap((h) => {
      const day = Math.round(Date.parse(h.date) / 86_400_000);
      return h.zones.map((zone, zi) => ({
        day,
        zone,
        triggered: h.leads.some((l) => l.leadTimeHours <= maxHours && meetsPMin(countAtOrAbove(Float64Array.from(l.values[zi]!), threshold), l.members, pMin)),
      }));
    });
  const report = evaluateSkill(decisions(c.trigger.threshold, c.trigger.pMin), impacts, { leadDays, windowDays, minImpact });
  const thresholds = [...new Set([c.trigger.threshold, ...(e.thresholds ?? [])])].sort((a, b) => a - b);
  const pMins = [...new Set([c.trigger.pMin, ...(e.pMins ?? [])])].sort((a, b) => a - b);
  const tuning = thresholds.flatMap((threshold) => pMins.map((pMin) => ({ threshold, pMin, ...evaluateSkill(decisions(threshold, pMin), impacts, { leadDays, windowDays, minImpact }).total })));
  const dates = hindcast.map((h) => h.date.slice(0, 10));
  return {
    schema: 'e4drr-ibf/ibf-evaluation@1',
    metric: c.trigger.metric,
    rule: { threshold: c.trigger.threshold, pMin: c.trigger.pMin, maxLeadTime: c.trigger.maxLeadTime!, maxLeadTimeHours: maxHours },
    windowDays,
    minImpact,
    hindcast: { dates, from: dates[0] ?? '', to: dates[dates.length - 1] ?? '' },
    skill: {
      total: report.total,
      zones: report.zones,
      ignored: report.ignored,
      span: report.span && { from: dayString(report.span.from), to: dayString(report.span.to) },
      predicted: report.predicted.map((p) => ({ zone: p.zone, from: dayString(p.from), to: dayString(p.to), issued: p.issued.map(dayString), observed: p.observed.map(dayString) })),
      observed: report.observed.map((o) => ({ zone: o.zone, date: dayString(o.day), impact: o.impact, hit: o.hit })),
    },
    tuning,
  };
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** Builds the IBF flow of document `c` (see the module header). */
export function buildIbfFlow(c: IbfFlowConfig, opts: BuildIbfFlowOptions): Flow {
  const { env, configSha256 } = opts;
  const flow = defineFlow({
    name: c.name,
    ...(c.description !== undefined ? { description: c.description } : {}),
    ...(c.schedule !== undefined ? { schedule: c.schedule } : {}),
    params: { configSha256 },
    concurrency: { tags: { download: c.run?.downloadConcurrency ?? 4, assess: c.run?.assessConcurrency ?? 1 } },
  });
  const leads = flowLeads(c.forecast);
  const r = c.run?.ingestRetry;
  const retry = {
    count: r?.count ?? 3,
    backoff: { initialMs: r?.initialMs ?? 1000, ...(r?.maxMs !== undefined ? { maxMs: r.maxMs } : {}) },
    jitter: 0.1,
    codes: ['E_HTTP', 'E_IO', 'E_TASK_TIMEOUT'],
  };

  // 1. ingest
  const ingest = flow.family('ingest', { description: 'find the inputs (templates, wildcards), download URLs' });
  const forecastTasks = leads.map((lt) =>
    ingest.task(`forecast-${leadSlug(lt.leadTime)}`, {
      tags: ['download'], retry, description: `the ${lt.leadTime} ensemble`,
      run: (ctx) => ingestLead(c.forecast, lt, dateParam(ctx), env, ctx.signal),
    }),
  );
  const exposureTask = ingest.task('exposure', { tags: ['download'], retry, run: (ctx) => ingestFile(c.exposure.source, env, ctx.signal) });
  const zonesTask = ingest.task('zones', { tags: ['download'], retry, run: (ctx) => ingestFile(c.zones.source, env, ctx.signal) });
  const impactsTask = c.impacts ? ingest.task('impacts', { tags: ['download'], retry, run: (ctx) => ingestFile(c.impacts!.source, env, ctx.signal) }) : undefined;
  const maxHours = c.trigger.maxLeadTime !== undefined ? parseLeadTime(c.trigger.maxLeadTime, 'trigger.maxLeadTime') : Infinity;
  const days = c.evaluate ? hindcastDays(c.evaluate) : [];
  const hindcastTask = c.evaluate
    ? ingest.task('hindcast', {
        tags: ['download'], retry, description: `forecasts of ${days.length} hindcast issue dates`,
        run: async (ctx) => {
          const out: Array<{ date: string; leads: IngestedLead[] }> = [];
          for (const [k, day] of days.entries()) {
            const date = new Date(day * 86_400_000);
            const got: IngestedLead[] = [];
            for (const lt of leads.filter((l) => l.leadTimeHours <= maxHours)) got.push(await ingestLead(c.forecast, lt, date, env, ctx.signal, c.evaluate!.hindcast.source ?? c.forecast.source));
            out.push({ date: date.toISOString(), leads: got });
            ctx.progress((k + 1) / days.length, `${k + 1} of ${days.length} dates`);
          }
          return out;
        },
      })
    : undefined;

  // 2. validate
  const validateInputsLinks: Record<string, TaskRef<unknown>> = { exposure: exposureTask, zones: zonesTask };
  forecastTasks.forEach((t, i) => (validateInputsLinks[`lead${i}`] = t));
  if (impactsTask) validateInputsLinks.impacts = impactsTask;
  if (hindcastTask) validateInputsLinks.hindcast = hindcastTask;
  const validate = flow.task<ValidatedInputs, Record<string, TaskRef<unknown>>>('validate', {
    inputs: validateInputsLinks,
    description: 'check every input, list every problem at once',
    run: (ctx, got) => {
      const results: IngestResults = {
        date: String(ctx.params.date),
        leads: leads.map((_, i) => got[`lead${i}`] as IngestedLead),
        exposure: got.exposure as IngestResults['exposure'],
        zones: got.zones as IngestResults['zones'],
        ...(impactsTask ? { impacts: got.impacts as IngestResults['impacts'] } : {}),
        ...(hindcastTask ? { hindcast: got.hindcast as IngestResults['hindcast'] } : {}),
      };
      return validateInputs(c, results, env, ctx.signal);
    },
  });

  // 3. assess
  const assessFamily = flow.family('assess', { description: 'the engine per lead time' });
  const timeout = c.run?.assessTimeoutMs !== undefined ? { timeoutMs: c.run.assessTimeoutMs } : {};
  const assessTasks = leads.map((lt) =>
    assessFamily.task<AssessResult, { v: TaskRef<ValidatedInputs> }>(leadSlug(lt.leadTime), {
      inputs: { v: validate },
      tags: ['assess'],
      retry: { count: 1, codes: ['E_WORKER'] },
      ...timeout,
      description: `damage per zone and member at ${lt.leadTime}`,
      run: (ctx, { v }) => {
        const plan = v.leads.find((p) => p.leadTime === lt.leadTime);
        if (!plan) throw new IbfError('E_SCENARIO_INVALID', `validate has no plan for ${lt.leadTime}`);
        return assessLead(c, v, plan, env, ctx, configSha256);
      },
    }),
  );

  // 4. trigger
  const assessLinks = Object.fromEntries(assessTasks.map((t, i) => [`lead${i}`, t])) as Record<string, TaskRef<AssessResult>>;
  const trigger = flow.task<AlertSummary, Record<string, TaskRef<AssessResult>>>('trigger', {
    inputs: assessLinks,
    description: 'alert levels per zone and lead time',
    run: (ctx, got) => alertSummary(leads.map((lt, i) => ({ leadTime: lt.leadTime, leadTimeHours: lt.leadTimeHours, result: got[`lead${i}`] as AssessResult })), String(ctx.params.date)),
  });

  // 5. evaluate
  let skill: TaskRef<EvaluationReport> | undefined;
  if (c.evaluate) {
    const evaluate = flow.family('evaluate', { description: 'trigger skill over the hindcast period' });
    const cache = c.run?.cacheHindcasts === false ? {} : {
      cache: {
        key: (info: { inputs: Record<string, unknown>; task: string; version: string }) => {
          const v = info.inputs.v as ValidatedInputs;
          const date = info.task.slice(info.task.lastIndexOf('/') + 1);
          const h = v.hindcast?.find((x) => x.date.slice(0, 10) === date);
          const facts = (i: AssessInput) => (i.kind === 'file' ? [i.file.sha256] : [...i.files.map((x) => x.sha256), i.band]);
          return hashValue({
            what: 'e4drr-ibf hindcast', engine: VERSION, task: info.task, version: info.version,
            leads: h?.leads.map((l) => [l.leadTime, l.members, l.select ?? null, facts(l.hazard)]) ?? null,
            exposure: v.exposure.sha256, zones: v.zones.sha256, curves: Object.values(v.curveFiles).map((f) => f.sha256),
            config: { forecast: { ...c.forecast, source: null }, exposure: c.exposure, zones: c.zones, vulnerability: c.vulnerability, affectedThreshold: c.affectedThreshold ?? null, metric: c.trigger.metric },
          });
        },
      },
    };
    const hindcastTasks = days.map((day) => {
      const date = dayString(day);
      return evaluate.task<HindcastResult, { v: TaskRef<ValidatedInputs> }>(date, {
        inputs: { v: validate },
        tags: ['assess'],
        retry: { count: 1, codes: ['E_WORKER'] },
        ...timeout,
        ...cache,
        version: '1',
        description: `the hindcast issued on ${date}`,
        run: async (ctx, { v }) => {
          const h = v.hindcast?.find((x) => x.date.slice(0, 10) === date);
          if (!h) throw new IbfError('E_SCENARIO_INVALID', `validate has no hindcast for ${date}`);
          const out: HindcastResult = { date: h.date, zones: v.zoneIds.map((z) => z.id), leads: [] };
          for (const plan of h.leads) {
            const result = await assessLead(c, v, plan, env, ctx, configSha256, { trigger: false });
            out.leads.push({
              leadTime: plan.leadTime, leadTimeHours: plan.leadTimeHours, members: plan.members,
              values: result.zones.map((z) => metricValues(z, c.trigger.metric).map((x) => (x === null ? NaN : x))),
            });
          }
          return out;
        },
      });
    });
    const links = Object.fromEntries(hindcastTasks.map((t, i) => [`h${i}`, t])) as Record<string, TaskRef<unknown>>;
    skill = evaluate.task<EvaluationReport, Record<string, TaskRef<unknown>>>('skill', {
      inputs: { ...links, v: validate },
      description: 'hits, misses, false alarms; POD, FAR, CSI',
      run: (_ctx, got) => evaluateHindcast(c, hindcastTasks.map((_, i) => got[`h${i}`] as HindcastResult), (got.v as ValidatedInputs).impacts ?? []),
    });
  }

  // 6. publish
  const publishLinks: Record<string, TaskRef<unknown>> = { alerts: trigger, v: validate, ...assessLinks };
  flow.publish<Record<string, TaskRef<unknown>>>('publish', {
    inputs: publishLinks,
    description: 'result files and IBF-system payloads',
    run: (ctx, got) => {
      const date = String(ctx.params.date);
      const folder = outputFolder(date);
      const v = got.v as ValidatedInputs;
      const alerts = got.alerts as AlertSummary;
      const results = new Map(leads.map((lt, i) => [lt.leadTime, got[`lead${i}`] as AssessResult]));
      const out: Outputs = {};
      for (const lt of leads) {
        const r = results.get(lt.leadTime)!;
        out[`${folder}/results/${leadSlug(lt.leadTime)}.json`] = json(r);
        out[`${folder}/results/${leadSlug(lt.leadTime)}.csv`] = zonesCsv(r);
      }
      out[`${folder}/alerts.json`] = json(alerts);
      out[`${folder}/alerts.csv`] = alertsCsv(alerts);
      const ibf = c.publish?.ibfSystem;
      if (ibf) {
        const requests = ibfSystemRequests(alerts, results, {
          countryCodeISO3: ibf.countryCodeISO3,
          disasterType: ibf.disasterType ?? 'floods',
          adminLevel: ibf.adminLevel ?? 1,
          eventName: ibf.eventName ?? null,
          date,
          indicators: indicatorsOf(c),
          processEvents: ibf.processEvents,
        });
        Object.assign(out, requestOutputs(requests, `${folder}/`));
      }
      const files = [v.exposure, v.zones, ...Object.values(v.curveFiles), ...v.leads.flatMap((l) => (l.hazard.kind === 'file' ? [l.hazard.file] : l.hazard.files))];
      const inputs = [...new Map(files.map((f) => [f.name, { name: f.name, sha256: f.sha256, bytes: f.bytes }])).values()].sort((a, b) => a.name.localeCompare(b.name));
      out[`${folder}/manifest.json`] = json({
        schema: 'e4drr-ibf/ibf-flow-outputs@1', flow: c.name, date, configSha256, engine: { name: ENGINE, version: VERSION },
        leadTimes: leads.map((l) => l.leadTime), inputs, outputs: [...Object.keys(out), `${folder}/manifest.json`].sort(),
      });
      return out;
    },
  });
  if (skill) {
    flow.publish('publish-evaluation', {
      inputs: { e: skill },
      description: 'evaluation.json',
      run: (ctx, { e }) => ({ [`${outputFolder(String(ctx.params.date))}/evaluation.json`]: json(e) }),
    });
  }
  return flow;
}
