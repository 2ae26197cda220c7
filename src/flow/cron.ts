/**
 * @module flow/cron
 * Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in UTC, with
 * Vixie cron's rules: `*`, lists (`1,15`), ranges (`MON-FRI`), steps (`*\/15`, `0-30/10`, `5/15` =
 * from 5 to the end), month and weekday names (JAN..DEC, SUN..SAT, any case), Sunday as 0 or 7, and
 * `@hourly`, `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly` (`@annually`). When both
 * day-of-month and day-of-week are restricted, a day matching either one fires (as cron does).
 *
 * Every field is checked and every problem reported at once (`E_CRON_INVALID`, problems naming the
 * field), including a day that never comes (`0 0 30 2 *`).
 */
import { IbfError, type Problem } from '../errors.js';

export const CRON_FIELDS = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;
export type CronField = (typeof CRON_FIELDS)[number];

const RANGES: Record<CronField, [number, number]> = {
  minute: [0, 59],
  hour: [0, 23],
  'day-of-month': [1, 31],
  month: [1, 12],
  'day-of-week': [0, 7],
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const MACROS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

// the longest month each month can be (February in a leap year)
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A parsed cron expression. */
export interface Cron {
  /** The expression as given. */
  readonly expression: string;
  /** Allowed values per field (day-of-week 0-6, Sunday 0). */
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  /** The first time strictly after `date` (UTC, at second 0) the expression fires. */
  nextAfter(date: Date): Date;
  /** Whether the expression fires in the minute of `date` (UTC). */
  matches(date: Date): boolean;
}

function parseValue(text: string, field: CronField, problems: Problem[]): number | undefined {
  const names = field === 'month' ? MONTHS : field === 'day-of-week' ? DAYS : undefined;
  const upper = text.toUpperCase();
  if (names?.includes(upper)) return names.indexOf(upper) + (field === 'month' ? 1 : 0);
  if (!/^\d+$/.test(text)) {
    const accepted = names ? ` or a name (${names[0]}..${names[names.length - 1]})` : '';
    problems.push({ path: field, message: `"${text}" is not a number${accepted}` });
    return undefined;
  }
  const v = Number(text);
  const [lo, hi] = RANGES[field];
  if (v < lo || v > hi) {
    problems.push({ path: field, message: `${v} is out of range ${lo}-${hi}` });
    return undefined;
  }
  return v;
}

function parseField(text: string, field: CronField, problems: Problem[]): { values: Set<number>; star: boolean } {
  const [lo, hi] = RANGES[field];
  const values = new Set<number>();
  const before = problems.length;
  for (const part of text.split(',')) {
    const m = /^([^/]+)(?:\/(.*))?$/.exec(part);
    if (!m) {
      problems.push({ path: field, message: `"${part}" is empty (a stray comma?)` });
      continue;
    }
    const [, range, stepText] = m;
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
        problems.push({ path: field, message: `step "${stepText}" in "${part}" is not a positive whole number` });
        continue;
      }
      step = Number(stepText);
    }
    let from: number | undefined;
    let to: number | undefined;
    if (range === '*') {
      from = lo;
      to = hi;
    } else if (range!.includes('-')) {
      const [a, b, ...rest] = range!.split('-');
      if (rest.length > 0 || !a || !b) {
        problems.push({ path: field, message: `"${range}" is not a range like 1-5` });
        continue;
      }
      from = parseValue(a, field, problems);
      to = parseValue(b, field, problems);
      if (from !== undefined && to !== undefined && from > to) {
        problems.push({ path: field, message: `range "${range}" runs backwards (${from} > ${to})` });
        continue;
      }
    } else {
      from = parseValue(range!, field, problems);
      // `5/15` is Vixie cron's "from 5, every 15"
      to = stepText !== undefined ? hi : from;
    }
    if (from === undefined || to === undefined) continue;
    for (let v = from; v <= to; v += step) values.add(field === 'day-of-week' && v === 7 ? 0 : v);
  }
  if (problems.length === before && values.size === 0) problems.push({ path: field, message: `"${text}" selects nothing` });
  return { values, star: text.startsWith('*') };
}

