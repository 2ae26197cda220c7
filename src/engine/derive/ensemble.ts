/**
 * @module engine/derive/ensemble
 * Ensemble forecasts: bands are members x lead times. Per zone and lead time, the distribution of a
 * metric over the members (mean, median, quantiles) and the probability that it reaches each
 * threshold (members at or above it / members). Values are in the metric's unit (exposure unit for
 * damage and affected value, hazard unit for hazard statistics); probabilities in [0, 1].
 *
 * Band layout (`order`), with M members and L lead times, member m and lead time l 0-based:
 * - `member-major`: all lead times of member 0, then of member 1, ...: band = m * L + l.
 * - `lead-major`: all members at lead time 0, then at lead time 1, ...: band = l * M + m.
 */
import { IbfError, type Problem } from '../../errors.js';
import { leadTimeHoursOrProblem, leadTimeLabel, type LeadTime } from './lead-time.js';
import { medianSorted, quantileSorted } from './numeric.js';

export type EnsembleOrder = 'member-major' | 'lead-major';
export const ENSEMBLE_ORDERS: readonly EnsembleOrder[] = ['member-major', 'lead-major'];

/** How an ensemble's members and lead times are laid out over the bands. */
export interface EnsembleLayout {
  /** Number of members (>= 1). */
  members: number;
  /** Lead times, in band order (labels like `"72-hour"` or hours). */
  leadTimes: readonly LeadTime[];
  order: EnsembleOrder;
}

/** An ensemble layout as written in a scenario: `members` defaults to bands / lead times, `order` to `member-major`. */
export interface EnsembleLayoutSpec {
  members?: number;
  leadTimes?: readonly LeadTime[];
  order?: EnsembleOrder;
}

/** Problems with an ensemble layout for `bandCount` bands (none when valid). */
export function ensembleLayoutProblems(spec: EnsembleLayoutSpec, bandCount: number, path = 'hazard.bands'): Problem[] {
  const problems: Problem[] = [];
  const { members, leadTimes, order } = spec;
  if (order !== undefined && !ENSEMBLE_ORDERS.includes(order)) problems.push({ path: `${path}.order`, message: `unknown order ${JSON.stringify(order)}; use "member-major" or "lead-major"` });
  if (members !== undefined && !(Number.isInteger(members) && members >= 1)) {
    problems.push({ path: `${path}.members`, message: `members (${members}) must be a whole number >= 1; thresholds and probabilities need at least one member` });
  }
  if (leadTimes === undefined || leadTimes.length === 0) {
    problems.push({ path: `${path}.leadTimes`, message: 'an ensemble needs its lead times, one per group of members (e.g. ["24-hour", "48-hour"]; a single forecast: one lead time)' });
    return problems;
  }
  const hours = new Map<number, number[]>();
  leadTimes.forEach((lt, i) => {
    const h = leadTimeHoursOrProblem(lt);
    if (typeof h === 'string') problems.push({ path: `${path}.leadTimes[${i}]`, message: h });
    else hours.set(h, [...(hours.get(h) ?? []), i]);
  });
  for (const [h, at] of hours) {
    if (at.length > 1) problems.push({ path: `${path}.leadTimes`, message: `lead time ${h} hours appears ${at.length} times (${at.map((i) => JSON.stringify(leadTimes[i])).join(', ')}); each lead time once` });
  }
  const L = leadTimes.length;
  if (members === undefined) {
    if (bandCount % L !== 0) problems.push({ path: `${path}.leadTimes`, message: `${L} lead times do not divide the ${bandCount} bands; bands must be members x lead times` });
  } else if (Number.isInteger(members) && members >= 1 && members * L !== bandCount) {
    problems.push({ path: `${path}.members`, message: `${members} members x ${L} lead time${L === 1 ? '' : 's'} = ${members * L} bands, but the hazard has ${bandCount}; bands must be members x lead times` });
  }
  return problems;
}

/** The full layout for `bandCount` bands; throws `E_SCENARIO_INVALID` listing every problem. */
export function resolveEnsembleLayout(spec: EnsembleLayoutSpec, bandCount: number, path = 'hazard.bands'): EnsembleLayout {
  const problems = ensembleLayoutProblems(spec, bandCount, path);
  if (problems.length) throw IbfError.fromProblems('E_SCENARIO_INVALID', 'ensemble layout is invalid', problems, 'Give the ensemble as members x lead times with "order" saying which varies slowest.');
  const leadTimes = spec.leadTimes!;
  return { members: spec.members ?? bandCount / leadTimes.length, leadTimes, order: spec.order ?? 'member-major' };
}

/** 0-based band of member `member` at lead time index `lead`. */
export function bandOf(layout: EnsembleLayout, member: number, lead: number): number {
  return layout.order === 'member-major' ? member * layout.leadTimes.length + lead : lead * layout.members + member;
}

/** The value of each member at lead time index `lead`, from one zone's per-band values. */
export function membersAt(values: ArrayLike<number | null>, layout: EnsembleLayout, lead: number): Float64Array {
  const out = new Float64Array(layout.members);
  for (let m = 0; m < layout.members; m++) out[m] = values[bandOf(layout, m, lead)] ?? NaN;
  return out;
}

