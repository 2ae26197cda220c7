/**
 * Triggers (issue #4 section 4): probability(metric >= threshold) >= pMin within maxLeadTime, alert
 * levels from ordered classes on the IBF severity scale, exact boundaries (31 of 51 members =
 * 0.6078... triggers at pMin 0.6, 30 of 51 = 0.588... does not: issue #4 section 4), lead times
 * parsed to hours, and bad input listed at once (section 7).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveEnsembleLayout, type EnsembleLayout } from '../../src/engine/derive/index.js';
import {
  ALERT_LEVELS,
  ALERT_RANK,
  SEVERITY,
  TRIGGER_METRICS,
  alertClassesOf,
  alertLevelOf,
  evaluateTrigger,
  meetsPMin,
  metricValues,
  minMembers,
  parseLeadTime,
  ruleThresholds,
  triggerProblems,
  zoneTriggers,
  type AlertLevel,
  type TriggerRule,
} from '../../src/engine/trigger.js';
import { thrown } from '../helpers.js';

/** `over` of `members` members at 2000 (over any threshold used here), the rest at 0. */
function membersOver(over: number, members = 51): number[] {
  return Array.from({ length: members }, (_, m) => (m < over ? 2000 : 0));
}

const oneLead = (members: number, leadTime = '3-day'): EnsembleLayout => resolveEnsembleLayout({ members, leadTimes: [leadTime] }, members);

/** The issue's example rule. */
const issueRule: TriggerRule = {
  metric: 'affectedValue',
  threshold: 1000,
  pMin: 0.6,
  maxLeadTime: '5-day',
  alertClasses: [
    { level: 'low', threshold: 500, pMin: 0.5 },
    { level: 'medium', threshold: 1000, pMin: 0.6 },
  ],
};

describe('severity tables', () => {
  it('IBF severity scale: none 0, low 0.3, medium 0.7, high 1.0, ranked', () => {
    expect(SEVERITY).toEqual({ none: 0, low: 0.3, medium: 0.7, high: 1.0 });
    expect(ALERT_LEVELS.map((l) => ALERT_RANK[l])).toEqual([0, 1, 2, 3]);
    expect(Object.keys(TRIGGER_METRICS).sort()).toEqual(['affectedValue', 'damage', 'hazardMax', 'hazardMean']);
  });
});

describe('exact probability boundaries', () => {
  it('31 of 51 members (0.6078...) trigger at pMin 0.6; 30 of 51 (0.588...) do not', () => {
    const rule: TriggerRule = { metric: 'damage', threshold: 1000, pMin: 0.6 };
    const [yes] = evaluateTrigger(membersOver(31), oneLead(51), rule);
    const [no] = evaluateTrigger(membersOver(30), oneLead(51), rule);
    expect(yes).toMatchObject({ probability: 31 / 51, triggered: true, count: 31, members: 51 });
    expect(yes!.probability).toBeCloseTo(0.6078, 4);
    expect(no).toMatchObject({ probability: 30 / 51, triggered: false, count: 30 });
    expect(no!.probability).toBeCloseTo(0.588, 3);
    expect(minMembers(51, 0.6)).toBe(31);
  });

  it('a probability equal to the decimal pMin triggers (55 of 100 at 0.55, 7 of 10 at 0.7, 1 of 10 at 0.1)', () => {
    // 0.55 * 100 = 55.00000000000001 in f64: a ceil(pMin x members) rule would wrongly ask for 56
    expect(0.55 * 100).toBeGreaterThan(55);
    expect(meetsPMin(55, 100, 0.55)).toBe(true);
    expect(minMembers(100, 0.55)).toBe(55);
    expect(meetsPMin(7, 10, 0.7)).toBe(true);
    expect(meetsPMin(6, 10, 0.7)).toBe(false);
    expect(meetsPMin(3, 10, 0.3)).toBe(true);
    // the double 0.1 is above 1/10: an exact rational comparison would wrongly refuse 1 of 10
    expect(meetsPMin(1, 10, 0.1)).toBe(true);
    expect(minMembers(10, 0.7)).toBe(7);
    expect(minMembers(10, 0.1)).toBe(1);
    expect(minMembers(51, 0)).toBe(0);
    expect(minMembers(51, 1)).toBe(51);
  });

  it('for k / n written as a decimal, k of n members meet it and k - 1 do not (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n }))), ([n, k]) => {
        // pMin as a user would write k / n: its shortest decimal, parsed back
        const pMin = Number(String(k / n));
        expect(meetsPMin(k, n, pMin)).toBe(true);
        if (k > 0) expect(meetsPMin(k - 1, n, pMin)).toBe(false);
        expect(minMembers(n, pMin)).toBe(k);
      }),
    );
  });

  it('triggered agrees with the reported probability, and is monotone in the members over (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n }), fc.double({ min: 0, max: 1, noNaN: true }))), ([n, k, pMin]) => {
        const rule: TriggerRule = { metric: 'damage', threshold: 1000, pMin };
        const [e] = evaluateTrigger(membersOver(k, n), oneLead(n), rule);
        expect(e!.triggered).toBe(e!.probability >= pMin);
        expect(e!.triggered).toBe(k >= minMembers(n, pMin));
        if (k < n) expect(evaluateTrigger(membersOver(k + 1, n), oneLead(n), rule)[0]!.triggered || !e!.triggered).toBe(true);
      }),
    );
  });
});

