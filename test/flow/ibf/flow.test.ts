/**
 * The IBF flow wired on the orchestrator (src/flow/ibf/flow.ts, run-node.ts), in process, on the tiny
 * fixture (tiny-fixture.ts: zone A floods 2 m in 4 of 5 members, zone B stays dry; damage per flooded
 * member USD 20 000 in A). Expected numbers are worked out from that in each test.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { flowRunError, ManualClock } from '../../../src/flow/index-node.js';
import { runIbfFlowFile, scheduleIbfFlowFile, scheduledRunId, type IbfFlowOutcome } from '../../../src/flow/ibf/run-node.js';
import type { AlertSummary } from '../../../src/flow/ibf/alerts.js';
import type { EvaluationReport } from '../../../src/flow/ibf/flow.js';
import { loadKernel } from '../../../src/kernels/load-node.js';
import type { ImpactKernel } from '../../../src/kernels/types.js';
import { ibfError, tempDir, tree } from '../../helpers.js';
import { writeTinyFlow } from './tiny-fixture.js';

let kernel: ImpactKernel;
beforeAll(async () => {
  kernel = await loadKernel();
});

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

interface Got {
  method: string;
  url: string;
  auth?: string;
  body: string;
}

/** A local server: `answer(n, url)` gives the status of request n (1-based); GET of /files/... serves `files`. */
async function serve(answer: (n: number, url: string, method: string) => number, files: Record<string, Uint8Array> = {}): Promise<{ url: string; got: Got[] }> {
  const got: Got[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = answer(got.length, req.url!, req.method!);
      const file = files[req.url!];
      res.end(res.statusCode === 200 && file ? file : '');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, got };
}

const read = (dir: string, name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));

async function run(flowPath: string, extra: Partial<Parameters<typeof runIbfFlowFile>[1]> = {}): Promise<IbfFlowOutcome> {
  return runIbfFlowFile(flowPath, { kernel, date: '2019-03-14', ...extra });
}

