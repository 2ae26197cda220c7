/**
 * @module engine/trigger
 * Early-action triggers as the 510 IBF pipelines use them: per zone and lead time, the zone is
 * triggered when `probability(metric >= threshold) >= pMin` over the ensemble members and the lead
 * time is within `maxLeadTime`. Alert levels come from ordered (threshold, pMin) classes and map to
 * the IBF severity scale (none 0, low 0.3, medium 0.7, high 1.0). Probabilities in [0, 1]; lead times
 * in hours; thresholds in the metric's unit (exposure unit for `damage` / `affectedValue`, hazard
 * unit for `hazardMean` / `hazardMax`).
 */
import { IbfError, type Problem } from '../errors.js';
import { countAtOrAbove, exceedance, membersAt, memberProbability, type EnsembleLayout, type ExceedanceEntry } from './derive/ensemble.js';
import { leadTimeHoursOrProblem, leadTimeLabel, parseLeadTime, type LeadTime } from './derive/lead-time.js';

export { parseLeadTime, leadTimeLabel, type LeadTime } from './derive/lead-time.js';

/** IBF alert levels, lowest first. */
export const ALERT_LEVELS = ['none', 'low', 'medium', 'high'] as const;
export type AlertLevel = (typeof ALERT_LEVELS)[number];
/** Levels an alert class can have (`none` is what holds when no class does). */
export type AlertClassLevel = Exclude<AlertLevel, 'none'>;

/** The IBF severity of each alert level, in [0, 1]. */
export const SEVERITY: Readonly<Record<AlertLevel, number>> = { none: 0, low: 0.3, medium: 0.7, high: 1.0 };

/** Rank of each alert level (higher is more severe). */
export const ALERT_RANK: Readonly<Record<AlertLevel, number>> = { none: 0, low: 1, medium: 2, high: 3 };

/** What a trigger compares. */
export type TriggerMetric = 'damage' | 'affectedValue' | 'hazardMean' | 'hazardMax';

/** Each metric: the per-band field of a zone result it is read from, and its unit. */
export const TRIGGER_METRICS: Readonly<Record<TriggerMetric, { field: 'damage' | 'affectedValue' | 'meanIntensity' | 'maxIntensity'; unit: 'exposure' | 'hazard'; what: string }>> = {
  damage: { field: 'damage', unit: 'exposure', what: 'expected damage (exposure unit)' },
  affectedValue: { field: 'affectedValue', unit: 'exposure', what: 'exposure at or above the affected threshold (exposure unit; people for population)' },
  hazardMean: { field: 'meanIntensity', unit: 'hazard', what: 'mean hazard intensity over the zone (hazard unit)' },
  hazardMax: { field: 'maxIntensity', unit: 'hazard', what: 'highest hazard intensity in the zone (hazard unit)' },
};

/** One alert class: the level holds when `probability(metric >= threshold) >= pMin`. */
export interface AlertClass {
  level: AlertClassLevel;
  /** In the metric's unit. */
  threshold: number;
  /** Minimum probability, in [0, 1]. */
  pMin: number;
}

/** The scenario's `trigger` block. */
export interface TriggerRule {
  metric: TriggerMetric;
  /** In the metric's unit. */
  threshold: number;
  /** Minimum probability, in [0, 1]. */
  pMin: number;
  /** Lead times beyond this never trigger (e.g. `"5-day"`); default: no limit. */
  maxLeadTime?: LeadTime;
  /**
   * Alert classes; the alert level is the most severe class that holds (classes may be given in any
   * order; each level once). Default: one `high` class with the trigger's own threshold and pMin.
   */
  alertClasses?: readonly AlertClass[];
}

/** One entry of `zones[].trigger[]`. */
export interface TriggerEntry {
  leadTime: string;
  leadTimeHours: number;
  /** probability(metric >= rule threshold) = count / members, in [0, 1]. */
  probability: number;
  /** probability >= pMin and leadTimeHours <= maxLeadTime. */
  triggered: boolean;
  /** The most severe alert class that holds at this lead time (independent of `maxLeadTime`). */
  alertLevel: AlertLevel;
  /** `SEVERITY[alertLevel]`. */
  severity: number;
  /** Members at or above the rule threshold. */
  count: number;
  members: number;
}

