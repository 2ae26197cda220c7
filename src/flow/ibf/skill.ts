/**
 * @module flow/ibf/skill
 * Trigger skill over a hindcast period: the decisions a trigger took on past forecasts against the
 * impacts observed, as a contingency table of events (hits, misses, false alarms) and its scores:
 *
 *     POD (probability of detection) = hits / (hits + misses)
 *     FAR (false alarm ratio)        = false alarms / (hits + false alarms)
 *     CSI (critical success index)   = hits / (hits + misses + false alarms)
 *
 * A score whose denominator is 0 is null (undefined, not 0 or 1). Correct negatives have no place in an
 * event table and none of these scores uses them.
 *
 * Event matching, zone by zone (days are UTC days):
 * - **Predicted events.** A forecast issued on day d that triggers for a zone (at any lead time the
 *   trigger allows) covers the days [d - w, d + L + w], with L the trigger's longest lead time in days
 *   (rounded up) and w = `windowDays`, the timing tolerance. Overlapping or adjacent spans of one zone
 *   merge into one predicted event: a flood triggered on five days running is one event, not five.
 * - **Observed events.** Each distinct day of a zone with an impact record >= `minImpact` (and > 0) is
 *   one observed event. Only days the hindcast could have forecast count, from the first issue day to
 *   the last issue day + L; records outside, or of zones the hindcast did not cover, are left out (and
 *   counted in `ignored`).
 * - **Hit**: an observed event inside a predicted event of its zone. **Miss**: an observed event inside
 *   none. **False alarm**: a predicted event with no observed event inside.
 *
 * So POD counts observed events, FAR predicted events; give one impact record per event (e.g. the start
 * day of each flood) when several rows describe the same event.
 */
import type { ImpactRecord } from './impacts.js';

export interface SkillCounts {
  hits: number;
  misses: number;
  falseAlarms: number;
}

export interface SkillScores extends SkillCounts {
  /** hits / (hits + misses); null when there was no observed event. */
  pod: number | null;
  /** false alarms / (hits + false alarms); null when there was neither. */
  far: number | null;
  /** hits / (hits + misses + false alarms); null when all three are 0. */
  csi: number | null;
}

/** POD, FAR and CSI of a contingency table (null where the denominator is 0). */
export function skillScores(c: SkillCounts): SkillScores {
  const ratio = (n: number, d: number) => (d > 0 ? n / d : null);
  return {
    hits: c.hits,
    misses: c.misses,
    falseAlarms: c.falseAlarms,
    pod: ratio(c.hits, c.hits + c.misses),
    far: ratio(c.falseAlarms, c.hits + c.falseAlarms),
    csi: ratio(c.hits, c.hits + c.misses + c.falseAlarms),
  };
}

/** One trigger decision: the forecast issued on `day` did or did not trigger for `zone`. */
export interface Decision {
  /** Issue day, days since 1970-01-01 (UTC). */
  day: number;
  zone: string;
  triggered: boolean;
}

export interface MatchOptions {
  /** The trigger's longest lead time, in days (a forecast on day d speaks for d .. d + leadDays). */
  leadDays: number;
  /** Timing tolerance, days (>= 0). */
  windowDays: number;
  /** Smallest impact that makes an observed event (default: any impact > 0). */
  minImpact?: number;
}

/** A span of days a zone was forecast to be hit, from merged triggering forecasts. */
export interface PredictedEvent {
  zone: string;
  /** First and last day of the span (inclusive). */
  from: number;
  to: number;
  /** Issue days of the forecasts that made it. */
  issued: number[];
  /** Days of the observed events inside. */
  observed: number[];
}

export interface ObservedEvent {
  zone: string;
  day: number;
  /** Largest impact recorded that day. */
  impact: number;
  hit: boolean;
}

export interface ZoneSkill extends SkillScores {
  zone: string;
  /** Issue days evaluated for the zone, and how many triggered. */
  forecasts: number;
  triggered: number;
}

export interface SkillReport {
  total: SkillScores;
  zones: ZoneSkill[];
  predicted: PredictedEvent[];
  observed: ObservedEvent[];
  /** Days that can be forecast: first issue day .. last issue day + leadDays; null without decisions. */
  span: { from: number; to: number } | null;
  /** Impact records left out: below minImpact, outside the span, or of a zone without decisions. */
  ignored: number;
}

/** Matches trigger decisions with observed impacts (see the module header) and scores the result. */
export function evaluateSkill(decisions: readonly Decision[], impacts: readonly ImpactRecord[], opts: MatchOptions): SkillReport {
  const lead = Math.max(0, Math.ceil(opts.leadDays));
  const w = Math.max(0, Math.floor(opts.windowDays));
  const minImpact = opts.minImpact ?? 0;
  const zones = [...new Set(decisions.map((d) => d.zone))].sort();
  if (decisions.length === 0) {
    return { total: skillScores({ hits: 0, misses: 0, falseAlarms: 0 }), zones: [], predicted: [], observed: [], span: null, ignored: impacts.length };
  }
  let first = Infinity;
  let last = -Infinity;
  for (const d of decisions) {
    first = Math.min(first, d.day);
    last = Math.max(last, d.day);
  }
  const span = { from: first, to: last + lead };
  const known = new Set(zones);
  let ignored = 0;
  // observed events: one per zone and day, impact >= minImpact and > 0, inside the span
  const observedByZone = new Map<string, Map<number, number>>();
  for (const r of impacts) {
    if (!known.has(r.zone) || r.day < span.from || r.day > span.to || !(r.impact > 0) || r.impact < minImpact) {
      ignored++;
      continue;
    }
    let days = observedByZone.get(r.zone);
    if (!days) observedByZone.set(r.zone, (days = new Map()));
    days.set(r.day, Math.max(days.get(r.day) ?? 0, r.impact));
  }
  const predicted: PredictedEvent[] = [];
  const observed: ObservedEvent[] = [];
  const perZone: ZoneSkill[] = [];
  const total: SkillCounts = { hits: 0, misses: 0, falseAlarms: 0 };
  for (const zone of zones) {
    const mine = decisions.filter((d) => d.zone === zone);
    const issued = [...new Set(mine.filter((d) => d.triggered).map((d) => d.day))].sort((a, b) => a - b);
    const events: PredictedEvent[] = [];
    for (const d of issued) {
      const from = d - w;
      const to = d + lead + w;
      const prev = events[events.length - 1];
      // spans that overlap or touch (no free day between) are one event
      if (prev && from <= prev.to + 1) {
        prev.to = Math.max(prev.to, to);
        prev.issued.push(d);
      } else events.push({ zone, from, to, issued: [d], observed: [] });
    }
    const counts: SkillCounts = { hits: 0, misses: 0, falseAlarms: 0 };
    const days = [...(observedByZone.get(zone) ?? new Map<number, number>())].sort((a, b) => a[0] - b[0]);
    for (const [day, impact] of days) {
      const e = events.find((p) => day >= p.from && day <= p.to);
      if (e) {
        e.observed.push(day);
        counts.hits++;
      } else counts.misses++;
      observed.push({ zone, day, impact, hit: Boolean(e) });
    }
    counts.falseAlarms = events.filter((e) => e.observed.length === 0).length;
    predicted.push(...events);
    total.hits += counts.hits;
    total.misses += counts.misses;
    total.falseAlarms += counts.falseAlarms;
    const forecasts = new Set(mine.map((d) => d.day)).size;
    perZone.push({ zone, forecasts, triggered: issued.length, ...skillScores(counts) });
  }
  return { total: skillScores(total), zones: perZone, predicted, observed, span, ignored };
}
