/**
 * Load test of `ibf serve` (issue #6): autocannon on loopback against the built CLI's server, for a small
 * `POST /v1/assess` (the Delft-FIAT synthetic grid, 10 x 10 cells, one event band, uploaded first with
 * `PUT /v1/data`, the curve CSV inline). Reports p50 / p99 latency (ms), requests/s, and the count of
 * non-2xx and 5xx answers (the issue asks for zero 5xx); exits 1 when any 5xx or connection error occurs.
 *
 * The server is a child process (`node dist/src/cli/bin.js serve --host 127.0.0.1 --port 0`) with a
 * temporary data folder and one key whose rate (1e9 per minute) no run reaches; it binds 127.0.0.1 only.
 * autocannon runs in this process, so on 2 cores client and server share the machine.
 *
 * Run: npm run build && node dist/bench/load.js
 *      (BENCH_LOAD_SECONDS=30 BENCH_LOAD_CONNECTIONS=50 by default; e.g. BENCH_LOAD_SECONDS=5 for a quick run)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createKey } from '../src/node/fs-store.js';

const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 30);
const CONNECTIONS = Number(process.env.BENCH_LOAD_CONNECTIONS ?? 50);
const here = fileURLToPath(new URL('.', import.meta.url));
const REPO = resolve(here, /[\\/]dist[\\/]bench[\\/]?$/.test(here) ? '../..' : '..');
const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');
const FIAT = join(REPO, 'examples', 'fiat-grid');
const BUCKET = 'ibf-data';

async function main(): Promise<void> {
  const data = await mkdtemp(join(tmpdir(), 'ibf-load-'));
  const { token } = await createKey(join(data, 'keys.json'), { partner: 'load', scopes: ['run', 'upload'], ratePerMinute: 1e9 });
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data', data], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, IBF_BUCKET: BUCKET },
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  // the server's log: one JSON line per request; count statuses as a cross-check of autocannon's
  const logged: Record<string, number> = {};
  let partial = '';
  child.stdout!.on('data', (b: Buffer) => {
    const lines = (partial + b.toString()).split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      const m = /"msg":"request".*"status":(\d+)/.exec(l);
      if (m) logged[m[1]!] = (logged[m[1]!] ?? 0) + 1;
    }
  });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  try {
    let url: string | undefined;
    for (let i = 0; i < 400 && !url; i++) {
      await new Promise((r) => setTimeout(r, 25));
      url = /ibf serve: (http:\/\/\S+)/.exec(err)?.[1];
    }
    if (!url) throw new Error(`ibf serve did not start:\n${err}`);
    if (!url.startsWith('http://127.0.0.1:')) throw new Error(`ibf serve bound ${url}, not loopback`);

    const auth = { authorization: `Bearer ${token}` };
    for (const f of ['event_map.tif', 'exposure_max_damage.tif']) {
      const res = await fetch(`${url}/v1/data/fiat/${f}`, { method: 'PUT', body: readFileSync(join(FIAT, f)), headers: { ...auth, 'content-type': 'image/tiff' } });
      if (res.status !== 201) throw new Error(`upload of ${f}: HTTP ${res.status} ${await res.text()}`);
    }
    const body = JSON.stringify({
      name: 'load test: Delft-FIAT synthetic grid',
      hazard: { source: `r2://${BUCKET}/fiat/event_map.tif`, unit: 'm', bands: { type: 'event' } },
      exposure: { source: `r2://${BUCKET}/fiat/exposure_max_damage.tif`, unit: 'EUR' },
      vulnerability: { csv: `data:text/csv;base64,${readFileSync(join(FIAT, 'vulnerability_curves.csv')).toString('base64')}`, column: 'struct_1' },
      affectedThreshold: 0.1,
    });
    const headers = { ...auth, 'content-type': 'application/json' };
    const first = await fetch(`${url}/v1/assess`, { method: 'POST', body, headers });
    const r = (await first.json()) as { totals?: { damage: number[] } };
    if (first.status !== 200 || Math.abs(r.totals!.damage[0]! - 89641.6) > 0.01) throw new Error(`the scenario answered HTTP ${first.status}: ${JSON.stringify(r).slice(0, 300)}`);

    console.log(`autocannon: POST ${url}/v1/assess (${body.length} bytes), ${CONNECTIONS} connections, ${SECONDS} s`);
    const out = await autocannon({ url: `${url}/v1/assess`, method: 'POST', headers, body, connections: CONNECTIONS, duration: SECONDS });
    const fivexx = Object.entries(out.statusCodeStats).filter(([s]) => s.startsWith('5')).reduce((n, [, v]) => n + Number(v.count), 0);
    const summary = {
      seconds: out.duration,
      connections: CONNECTIONS,
      requests: out['2xx'] + out.non2xx,
      requestsPerSecond: Math.round(out.requests.average * 10) / 10,
      latencyMs: { p50: out.latency.p50, p90: out.latency.p90, p99: out.latency.p99, max: out.latency.max, mean: Math.round(out.latency.average * 100) / 100 },
      non2xx: out.non2xx,
      '5xx': fivexx,
      errors: out.errors,
      timeouts: out.timeouts,
      statusCodes: Object.fromEntries(Object.entries(out.statusCodeStats).map(([s, v]) => [s, Number(v.count)])),
    };
    console.log(`p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms, ${summary.requestsPerSecond} requests/s, ${summary.requests} requests, non-2xx ${summary.non2xx}, 5xx ${fivexx}, errors ${out.errors}, timeouts ${out.timeouts}`);
    console.log(JSON.stringify(summary));
    child.kill('SIGTERM');
    const code = await exited;
    console.log(`server log: ${JSON.stringify(logged)}; exit ${code}`);
    if (fivexx > 0 || out.errors > 0 || code !== 0) process.exitCode = 1;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(data, { recursive: true, force: true });
  }
}

await main();
