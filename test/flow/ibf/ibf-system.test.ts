/**
 * Alert levels per zone and lead time (src/flow/ibf/alerts.ts) and the IBF-system payloads made from them
 * (ibf-system.ts): field names and shapes as the IBF-system DTOs and IBF-pipeline-core's load.py give them.
 */
import { describe, expect, it } from 'vitest';
import type { AssessResult, ZoneResult } from '../../../src/engine/result.js';
import type { AlertLevel } from '../../../src/engine/trigger.js';
import { alertSummary, alertsCsv, type LeadResult } from '../../../src/flow/ibf/alerts.js';
import { forecastSeverity, ibfLeadTime, ibfSystemRequests, REQUESTS_OUTPUT, requestOutputs, summarise } from '../../../src/flow/ibf/ibf-system.js';

const SEVERITY: Record<AlertLevel, number> = { none: 0, low: 0.3, medium: 0.7, high: 1 };

function zone(id: string, damage: number[], t: { level: AlertLevel; triggered: boolean; p: number }, leadTime: string, hours: number): ZoneResult {
  return {
    id, name: `Zone ${id}`, cells: 10, exposedValue: 1000, damage, affectedValue: damage.map((d) => d * 2), maxIntensity: [], meanIntensity: [], footprintValue: [], hazardCells: [],
    trigger: [{ leadTime, leadTimeHours: hours, probability: t.p, triggered: t.triggered, alertLevel: t.level, severity: SEVERITY[t.level], count: Math.round(t.p * damage.length), members: damage.length }],
  };
}

function lead(label: string, hours: number, zones: ZoneResult[]): LeadResult {
  return { leadTime: label, leadTimeHours: hours, result: { zones } as unknown as AssessResult };
}

// two zones, three lead times; given out of order on purpose
const leads = [
  lead('72-hour', 72, [zone('MW1', [10, 20, 30, 40], { level: 'high', triggered: false, p: 1 }, '72-hour', 72), zone('MW2', [0, 0, 0, 0], { level: 'none', triggered: false, p: 0 }, '72-hour', 72)]),
  lead('24-hour', 24, [zone('MW1', [1, 2, 3, 4], { level: 'low', triggered: false, p: 0.25 }, '24-hour', 24), zone('MW2', [0, 0, 0, 0], { level: 'none', triggered: false, p: 0 }, '24-hour', 24)]),
  lead('48-hour', 48, [zone('MW1', [5, 6, 7, 100], { level: 'medium', triggered: true, p: 0.75 }, '48-hour', 48), zone('MW2', [0, 0, 0, 1], { level: 'none', triggered: false, p: 0 }, '48-hour', 48)]),
];
const summary = alertSummary(leads, '2019-03-14T00:00:00.000Z');

describe('alertSummary', () => {
  it('sorts lead times and says per lead time which zones are alerted and triggered', () => {
    expect(summary.leadTimes.map((l) => [l.leadTime, l.alert, l.trigger, l.alertZones, l.triggerZones, l.maxAlertLevel])).toEqual([
      ['24-hour', true, false, ['MW1'], [], 'low'],
      ['48-hour', true, true, ['MW1'], ['MW1'], 'medium'],
      ['72-hour', true, false, ['MW1'], [], 'high'],
    ]);
    expect(summary.zones[0]!.leadTimes.map((o) => o.alertLevel)).toEqual(['low', 'medium', 'high']);
    expect(alertsCsv(summary).split('\n')[2]).toBe('MW1,Zone MW1,48-hour,48,0.75,true,medium,0.7,3,4');
  });
});