/** Parses `expression`; throws `E_CRON_INVALID` listing every field that is wrong. */
export function parseCron(expression: string): Cron {
  const text = expression.trim();
  const expanded = text.startsWith('@') ? MACROS[text.toLowerCase()] : text;
  if (expanded === undefined) {
    throw IbfError.fromProblems('E_CRON_INVALID', `cron expression "${expression}" does not parse`, [
      { path: 'expression', message: `unknown macro "${text}" (use ${Object.keys(MACROS).join(', ')})` },
    ]);
  }
  const parts = expanded.split(/\s+/).filter((p) => p.length > 0);
  if (parts.length !== 5) {
    throw IbfError.fromProblems('E_CRON_INVALID', `cron expression "${expression}" does not parse`, [
      { path: 'expression', message: `has ${parts.length} field${parts.length === 1 ? '' : 's'}; cron needs 5: ${CRON_FIELDS.join(' ')}` },
    ]);
  }
  const problems: Problem[] = [];
  const [minute, hour, dom, month, dow] = CRON_FIELDS.map((f, i) => parseField(parts[i]!, f, problems));
  if (problems.length === 0 && !dom!.star && dow!.star) {
    const possible = [...dom!.values].some((d) => [...month!.values].some((m) => d <= MONTH_DAYS[m - 1]!));
    if (!possible) problems.push({ path: 'day-of-month', message: `day ${[...dom!.values].join(',')} never occurs in the months selected` });
  }
  if (problems.length > 0) throw IbfError.fromProblems('E_CRON_INVALID', `cron expression "${expression}" does not parse`, problems);
  return makeCron(expression, minute!.values, hour!.values, dom!.values, month!.values, dow!.values, dom!.star, dow!.star);
}

function makeCron(
  expression: string, minutes: Set<number>, hours: Set<number>, daysOfMonth: Set<number>, months: Set<number>, daysOfWeek: Set<number>,
  domStar: boolean, dowStar: boolean,
): Cron {
  const dayMatches = (d: Date): boolean => {
    const dom = daysOfMonth.has(d.getUTCDate());
    const dow = daysOfWeek.has(d.getUTCDay());
    // cron: if either day field is `*`, the other one decides; if both are restricted, either may match
    if (domStar || dowStar) return dom && dow;
    return dom || dow;
  };
  const matches = (d: Date): boolean =>
    minutes.has(d.getUTCMinutes()) && hours.has(d.getUTCHours()) && months.has(d.getUTCMonth() + 1) && dayMatches(d);
  return {
    expression,
    minutes,
    hours,
    daysOfMonth,
    months,
    daysOfWeek,
    matches,
    nextAfter(date: Date): Date {
      const t = new Date(Math.floor(date.getTime() / 60_000) * 60_000 + 60_000);
      // parsing proved some day exists, so this ends within a few years of iterations (28 years covers
      // every weekday/leap-year combination); the bound only guards against a bug
      const limit = t.getTime() + 29 * 366 * 86_400_000;
      while (t.getTime() <= limit) {
        if (!months.has(t.getUTCMonth() + 1)) {
          t.setUTCMonth(t.getUTCMonth() + 1, 1);
          t.setUTCHours(0, 0, 0, 0);
        } else if (!dayMatches(t)) {
          t.setUTCDate(t.getUTCDate() + 1);
          t.setUTCHours(0, 0, 0, 0);
        } else if (!hours.has(t.getUTCHours())) {
          t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
        } else if (!minutes.has(t.getUTCMinutes())) {
          t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
        } else {
          return t;
        }
      }
      throw new IbfError('E_CRON_INVALID', `cron expression "${expression}" never fires after ${date.toISOString()}`);
    },
  };
}
