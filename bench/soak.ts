/**
 * Soak test (issue #8): a fixed-rate, open-loop mix of small requests against `ibf serve` and the Worker
 * under wrangler dev (SOAK_TARGETS, `serve,wrangler` by default; `wrangler-control` adds a Worker with
 * none of our code under the same wrangler, as a baseline) on 127.0.0.1 for SOAK_SECONDS:
 *
 * - 50% `POST /v1/assess`: the Delft-FIAT synthetic grid (10 x 10 cells, one event, uploaded first, the
 *   curve CSV inline), the workload of bench/load.ts;
 * - 30% `POST /v1/zonal`: sum / mean / count of the uploaded exposure over two zones;
 * - 20% `GET /v1/curves?hazard=flood` and `GET /v1/curves/{id}`.
 *
 * SOAK_MIX changes the mix (`assess:5,zonal:3,curves:1,curve:1` by default; `curves:1` alone isolates the
 * server from storage).
 *
 * Requests start on a fixed schedule (SOAK_RATE per second) whatever the answers do, so a slow server
 * shows up as latency, not as a lower rate; at most SOAK_MAX_INFLIGHT are in flight (more are counted as
 * skipped). Memory:
 * - every SOAK_SAMPLE_MS the resident memory (RSS) of the server's processes is read from /proc (Linux):
 *   `ibf serve`, or the two workerd processes wrangler starts (its proxy, and the runtime of the Worker
 *   with the local R2 / D1 / KV simulators), reported apart;
 * - for a Worker, every SOAK_HEAP_MS the isolate's JavaScript heap after a full GC, over its inspector
 *   (bench/inspector.ts); SOAK_SNAPSHOTS=<folder> keeps the heap snapshots after warm-up and at the end.
 *
 * Pass (exit 0): no 5xx, no connection error, no skipped request, every answer the expected status, and
 * memory flat: fitted over the run after a warm-up (the first 20%), the server's memory grows by less
 * than SOAK_RSS_GROWTH_MB (default 32) of RSS for `ibf serve`, and by less than SOAK_HEAP_GROWTH_MB
 * (default 4) of heap for a Worker, whose RSS is reported but judged only with SOAK_JUDGE_RSS=1:
 * wrangler's local stack grows by itself (docs/RELIABILITY.md "5. Load"). Prints p50 / p99 / max latency
 * per kind, the memory summaries, and one JSON line per target.
 *
 * Run: npm run build && node dist/bench/soak.js     (SOAK_SECONDS=300, SOAK_RATE=20 by default; CI: 60 s)
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { BUCKET, FIAT, eachTarget, fiatScenario, uploadFiat, type Target } from './targets.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const RATE = Number(process.env.SOAK_RATE ?? 20);
const MAX_INFLIGHT = Number(process.env.SOAK_MAX_INFLIGHT ?? 64);
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_MS ?? 2000);
const GROWTH_MB = Number(process.env.SOAK_RSS_GROWTH_MB ?? 32);
// about 10 readings a run, at most one per 15 s: each pauses the isolate
const HEAP_MS = Number(process.env.SOAK_HEAP_MS ?? Math.max(15_000, SECONDS * 100));
const HEAP_GROWTH_MB = Number(process.env.SOAK_HEAP_GROWTH_MB ?? 4);
/** A folder to keep the Worker's first (after warm-up) and last heap snapshots in, to diff in DevTools. */
const SNAPSHOTS = process.env.SOAK_SNAPSHOTS;
const JUDGE_RSS = process.env.SOAK_JUDGE_RSS === '1';
const TARGETS = (process.env.SOAK_TARGETS ?? 'serve,wrangler').split(',').map((t) => t.trim()).filter(Boolean);
/** The Delft-FIAT grid cut in two at lon 4.403 (examples/fiat-grid/zones.geojson). */
const ZONES = JSON.parse(readFileSync(join(FIAT, 'zones.geojson'), 'utf8')) as unknown;

interface Kind {
  name: string;
  weight: number;
  request(url: string, token: string): Promise<Response>;
}

/** SOAK_MIX, e.g. `assess:5,zonal:3,curves:1,curve:1` (the default): kinds and their weights. */
const MIX = Object.fromEntries((process.env.SOAK_MIX ?? 'assess:5,zonal:3,curves:1,curve:1').split(',').map((p) => p.split(':')).map(([k, w]) => [k!.trim(), Number(w ?? 1)]));