const isProbability = (p: unknown): p is number => typeof p === 'number' && p >= 0 && p <= 1;

/** Problems with a trigger block (none when valid). */
export function triggerProblems(rule: TriggerRule, path = 'trigger'): Problem[] {
  const problems: Problem[] = [];
  if (!Object.hasOwn(TRIGGER_METRICS, rule.metric)) {
    problems.push({ path: `${path}.metric`, message: `unknown metric ${JSON.stringify(rule.metric)}; use one of ${Object.keys(TRIGGER_METRICS).join(', ')}` });
  }
  if (!(typeof rule.threshold === 'number' && Number.isFinite(rule.threshold))) problems.push({ path: `${path}.threshold`, message: `threshold ${rule.threshold} is not a finite number (metric unit)` });
  if (!isProbability(rule.pMin)) problems.push({ path: `${path}.pMin`, message: `pMin ${rule.pMin} is outside [0, 1]; it is a probability (0.6 = 60% of members)` });
  if (rule.maxLeadTime !== undefined) {
    const h = leadTimeHoursOrProblem(rule.maxLeadTime);
    if (typeof h === 'string') problems.push({ path: `${path}.maxLeadTime`, message: h });
  }
  const seen = new Map<string, number>();
  (rule.alertClasses ?? []).forEach((c, i) => {
    const at = `${path}.alertClasses[${i}]`;
    if (!(c.level === 'low' || c.level === 'medium' || c.level === 'high')) {
      problems.push({ path: `${at}.level`, message: `unknown alert level ${JSON.stringify(c.level)}; use "low", "medium" or "high"` });
    } else if (seen.has(c.level)) {
      problems.push({ path: `${at}.level`, message: `alert level "${c.level}" is also given at alertClasses[${seen.get(c.level)}]; give each level once` });
    } else seen.set(c.level, i);
    if (!(typeof c.threshold === 'number' && Number.isFinite(c.threshold))) problems.push({ path: `${at}.threshold`, message: `threshold ${c.threshold} is not a finite number (metric unit)` });
    if (!isProbability(c.pMin)) problems.push({ path: `${at}.pMin`, message: `pMin ${c.pMin} is outside [0, 1]` });
  });
  return problems;
}

function checkRule(rule: TriggerRule): void {
  const problems = triggerProblems(rule);
  if (problems.length) throw IbfError.fromProblems('E_SCENARIO_INVALID', 'trigger is invalid', problems);
}

/**
 * Whether `count` of `members` reaches `pMin`: `count / members >= pMin` on the correctly rounded
 * quotient (see {@link memberProbability}): 31 of 51 (0.6078...) meets 0.6, 30 of 51 (0.588...)
 * does not, 7 of 10 meets 0.7.
 */
export function meetsPMin(count: number, members: number, pMin: number): boolean {
  return memberProbability(count, members) >= pMin;
}

/** The fewest members (of `members`) at or above the threshold that meet `pMin`; `members + 1` if none can. */
export function minMembers(members: number, pMin: number): number {
  // start near the real-valued answer, then settle on the exact boundary of meetsPMin
  let k = Math.min(members + 1, Math.max(0, Math.ceil(pMin * members)));
  while (k > 0 && meetsPMin(k - 1, members, pMin)) k--;
  while (k <= members && !meetsPMin(k, members, pMin)) k++;
  return k;
}

/** The alert classes of a rule, most severe first (the rule itself as `high` when none are given). */
export function alertClassesOf(rule: TriggerRule): AlertClass[] {
  const classes = rule.alertClasses?.length ? [...rule.alertClasses] : [{ level: 'high' as const, threshold: rule.threshold, pMin: rule.pMin }];
  return classes.sort((a, b) => ALERT_RANK[b.level] - ALERT_RANK[a.level]);
}