describe('IBF-system payloads', () => {
  const requests = ibfSystemRequests(summary, new Map(leads.map((l) => [l.leadTime, l.result])), {
    countryCodeISO3: 'MWI', disasterType: 'floods', adminLevel: 1, eventName: null, date: summary.date,
    indicators: [{ name: 'damage_estimation', metric: 'damage', statistic: 'median' }, { name: 'population_affected_percentage', metric: 'affectedShare', statistic: 'max', scale: 100 }],
  });

  it('one exposure upload per lead time and indicator, then alerts per lead time, then events/process', () => {
    expect(requests.map((r) => `${r.path} ${(r.body as { leadTime?: string; dynamicIndicator?: string }).leadTime ?? ''} ${(r.body as { dynamicIndicator?: string }).dynamicIndicator ?? ''}`.trim())).toEqual([
      ...['24-hour', '48-hour', '72-hour'].flatMap((lt) => ['damage_estimation', 'population_affected_percentage', 'forecast_severity', 'forecast_trigger'].map((i) => `admin-area-dynamic-data/exposure ${lt} ${i}`)),
      'event/alerts-per-lead-time',
      'events/process',
    ]);
    expect(requests[0]!.name).toBe('ibf-system/001-exposure-24-hour-damage_estimation.json');
  });

  it('the exposure body of UploadAdminAreaDynamicDataDto', () => {
    const severity48 = requests.find((r) => r.name.includes('48-hour-forecast_severity'))!.body;
    expect(severity48).toEqual({
      countryCodeISO3: 'MWI', leadTime: '48-hour', dynamicIndicator: 'forecast_severity', adminLevel: 1,
      exposurePlaceCodes: [{ placeCode: 'MW1', amount: 1 }, { placeCode: 'MW2', amount: 0 }],
      disasterType: 'floods', eventName: null, date: '2019-03-14T00:00:00.000Z',
    });
    const amounts = (what: string) => (requests.find((r) => r.name.includes(what))!.body as { exposurePlaceCodes: Array<{ amount: number }> }).exposurePlaceCodes.map((p) => p.amount);
    // a high alert that does not trigger shows as 0.7; the triggering zone as 1 and forecast_trigger 1
    expect(amounts('72-hour-forecast_severity')).toEqual([0.7, 0]);
    expect(amounts('48-hour-forecast_trigger')).toEqual([1, 0]);
    expect(amounts('72-hour-forecast_trigger')).toEqual([0, 0]);
    expect(amounts('48-hour-damage_estimation')).toEqual([6.5, 0]); // median of 5, 6, 7, 100
    expect(amounts('72-hour-population_affected_percentage')).toEqual([8, 0]); // max 80 of 1000, in %
  });

  it('alerts per lead time are cumulative, as the pipelines send them', () => {
    const alerts = requests.find((r) => r.path === 'event/alerts-per-lead-time')!.body;
    expect(alerts).toEqual({
      countryCodeISO3: 'MWI',
      alertsPerLeadTime: [
        { leadTime: '24-hour', forecastAlert: true, forecastTrigger: false },
        { leadTime: '48-hour', forecastAlert: true, forecastTrigger: true },
        { leadTime: '72-hour', forecastAlert: true, forecastTrigger: true },
      ],
      disasterType: 'floods', eventName: null, date: '2019-03-14T00:00:00.000Z',
    });
    expect(requests.at(-1)!.body).toEqual({ countryCodeISO3: 'MWI', disasterType: 'floods', date: '2019-03-14T00:00:00.000Z' });
  });

  it('outputs: every body as JSON and the request list', () => {
    const out = requestOutputs(requests);
    const list = JSON.parse(out[REQUESTS_OUTPUT] as string);
    expect(list).toHaveLength(requests.length);
    expect(list[0]).toEqual({ method: 'POST', path: 'admin-area-dynamic-data/exposure', body: requests[0]!.name });
    expect(JSON.parse(out[requests[0]!.name] as string)).toEqual(requests[0]!.body);
  });

  it('lead-time labels, statistics and severities', () => {
    expect(ibfLeadTime('5-day', 120)).toBe('5-day');
    expect(ibfLeadTime('1-week', 168)).toBe('168-hour');
    expect(ibfLeadTime('36', 36)).toBe('36-hour');
    expect(summarise([4, 1, 3, 2], 'mean')).toBe(2.5);
    expect(summarise([4, 1, 3, 2], 0.9)).toBeCloseTo(3.7, 12);
    expect(summarise([1, NaN], 'max')).toBeNaN();
    expect(forecastSeverity({ leadTime: 'x', leadTimeHours: 1, probability: 0, triggered: false, alertLevel: 'low', severity: 0.3, count: 0, members: 1 })).toBe(0.3);
  });
});
