/**
 * Soak test (issue #8): a fixed-rate, open-loop mix of small requests against `ibf serve` (and, with
 * SOAK_TARGETS=serve,wrangler, the Worker under wrangler dev) on 127.0.0.1 for SOAK_SECONDS:
 *
 * - 50% `POST /v1/assess`: the Delft-FIAT synthetic grid (10 x 10 cells, one event, uploaded first, the
 *   curve CSV inline), the workload of bench/load.ts;
 * - 30% `POST /v1/zonal`: sum / mean / count of the uploaded exposure over two zones;
 * - 20% `GET /v1/curves?hazard=flood` and `GET /v1/curves/{id}`.
 *
 * SOAK_MIX changes the mix (`assess:5,zonal:3,curves:1,curve:1` by default; `curves:1` alone isolates the
 * server from storage, e.g. to tell a leak from a local simulator's growth).
 *
 * Requests start on a fixed schedule (SOAK_RATE per second) whatever the answers do, so a slow server
 * shows up as latency, not as a lower rate; at most SOAK_MAX_INFLIGHT are in flight (more are counted as
 * skipped). Every SOAK_SAMPLE_MS the server's resident memory (RSS of the `ibf serve` process, or of the
 * workerd processes wrangler started) is sampled from /proc (Linux).
 *
 * Pass (exit 0): no 5xx, no connection error, no skipped request, every answer the expected status, and
 * memory flat: the RSS fitted over the run after a warm-up (the first 20%) grows by less than
 * SOAK_RSS_GROWTH_MB (default 32 MB) over the rest of the run. Prints p50 / p99 / max latency per kind and
 * the RSS samples summary, and one JSON line per target.
 *
 * Run: npm run build && node dist/bench/soak.js
 *      (SOAK_SECONDS=300 SOAK_RATE=20 SOAK_TARGETS=serve by default; SOAK_SECONDS=60 for CI)
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { hashKey, newToken } from '../src/api/security.js';
import { createKey } from '../src/node/fs-store.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const RATE = Number(process.env.SOAK_RATE ?? 20);
const MAX_INFLIGHT = Number(process.env.SOAK_MAX_INFLIGHT ?? 64);
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_MS ?? 2000);
const GROWTH_MB = Number(process.env.SOAK_RSS_GROWTH_MB ?? 32);
const TARGETS = (process.env.SOAK_TARGETS ?? 'serve').split(',').map((t) => t.trim()).filter(Boolean);
const here = fileURLToPath(new URL('.', import.meta.url));
const REPO = resolve(here, /[\\/]dist[\\/]bench[\\/]?$/.test(here) ? '../..' : '..');
const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');
const FIAT = join(REPO, 'examples', 'fiat-grid');
const BUCKET = 'ibf-data';
const WRANGLER = join(REPO, 'node_modules', '.bin', 'wrangler');
const QUIET = { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1' };
Object.assign(process.env, { WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true', CLOUDFLARE_CF_FETCH_ENABLED: 'false' });

interface Target {
  url: string;
  token: string;
  /** Resident memory of the server, bytes (null where /proc is missing). */
  rss(): number | null;
  stop(): Promise<number | null>;
}

/** VmRSS of a process from /proc, bytes. */
function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Processes under `root` (children, grandchildren ...) whose command name matches `name`. */
function descendants(root: number, name: RegExp): number[] {
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const d of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      comm.set(Number(d), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(d), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const under = (pid: number): boolean => {
    for (let p = parent.get(pid), n = 0; p !== undefined && n < 64; p = parent.get(p), n++) if (p === root) return true;
    return false;
  };
  return [...comm].filter(([pid, c]) => name.test(c) && under(pid)).map(([pid]) => pid);
}

async function startServe(data: string): Promise<Target> {
  const { token } = await createKey(join(data, 'keys.json'), { partner: 'soak', scopes: ['run', 'upload'], ratePerMinute: 1e9 });
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data', data], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, IBF_BUCKET: BUCKET } });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  let url: string | undefined;
  for (let i = 0; i < 400 && !url; i++) {
    await new Promise((r) => setTimeout(r, 25));
    url = /ibf serve: (http:\/\/\S+)/.exec(err)?.[1];
  }
  if (!url) {
    child.kill('SIGKILL');
    throw new Error(`ibf serve did not start:\n${err}`);
  }
  return {
    url, token,
    rss: () => rssOf(child.pid!),
    stop: async () => {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

async function startWrangler(persist: string): Promise<Target> {
  const { unstable_startWorker } = await import('wrangler');
  const wrangler = (args: string[]) => promisify(execFile)(WRANGLER, args, { cwd: REPO, env: QUIET, timeout: 120_000 });
  const token = newToken();
  await wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist]);
  const record = { id: 'k-soak', hash: await hashKey(token), partner: 'soak', scopes: ['run', 'upload'], origins: [], ratePerMinute: 1e9 };
  await wrangler(['kv', 'key', 'put', `key:${record.hash}`, JSON.stringify(record), '--binding', 'KEYS', '--local', '--persist-to', persist]);
  const worker = await unstable_startWorker({
    config: join(REPO, 'wrangler.toml'),
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, persist, remote: false, logLevel: 'warn', watch: false },
  });
  await worker.ready;
  const url = (await worker.url).href.replace(/\/$/, '');
  return {
    url, token,
    rss: () => {
      const pids = descendants(process.pid, /workerd/);
      return pids.length ? pids.reduce((s, p) => s + (rssOf(p) ?? 0), 0) : null;
    },
    stop: async () => {
      await worker.dispose();
      return 0;
    },
  };
}

const ZONES = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { id: 'W' }, geometry: { type: 'Polygon', coordinates: [[[4.35, 52.05], [4.403, 52.05], [4.403, 51.95], [4.35, 51.95], [4.35, 52.05]]] } },
    { type: 'Feature', properties: { id: 'E' }, geometry: { type: 'Polygon', coordinates: [[[4.403, 52.05], [4.45, 52.05], [4.45, 51.95], [4.403, 51.95], [4.403, 52.05]]] } },
  ],
};