describe('the IBF flow', () => {
  it('runs end to end: alerts per zone and lead time, result files and IBF-system payloads', async () => {
    const dir = tempDir();
    const { flowPath } = writeTinyFlow(dir);
    const o = await run(flowPath);
    expect(o.run.status).toBe('Completed');
    expect(Object.keys(o.run.states)).toEqual([
      'ingest/forecast-24-hour', 'ingest/forecast-48-hour', 'ingest/forecast-72-hour', 'ingest/exposure', 'ingest/zones',
      'validate', 'assess/24-hour', 'assess/48-hour', 'assess/72-hour', 'trigger', 'publish',
    ]);
    const out = join(dir, 'out', '2019-03-14');
    const alerts: AlertSummary = read(out, 'alerts.json');
    // A: 4 of 5 members at USD 20 000 >= 10 000: p = 0.8 >= 0.6, triggered up to 48 hours; at 72 hours the
    // high class still holds (alert) but the lead time is past maxLeadTime. B: dry, no alert.
    expect(alerts.zones.map((z) => z.leadTimes.map((l) => `${l.triggered ? 'T' : '-'}${l.alertLevel}${l.probability}`))).toEqual([
      ['Thigh0.8', 'Thigh0.8', '-high0.8'],
      ['-none0', '-none0', '-none0'],
    ]);
    expect(alerts.leadTimes.map((l) => [l.alert, l.trigger])).toEqual([[true, true], [true, true], [true, false]]);
    const r24 = read(out, 'results/24-hour.json');
    expect(r24.schema).toBe('e4drr-ibf/result@1');
    expect(r24.zones[0].damage).toEqual([20000, 20000, 20000, 20000, 0]);
    expect(r24.manifest.inputs.map((i: { role: string; path: string }) => `${i.role}:${i.path}`)).toEqual(['exposure:exposure.tif', 'hazard:fc/2019-03-14/24-hour.tif', 'zones:zones.geojson']);
    const requests = read(out, 'ibf-system/requests.json');
    expect(requests.map((r: { path: string }) => r.path)).toEqual([...Array(9).fill('admin-area-dynamic-data/exposure'), 'event/alerts-per-lead-time', 'events/process']);
    const body = (name: string) => read(dir, join('out', name));
    const damage24 = body(requests[0].body);
    expect(damage24).toEqual({
      countryCodeISO3: 'MWI', leadTime: '24-hour', dynamicIndicator: 'damage_estimation', adminLevel: 2,
      exposurePlaceCodes: [{ placeCode: 'A', amount: 20000 }, { placeCode: 'B', amount: 0 }],
      disasterType: 'floods', eventName: null, date: '2019-03-14T00:00:00.000Z',
    });
    const at = (i: number) => body(requests[i].body).exposurePlaceCodes.map((p: { amount: number }) => p.amount);
    expect([at(1), at(2), at(7), at(8)]).toEqual([[1, 0], [1, 0], [0.7, 0], [0, 0]]); // severity, trigger at 24 h; at 72 h
    expect(body(requests[9].body).alertsPerLeadTime).toEqual([
      { leadTime: '24-hour', forecastAlert: true, forecastTrigger: true },
      { leadTime: '48-hour', forecastAlert: true, forecastTrigger: true },
      { leadTime: '72-hour', forecastAlert: true, forecastTrigger: true },
    ]);
    const manifest = read(out, 'manifest.json');
    expect(manifest.outputs).toContain('2019-03-14/results/72-hour.csv');
    expect(JSON.stringify(manifest)).not.toContain(o.run.run); // outputs never name the run
  });

  it('a damage function from a CSV beside the flow file; lead times given in hours', async () => {
    const dir = tempDir();
    const { flowPath, doc } = writeTinyFlow(dir, { leads: ['24-hour', '48-hour'] });
    writeFileSync(join(dir, 'curve.csv'), '# linear to 2 m\nintensity,damage\n0,0\n2,1\n');
    doc.vulnerability = { csv: 'curve.csv', unit: 'm' };
    doc.forecast.leadTimes = [24, 48];
    doc.forecast.source = { '24': 'fc/{date}/24-hour.tif', '48-hour': 'fc/{date}/48-hour.tif' };
    writeFileSync(flowPath, JSON.stringify(doc));
    const o = await run(flowPath);
    expect(o.run.status, JSON.stringify(o.run.errors)).toBe('Completed');
    const r = read(join(dir, 'out', '2019-03-14'), 'results/48-hour.json');
    expect(r.zones[0].damage).toEqual([20000, 20000, 20000, 20000, 0]);
    expect(r.manifest.inputs.map((i: { role: string; path: string }) => `${i.role}:${i.path}`)).toContain('vulnerability:curve.csv');
  });

  it('one multi-band file per lead time, one file per member ({member}), or one file for all: the same alerts', async () => {
    const alerts: string[] = [];
    for (const layout of ['per-lead', 'per-member', 'all-in-one'] as const) {
      const dir = tempDir();
      const { flowPath } = writeTinyFlow(dir, { layout });
      const o = await run(flowPath);
      expect(o.run.status, layout).toBe('Completed');
      alerts.push(readFileSync(join(dir, 'out', '2019-03-14', 'alerts.json'), 'utf8'));
      if (layout === 'per-member') {
        const inputs = read(join(dir, 'out', '2019-03-14'), 'results/48-hour.json').manifest.inputs.filter((i: { role: string }) => i.role === 'hazard');
        expect(inputs.map((i: { path: string }) => i.path)).toEqual([1, 2, 3, 4, 5].map((m) => `fc/2019-03-14/48-hour/m${m}.tif`));
      }
    }
    expect(alerts[1]).toBe(alerts[0]);
    expect(alerts[2]).toBe(alerts[0]);
  });

  it('validate lists every problem at once: a missing lead time, an empty ensemble, member counts, zones off the grids', async () => {
    const dir = tempDir();
    const { flowPath, doc } = writeTinyFlow(dir, { layout: 'per-member', skipLeads: ['48-hour'], zones: ['A', 'B', 'C'] });
    doc.forecast.members = 6;
    doc.forecast.source = { '24-hour': 'fc/{date}/{lead}/m{member}.tif', '48-hour': 'fc/{date}/{lead}/m{member}.tif', '72-hour': 'fc/{date}/72h.tif' };
    writeFileSync(flowPath, JSON.stringify(doc));
    const o = await run(flowPath);
    expect(o.run.status).toBe('Failed');
    expect(o.run.states.validate).toBe('Failed');
    for (const t of ['assess/24-hour', 'trigger', 'publish']) expect(o.run.states[t]).toBe('Skipped');
    const e = flowRunError(o.run)!;
    expect(e.code).toBe('E_FLOW_FAILED');
    const message = o.run.errors.validate!.message;
    expect(o.run.errors.validate!.code).toBe('E_SCENARIO_INVALID');
    expect(message).toContain('forecast.24-hour: 5 members at 24-hour, but forecast.members is 6');
    expect(message).toContain('forecast.24-hour: the forecast grid of fc/2019-03-14/24-hour/m1.tif does not cover the zones C');
    expect(message).toContain('forecast.48-hour: empty ensemble at 48-hour: no member file matches fc/2019-03-14/48-hour/m{member}.tif');
    expect(message).toContain('forecast.72-hour: missing lead time 72-hour: fc/2019-03-14/72h.tif does not exist');
    expect(message).toContain('exposure.source: the exposure grid of exposure.tif does not cover the zones C');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('a task that always fails: Failed after its retries, everything downstream Skipped, nothing published', async () => {
    const { url, got } = await serve((_n, u) => (u.startsWith('/api/') ? 201 : 500));
    const dir = tempDir();
    const { flowPath, doc } = writeTinyFlow(dir);
    doc.forecast.source = { '24-hour': 'fc/{date}/{lead}.tif', '48-hour': `${url}forecast/{date}/{lead}.tif`, '72-hour': 'fc/{date}/{lead}.tif' };
    doc.run = { ingestRetry: { count: 2, initialMs: 1 } };
    doc.publish.ibfSystem.endpoint = `${url}api/`;
    writeFileSync(flowPath, JSON.stringify(doc));
    const events: string[] = [];
    const o = await run(flowPath, { onEvent: (e) => e.kind === 'task' && e.task === 'ingest/forecast-48-hour' && events.push(e.to) });
    expect(o.run.status).toBe('Failed');
    expect(events).toEqual(['Scheduled', 'Pending', 'Running', 'Retrying', 'Running', 'Retrying', 'Running', 'Failed']);
    expect(o.run.errors['ingest/forecast-48-hour']).toMatchObject({ code: 'E_HTTP', message: expect.stringContaining('answered 500') });
    const downstream = Object.entries(o.run.states).filter(([t]) => !t.startsWith('ingest/'));
    expect(downstream.every(([, s]) => s === 'Skipped')).toBe(true);
    expect(o.run.published).toBeUndefined();
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(got.filter((g) => g.method === 'POST')).toEqual([]);
    expect(got.map((g) => g.url)).toEqual(Array(3).fill('/forecast/2019-03-14/48-hour.tif'));
  });

  it('downloads URL sources, and POSTs the payloads to the endpoint an environment variable names, with the token', async () => {
    const fc = join(tempDir(), 'fc');
    writeTinyFlow(fc);
    const files = Object.fromEntries(['24-hour', '48-hour', '72-hour'].map((l) => [`/files/${l}.tif`, readFileSync(join(fc, 'fc', '2019-03-14', `${l}.tif`))]));
    const { url, got } = await serve((_n, u, m) => (m === 'GET' ? (files[u] ? 200 : 404) : 201), files);
    const dir = tempDir();
    const { flowPath, doc } = writeTinyFlow(dir);
    doc.forecast.source = `${url}files/{lead}.tif`;
    doc.publish.ibfSystem = { ...doc.publish.ibfSystem, endpointEnv: 'TEST_IBF_API', tokenEnv: 'TEST_IBF_TOKEN' };
    writeFileSync(flowPath, JSON.stringify(doc));
    const missing = await ibfError(run(flowPath, { processEnv: {} }));
    expect(missing.message).toContain('TEST_IBF_API, which is not set');
    const o = await run(flowPath, { processEnv: { TEST_IBF_API: `${url}api`, TEST_IBF_TOKEN: 'tok' } });
    expect(o.run.status).toBe('Completed');
    expect(o.run.published!.target).toBe(`${url}api + ${join(dir, 'out')}`);
    const posts = got.filter((g) => g.method === 'POST');
    const requests = read(dir, 'out/2019-03-14/ibf-system/requests.json');
    expect(posts.map((p) => p.url)).toEqual(requests.map((r: { path: string }) => `/api/${r.path}`));
    expect(posts.every((p) => p.auth === 'Bearer tok')).toBe(true);
    expect(posts.map((p) => p.body)).toEqual(requests.map((r: { body: string }) => readFileSync(join(dir, 'out', r.body), 'utf8')));
    const hazard = read(dir, 'out/2019-03-14/results/24-hour.json').manifest.inputs.find((i: { role: string }) => i.role === 'hazard');
    expect(hazard.path).toBe(`${url}files/24-hour.tif`);
  });

  it('a failed upload publishes nothing; resuming the run publishes once the server is back, every task Cached', async () => {
    let up = false;
    const { url, got } = await serve(() => (up ? 201 : 503));
    const dir = tempDir();
    const { flowPath, doc } = writeTinyFlow(dir);
    doc.publish.ibfSystem = { ...doc.publish.ibfSystem, endpoint: url, retry: { count: 1, initialMs: 1 } };
    writeFileSync(flowPath, JSON.stringify(doc));
    const first = await run(flowPath, { runId: 'r-1' });
    expect(first.run.status).toBe('Failed');
    expect(first.run.publishError).toMatchObject({ code: 'E_HTTP' });
    expect(existsSync(join(dir, 'out', '2019-03-14'))).toBe(false);
    expect(got).toHaveLength(2); // the first request, tried twice
    await ibfError(run(flowPath, { runId: 'r-1' })); // exists: needs --resume
    up = true;
    const states: Record<string, string[]> = {};
    const again = await run(flowPath, { runId: 'r-1', resume: true, date: undefined, onEvent: (e) => e.kind === 'task' && (states[e.task] ??= []).push(e.to) });
    expect(again.run.status).toBe('Completed');
    expect(again.run.session).toBe(2);
    expect(again.date).toBe('2019-03-14T00:00:00.000Z'); // the stored run's date
    expect(Object.values(again.run.states).every((s) => s === 'Cached')).toBe(true);
    expect(states.validate).toEqual(['Cached']);
    expect(existsSync(join(dir, 'out', '2019-03-14', 'alerts.json'))).toBe(true);
    expect(got.filter((g) => g.method === 'POST')).toHaveLength(2 + 11);
    // --resume without a run id finds nothing left to finish
    expect((await ibfError(run(flowPath, { resume: true }))).message).toContain('no unfinished run');
  });

  it('evaluates trigger skill over a hindcast period against historical impacts', async () => {
    const dir = tempDir();
    // issue dates 2019-01-01 .. 2019-01-04; A floods in the forecasts of Jan 1 and 2, B in that of Jan 4
    const wet: Record<string, 'A' | 'B' | undefined> = { '2019-01-01': 'A', '2019-01-02': 'A', '2019-01-04': 'B' };
    const dates = ['2019-01-01', '2019-01-02', '2019-01-03', '2019-01-04', '2019-03-14'];
    const { flowPath, doc } = writeTinyFlow(dir, { dates, depth: (z, m, _l, d) => (wet[d] === z && m < 4 ? 2 : 0) });
    writeFileSync(join(dir, 'impacts.csv'), 'date,zone,impact\n2019-01-03,A,120\n2019-01-02,B,30\n2019-01-05,B,0\n2018-12-01,A,99\n');
    doc.impacts = { source: 'impacts.csv' };
    doc.evaluate = { hindcast: { from: '2019-01-01', to: '2019-01-04' }, windowDays: 1, thresholds: [15_000, 30_000], pMins: [0.9] };
    writeFileSync(flowPath, JSON.stringify(doc));
    const o = await run(flowPath);
    expect(o.run.status).toBe('Completed');
    expect(Object.keys(o.run.states).filter((t) => t.startsWith('evaluate/'))).toEqual(['evaluate/2019-01-01', 'evaluate/2019-01-02', 'evaluate/2019-01-03', 'evaluate/2019-01-04', 'evaluate/skill']);
    const e: EvaluationReport = read(dir, 'out/2019-03-14/evaluation.json');
    // maxLeadTime 48 h = 2 days, window 1 day. A triggers on Jan 1 and 2: spans [Dec 31, Jan 4] and [Jan 1, Jan 5]
    // merge into one event holding the impact of Jan 3: 1 hit. B triggers on Jan 4: [Jan 3, Jan 7], its impact of
    // Jan 2 lies outside: 1 miss and 1 false alarm. Jan 5 (impact 0) and Dec 1 (before the span) are left out.
    expect(e.skill.total).toEqual({ hits: 1, misses: 1, falseAlarms: 1, pod: 0.5, far: 0.5, csi: 1 / 3 });
    expect(e.skill.predicted).toEqual([
      { zone: 'A', from: '2018-12-31', to: '2019-01-05', issued: ['2019-01-01', '2019-01-02'], observed: ['2019-01-03'] },
      { zone: 'B', from: '2019-01-03', to: '2019-01-07', issued: ['2019-01-04'], observed: [] },
    ]);
    expect(e.skill.ignored).toBe(2);
    expect(e.hindcast).toEqual({ dates: ['2019-01-01', '2019-01-02', '2019-01-03', '2019-01-04'], from: '2019-01-01', to: '2019-01-04' });
    // tuning: at 30 000 nothing triggers (damage is at most 20 000): 0 hits, 2 misses; at pMin 0.9 neither (p = 0.8)
    const tune = Object.fromEntries(e.tuning.map((t) => [`${t.threshold}/${t.pMin}`, [t.hits, t.misses, t.falseAlarms]]));
    expect(tune).toEqual({ '10000/0.6': [1, 1, 1], '10000/0.9': [0, 2, 0], '15000/0.6': [1, 1, 1], '15000/0.9': [0, 2, 0], '30000/0.6': [0, 2, 0], '30000/0.9': [0, 2, 0] });
    // the hindcast assessments are cached: a second run (another date) reuses them
    const states: Record<string, string> = {};
    const again = await run(flowPath, { onEvent: (ev) => ev.kind === 'task' && (states[ev.task] = ev.to) });
    expect(again.run.status).toBe('Completed');
    expect(states['evaluate/2019-01-02']).toBe('Cached');
    expect(states['assess/24-hour']).toBe('Completed');
  });

  it('runs on its cron: the forecast date and the run id come from the fire time', async () => {
    const dir = tempDir();
    const { flowPath, doc } = writeTinyFlow(dir);
    doc.schedule = '0 6 * * *';
    writeFileSync(flowPath, JSON.stringify(doc));
    const clock = new ManualClock(Date.UTC(2019, 2, 14, 5, 0));
    const runs: IbfFlowOutcome[] = [];
    let stop = () => {};
    const schedule = await scheduleIbfFlowFile(flowPath, {
      kernel, clock,
      onRun: (o) => {
        runs.push(o);
        stop();
      },
    });
    stop = () => schedule.stop();
    expect(schedule.next?.toISOString()).toBe('2019-03-14T06:00:00.000Z');
    await schedule.done;
    expect(runs).toHaveLength(1);
    expect(runs[0]!.run.run).toBe(scheduledRunId('tiny', new Date('2019-03-14T06:00Z')));
    expect(runs[0]!.run.run).toBe('tiny-20190314T0600Z');
    expect(runs[0]!.run.status).toBe('Completed');
    expect(read(dir, 'out/2019-03-14T0600Z/alerts.json').date).toBe('2019-03-14T06:00:00.000Z');
    rmSync(dir, { recursive: true, force: true });
    const nothing = tempDir();
    const bare = writeTinyFlow(nothing);
    expect((await ibfError(scheduleIbfFlowFile(bare.flowPath, { kernel }))).message).toContain('has no schedule');
  });

  it('outputs are the same bytes run after run (SOURCE_DATE_EPOCH fixes createdAt)', async () => {
    const dir = tempDir();
    const { flowPath } = writeTinyFlow(dir);
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    process.env.SOURCE_DATE_EPOCH = '1552521600';
    try {
      await run(flowPath, { outDir: a });
      await run(flowPath, { outDir: b, workers: 2, minPoolCellBands: 1 });
    } finally {
      delete process.env.SOURCE_DATE_EPOCH;
    }
    const ta = tree(a);
    expect(ta.size).toBeGreaterThan(10);
    expect(tree(b)).toEqual(ta);
    expect(read(a, '2019-03-14/results/24-hour.json').manifest.createdAt).toBe('2019-03-14T00:00:00.000Z');
  });
});
