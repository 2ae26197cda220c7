/** The IBF flow document (src/flow/ibf/schema.ts): a valid one parses; bad ones name every field at once. */
import { describe, expect, it } from 'vitest';
import { hindcastDays, parseIbfFlow } from '../../../src/flow/ibf/schema.js';
import { parseDay } from '../../../src/flow/ibf/impacts.js';
import { thrown } from '../../helpers.js';

export const VALID = {
  name: 'sea-floods',
  schedule: '0 6 * * *',
  forecast: { source: 'forecast/{date}/flood_{lead}.tif', unit: 'm', leadTimes: ['24-hour', '48-hour', 72], members: 51, resampling: 'nearest' },
  exposure: { source: 'exposure.tif', unit: 'USD' },
  zones: { source: 'zones.geojson', idProperty: 'iso3', nameProperty: 'name' },
  vulnerability: 'jrc-flood-africa-residential',
  affectedThreshold: 0.3,
  trigger: { metric: 'damage', threshold: 2.5e8, pMin: 0.6, maxLeadTime: '72-hour', alertClasses: [{ level: 'low', threshold: 5e7, pMin: 0.3 }] },
  impacts: { source: 'impacts.csv' },
  evaluate: { hindcast: { from: '2019-03-01', to: '2019-03-10', everyDays: 3 }, windowDays: 2, thresholds: [1e8, 5e8] },
  publish: {
    dir: 'out',
    ibfSystem: { countryCodeISO3: 'MOZ', adminLevel: 0, indicators: [{ name: 'damage_estimation', metric: 'damage', statistic: 'median' }], endpointEnv: 'IBF_API_URL', tokenEnv: 'IBF_API_TOKEN' },
  },
  run: { assessConcurrency: 1 },
};

describe('parseIbfFlow', () => {
  it('accepts a complete flow', () => {
    const c = parseIbfFlow(structuredClone(VALID));
    expect(c.forecast.leadTimes).toEqual(['24-hour', '48-hour', 72]);
    expect(hindcastDays(c.evaluate!)).toEqual([parseDay('2019-03-01'), parseDay('2019-03-04'), parseDay('2019-03-07'), parseDay('2019-03-10')]);
    expect(hindcastDays({ hindcast: { dates: ['2019-03-02', '2019-03-01', '2019-03-02'] } })).toEqual([parseDay('2019-03-01'), parseDay('2019-03-02')]);
  });

  it('lists every problem at once, each naming its field', () => {
    const doc: any = structuredClone(VALID);
    doc.name = 'sea floods';
    doc.forecast.leadTimes = ['24-hour', '1-day', '3-month'];
    doc.forecast.source = 'forecast/{dat}/{lead}.tif';
    doc.exposure.unti = 'USD';
    doc.trigger.pMin = 1.5;
    doc.schedule = '0 25 * * *';
    doc.publish.ibfSystem.countryCodeISO3 = 'mz';
    doc.evaluate.hindcast.to = '2019-02-30';
    const e = thrown(() => parseIbfFlow(doc, 'flow.json'));
    expect(e.code).toBe('E_FLOW_INVALID');
    expect(e.message).toMatch(/^flow\.json is invalid: \d+ problems/);
    const paths = e.problems!.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'exposure', 'trigger.pMin', 'publish.ibfSystem.countryCodeISO3', 'evaluate.hindcast.to']));
  });

  it('checks what the schema cannot: lead times, templates, the cron, the trigger rule, the hindcast', () => {
    const doc: any = structuredClone(VALID);
    doc.forecast.leadTimes = ['24-hour', '1-day', '3-month'];
    doc.forecast.source = 'forecast/{dat}/{lead}.tif';
    doc.schedule = '0 25 * * *';
    doc.trigger.alertClasses = [{ level: 'low', threshold: 1, pMin: 0.1 }, { level: 'low', threshold: 2, pMin: 0.2 }];
    delete doc.impacts;
    doc.evaluate.hindcast = { from: '2019-03-10', to: '2019-03-01' };
    const e = thrown(() => parseIbfFlow(doc));
    const byPath = Object.fromEntries(e.problems!.map((p) => [p.path, p.message]));
    expect(byPath['forecast.leadTimes[1]']).toContain('is 24 hours, as forecast.leadTimes[0] is');
    expect(byPath['forecast.leadTimes[2]']).toContain('months');
    expect(byPath['forecast.source']).toContain('unknown placeholder {dat}');
    expect(byPath.schedule).toBeTruthy();
    expect(byPath['trigger.alertClasses[1].level']).toContain('give each level once');
    expect(byPath.evaluate).toContain('impacts');
    expect(byPath['evaluate.hindcast.to']).toContain('before from');
  });

  it('per-lead-time sources must name the flow lead times; a hindcast needs {date}', () => {
    const doc: any = structuredClone(VALID);
    doc.forecast.source = { '24-hour': ['a.tif', 'b.tif'], '96-hour': 'c.tif' };
    const e = thrown(() => parseIbfFlow(doc));
    const byPath = Object.fromEntries(e.problems!.map((p) => [p.path, p.message]));
    expect(byPath['forecast.source.96-hour']).toContain('is not one of forecast.leadTimes');
    expect(byPath['evaluate.hindcast.source']).toContain('give a template with {date}');
    doc.forecast.source = 'static/{lead}.tif';
    expect(thrown(() => parseIbfFlow(doc)).problems![0]).toMatchObject({ path: 'evaluate.hindcast', message: expect.stringContaining('has no {date}') });
  });

  it('names the wrong type of a nested field, and a missing required block', () => {
    const doc: any = structuredClone(VALID);
    doc.forecast.members = 'fifty-one';
    delete doc.trigger;
    const e = thrown(() => parseIbfFlow(doc));
    expect(e.problems!.map((p) => p.path).sort()).toEqual(['forecast.members', 'trigger']);
    expect(thrown(() => parseIbfFlow([])).problems![0]!.path).toBe('(flow)');
  });
});
