/**
 * @module flow/ibf/ibf-system
 * Payloads shaped like the 510 IBF-system API, which the IBF pipelines POST after each forecast
 * (paths relative to the API's base URL, e.g. `https://<host>/api/`):
 *
 *   POST admin-area-dynamic-data/exposure   one per lead time and dynamic indicator:
 *     { countryCodeISO3, leadTime, dynamicIndicator, adminLevel,
 *       exposurePlaceCodes: [{ placeCode, amount }], disasterType, eventName, date }
 *   POST event/alerts-per-lead-time          one per forecast:
 *     { countryCodeISO3, alertsPerLeadTime: [{ leadTime, forecastAlert, forecastTrigger }], disasterType, eventName, date }
 *   POST events/process                      last, so the portal opens or closes its events:
 *     { countryCodeISO3, disasterType, date }
 *
 * Facts followed (fields and their meaning, not code):
 * - rodekruis/IBF-system services/API-service/src/api/admin-area-dynamic-data/dto/upload-admin-area-dynamic-data.dto.ts
 *   (the exposure body), admin-area-dynamic-data.controller.ts (`POST exposure`), enum/lead-time.enum.ts
 *   (lead times `1-day` .. `7-day`, `0-hour` .. `168-hour`, `0-month` ..), dto/example/MWI/floods/upload-alert_threshold-1.json
 *   (`[{ placeCode, amount }]`), dto/example/MWI/flash-floods/upload-damage_estimation-3.json (a damage indicator);
 * - rodekruis/IBF-system services/API-service/src/api/event/dto/upload-alerts-per-lead-time.dto.ts and
 *   alert-per-lead-time.dto.ts (`alertsPerLeadTime: [{ leadTime, forecastAlert, forecastTrigger }]`), and the
 *   event controller's `POST alerts-per-lead-time`;
 * - rodekruis/IBF-pipeline-core ibfpipeline/riverflood/load.py (`send_to_ibf_api`): the indicators
 *   `forecast_severity` and `forecast_trigger` per place code, severity 0 / 0.3 / 0.7 / 1 for no / min / med /
 *   max alert with a max class that does not trigger shown as 0.7, `forecastAlert` / `forecastTrigger` true from
 *   the first lead time with an alert / trigger onward, and `events/process` at the end.
 *
 * Here a zone that triggers (the flow's trigger rule, src/engine/trigger.ts) has forecast_trigger 1 and
 * forecast_severity 1; otherwise forecast_trigger 0 and the severity of its alert level, a `high` level capped
 * at 0.7 (alerted, not triggered, e.g. beyond maxLeadTime). Further indicators (damage, people affected) are
 * a statistic over the ensemble members of an engine metric per zone, as configured.
 */
import type { Outputs } from '../publish.js';
import type { AssessResult, ZoneResult } from '../../engine/result.js';
import { medianSorted, quantileSorted } from '../../engine/derive/numeric.js';
import type { AlertSummary, ZoneOutcome } from './alerts.js';

/** An engine metric per zone and member that an indicator is made of. */
export type IndicatorMetric = 'damage' | 'affectedValue' | 'affectedShare';
/** How the members are summarised: mean, median, min, max, or a quantile in [0, 1]. */
export type IndicatorStatistic = 'mean' | 'median' | 'min' | 'max' | number;

export interface IndicatorSpec {
  /** The IBF dynamic indicator, e.g. `population_affected`, `damage_estimation`. */
  name: string;
  metric: IndicatorMetric;
  statistic: IndicatorStatistic;
  /** Multiplies the amount (e.g. 100 for a percentage of a share); default 1. */
  scale?: number;
}

export interface IbfSystemOptions {
  /** ISO 3166-1 alpha-3 country code, e.g. `MOZ`. */
  countryCodeISO3: string;
  /** IBF disaster type, e.g. `floods`. */
  disasterType: string;
  /** Admin level of the zones' place codes in the IBF-system (0 = country). */
  adminLevel: number;
  /** Event name, or null (the pipelines' "no named event"). */
  eventName: string | null;
  /** Forecast date (ISO 8601), the `date` of every payload. */
  date: string;
  /** Impact indicators besides forecast_severity and forecast_trigger. */
  indicators: readonly IndicatorSpec[];
  /** Append `POST events/process` (default true). */
  processEvents?: boolean;
}

/** One request: method, path (relative to the API base URL), the output holding its JSON body, and the body. */
export interface IbfRequest {
  method: 'POST';
  path: string;
  /** Output name of the body, `ibf-system/...json`. */
  name: string;
  body: unknown;
}

/** The manifest output listing the requests in order: `[{ method, path, body: <output name> }]`. */
export const REQUESTS_OUTPUT = 'ibf-system/requests.json';

