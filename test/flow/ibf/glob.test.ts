/** Source templates of the IBF flow: placeholders, wildcards, members, URLs (src/flow/ibf/glob.ts). */
import { describe, expect, it } from 'vitest';
import { compileGlob, expandUrl, fillTemplate, hasMagic, isoDay, matchGlob, naturalCompare, selectMatches, templateProblems, unescapeGlob } from '../../../src/flow/ibf/glob.js';
import { thrown } from '../../helpers.js';

const date = new Date(Date.UTC(2019, 2, 14, 6));

describe('fillTemplate', () => {
  it('fills lead, hours and date parts, and leaves members, wildcards and alternatives', () => {
    expect(fillTemplate('fc/{date}/{lead}_{leadHours}h.tif', { lead: '24-hour', leadHours: 24, date })).toBe('fc/2019-03-14/24-hour_24h.tif');
    expect(fillTemplate('{YYYY}{MM}{DD}T{HH}/m{member:2}-*.{tif,TIF}', { date })).toBe('20190314T06/m{member:2}-*.{tif,TIF}');
    expect(isoDay(date)).toBe('2019-03-14');
  });

  it('escapes values so they match only themselves', () => {
    const filled = fillTemplate('a/{lead}.tif', { lead: 'x*{1,2}' });
    expect(hasMagic(filled)).toBe(false);
    expect(unescapeGlob(filled)).toBe('a/x*{1,2}.tif');
  });

  it('refuses a placeholder it cannot fill, naming the field', () => {
    const e = thrown(() => fillTemplate('fc/{date}.tif', {}, 'evaluate.hindcast.source'));
    expect(e.code).toBe('E_FLOW_INVALID');
    expect(e.problems![0]!.path).toBe('evaluate.hindcast.source');
    expect(e.message).toContain('{date}');
  });
});

describe('templateProblems', () => {
  it('finds unknown placeholders and unbalanced braces', () => {
    expect(templateProblems('a/{lead}/{member:3}/{x,y}.tif', 's')).toEqual([]);
    expect(templateProblems('a/{leed}.tif', 's')[0]!.message).toContain('unknown placeholder {leed}');
    expect(templateProblems('a/{lead.tif', 's')[0]!.message).toContain('without its "}"');
    expect(templateProblems('a/lead}.tif', 's')[0]!.message).toContain('without its "{"');
    expect(templateProblems('https://h/**/x.tif', 's', { url: true })[0]!.message).toContain('URL');
  });
});

describe('compileGlob and selectMatches', () => {
  const files = ['fc/24-hour/member_2.tif', 'fc/24-hour/member_10.tif', 'fc/24-hour/member_1.tif', 'fc/24-hour/readme.txt', 'fc/48-hour/member_1.tif', 'fc/24-hour/sub/member_3.tif'];

  it('orders members by their number, not as text', () => {
    const g = compileGlob('fc/24-hour/member_{member}.tif');
    expect(g.base).toBe('fc/24-hour/');
    expect(g.depth).toBe(0);
    expect(selectMatches(g, files).map((m) => [m.path, m.member])).toEqual([
      ['fc/24-hour/member_1.tif', 1],
      ['fc/24-hour/member_2.tif', 2],
      ['fc/24-hour/member_10.tif', 10],
    ]);
  });

  it('matches * ? {a,b} and ** like a shell', () => {
    expect(selectMatches(compileGlob('fc/*/member_?.tif'), files).map((m) => m.path)).toEqual(['fc/24-hour/member_1.tif', 'fc/24-hour/member_2.tif', 'fc/48-hour/member_1.tif']);
    expect(selectMatches(compileGlob('fc/{24,48}-hour/member_1.tif'), files).length).toBe(2);
    const deep = compileGlob('fc/**/member_3.tif');
    expect(deep.depth).toBe(Infinity);
    expect(selectMatches(deep, files).map((m) => m.path)).toEqual(['fc/24-hour/sub/member_3.tif']);
    expect(matchGlob(compileGlob('fc/24-hour/*.tif'), 'fc/24-hour/sub/member_3.tif')).toBeNull(); // * does not cross folders
    expect(selectMatches(compileGlob('fc/24-hour/m*.tif'), files).map((m) => m.path)).toEqual(['fc/24-hour/member_1.tif', 'fc/24-hour/member_2.tif', 'fc/24-hour/member_10.tif']);
  });

  it('{member:N} takes exactly N digits; a member twice is ambiguous', () => {
    const g = compileGlob('m{member:2}.tif');
    expect(selectMatches(g, ['m01.tif', 'm1.tif', 'm123.tif']).map((m) => m.member)).toEqual([1]);
    const e = thrown(() => selectMatches(compileGlob('m{member}{,x}.tif'), ['m1.tif', 'm01x.tif'], 'forecast.source'));
    expect(e.problems![0]).toMatchObject({ path: 'forecast.source' });
    expect(e.message).toContain('member 1 matches both');
  });

  it('natural order puts m2 before m10', () => {
    expect(['m10', 'm2', 'm1'].sort(naturalCompare)).toEqual(['m1', 'm2', 'm10']);
  });
});

describe('expandUrl', () => {
  it('expands alternatives and members 0 .. n-1, zero-padded', () => {
    expect(expandUrl('https://h/x/m{member:2}.tif?sig=a*b', 3).map((m) => [m.path, m.member])).toEqual([
      ['https://h/x/m00.tif?sig=a*b', 0],
      ['https://h/x/m01.tif?sig=a*b', 1],
      ['https://h/x/m02.tif?sig=a*b', 2],
    ]);
    expect(expandUrl('https://h/{a,b}.tif', undefined).map((m) => m.path)).toEqual(['https://h/a.tif', 'https://h/b.tif']);
  });

  it('needs the member count for {member}', () => {
    expect(thrown(() => expandUrl('https://h/m{member}.tif', undefined, 'forecast.source')).message).toContain('forecast.members');
  });
});
