/**
 * `ibf flow run` and `ibf flow schedule` as a user meets them: usage and bad input (exit 2, the fields
 * named), a failing run (how to resume it), and, on the bundled demo extended to five lead times
 * (demo-fixture.ts), real processes of the installed bin:
 * - an end-to-end run that POSTs the IBF-system payloads to a local HTTP server started here;
 * - a run killed with SIGKILL in the middle of `assess` and started again with --resume: the tasks that had
 *   finished are Cached, and the outputs are byte-identical to those of the uninterrupted run.
 * The processes need the build (npm run build:ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { FlowProgress } from '../../../src/flow/ibf/cli-node.js';
import { REPO, tempDir, tree } from '../../helpers.js';
import { writeDemoFlowFixture, type Fixture } from './demo-fixture.js';
import { writeTinyFlow } from './tiny-fixture.js';

async function cli(argv: string[], signal?: AbortSignal) {
  const io = { out: '', err: '' };
  const status = await main(argv, { out: (s) => (io.out += s), err: (s) => (io.err += s), isTTY: false, signal });
  return { status, ...io };
}

describe('ibf flow (in process)', () => {
  it('usage errors and bad flows exit 2, naming what is wrong', async () => {
    expect((await cli(['--help'])).out).toContain('ibf flow run <flow.json> [--run-id ID] [--resume]');
    for (const argv of [['flow'], ['flow', 'frob', 'x.json'], ['flow', 'run'], ['flow', 'run', 'a.json', 'b.json'], ['flow', 'run', 'a.json', '--nope'], ['flow', 'schedule', 'a.json', '--resume']]) {
      const r = await cli(argv);
      expect(r.status, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(/^error \[E_USAGE\]/);
    }
    const dir = tempDir();
    expect((await cli(['flow', 'run', join(dir, 'missing.json')])).err).toMatch(/^error \[E_INPUT_NOT_FOUND\]/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'x y', forecast: { source: 'f/{leed}.tif', unit: 'm', leadTimes: ['24-hour'] }, exposure: { source: 'e.tif' }, zones: { source: 'z.geojson', idProperty: 'id' }, vulnerability: 'jrc-flood-africa-residential', trigger: { metric: 'damage', threshold: 1, pMin: 2 }, schedule: 'daily' }));
    const r = await cli(['flow', 'run', bad]);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/^error \[E_FLOW_INVALID\]/);
    for (const field of ['name:', 'exposure.unit:', 'forecast.source:', 'trigger.pMin:', 'schedule:']) expect(r.err).toContain(`  - ${field}`);
  });

  it('runs a flow (--json), and a failed run says how to resume it', async () => {
    const dir = tempDir();
    const { flowPath, doc } = writeTinyFlow(dir);
    const ok = await cli(['flow', 'run', flowPath, '--date', '2019-03-14', '--run-id', 'first', '--json', '--workers', '0']);
    expect(ok.status, ok.err).toBe(0);
    const j = JSON.parse(ok.out);
    expect(j).toMatchObject({ run: 'first', status: 'Completed', folder: '2019-03-14', published: { target: join(dir, 'out') } });
    expect(j.alerts.zones[0].leadTimes[0]).toMatchObject({ triggered: true, alertLevel: 'high' });
    expect(ok.err).toContain('flow tiny: run first, forecast of 2019-03-14T00:00:00.000Z');
    expect(ok.err).toMatch(/\] assess\/24-hour Completed in [\d.]+ s/);
    const plain = await cli(['flow', 'run', flowPath, '--date', '2019-03-14', '--out', join(dir, 'out2')]);
    expect(plain.out).toMatch(/^flow tiny run tiny-\d{8}T\d{6}Z-[0-9a-f]{8}: Completed/);
    expect(plain.out).toContain('A     Zone A  YES high   0.80  YES high   0.80  no  high   0.80');
    doc.exposure.source = 'nowhere.tif';
    writeFileSync(flowPath, JSON.stringify(doc));
    const failed = await cli(['flow', 'run', flowPath, '--date', '2019-03-14', '--run-id', 'second']);
    expect(failed.status).toBe(2);
    expect(failed.err).toContain('error [E_FLOW_FAILED]: flow tiny run second failed; nothing was published');
    expect(failed.err).toContain('validate: Failed: [E_SCENARIO_INVALID]');
    expect(failed.err).toContain(`hint: Fix the errors above, then finish the run with: ibf flow run ${flowPath} --run-id second --resume`);
  });

  it('on a terminal, progress is one line per task redrawn in place; a long flow shows counts', async () => {
    let err = '';
    const io = { out: () => {}, err: (s: string) => (err += s), isTTY: true };
    const p = new FlowProgress(io, ['ingest/zones', 'assess/24-hour']);
    const ev = (task: string, to: 'Running' | 'Completed' | 'Retrying', ts: number, extra = {}) => p.onEvent({ kind: 'task', seq: 0, ts, run: 'r', task, attempt: 1, from: null, to, ...extra });
    ev('ingest/zones', 'Running', 1000);
    ev('ingest/zones', 'Completed', 1250);
    ev('assess/24-hour', 'Running', 1300);
    p.onEvent({ kind: 'progress', ts: 1400, run: 'r', task: 'assess/24-hour', attempt: 1, fraction: 0.5, message: 'tile 2 of 4' });
    p.onLog({ ts: 1, level: 'warn', flow: 'f', run: 'r', task: 'assess/24-hour', message: 'the hazard was resampled' });
    p.onLog({ ts: 2, level: 'warn', flow: 'f', run: 'r', task: 'assess/48-hour', message: 'the hazard was resampled' });
    p.finish();
    expect(err).toContain('  ✓ ingest/zones   Completed 0.25 s');
    expect(err).toContain('  ▸ assess/24-hour Running   [##########          ]  50% tile 2 of 4');
    expect(err).toContain('\x1b[2A\x1b[J'); // up two lines, clear, redraw
    expect(err.match(/warning: assess\/24-hour: the hazard was resampled/g)).toHaveLength(1); // said once
    let many = '';
    const big = new FlowProgress({ out: () => {}, err: (s: string) => (many += s), isTTY: true }, Array.from({ length: 40 }, (_, i) => `evaluate/d${i}`));
    big.onEvent({ kind: 'task', seq: 0, ts: 0, run: 'r', task: 'evaluate/d3', attempt: 1, from: null, to: 'Retrying', error: { name: 'IbfError', message: 'busy' }, delayMs: 1000 });
    big.finish();
    expect(many).toContain('  39 Scheduled, 1 Retrying');
    expect(many).toContain('↻ evaluate/d3');
    expect(many).not.toContain('evaluate/d4');
  });

  it('schedule: needs a schedule; runs until cancelled', async () => {
    const dir = tempDir();
    const { flowPath, doc } = writeTinyFlow(dir);
    const none = await cli(['flow', 'schedule', flowPath]);
    expect(none.status).toBe(2);
    expect(none.err).toContain('has no schedule');
    doc.schedule = '0 6 1 1 *';
    writeFileSync(flowPath, JSON.stringify(doc));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await cli(['flow', 'schedule', flowPath], ac.signal);
    expect(r.status).toBe(0);
    expect(r.err).toMatch(/scheduled on "0 6 1 1 \*" \(UTC\); next run at \d{4}-01-01T06:00:00.000Z/);
    expect(r.err).toContain('schedule stopped');
  });
});

// ---- real processes on the demo with five lead times

const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');
/** 2019-03-14T00:00:00Z: fixes `manifest.createdAt` of the results (the reproducible-builds convention). */
const EPOCH = '1552521600';