/** A lead time as the IBF-system names it: `N-hour` / `N-day` labels as they are, anything else in hours. */
export function ibfLeadTime(label: string, hours: number): string {
  return /^\d+-(hour|day|month)$/.test(label) ? label : `${hours}-hour`;
}

/** forecast_severity of a zone at a lead time (see the module header). */
export function forecastSeverity(o: ZoneOutcome): number {
  if (o.triggered) return 1;
  return o.alertLevel === 'high' ? 0.7 : o.severity;
}

function memberValues(z: ZoneResult, metric: IndicatorMetric): number[] {
  if (metric === 'damage') return z.damage;
  if (metric === 'affectedValue') return z.affectedValue;
  return z.affectedValue.map((v) => (z.exposedValue > 0 ? v / z.exposedValue : 0));
}

/** The statistic of `values` (NaN when empty or when a member has no value). */
export function summarise(values: readonly number[], statistic: IndicatorStatistic): number {
  if (values.length === 0 || values.some((v) => v !== v)) return NaN;
  const sorted = Float64Array.from(values).sort();
  switch (statistic) {
    case 'mean':
      return values.reduce((s, v) => s + v, 0) / values.length;
    case 'median':
      return medianSorted(sorted);
    case 'min':
      return sorted[0]!;
    case 'max':
      return sorted[sorted.length - 1]!;
    default:
      return quantileSorted(sorted, statistic);
  }
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');

/**
 * The requests of one forecast, in the order to send them: per lead time (ascending) every indicator's
 * exposure (the configured ones, then forecast_severity and forecast_trigger), then alerts per lead
 * time, then events/process. `results` holds each lead time's assessment, keyed by its label.
 */
export function ibfSystemRequests(summary: AlertSummary, results: ReadonlyMap<string, AssessResult>, opts: IbfSystemOptions): IbfRequest[] {
  const requests: IbfRequest[] = [];
  const add = (path: string, what: string, body: unknown) => {
    const n = String(requests.length + 1).padStart(3, '0');
    requests.push({ method: 'POST', path, name: `ibf-system/${n}-${slug(what)}.json`, body });
  };
  const common = { countryCodeISO3: opts.countryCodeISO3, disasterType: opts.disasterType, eventName: opts.eventName, date: opts.date };
  summary.leadTimes.forEach((lt, l) => {
    const leadTime = ibfLeadTime(lt.leadTime, lt.leadTimeHours);
    const result = results.get(lt.leadTime);
    const exposure = (indicator: string, amount: (zone: number) => number | null) => {
      add('admin-area-dynamic-data/exposure', `exposure-${leadTime}-${indicator}`, {
        countryCodeISO3: opts.countryCodeISO3,
        leadTime,
        dynamicIndicator: indicator,
        adminLevel: opts.adminLevel,
        exposurePlaceCodes: summary.zones.map((z, i) => ({ placeCode: z.id, amount: amount(i) })),
        disasterType: opts.disasterType,
        eventName: opts.eventName,
        date: opts.date,
      });
    };
    for (const ind of opts.indicators) {
      exposure(ind.name, (i) => {
        const z = result?.zones[i];
        if (!z) return null;
        const v = summarise(memberValues(z, ind.metric), ind.statistic) * (ind.scale ?? 1);
        return Number.isFinite(v) ? v : null;
      });
    }
    exposure('forecast_severity', (i) => forecastSeverity(summary.zones[i]!.leadTimes[l]!));
    exposure('forecast_trigger', (i) => (summary.zones[i]!.leadTimes[l]!.triggered ? 1 : 0));
  });
  let alert = false;
  let trigger = false;
  const alertsPerLeadTime = summary.leadTimes.map((lt) => {
    alert ||= lt.alert;
    trigger ||= lt.trigger;
    return { leadTime: ibfLeadTime(lt.leadTime, lt.leadTimeHours), forecastAlert: alert, forecastTrigger: trigger };
  });
  add('event/alerts-per-lead-time', 'alerts-per-lead-time', { countryCodeISO3: common.countryCodeISO3, alertsPerLeadTime, disasterType: common.disasterType, eventName: common.eventName, date: common.date });
  if (opts.processEvents !== false) add('events/process', 'events-process', { countryCodeISO3: common.countryCodeISO3, disasterType: common.disasterType, date: common.date });
  return requests;
}

/**
 * The requests as outputs, each name prefixed with `prefix` (a folder such as `2019-03-14/`): each body
 * as JSON, and `<prefix>ibf-system/requests.json` listing them in order (`body` = the output name).
 */
export function requestOutputs(requests: readonly IbfRequest[], prefix = ''): Outputs {
  const out: Outputs = {};
  for (const r of requests) out[prefix + r.name] = `${JSON.stringify(r.body, null, 2)}\n`;
  out[prefix + REQUESTS_OUTPUT] = `${JSON.stringify(requests.map((r) => ({ method: r.method, path: r.path, body: prefix + r.name })), null, 2)}\n`;
  return out;
}
