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
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { BUCKET, FIAT, eachTarget, type Target } from './targets.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const RATE = Number(process.env.SOAK_RATE ?? 20);
const MAX_INFLIGHT = Number(process.env.SOAK_MAX_INFLIGHT ?? 64);
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_MS ?? 2000);
const GROWTH_MB = Number(process.env.SOAK_RSS_GROWTH_MB ?? 32);
const TARGETS = (process.env.SOAK_TARGETS ?? 'serve').split(',').map((t) => t.trim()).filter(Boolean);
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
  if (!(await eachTarget(TARGETS, 'soak', soak))) process.exitCode = 1;
}

await main();