/** The most severe class that holds for these member values, or `none`. */
export function alertLevelOf(members: ArrayLike<number>, classes: readonly AlertClass[]): AlertLevel {
  let best: AlertLevel = 'none';
  for (const c of classes) {
    if (ALERT_RANK[c.level] > ALERT_RANK[best] && meetsPMin(countAtOrAbove(members, c.threshold), members.length, c.pMin)) best = c.level;
  }
  return best;
}

/**
 * `zones[].trigger[]` of one zone: per lead time, the probability that the metric reaches the rule's
 * threshold, whether that triggers, and the alert level with its severity.
 * @param values the zone's metric per band (metric unit; null / NaN = no data, never counts)
 */
export function evaluateTrigger(values: ArrayLike<number | null>, layout: EnsembleLayout, rule: TriggerRule): TriggerEntry[] {
  checkRule(rule);
  if (values.length !== layout.members * layout.leadTimes.length) {
    throw IbfError.fromProblems('E_SCENARIO_INVALID', 'trigger values do not fit the ensemble layout', [
      { path: 'values', message: `${values.length} band values, but ${layout.members} members x ${layout.leadTimes.length} lead times = ${layout.members * layout.leadTimes.length}` },
    ]);
  }
  const maxHours = rule.maxLeadTime === undefined ? Infinity : parseLeadTime(rule.maxLeadTime, 'trigger.maxLeadTime');
  const classes = alertClassesOf(rule);
  return layout.leadTimes.map((lt, l) => {
    const leadTimeHours = parseLeadTime(lt, `leadTimes[${l}]`);
    const v = membersAt(values, layout, l);
    const count = countAtOrAbove(v, rule.threshold);
    const probability = memberProbability(count, layout.members);
    const alertLevel = alertLevelOf(v, classes);
    return {
      leadTime: leadTimeLabel(lt),
      leadTimeHours,
      probability,
      triggered: probability >= rule.pMin && leadTimeHours <= maxHours,
      alertLevel,
      severity: SEVERITY[alertLevel],
      count,
      members: layout.members,
    };
  });
}

/** The thresholds a rule looks at: its own and its classes', ascending, each once. */
export function ruleThresholds(rule: TriggerRule): number[] {
  return [...new Set([rule.threshold, ...(rule.alertClasses ?? []).map((c) => c.threshold)])].sort((a, b) => a - b);
}

/**
 * Both trigger outputs of one zone: `trigger[]` and `exceedance[]` (the rule's metric at the rule's
 * and the classes' thresholds, plus `extraThresholds`).
 */
export function zoneTriggers(values: ArrayLike<number | null>, layout: EnsembleLayout, rule: TriggerRule, extraThresholds: readonly number[] = []): { trigger: TriggerEntry[]; exceedance: ExceedanceEntry[] } {
  const trigger = evaluateTrigger(values, layout, rule);
  const thresholds = [...new Set([...ruleThresholds(rule), ...extraThresholds])].sort((a, b) => a - b);
  return { trigger, exceedance: exceedance(values, layout, rule.metric, thresholds) };
}

/** Per-band metric fields of a zone (or totals) result; `meanIntensity` is not produced by the engine yet. */
export type MetricSource = Partial<Record<'damage' | 'affectedValue' | 'meanIntensity' | 'maxIntensity', readonly (number | null)[]>>;

/** The per-band values of `metric` in a zone result; throws when the result lacks that field. */
export function metricValues(zone: MetricSource, metric: TriggerMetric): readonly (number | null)[] {
  const spec = TRIGGER_METRICS[metric];
  const v = spec === undefined ? undefined : zone[spec.field];
  if (v === undefined) {
    throw new IbfError('E_SCENARIO_INVALID', `metric ${JSON.stringify(metric)} is not available in the zone results (no per-band "${spec?.field ?? metric}")`, {
      hint: `Use one of the metrics the engine produces: ${Object.keys(TRIGGER_METRICS).join(', ')}.`,
    });
  }
  return v;
}
