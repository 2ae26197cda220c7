/**
 * @module flow/ibf/alerts
 * Step 4 of the IBF flow: alert levels per zone and lead time, gathered from the per-lead-time
 * assessments (each carries `zones[].trigger[]`, see src/engine/trigger.ts), and per lead time whether
 * any zone is alerted or triggered. Pure data in, pure data out.
 */
import type { AssessResult, ZoneResult } from '../../engine/result.js';
import { ALERT_RANK, type AlertLevel, type TriggerEntry } from '../../engine/trigger.js';

/** One zone at one lead time: the engine's `zones[].trigger[]` entry. */
export type ZoneOutcome = TriggerEntry;

/** Per lead time, over every zone. */
export interface LeadTimeOutcome {
  leadTime: string;
  leadTimeHours: number;
  /** Some zone has an alert level other than none, or triggers, at this lead time. */
  alert: boolean;
  /** Some zone triggers at this lead time. */
  trigger: boolean;
  /** Ids of the zones with an alert (any level), and of those that trigger. */
  alertZones: string[];
  triggerZones: string[];
  /** The most severe alert level of any zone. */
  maxAlertLevel: AlertLevel;
}

/** The trigger step's result. */
export interface AlertSummary {
  /** Forecast date (ISO 8601, UTC). */
  date: string;
  /** Lead times in ascending hours. */
  leadTimes: LeadTimeOutcome[];
  zones: Array<{ id: string; name?: string; leadTimes: ZoneOutcome[] }>;
}

/** One lead time's assessment. */
export interface LeadResult {
  leadTime: string;
  leadTimeHours: number;
  result: AssessResult;
}

const zoneEntry = (z: ZoneResult, lt: LeadResult): ZoneOutcome => {
  const t = z.trigger?.[0];
  if (!t) {
    return { leadTime: lt.leadTime, leadTimeHours: lt.leadTimeHours, probability: 0, triggered: false, alertLevel: 'none', severity: 0, count: 0, members: 0 };
  }
  return {
    leadTime: lt.leadTime,
    leadTimeHours: lt.leadTimeHours,
    probability: t.probability,
    triggered: t.triggered,
    alertLevel: t.alertLevel,
    severity: t.severity,
    count: t.count,
    members: t.members,
  };
};

/** Alert levels per zone and lead time, and per lead time over all zones. */
export function alertSummary(leads: readonly LeadResult[], date: string): AlertSummary {
  const sorted = [...leads].sort((a, b) => a.leadTimeHours - b.leadTimeHours);
  const ids = sorted[0]?.result.zones.map((z) => ({ id: z.id, ...(z.name !== undefined ? { name: z.name } : {}) })) ?? [];
  const zones = ids.map((z, i) => ({ ...z, leadTimes: sorted.map((lt) => zoneEntry(lt.result.zones[i]!, lt)) }));
  const leadTimes = sorted.map((lt, l): LeadTimeOutcome => {
    const at = zones.map((z) => ({ id: z.id, o: z.leadTimes[l]! }));
    const alertZones = at.filter(({ o }) => o.alertLevel !== 'none' || o.triggered).map(({ id }) => id);
    const triggerZones = at.filter(({ o }) => o.triggered).map(({ id }) => id);
    const maxAlertLevel = at.reduce<AlertLevel>((m, { o }) => (ALERT_RANK[o.alertLevel] > ALERT_RANK[m] ? o.alertLevel : m), 'none');
    return { leadTime: lt.leadTime, leadTimeHours: lt.leadTimeHours, alert: alertZones.length > 0, trigger: triggerZones.length > 0, alertZones, triggerZones, maxAlertLevel };
  });
  return { date, leadTimes, zones };
}

/** The summary as CSV: one row per zone and lead time. */
export function alertsCsv(s: AlertSummary): string {
  const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const rows = ['zone,name,lead_time,lead_time_hours,probability,triggered,alert_level,severity,members_at_or_above,members'];
  for (const z of s.zones) {
    for (const o of z.leadTimes) {
      rows.push([q(z.id), q(z.name ?? ''), q(o.leadTime), o.leadTimeHours, o.probability, o.triggered, o.alertLevel, o.severity, o.count, o.members].join(','));
    }
  }
  return `${rows.join('\n')}\n`;
}
