/**
 * Load test of `ibf serve` and of the Worker under `wrangler dev` (issue #6): autocannon on loopback, for a small
 * `POST /v1/assess` (the Delft-FIAT synthetic grid, 10 x 10 cells, one event band, uploaded first with
 * `PUT /v1/data`, the curve CSV inline). Reports p50 / p99 latency (ms), requests/s, and the count of
 * non-2xx and 5xx answers (the issue asks for zero 5xx); exits 1 when any 5xx or connection error occurs.
 *
 * `serve`: a child process (`node dist/src/cli/bin.js serve --host 127.0.0.1 --port 0`) with a temporary
 * data folder and one key whose rate (1e9 per minute) no run reaches. `wrangler`: the Worker of
 * wrangler.toml started by wrangler (`unstable_startWorker`, real workerd, local R2 / D1 / KV / Durable
 * Object) on 127.0.0.1, after the D1 migration and the key are put in its state folder with the wrangler
 * CLI. Both bind 127.0.0.1 only. autocannon runs in this process, so on 2 cores client and server share
 * the machine; local workerd is not Cloudflare's edge (no production limits, other timers), so its figures
 * say that the Worker holds the load without errors, not how fast the edge is.
 *
 * Run: npm run build && node dist/bench/load.js
 *      (BENCH_LOAD_TARGETS=serve,wrangler BENCH_LOAD_SECONDS=30 BENCH_LOAD_CONNECTIONS=50 by default;
 *       e.g. BENCH_LOAD_SECONDS=5 for a quick run)
 */
import autocannon from 'autocannon';
import { eachTarget, fiatScenario, uploadFiat, type Target } from './targets.js';

const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 30);
const CONNECTIONS = Number(process.env.BENCH_LOAD_CONNECTIONS ?? 50);
const TARGETS = (process.env.BENCH_LOAD_TARGETS ?? 'serve,wrangler').split(',').map((t) => t.trim()).filter(Boolean);

/** Uploads the FIAT grid, checks one answer, then autocannon; returns whether the run was clean. */
async function load(name: string, t: Target): Promise<boolean> {
  const { url, token } = t;
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`${name} bound ${url}, not loopback`);
  const auth = { authorization: `Bearer ${token}` };
  await uploadFiat(name, t);
  const body = fiatScenario('load test: Delft-FIAT synthetic grid');
  const headers = { ...auth, 'content-type': 'application/json' };
  const first = await fetch(`${url}/v1/assess`, { method: 'POST', body, headers });
  const r = (await first.json()) as { totals?: { damage: number[] } };
  if (first.status !== 200 || Math.abs(r.totals!.damage[0]! - 89641.6) > 0.01) throw new Error(`${name}: the scenario answered HTTP ${first.status}: ${JSON.stringify(r).slice(0, 300)}`);

  console.log(`\n[${name}] autocannon: POST ${url}/v1/assess (${body.length} bytes), ${CONNECTIONS} connections, ${SECONDS} s`);
  const out = await autocannon({ url: `${url}/v1/assess`, method: 'POST', headers, body, connections: CONNECTIONS, duration: SECONDS });
  const fivexx = Object.entries(out.statusCodeStats).filter(([s]) => s.startsWith('5')).reduce((n, [, v]) => n + Number(v.count), 0);
  const summary = {
    target: name,
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
  console.log(`[${name}] p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms, ${summary.requestsPerSecond} requests/s, ${summary.requests} requests, non-2xx ${summary.non2xx}, 5xx ${fivexx}, errors ${out.errors}, timeouts ${out.timeouts}`);
  console.log(JSON.stringify(summary));
  const code = await t.stop();
  console.log(`[${name}] ${t.logged ? `server log: ${JSON.stringify(t.logged)}; ` : ''}exit ${code}`);
  return fivexx === 0 && out.errors === 0 && code === 0;
}

async function main(): Promise<void> {
  if (!(await eachTarget(TARGETS, 'load', load))) process.exitCode = 1;
}

await main();