function kinds(): Kind[] {
  const assess = fiatScenario('soak: Delft-FIAT synthetic grid');
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

interface Series {
  first: number;
  min: number;
  max: number;
  last: number;
  /** The least-squares growth over the run after the warm-up (the first 20%), MB. */
  fittedGrowthAfterWarmupMB: number;
  samples: number;
}

const NO_READINGS: Series = { first: NaN, min: NaN, max: NaN, last: NaN, fittedGrowthAfterWarmupMB: NaN, samples: 0 };

/** Summary of (seconds, bytes) readings in MB; null when there are none. Growth is NaN under 3 readings after the warm-up, which fails the check. */
function series(xs: Array<[number, number]>, seconds: number): Series | null {
  if (!xs.length) return null;
  const mb = (b: number) => b / 2 ** 20;
  const warm = xs.filter(([x]) => x >= 0.2 * seconds);
  const growth = warm.length >= 3 ? slope(warm.map(([x]) => x), warm.map(([, y]) => mb(y))) * (warm[warm.length - 1]![0] - warm[0]![0]) : NaN;
  const ys = xs.map(([, y]) => mb(y));
  return { first: r1(ys[0]!), min: r1(Math.min(...ys)), max: r1(Math.max(...ys)), last: r1(ys[ys.length - 1]!), fittedGrowthAfterWarmupMB: Math.round(growth * 100) / 100, samples: xs.length };
}

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
  await uploadFiat(name, t);
  const mix = kinds();
  const wheel = mix.flatMap((k) => Array<Kind>(k.weight).fill(k));
  // one of each first: a wrong answer stops the run before it starts
  for (const k of mix) {
    const res = await k.request(url, token);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${name}: ${k.name} answered HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
  /** Start and end (performance.now()) of each 200 answer, by kind. */
  const lat: Record<string, Array<[number, number]>> = Object.fromEntries(mix.map((k) => [k.name, []]));
  const statuses: Record<string, number> = {};
  const failures: string[] = [];
  let errors = 0;
  let skipped = 0;
  let inflight = 0;
  const samples: Array<[number, number]> = [];
  const partSamples: Record<string, Array<[number, number]>> = {};
  const t0 = performance.now();
  const sampler = setInterval(() => {
    // one read of /proc per sample: the total is the sum of the parts where there are parts
    const parts = Object.entries(t.rssParts?.() ?? {});
    const r = parts.length ? parts.reduce((sum, [, bytes]) => sum + bytes, 0) : t.rss();
    const at = (performance.now() - t0) / 1000;
    if (r !== null) samples.push([at, r]);
    for (const [part, bytes] of parts) (partSamples[part] ??= []).push([at, bytes]);
  }, SAMPLE_MS);
  // the Worker's heap after a full GC, one reading at a time; the snapshot behind it pauses the isolate
  // (0.1 to 0.5 s here), so answers that overlap a reading are left out of the latency percentiles
  const heap: Array<[number, number]> = [];
  const pauses: Array<[number, number]> = [];
  let heapError: string | undefined;
  let heapReading: Promise<void> | undefined;
  const readHeap = async (saveTo?: string) => {
    const from = performance.now();
    try {
      const u = await t.heap!(saveTo);
      heap.push([(performance.now() - t0) / 1000, u.usedBytes]);
    } catch (e) {
      heapError ??= String(e);
    } finally {
      pauses.push([from, performance.now()]);
    }
  };
  const heapSampler = t.heap
    ? setInterval(() => {
        if (heapReading) return;
        const at = (performance.now() - t0) / 1000;
        const first = SNAPSHOTS && at >= 0.2 * SECONDS && !heap.some(([x]) => x >= 0.2 * SECONDS);
        heapReading = readHeap(first ? join(SNAPSHOTS, `${name}-warm.heapsnapshot`) : undefined).finally(() => (heapReading = undefined));
      }, HEAP_MS)
    : undefined;
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
        if (res.status === 200) lat[k.name]!.push([start, performance.now()]);
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
  clearInterval(heapSampler);
  await heapReading;
  if (t.heap) await readHeap(SNAPSHOTS ? join(SNAPSHOTS, `${name}-end.heapsnapshot`) : undefined);
  const seconds = (performance.now() - t0) / 1000;
  const ok = Object.values(lat).reduce((n, v) => n + v.length, 0);
  const paused = ([a, b]: [number, number]) => pauses.some(([p, q]) => a < q && b > p);
  const timed = Object.fromEntries(Object.entries(lat).map(([k, v]) => [k, v.filter((r) => !paused(r)).map(([a, b]) => b - a)]));
  const all = Object.values(timed).flat();
  const latency = Object.fromEntries([...Object.entries(timed), ['all', all] as const].map(([k, v]) => {
    const s = [...v].sort((a, b) => a - b);
    return [k, { n: s.length, p50: r1(pct(s, 50)), p99: r1(pct(s, 99)), max: r1(s[s.length - 1] ?? NaN) }];
  }));
  const duringHeapReadings = ok - all.length;
  const fivexx = Object.entries(statuses).filter(([s]) => s.startsWith('5')).reduce((n, [, c]) => n + c, 0);
  const other = Object.entries(statuses).filter(([s]) => s !== '200').reduce((n, [, c]) => n + c, 0);
  // memory: after the warm-up (first 20%), the fitted growth over the rest of the run
  const rss = series(samples, seconds);
  const rssParts = Object.fromEntries(Object.entries(partSamples).map(([part, xs]) => [part, series(xs, seconds)]));
  const heapMB = t.heap ? { ...(series(heap, seconds) ?? NO_READINGS), error: heapError } : null;
  const rssFlat = rss === null || rss.fittedGrowthAfterWarmupMB < GROWTH_MB;
  const heapFlat = heapMB === null || (heapError === undefined && heapMB.fittedGrowthAfterWarmupMB < HEAP_GROWTH_MB);
  // where the server's own heap can be read (the Worker), it is what is judged: workerd's RSS is mostly
  // wrangler's local stack (its proxy grows as fast, and runs none of our code); SOAK_JUDGE_RSS=1 judges it too
  const flat = heapMB ? heapFlat && (!JUDGE_RSS || rssFlat) : rssFlat;
  const summary = { target: name, seconds: r1(seconds), rate: RATE, requests: ok + other + errors, statuses, duringHeapReadings, '5xx': fivexx, errors, skipped, latencyMs: latency, rssMB: rss, rssPartsMB: rssParts, heapAfterGcMB: heapMB, judged: heapMB ? (JUDGE_RSS ? 'heap+rss' : 'heap') : 'rss', flat };
  console.log(`[${name}] ${summary.requests} requests in ${summary.seconds} s; p50 ${latency.all!.p50} ms, p99 ${latency.all!.p99} ms, max ${latency.all!.max} ms${duringHeapReadings ? ` (${duringHeapReadings} answers overlapping a heap reading left out)` : ''}; 5xx ${fivexx}, other non-200 ${other - fivexx}, errors ${errors}, skipped ${skipped}`);
  for (const k of mix) console.log(`[${name}]   ${k.name}: n ${latency[k.name]!.n}, p50 ${latency[k.name]!.p50} ms, p99 ${latency[k.name]!.p99} ms, max ${latency[k.name]!.max} ms`);
  const verdict = (m: Series, flat: boolean) => (flat ? 'flat' : Number.isNaN(m.fittedGrowthAfterWarmupMB) ? 'too few readings after the warm-up' : 'GROWING');
  const describe = (m: Series) => `${m.first} MB at start, ${m.min}-${m.max} MB, ${m.last} MB at the end (${m.samples} readings); fitted growth after warm-up ${m.fittedGrowthAfterWarmupMB} MB`;
  console.log(`[${name}] RSS ${rss ? `${describe(rss)} (limit ${GROWTH_MB} MB): ${verdict(rss, rssFlat)}${heapMB && !JUDGE_RSS ? ', reported, not judged' : ''}` : 'not sampled (no /proc)'}`);
  for (const [part, m] of Object.entries(rssParts)) if (m && m.samples >= 3) console.log(`[${name}]   RSS of ${part}: ${describe(m)}`);
  if (heapMB) console.log(`[${name}] JS heap after GC ${describe(heapMB)} (limit ${HEAP_GROWTH_MB} MB): ${heapError ? `not read: ${heapError}` : verdict(heapMB, heapFlat)}`);
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