describe('triggers per lead time and alert levels', () => {
  it("the issue's rule over lead times, lead-major: trigger within 5 days, alert levels by class", () => {
    const leadTimes = ['24-hour', '3-day', '5-day', '7-day'];
    const layout = resolveEnsembleLayout({ members: 51, leadTimes, order: 'lead-major' }, 204);
    // members over 1000 per lead time: 31, 30 (plus 10 at 600, over the low class's 500), 40, 45;
    // lead-major = all members of one lead time, then the next
    const perLead = [membersOver(31), membersOver(30).map((v, m) => (m >= 30 && m < 40 ? 600 : v)), membersOver(40), membersOver(45)];
    const values = perLead.flat();
    const entries = evaluateTrigger(values, layout, issueRule);
    expect(entries.map((e) => [e.leadTime, e.leadTimeHours, e.count, e.triggered, e.alertLevel, e.severity])).toEqual([
      ['24-hour', 24, 31, true, 'medium', 0.7],
      ['3-day', 72, 30, false, 'low', 0.3],
      ['5-day', 120, 40, true, 'medium', 0.7],
      // beyond maxLeadTime: not triggered, the alert level still says what the forecast shows
      ['7-day', 168, 45, false, 'medium', 0.7],
    ]);
    // the contract's fields, exactly
    for (const e of entries) expect(Object.keys(e)).toEqual(expect.arrayContaining(['leadTime', 'probability', 'triggered', 'alertLevel', 'severity']));
  });

  it('member-major gives the same entries as lead-major for the same forecasts', () => {
    const leadTimes = ['1-day', '2-day'];
    const byLead = [membersOver(31), membersOver(10)];
    const leadMajor = byLead.flat();
    const memberMajor = Array.from({ length: 51 }, (_, m) => [byLead[0]![m]!, byLead[1]![m]!]).flat();
    const a = evaluateTrigger(leadMajor, resolveEnsembleLayout({ members: 51, leadTimes, order: 'lead-major' }, 102), issueRule);
    const b = evaluateTrigger(memberMajor, resolveEnsembleLayout({ members: 51, leadTimes, order: 'member-major' }, 102), issueRule);
    expect(b).toEqual(a);
    expect(a.map((e) => e.triggered)).toEqual([true, false]);
  });

  it('alert level is the most severe class that holds, whatever the order of the classes', () => {
    const classes = alertClassesOf({
      metric: 'damage',
      threshold: 0,
      pMin: 0,
      alertClasses: [
        { level: 'high', threshold: 5000, pMin: 0.5 },
        { level: 'low', threshold: 100, pMin: 0.2 },
        { level: 'medium', threshold: 1000, pMin: 0.5 },
      ],
    });
    expect(classes.map((c) => c.level)).toEqual(['high', 'medium', 'low']);
    const level = (v: number[]): AlertLevel => alertLevelOf(v, classes);
    expect(level([0, 0, 0, 0])).toBe('none');
    expect(level([200, 0, 0, 0])).toBe('low');
    expect(level([2000, 2000, 0, 0])).toBe('medium');
    expect(level([6000, 6000, 0, 0])).toBe('high');
  });

  it('without classes, the rule itself is the high class', () => {
    const rule: TriggerRule = { metric: 'damage', threshold: 1000, pMin: 0.6 };
    const [hit] = evaluateTrigger(membersOver(31), oneLead(51), rule);
    const [miss] = evaluateTrigger(membersOver(30), oneLead(51), rule);
    expect([hit!.alertLevel, hit!.severity, miss!.alertLevel, miss!.severity]).toEqual(['high', 1, 'none', 0]);
  });

  it('no data (null / NaN members) never counts as over the threshold', () => {
    const values: (number | null)[] = [null, NaN, 2000, 2000];
    const [e] = evaluateTrigger(values, oneLead(4), { metric: 'hazardMax', threshold: 1, pMin: 0.5 });
    expect(e).toMatchObject({ count: 2, probability: 0.5, triggered: true });
  });

  it('zoneTriggers: trigger[] and exceedance[] with the contract fields', () => {
    const layout = resolveEnsembleLayout({ members: 51, leadTimes: ['3-day'] }, 51);
    const values = membersOver(31).map((v, m) => (m >= 31 && m < 40 ? 700 : v));
    const z = zoneTriggers(values, layout, issueRule, [1500]);
    expect(ruleThresholds(issueRule)).toEqual([500, 1000]);
    expect(z.exceedance.map((e) => ({ leadTime: e.leadTime, metric: e.metric, threshold: e.threshold, probability: e.probability }))).toEqual([
      { leadTime: '3-day', metric: 'affectedValue', threshold: 500, probability: 40 / 51 },
      { leadTime: '3-day', metric: 'affectedValue', threshold: 1000, probability: 31 / 51 },
      { leadTime: '3-day', metric: 'affectedValue', threshold: 1500, probability: 31 / 51 },
    ]);
    expect(z.trigger).toEqual([{ leadTime: '3-day', leadTimeHours: 72, probability: 31 / 51, triggered: true, alertLevel: 'medium', severity: 0.7, count: 31, members: 51 }]);
  });

  it('metricValues reads the per-band field of a zone result, and says when it is missing', () => {
    const zone = { damage: [1, 2], affectedValue: [3, 4], maxIntensity: [0.5, null] };
    expect(metricValues(zone, 'hazardMax')).toEqual([0.5, null]);
    expect(metricValues(zone, 'affectedValue')).toEqual([3, 4]);
    const err = thrown(() => metricValues(zone, 'hazardMean'));
    expect(err.message).toMatch(/metric "hazardMean" is not available in the zone results \(no per-band "meanIntensity"\)/);
  });
});

