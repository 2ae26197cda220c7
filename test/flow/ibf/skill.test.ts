/**
 * Trigger skill (src/flow/ibf/skill.ts) and the impact records it is scored against (impacts.ts).
 * Expected counts are worked out by hand in each test from the matching rules of the module header.
 */
import { describe, expect, it } from 'vitest';
import { dayString, parseDay, parseImpactsCsv, type ImpactRecord } from '../../../src/flow/ibf/impacts.js';
import { evaluateSkill, skillScores, type Decision } from '../../../src/flow/ibf/skill.js';
import { thrown } from '../../helpers.js';

describe('parseImpactsCsv', () => {
  it('reads date, zone and impact in any column order, with quotes, BOM, comments and blank lines', () => {
    const text = '\uFEFF# observed floods\nsource,Impact,ZONE,date\n"EM-DAT, 2019",1200,MOZ,2019-03-15\n\nDesInventar,60,MWI,2019-03-16T22:00:00Z\n';
    const r = parseImpactsCsv(text, { zoneIds: new Set(['MOZ', 'MWI']) });
    expect(r).toEqual([
      { date: '2019-03-15', day: parseDay('2019-03-15'), zone: 'MOZ', impact: 1200, line: 3 },
      { date: '2019-03-16', day: parseDay('2019-03-16'), zone: 'MWI', impact: 60, line: 5 },
    ]);
  });

  it('guesses semicolons and tabs, and takes configured column names', () => {
    expect(parseImpactsCsv('when;pcode;people\n2020-01-02;MW3;5\n', { columns: { date: 'when', impact: 'people' } })[0]).toMatchObject({ zone: 'MW3', impact: 5 });
    expect(parseImpactsCsv('date\tzone\timpact\n2020-01-02\tA\t0\n')[0]).toMatchObject({ zone: 'A', impact: 0 });
  });

  it('lists every bad row with its line, and unknown zones', () => {
    const e = thrown(() => parseImpactsCsv('date,zone,impact\n2019-02-30,MOZ,1\n2019-03-01,,x\n2019-03-02,ZZZ,-1\n2019-03-03,MOZ\n', { name: 'i.csv', zoneIds: new Set(['MOZ']) }));
    expect(e.code).toBe('E_INPUT_FORMAT');
    expect(e.problems!.map((p) => p.path)).toEqual(['i.csv:2', 'i.csv:3', 'i.csv:3', 'i.csv:4', 'i.csv:4', 'i.csv:5']);
    expect(e.message).toContain('date "2019-02-30" is not a date');
    expect(e.message).toContain('zone "ZZZ" is not among the zones');
    expect(e.message).toContain('impact "-1" is not a number >= 0');
  });

  it('names a missing column and the configured path', () => {
    const e = thrown(() => parseImpactsCsv('day,zone,impact\n', { path: 'impacts' }));
    expect(e.problems![0]!.path).toBe('impacts.columns.date');
    expect(thrown(() => parseImpactsCsv('   \n')).message).toContain('is empty');
  });

  it('days are UTC days since 1970', () => {
    expect(parseDay('1970-01-02')).toBe(1);
    expect(dayString(parseDay('2019-03-14')!)).toBe('2019-03-14');
    expect(parseDay('2019-03-14T23:30:00-02:00')).toBe(parseDay('2019-03-15'));
    expect(parseDay('14/03/2019')).toBeUndefined();
  });
});

describe('skillScores', () => {
  it('POD, FAR and CSI from the contingency table; null where undefined', () => {
    expect(skillScores({ hits: 6, misses: 2, falseAlarms: 3 })).toEqual({ hits: 6, misses: 2, falseAlarms: 3, pod: 6 / 8, far: 3 / 9, csi: 6 / 11 });
    expect(skillScores({ hits: 0, misses: 0, falseAlarms: 0 })).toMatchObject({ pod: null, far: null, csi: null });
    expect(skillScores({ hits: 0, misses: 0, falseAlarms: 2 })).toMatchObject({ pod: null, far: 1, csi: 0 });
  });
});

describe('evaluateSkill', () => {
  const day0 = 100;
  const decisions: Decision[] = [];
  for (let d = day0; d < day0 + 10; d++) {
    decisions.push({ day: d, zone: 'A', triggered: d === 101 || d === 102 || d === 109 });
    decisions.push({ day: d, zone: 'B', triggered: false });
  }
  const rec = (zone: string, day: number, impact: number): ImpactRecord => ({ zone, day, impact, date: dayString(day), line: 0 });
  const impacts = [rec('A', 104, 50), rec('A', 104, 70), rec('A', 120, 5), rec('B', 103, 10), rec('B', 105, 0), rec('B', 99, 9), rec('C', 104, 1)];

  it('merges overlapping triggers into one predicted event and matches impacts inside it', () => {
    // A: triggers on 101 and 102 cover [100, 105] and [101, 106] (lead 3 days, window 1): one event, with
    // the impact of day 104 inside (two records, one event) -> 1 hit; the trigger of 109 covers [108, 113],
    // nothing observed there -> 1 false alarm; day 120 is after the span (last issue 109 + 3 = 112): ignored.
    // B: never triggers; day 103 (impact 10) -> 1 miss; day 105 has impact 0 and day 99 is before the span.
    // C: no forecasts for it: ignored.
    const r = evaluateSkill(decisions, impacts, { leadDays: 3, windowDays: 1 });
    expect(r.total).toEqual({ hits: 1, misses: 1, falseAlarms: 1, pod: 0.5, far: 0.5, csi: 1 / 3 });
    expect(r.span).toEqual({ from: 100, to: 112 });
    expect(r.ignored).toBe(4);
    expect(r.predicted).toEqual([
      { zone: 'A', from: 100, to: 106, issued: [101, 102], observed: [104] },
      { zone: 'A', from: 108, to: 113, issued: [109], observed: [] },
    ]);
    expect(r.observed).toEqual([
      { zone: 'A', day: 104, impact: 70, hit: true },
      { zone: 'B', day: 103, impact: 10, hit: false },
    ]);
    expect(r.zones.map((z) => [z.zone, z.forecasts, z.triggered, z.hits, z.misses, z.falseAlarms])).toEqual([
      ['A', 10, 3, 1, 0, 1],
      ['B', 10, 0, 0, 1, 0],
    ]);
  });

  it('minImpact drops small impacts; a window of 0 days demands the timing', () => {
    expect(evaluateSkill(decisions, impacts, { leadDays: 3, windowDays: 1, minImpact: 20 }).total).toMatchObject({ hits: 1, misses: 0, falseAlarms: 1 });
    // with no tolerance the first event covers [101, 105]: day 104 is still inside; an impact on day 100 is not
    const early = [...impacts, rec('A', 100, 30)];
    expect(evaluateSkill(decisions, early, { leadDays: 3, windowDays: 0 }).total).toMatchObject({ hits: 1, misses: 2, falseAlarms: 1 });
    expect(evaluateSkill(decisions, early, { leadDays: 3, windowDays: 1 }).total).toMatchObject({ hits: 2, misses: 1, falseAlarms: 1 });
  });

  it('no decisions: nothing to score', () => {
    expect(evaluateSkill([], impacts, { leadDays: 3, windowDays: 1 })).toMatchObject({ span: null, ignored: impacts.length, total: { pod: null } });
  });
});
