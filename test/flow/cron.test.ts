/**
 * Cron expressions: Vixie cron's field syntax and day rules, next fire times in UTC (checked against
 * a minute-by-minute scan, fast-check), and bad expressions reported field by field, all at once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { parseCron } from '../../src/flow/cron.js';

const at = (iso: string) => new Date(iso);
const next = (expr: string, from: string) => parseCron(expr).nextAfter(at(from)).toISOString();

function failure(expr: string): IbfError {
  try {
    parseCron(expr);
  } catch (e) {
    expect(e).toBeInstanceOf(IbfError);
    return e as IbfError;
  }
  throw new Error(`"${expr}" parsed`);
}

describe('parseCron', () => {
  it('reads *, lists, ranges, steps and names', () => {
    const c = parseCron('*/15 6-8,20 1,15 jan-MAR,Dec MON-fri');
    expect([...c.minutes]).toEqual([0, 15, 30, 45]);
    expect([...c.hours]).toEqual([6, 7, 8, 20]);
    expect([...c.daysOfMonth]).toEqual([1, 15]);
    expect([...c.months]).toEqual([1, 2, 3, 12]);
    expect([...c.daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
    expect([...parseCron('5/20 0-10/5 * * 7').minutes]).toEqual([5, 25, 45]);
    expect([...parseCron('5/20 0-10/5 * * 7').hours]).toEqual([0, 5, 10]);
    expect([...parseCron('0 0 * * 7').daysOfWeek]).toEqual([0]); // Sunday as 7
  });

  it('expands macros', () => {
    expect(next('@daily', '2024-03-01T06:00:00Z')).toBe('2024-03-02T00:00:00.000Z');
    expect(next('@hourly', '2024-03-01T06:00:00Z')).toBe('2024-03-01T07:00:00.000Z');
    expect(next('@weekly', '2024-03-01T06:00:00Z')).toBe('2024-03-03T00:00:00.000Z');
    expect(next('@monthly', '2024-03-01T06:00:00Z')).toBe('2024-04-01T00:00:00.000Z');
    expect(next('@yearly', '2024-03-01T06:00:00Z')).toBe('2025-01-01T00:00:00.000Z');
  });
});

describe('nextAfter (UTC)', () => {
  it.each([
    ['0 6 * * *', '2024-03-01T05:59:59Z', '2024-03-01T06:00:00.000Z'],
    ['0 6 * * *', '2024-03-01T06:00:00Z', '2024-03-02T06:00:00.000Z'], // strictly after
    ['0 6 * * *', '2024-03-01T06:00:30Z', '2024-03-02T06:00:00.000Z'],
    ['*/15 * * * *', '2024-03-01T06:07:00Z', '2024-03-01T06:15:00.000Z'],
    ['30 23 31 * *', '2024-04-01T00:00:00Z', '2024-05-31T23:30:00.000Z'], // skips April (30 days)
    ['0 0 29 2 *', '2024-03-01T00:00:00Z', '2028-02-29T00:00:00.000Z'], // next leap day
    ['0 12 * * MON-FRI', '2024-03-01T12:00:00Z', '2024-03-04T12:00:00.000Z'], // Friday -> Monday
    ['59 23 31 12 *', '2024-12-31T23:59:00Z', '2025-12-31T23:59:00.000Z'], // year roll-over
    // both day fields restricted: either matches (the 13th, or any Friday)
    ['0 0 13 * FRI', '2024-03-01T00:00:00Z', '2024-03-08T00:00:00.000Z'],
    ['0 0 13 * FRI', '2024-03-08T00:00:00Z', '2024-03-13T00:00:00.000Z'],
    // day-of-month restricted, weekday `*`: only the 13th
    ['0 0 13 * *', '2024-03-01T00:00:00Z', '2024-03-13T00:00:00.000Z'],
  ])('%s after %s is %s', (expr, from, expected) => {
    expect(next(expr, from)).toBe(expected);
  });

  it('is the first matching minute after the date (property, against a minute scan)', () => {
    const field = (lo: number, hi: number) =>
      fc.oneof(
        fc.constant('*'),
        fc.integer({ min: lo, max: hi }).map(String),
        fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: lo, max: hi })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
        fc.integer({ min: 1, max: 7 }).map((s) => `*/${s}`),
      );
    const expr = fc.tuple(field(0, 59), field(0, 23), fc.constant('*'), fc.constant('*'), field(0, 6)).map((f) => f.join(' '));
    const start = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) });
    fc.assert(
      fc.property(expr, start, (e, t) => {
        const c = parseCron(e);
        const got = c.nextAfter(new Date(t)).getTime();
        let m = Math.floor(t / 60_000) * 60_000 + 60_000;
        while (!c.matches(new Date(m))) m += 60_000;
        expect(got).toBe(m);
      }),
      { numRuns: 200 },
    );
  });
});

describe('bad expressions', () => {
  it('names every wrong field at once', () => {
    const e = failure('61 24 0 13 8');
    expect(e.code).toBe('E_CRON_INVALID');
    expect(e.problems).toEqual([
      { path: 'minute', message: '61 is out of range 0-59' },
      { path: 'hour', message: '24 is out of range 0-23' },
      { path: 'day-of-month', message: '0 is out of range 1-31' },
      { path: 'month', message: '13 is out of range 1-12' },
      { path: 'day-of-week', message: '8 is out of range 0-7' },
    ]);
    expect(e.hint).toContain('minute hour day-of-month month day-of-week');
  });

  it.each([
    ['* * * *', 'expression', 'has 4 fields; cron needs 5: minute hour day-of-month month day-of-week'],
    ['@fortnightly', 'expression', 'unknown macro "@fortnightly"'],
    ['*/0 * * * *', 'minute', 'step "0" in "*/0" is not a positive whole number'],
    ['0 9-5 * * *', 'hour', 'range "9-5" runs backwards (9 > 5)'],
    ['0 0 * FOO *', 'month', '"FOO" is not a number or a name (JAN..DEC)'],
    ['0 0 * * MON-', 'day-of-week', '"MON-" is not a range like 1-5'],
    ['0 0 1,,2 * *', 'day-of-month', '"" is empty (a stray comma?)'],
    ['0 0 30 2 *', 'day-of-month', 'day 30 never occurs in the months selected'],
  ])('%s: %s', (expr, path, message) => {
    const e = failure(expr);
    expect(e.problems?.[0]?.path).toBe(path);
    expect(e.problems?.[0]?.message).toContain(message);
    expect(e.message).toContain(`cron expression "${expr}" does not parse`);
  });
});