describe('lead times', () => {
  it('parse to hours', () => {
    expect(parseLeadTime('5-day')).toBe(120);
    expect(parseLeadTime('72-hour')).toBe(72);
    expect(parseLeadTime('1-week')).toBe(168);
    expect(parseLeadTime('7 days')).toBe(168);
    expect(parseLeadTime('36h')).toBe(36);
    expect(parseLeadTime('0-day')).toBe(0);
    expect(parseLeadTime(48)).toBe(48);
  });

  it('refuse what they cannot read, with the expected form', () => {
    for (const [bad, why] of [
      ['5 dayz', /unknown unit "dayz"/],
      ['1-month', /in months, whose length in hours is ambiguous/],
      ['soon', /is not understood; write it as "<n>-hour", "<n>-day" or "<n>-week"/],
      ['-3-day', /is not understood/],
      [-1, /not a number of hours >= 0/],
    ] as const) {
      const err = thrown(() => parseLeadTime(bad, 'trigger.maxLeadTime'));
      expect(err.code).toBe('E_SCENARIO_INVALID');
      expect(err.problems![0]!.path).toBe('trigger.maxLeadTime');
      expect(err.message).toMatch(why);
    }
  });
});

describe('bad trigger input (issue #4 section 7)', () => {
  it('lists every problem at once', () => {
    const rule = {
      metric: 'rainfall',
      threshold: Number.NaN,
      pMin: 1.5,
      maxLeadTime: '2-fortnight',
      alertClasses: [
        { level: 'low', threshold: 500, pMin: -0.1 },
        { level: 'low', threshold: 600, pMin: 0.5 },
        { level: 'severe', threshold: Infinity, pMin: 0.5 },
      ],
    } as unknown as TriggerRule;
    const problems = triggerProblems(rule);
    expect(problems.map((p) => p.path)).toEqual([
      'trigger.metric',
      'trigger.threshold',
      'trigger.pMin',
      'trigger.maxLeadTime',
      'trigger.alertClasses[0].pMin',
      'trigger.alertClasses[1].level',
      'trigger.alertClasses[2].level',
      'trigger.alertClasses[2].threshold',
    ]);
    const err = thrown(() => evaluateTrigger([1], oneLead(1), rule));
    expect(err.code).toBe('E_SCENARIO_INVALID');
    expect(err.message).toMatch(/^trigger is invalid: 8 problems/);
    expect(err.message).toMatch(/pMin 1.5 is outside \[0, 1\]/);
    expect(err.message).toMatch(/alert level "low" is also given at alertClasses\[0\]/);
    expect(triggerProblems(issueRule)).toEqual([]);
  });

  it('refuses values that do not fit the layout', () => {
    expect(thrown(() => evaluateTrigger([1, 2, 3], oneLead(2), issueRule)).message).toMatch(/3 band values, but 2 members x 1 lead times = 2/);
  });
});