interface Kind {
  name: string;
  weight: number;
  request(url: string, token: string): Promise<Response>;
}

/** SOAK_MIX, e.g. `assess:5,zonal:3,curves:1,curve:1` (the default): kinds and their weights. */
const MIX = Object.fromEntries((process.env.SOAK_MIX ?? 'assess:5,zonal:3,curves:1,curve:1').split(',').map((p) => p.split(':')).map(([k, w]) => [k!.trim(), Number(w ?? 1)]));

function kinds(): Kind[] {
  const assess = JSON.stringify({
    name: 'soak: Delft-FIAT synthetic grid',
    hazard: { source: `r2://${BUCKET}/fiat/event_map.tif`, unit: 'm', bands: { type: 'event' } },
    exposure: { source: `r2://${BUCKET}/fiat/exposure_max_damage.tif`, unit: 'EUR' },
    vulnerability: { csv: `data:text/csv;base64,${readFileSync(join(FIAT, 'vulnerability_curves.csv')).toString('base64')}`, column: 'struct_1' },
    affectedThreshold: 0.1,
  });
  const zonal = JSON.stringify({ raster: `r2://${BUCKET}/fiat/exposure_max_damage.tif`, zones: ZONES, idProperty: 'id' });
  const post = (path: string, body: string) => (url: string, token: string) => fetch(`${url}${path}`, { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
  const all: Kind[] = [
    { name: 'assess', weight: 5, request: post('/v1/assess', assess) },
    { name: 'zonal', weight: 3, request: post('/v1/zonal', zonal) },
    { name: 'curves', weight: 1, request: (url) => fetch(`${url}/v1/curves?hazard=flood`) },
    { name: 'curve', weight: 1, request: (url) => fetch(`${url}/v1/curves/jrc-flood-europe-residential`) },
  ];
  return all.filter((k) => (MIX[k.name] ?? 0) > 0).map((k) => ({ ...k, weight: MIX[k.name]! }));
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);
const r1 = (x: number) => Math.round(x * 10) / 10;

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den ? num / den : 0;
}

async function soak(name: string, t: Target): Promise<boolean> {
  const { url, token } = t;
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`${name} bound ${url}, not loopback`);
  for (const f of ['event_map.tif', 'exposure_max_damage.tif']) {
    const res = await fetch(`${url}/v1/data/fiat/${f}`, { method: 'PUT', body: readFileSync(join(FIAT, f)), headers: { authorization: `Bearer ${token}`, 'content-type': 'image/tiff' } });
    if (res.status !== 201) throw new Error(`${name}: upload of ${f}: HTTP ${res.status} ${await res.text()}`);
  }
  const mix = kinds();
  const wheel = mix.flatMap((k) => Array<Kind>(k.weight).fill(k));
  // one of each first: a wrong answer stops the run before it starts
  for (const k of mix) {
    const res = await k.request(url, token);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${name}: ${k.name} answered HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
  const lat: Record<string, number[]> = Object.fromEntries(mix.map((k) => [k.name, []]));
  const statuses: Record<string, number> = {};
  const failures: string[] = [];
  let errors = 0;
  let skipped = 0;
  let inflight = 0;
  const samples: Array<[number, number]> = [];
  const t0 = performance.now();
  const sampler = setInterval(() => {
    const r = t.rss();
    if (r !== null) samples.push([(performance.now() - t0) / 1000, r]);
  }, SAMPLE_MS);
  console.log(`\n[${name}] soak: ${RATE} requests/s for ${SECONDS} s against ${url} (mix ${mix.map((k) => `${k.name}:${k.weight}`).join(', ')})`);
  const pending = new Set<Promise<void>>();
  const total = Math.round(SECONDS * RATE);
  let lastReport = t0;
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (inflight >= MAX_INFLIGHT) {
      skipped++;
      continue;
    }
    const k = wheel[i % wheel.length]!;
    inflight++;
    const start = performance.now();
    const p = k.request(url, token)
      .then(async (res) => {
        const body = await res.text();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        // the first answers that are not 200, with their problem body, to say what went wrong
        if (res.status !== 200 && failures.length < 5) failures.push(`${k.name} at ${Math.round((start - t0) / 1000)} s: HTTP ${res.status} ${body.slice(0, 400)}`);
        if (res.status === 200) lat[k.name]!.push(performance.now() - start);
      })
      .catch(() => {
        errors++;
      })
      .finally(() => {
        inflight--;
        pending.delete(p);
      });
    pending.add(p);
    if (performance.now() - lastReport > 30_000) {
      lastReport = performance.now();
      const s = samples[samples.length - 1];
      console.log(`[${name}] ${Math.round((lastReport - t0) / 1000)} s: ${i + 1} requests, rss ${s ? r1(s[1] / 2 ** 20) : '?'} MB, statuses ${JSON.stringify(statuses)}`);
    }
  }
  await Promise.all(pending);
  clearInterval(sampler);
  const seconds = (performance.now() - t0) / 1000;
  const all = Object.values(lat).flat().sort((a, b) => a - b);
  const latency = Object.fromEntries([...Object.entries(lat), ['all', all] as const].map(([k, v]) => {
    const s = [...v].sort((a, b) => a - b);
    return [k, { n: s.length, p50: r1(pct(s, 50)), p99: r1(pct(s, 99)), max: r1(s[s.length - 1] ?? NaN) }];
  }));
  const fivexx = Object.entries(statuses).filter(([s]) => s.startsWith('5')).reduce((n, [, c]) => n + c, 0);
  const other = Object.entries(statuses).filter(([s]) => s !== '200').reduce((n, [, c]) => n + c, 0);
  // memory: after the warm-up (first 20%), the fitted growth over the rest of the run
  const warm = samples.filter(([x]) => x >= 0.2 * seconds);
  const mbs = warm.map(([, y]) => y / 2 ** 20);
  const growth = warm.length >= 3 ? slope(warm.map(([x]) => x), mbs) * (warm[warm.length - 1]![0] - warm[0]![0]) : NaN;
  const rss = samples.length ? { first: r1(samples[0]![1] / 2 ** 20), min: r1(Math.min(...samples.map(([, y]) => y)) / 2 ** 20), max: r1(Math.max(...samples.map(([, y]) => y)) / 2 ** 20), last: r1(samples[samples.length - 1]![1] / 2 ** 20), fittedGrowthAfterWarmupMB: r1(growth), samples: samples.length } : null;
  const flat = rss === null ? true : Number.isFinite(growth) && growth < GROWTH_MB;
  const summary = { target: name, seconds: r1(seconds), rate: RATE, requests: all.length + other + errors, statuses, '5xx': fivexx, errors, skipped, latencyMs: latency, rssMB: rss, flat };
  console.log(`[${name}] ${summary.requests} requests in ${summary.seconds} s; p50 ${latency.all!.p50} ms, p99 ${latency.all!.p99} ms, max ${latency.all!.max} ms; 5xx ${fivexx}, other non-200 ${other - fivexx}, errors ${errors}, skipped ${skipped}`);
  for (const k of mix) console.log(`[${name}]   ${k.name}: n ${latency[k.name]!.n}, p50 ${latency[k.name]!.p50} ms, p99 ${latency[k.name]!.p99} ms, max ${latency[k.name]!.max} ms`);
  console.log(`[${name}] RSS ${rss ? `${rss.first} MB at start, ${rss.min}-${rss.max} MB, ${rss.last} MB at the end; fitted growth after warm-up ${rss.fittedGrowthAfterWarmupMB} MB (limit ${GROWTH_MB} MB): ${flat ? 'flat' : 'GROWING'}` : 'not sampled (no /proc)'}`);
  for (const f of failures) console.log(`[${name}] ${f}`);
  console.log(JSON.stringify(summary));
  const code = await t.stop();
  console.log(`[${name}] exit ${code}`);
  return fivexx === 0 && other === 0 && errors === 0 && skipped === 0 && flat && code === 0;
}

async function main(): Promise<void> {
  let clean = true;
  for (const name of TARGETS) {
    const dir = await mkdtemp(join(tmpdir(), `ibf-soak-${name}-`));
    let t: Target | undefined;
    try {
      if (name === 'serve') t = await startServe(dir);
      else if (name === 'wrangler') t = await startWrangler(dir);
      else throw new Error(`unknown target ${name}: use serve and/or wrangler`);
      clean = (await soak(name, t)) && clean;
      t = undefined;
    } finally {
      await t?.stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (!clean) process.exitCode = 1;
}

await main();