interface Proc {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Runs the bin; `onErrLine` sees stderr line by line and may kill the process. */
function bin(args: string[], env: Record<string, string>, onErrLine?: (line: string, kill: () => void) => void): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let pending = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      const s = c.toString();
      err += s;
      pending += s;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        onErrLine?.(line, () => child.kill('SIGKILL'));
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

interface Post {
  url: string;
  auth?: string;
  body: string;
}

describe('ibf flow run on the demo with 5 lead times (processes)', () => {
  let fx: Fixture;
  let server: Server;
  let url: string;
  const posts: Post[] = [];
  let clean: Proc;
  const env = () => ({ SOURCE_DATE_EPOCH: EPOCH, IBF_FLOW_TEST_API: `${url}api/`, IBF_FLOW_TEST_TOKEN: 'demo-token' });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        posts.push({ url: req.url!, auth: req.headers.authorization, body });
        res.statusCode = 201;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    fx = writeDemoFlowFixture(tempDir('ibf-flow-demo-'));
    const doc = fx.doc as { publish: { ibfSystem: Record<string, unknown> } };
    doc.publish.ibfSystem.endpointEnv = 'IBF_FLOW_TEST_API';
    doc.publish.ibfSystem.tokenEnv = 'IBF_FLOW_TEST_TOKEN';
    writeFileSync(fx.flowPath, JSON.stringify(doc, null, 2));
    // the uninterrupted run: the end-to-end reference
    clean = await bin(['flow', 'run', fx.flowPath, '--date', fx.date, '--run-id', 'clean', '--store', join(fx.dir, 'store-clean'), '--out', join(fx.dir, 'out-clean'), '--workers', '2', '--json'], env());
  }, 120_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(fx.dir, { recursive: true, force: true });
  });

  it('end to end: every step runs, and the IBF-system payloads reach the local server in order', () => {
    expect(clean.code, clean.err).toBe(0);
    const j = JSON.parse(clean.out);
    expect(j.status).toBe('Completed');
    expect(Object.keys(j.states)).toEqual([
      'ingest/forecast-24-hour', 'ingest/forecast-48-hour', 'ingest/forecast-72-hour', 'ingest/forecast-96-hour', 'ingest/forecast-120-hour',
      'ingest/exposure', 'ingest/zones', 'validate', 'assess/24-hour', 'assess/48-hour', 'assess/72-hour', 'assess/96-hour', 'assess/120-hour', 'trigger', 'publish',
    ]);
    expect(Object.values(j.states).every((s) => s === 'Completed')).toBe(true);
    // the demo's storyline: Mozambique and Malawi trigger from 24 hours; past maxLeadTime (72 h) they stay alerted only
    const byZone = Object.fromEntries(j.alerts.zones.map((z: { id: string; leadTimes: Array<{ triggered: boolean; alertLevel: string }> }) => [z.id, z.leadTimes.map((l) => `${l.triggered ? 'T' : '-'}${l.alertLevel}`)]));
    expect(byZone.MOZ).toEqual(['Tmedium', 'Thigh', 'Thigh', '-high', '-high']);
    expect(byZone.MWI).toEqual(['Tmedium', 'Tmedium', 'Tmedium', '-medium', '-medium']);
    expect(byZone.SWZ).toEqual(['-none', '-none', '-none', '-none', '-none']);
    const out = join(fx.dir, 'out-clean', '2019-03-14');
    const requests = JSON.parse(readFileSync(join(out, 'ibf-system', 'requests.json'), 'utf8')) as Array<{ path: string; body: string }>;
    expect(requests).toHaveLength(5 * 3 + 2);
    expect(posts.map((p) => p.url)).toEqual(requests.map((r) => `/api/${r.path}`));
    expect(posts.every((p) => p.auth === 'Bearer demo-token')).toBe(true);
    expect(posts.map((p) => p.body)).toEqual(requests.map((r) => readFileSync(join(fx.dir, 'out-clean', r.body), 'utf8')));
    const bodies = posts.map((p) => JSON.parse(p.body));
    const trigger96 = bodies.find((b) => b.dynamicIndicator === 'forecast_trigger' && b.leadTime === '96-hour');
    expect(trigger96.exposurePlaceCodes.every((p: { amount: number }) => p.amount === 0)).toBe(true);
    const severity24 = bodies.find((b) => b.dynamicIndicator === 'forecast_severity' && b.leadTime === '24-hour');
    expect(Object.fromEntries(severity24.exposurePlaceCodes.map((p: { placeCode: string; amount: number }) => [p.placeCode, p.amount]))).toEqual({ BWA: 0, MOZ: 1, MWI: 1, SWZ: 0, ZMB: 0, ZWE: 0.3 });
    const damage = bodies.find((b) => b.dynamicIndicator === 'damage_estimation' && b.leadTime === '72-hour');
    expect(damage).toMatchObject({ countryCodeISO3: 'MOZ', adminLevel: 0, disasterType: 'floods', date: '2019-03-14T00:00:00.000Z' });
    expect(damage.exposurePlaceCodes.find((p: { placeCode: string }) => p.placeCode === 'MOZ').amount).toBeGreaterThan(1e9);
    expect(bodies.at(-2).alertsPerLeadTime).toEqual(['24-hour', '48-hour', '72-hour', '96-hour', '120-hour'].map((leadTime) => ({ leadTime, forecastAlert: true, forecastTrigger: true })));
    expect(bodies.at(-1)).toEqual({ countryCodeISO3: 'MOZ', disasterType: 'floods', date: '2019-03-14T00:00:00.000Z' });
  });

  it('SIGKILL in the middle of assess, then --resume: finished tasks Cached, outputs byte-identical to the clean run', async () => {
    const store = join(fx.dir, 'store-killed');
    const outDir = join(fx.dir, 'out-killed');
    const args = ['flow', 'run', fx.flowPath, '--run-id', 'killed', '--store', store, '--out', outDir, '--workers', '2'];
    const posted = posts.length;
    // killed at the first progress line of the third lead time's assessment: two are done, one is half-way
    let killedAt = '';
    const first = await bin([...args, '--date', fx.date], env(), (line, kill) => {
      if (!killedAt && /\] assess\/72-hour \d+% tile/.test(line)) {
        killedAt = line;
        kill();
      }
    });
    expect(first.signal, first.err).toBe('SIGKILL');
    expect(killedAt).not.toBe('');
    const record = JSON.parse(readFileSync(join(store, 'runs', 'killed', 'run.json'), 'utf8')).record;
    expect(record.status).toBe('Running');
    expect(record.tasks['assess/48-hour'].state).toBe('Completed');
    expect(record.tasks['assess/72-hour'].state).toBe('Running');
    expect(existsSync(join(outDir, '2019-03-14'))).toBe(false);
    expect(posts.length).toBe(posted);

    const second = await bin([...args, '--resume', '--json'], env());
    expect(second.code, second.err).toBe(0);
    const j = JSON.parse(second.out);
    expect(j).toMatchObject({ run: 'killed', status: 'Completed', session: 2, date: '2019-03-14T00:00:00.000Z' });
    const cached = Object.entries(j.states).filter(([, s]) => s === 'Cached').map(([t]) => t);
    expect(cached).toEqual(['ingest/forecast-24-hour', 'ingest/forecast-48-hour', 'ingest/forecast-72-hour', 'ingest/forecast-96-hour', 'ingest/forecast-120-hour', 'ingest/exposure', 'ingest/zones', 'validate', 'assess/24-hour', 'assess/48-hour']);
    expect(['assess/72-hour', 'assess/96-hour', 'assess/120-hour', 'trigger', 'publish'].map((t) => j.states[t])).toEqual(Array(5).fill('Completed'));
    expect(second.err).toContain('assess/72-hour Crashed: it was Running when the run stopped');
    expect(second.err).not.toMatch(/assess\/24-hour Running/);

    const a = tree(join(fx.dir, 'out-clean'));
    const b = tree(outDir);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, bytes] of a) expect(b.get(name)!.equals(bytes), name).toBe(true);
    // the payloads sent after the resume are the clean run's, byte for byte
    expect(posts.slice(posted).map((p) => p.body)).toEqual(posts.slice(0, posted).map((p) => p.body));
  }, 120_000);
});
