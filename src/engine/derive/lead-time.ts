/**
 * @module engine/derive/lead-time
 * Lead times as IBF pipelines write them (`"72-hour"`, `"5-day"`, `"1-week"`) or as a number of
 * hours, parsed to hours. Months are refused: their length in hours is ambiguous.
 */
import { IbfError, type Problem } from '../../errors.js';

/** A lead time: a label like `"5-day"` / `"72-hour"`, or a number of hours. */
export type LeadTime = string | number;

const UNIT_HOURS: Record<'hour' | 'day' | 'week', number> = { hour: 1, day: 24, week: 168 };

const UNIT_ALIASES: Record<string, keyof typeof UNIT_HOURS> = {
  h: 'hour',
  hr: 'hour',
  hrs: 'hour',
  hour: 'hour',
  hours: 'hour',
  d: 'day',
  day: 'day',
  days: 'day',
  w: 'week',
  week: 'week',
  weeks: 'week',
};

const FORMAT = 'write it as "<n>-hour", "<n>-day" or "<n>-week" (e.g. "72-hour", "5-day"), or as a number of hours';

/** The lead time in hours, or a message saying why it cannot be read. */
export function leadTimeHoursOrProblem(leadTime: LeadTime): number | string {
  if (typeof leadTime === 'number') {
    return Number.isFinite(leadTime) && leadTime >= 0 ? leadTime : `lead time ${leadTime} is not a number of hours >= 0`;
  }
  if (typeof leadTime !== 'string') return `lead time ${JSON.stringify(leadTime)} is neither a label nor a number of hours; ${FORMAT}`;
  const m = /^\s*(\d+(?:\.\d+)?)\s*[-_ ]?\s*([a-z]+)\s*$/i.exec(leadTime);
  if (!m) return `lead time ${JSON.stringify(leadTime)} is not understood; ${FORMAT}`;
  const unitWord = m[2]!.toLowerCase();
  if (/^months?$/.test(unitWord)) return `lead time ${JSON.stringify(leadTime)} is in months, whose length in hours is ambiguous; ${FORMAT}`;
  const unit = UNIT_ALIASES[unitWord];
  if (unit === undefined) return `lead time ${JSON.stringify(leadTime)} has an unknown unit "${m[2]}"; ${FORMAT}`;
  return Number(m[1]) * UNIT_HOURS[unit];
}

/**
 * Parses a lead time to hours: `"5-day"` -> 120, `"72-hour"` -> 72, `"1-week"` -> 168, `48` -> 48.
 * Throws `E_SCENARIO_INVALID` naming `path` when it cannot be read.
 */
export function parseLeadTime(leadTime: LeadTime, path = 'leadTime'): number {
  const r = leadTimeHoursOrProblem(leadTime);
  if (typeof r === 'string') throw IbfError.fromProblems('E_SCENARIO_INVALID', 'lead time is invalid', [{ path, message: r }]);
  return r;
}

/** Problems of one lead time (empty when it parses). */
export function leadTimeProblems(leadTime: LeadTime, path: string): Problem[] {
  const r = leadTimeHoursOrProblem(leadTime);
  return typeof r === 'string' ? [{ path, message: r }] : [];
}

/** The label a lead time is reported under: as given, numbers as `"<n>-hour"`. */
export function leadTimeLabel(leadTime: LeadTime): string {
  return typeof leadTime === 'number' ? `${leadTime}-hour` : leadTime.trim();
}