function checkValues(values: ArrayLike<number | null>, layout: EnsembleLayout): void {
  const n = layout.members * layout.leadTimes.length;
  if (values.length !== n) {
    throw IbfError.fromProblems('E_SCENARIO_INVALID', 'ensemble values do not fit the layout', [
      { path: 'values', message: `${values.length} band values, but ${layout.members} members x ${layout.leadTimes.length} lead times = ${n}` },
    ]);
  }
}

/** The distribution of a metric over the members at one lead time. */
export interface EnsembleStats {
  /** The lead time as given (numbers as `"<n>-hour"`). */
  leadTime: string;
  leadTimeHours: number;
  members: number;
  /** Arithmetic mean over members (sequential f64 sum / members). */
  mean: number;
  /** `np.median`: the middle value, or the mean of the two middle ones. */
  median: number;
  min: number;
  max: number;
  /** numpy's default (`linear`, type 7) quantile q of the members, for each q asked. */
  quantiles: Array<{ q: number; value: number }>;
}

/** Problems with requested quantiles (each in [0, 1]). */
export function quantileProblems(quantiles: readonly number[], path = 'quantiles'): Problem[] {
  return quantiles.flatMap((q, i) => (q >= 0 && q <= 1 ? [] : [{ path: `${path}[${i}]`, message: `quantile ${q} is outside [0, 1]` }]));
}

/**
 * Per lead time, the distribution over members of one zone's metric. A member without data
 * (null / NaN) makes every statistic of that lead time NaN, as in numpy.
 * @param values the zone's metric per band (metric unit), in the layout's band order
 * @param quantiles quantiles to report, each in [0, 1] (e.g. [0.1, 0.9])
 */
export function ensembleStats(values: ArrayLike<number | null>, layout: EnsembleLayout, quantiles: readonly number[] = []): EnsembleStats[] {
  checkValues(values, layout);
  const qp = quantileProblems(quantiles);
  if (qp.length) throw IbfError.fromProblems('E_SCENARIO_INVALID', 'quantiles are invalid', qp);
  return layout.leadTimes.map((lt, l) => {
    const v = membersAt(values, layout, l);
    const hasNaN = v.some((x) => x !== x);
    const sorted = Float64Array.from(v).sort();
    let sum = 0;
    for (const x of v) sum += x;
    return {
      leadTime: leadTimeLabel(lt),
      leadTimeHours: leadTimeHoursOrProblem(lt) as number,
      members: layout.members,
      mean: sum / layout.members,
      median: hasNaN ? NaN : medianSorted(sorted),
      min: hasNaN ? NaN : sorted[0]!,
      max: hasNaN ? NaN : sorted[sorted.length - 1]!,
      quantiles: quantiles.map((q) => ({ q, value: hasNaN ? NaN : quantileSorted(sorted, q) })),
    };
  });
}

/** Members whose value is >= `threshold` (NaN / no data never counts). */
export function countAtOrAbove(members: ArrayLike<number>, threshold: number): number {
  let n = 0;
  for (let i = 0; i < members.length; i++) if (members[i]! >= threshold) n++;
  return n;
}

/**
 * The probability `count / members` as a double. The division is correctly rounded, so comparing it
 * with a `pMin` written as a decimal is exact in the sense that matters: when count / members equals
 * that decimal (7 of 10 vs 0.7) both round to the same double and the comparison holds; when it is
 * larger (31 of 51 = 0.6078... vs 0.6) it holds; when smaller (30 of 51 = 0.588...) it does not. The
 * reported probability is the very number compared, so a result never shows p >= pMin untriggered.
 */
export function memberProbability(count: number, members: number): number {
  return count / members;
}

/** One entry of `zones[].exceedance[]`. */
export interface ExceedanceEntry {
  leadTime: string;
  leadTimeHours: number;
  /** What was compared: `damage`, `affectedValue`, `hazardMean`, `hazardMax` ... */
  metric: string;
  /** In the metric's unit. */
  threshold: number;
  /** Members at or above the threshold / members, in [0, 1]. */
  probability: number;
  /** Members at or above the threshold. */
  count: number;
  members: number;
}

/** Problems with exceedance thresholds (finite numbers, at least one). */
export function thresholdProblems(thresholds: readonly number[], path = 'thresholds'): Problem[] {
  if (thresholds.length === 0) return [{ path, message: 'no thresholds given; give at least one (in the metric unit)' }];
  return thresholds.flatMap((t, i) => (Number.isFinite(t) ? [] : [{ path: `${path}[${i}]`, message: `threshold ${t} is not a finite number` }]));
}

/**
 * Per lead time and threshold (lead times outer, thresholds in the order given), the probability
 * that one zone's metric is >= the threshold over the members.
 */
export function exceedance(values: ArrayLike<number | null>, layout: EnsembleLayout, metric: string, thresholds: readonly number[]): ExceedanceEntry[] {
  checkValues(values, layout);
  const tp = thresholdProblems(thresholds);
  if (tp.length) throw IbfError.fromProblems('E_SCENARIO_INVALID', 'thresholds are invalid', tp);
  const out: ExceedanceEntry[] = [];
  layout.leadTimes.forEach((lt, l) => {
    const v = membersAt(values, layout, l);
    const leadTime = leadTimeLabel(lt);
    const leadTimeHours = leadTimeHoursOrProblem(lt) as number;
    for (const threshold of thresholds) {
      const count = countAtOrAbove(v, threshold);
      out.push({ leadTime, leadTimeHours, metric, threshold, probability: memberProbability(count, layout.members), count, members: layout.members });
    }
  });
  return out;
}
