/**
 * The servers the API benches (load.ts, soak.ts) run against, on 127.0.0.1 only:
 * - `serve`: the built CLI's `ibf serve` as a child process, on a temporary data folder, with one key
 *   whose rate (1e9 per minute) no run reaches;
 * - `wrangler`: the Worker of wrangler.toml started by wrangler (`unstable_startWorker`, real workerd,
 *   local R2 / D1 / KV / Durable Object) after the D1 migration and the key are put in its state folder
 *   with the wrangler CLI;
 * - `wrangler-control`: bench/control/worker.js under the same wrangler, none of our code (a baseline).
 * Nothing leaves the machine: no metrics, no fetch of Cloudflare's `cf` object.
 */
import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { hashKey, newToken } from '../src/api/security.js';
import { createKey } from '../src/node/key-file.js';
import { connectInspector, type HeapUsage } from './inspector.js';

const here = fileURLToPath(new URL('.', import.meta.url));
export const REPO = resolve(here, /[\\/]dist[\\/]bench[\\/]?$/.test(here) ? '../..' : '..');
export const FIAT = join(REPO, 'examples', 'fiat-grid');
export const BUCKET = 'ibf-data';
const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');
const WRANGLER = join(REPO, 'node_modules', '.bin', 'wrangler');
const QUIET = { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1' };
// unstable_startWorker runs in this process
Object.assign(process.env, { WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true', CLOUDFLARE_CF_FETCH_ENABLED: 'false' });

/** Uploads the Delft-FIAT grid's hazard and exposure to `t` as `fiat/*.tif` (what FIAT_SCENARIO reads). */
export async function uploadFiat(name: string, t: Target): Promise<void> {
  for (const f of ['event_map.tif', 'exposure_max_damage.tif']) {
    const res = await fetch(`${t.url}/v1/data/fiat/${f}`, { method: 'PUT', body: readFileSync(join(FIAT, f)), headers: { authorization: `Bearer ${t.token}`, 'content-type': 'image/tiff' } });
    if (res.status !== 201) throw new Error(`${name}: upload of ${f}: HTTP ${res.status} ${await res.text()}`);
  }
}

/** The benches' assessment: the Delft-FIAT synthetic grid (10 x 10 cells, one event) from the uploads, the curve CSV inline. */
export function fiatScenario(name: string): string {
  return JSON.stringify({
    name,
    hazard: { source: `r2://${BUCKET}/fiat/event_map.tif`, unit: 'm', bands: { type: 'event' } },
    exposure: { source: `r2://${BUCKET}/fiat/exposure_max_damage.tif`, unit: 'EUR' },
    vulnerability: { csv: `data:text/csv;base64,${readFileSync(join(FIAT, 'vulnerability_curves.csv')).toString('base64')}`, column: 'struct_1' },
    affectedThreshold: 0.1,
  });
}

/** A server under test. */
export interface Target {
  url: string;
  /** A key with scopes run and upload. */
  token: string;
  /** Status counts from the server's own log, when it has one. */
  logged?: Record<string, number>;
  /** Resident memory of the server, bytes (null where /proc is missing). */
  rss(): number | null;
  /** RSS per process where the server is several (wrangler: workerd's runtime and wrangler's proxy), bytes. */
  rssParts?(): Record<string, number>;
  /** The server's JavaScript heap after a full GC, where it can be read (the Worker, over its inspector). */
  heap?(saveTo?: string): Promise<HeapUsage>;
  /** Stops it; resolves to its exit code (0 = clean). */
  stop(): Promise<number | null>;
}

/** VmRSS of a process from /proc, bytes. */
export function rssOf(pid: number): number | null {
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

/** `ibf serve` as a child process on the data folder `data`. */
async function startServe(data: string, partner: string): Promise<Target> {
  const { token } = await createKey(join(data, 'keys.json'), { partner, scopes: ['run', 'upload'], ratePerMinute: 1e9 });
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data', data], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, IBF_BUCKET: BUCKET },
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  // the server's log: one JSON line per request; count statuses as a cross-check of the client's
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
    url,
    token,
    logged,
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

/**
 * RSS of the workerd processes under this one, bytes: wrangler starts two, the runtime of our Worker and
 * the local simulators (the one with an inspector), and its own proxy in front of it, which runs none
 * of our code.
 */
function workerdRss(): Record<string, number> {
  return Object.fromEntries(
    descendants(process.pid, /workerd/).map((pid) => {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        /* gone */
      }
      return [cmd.includes('--inspector-addr') ? 'runtime' : cmd ? 'proxy' : `workerd-${pid}`, rssOf(pid) ?? 0];
    }),
  );
}

/**
 * The Worker under wrangler with its local state in `persist`: D1 migrated, one key in KV. With
 * `control`, bench/control/worker.js instead: no bindings and none of our code, the same wrangler dev.
 */
async function startWrangler(persist: string, partner: string, control = false): Promise<Target> {
  const { unstable_startWorker } = await import('wrangler');
  const wrangler = (args: string[]) => promisify(execFile)(WRANGLER, args, { cwd: REPO, env: QUIET, timeout: 120_000 });
  const token = newToken();
  if (!control) {
    await wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist]);
    const record = { id: `k-${partner}`, hash: await hashKey(token), partner, scopes: ['run', 'upload'], origins: [], ratePerMinute: 1e9 };
    await wrangler(['kv', 'key', 'put', `key:${record.hash}`, JSON.stringify(record), '--binding', 'KEYS', '--local', '--persist-to', persist]);
  }
  // wrangler watches the assets folder even with watch off, and restarts the runtime when it changes,
  // failing the requests in flight with 503 "Your worker restarted mid-request": a build of the
  // dashboard during a run must not do that, so the Worker serves a copy of web/dist
  const assets = join(persist, 'web-dist');
  await cp(join(REPO, 'web', 'dist'), assets, { recursive: true }).catch(() => mkdir(assets, { recursive: true }));
  const worker = await unstable_startWorker({
    config: control ? join(REPO, 'bench', 'control', 'wrangler.toml') : join(REPO, 'wrangler.toml'),
    ...(control ? {} : { assets }),
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: { hostname: '127.0.0.1', port: 0 }, persist, remote: false, logLevel: 'warn', watch: false },
  });
  await worker.ready;
  const url = (await worker.url).href.replace(/\/$/, '');
  const inspectorUrl = await worker.inspectorUrl;
  const inspector = inspectorUrl ? await connectInspector(inspectorUrl) : undefined;
  return {
    url,
    token,
    heap: inspector ? (saveTo) => inspector.heapAfterGc(saveTo) : undefined,
    rss: () => {
      const parts = Object.values(workerdRss());
      return parts.length ? parts.reduce((a, b) => a + b, 0) : null;
    },
    rssParts: workerdRss,
    stop: async () => {
      inspector?.close();
      await worker.dispose();
      return 0;
    },
  };
}

/**
 * Starts each named target in turn (`serve`, `wrangler`, `wrangler-control`) on a fresh temporary folder, runs `fn` on it
 * (which stops it) and cleans up; resolves true when every run was clean. A target that is not stopped
 * by `fn` (it threw) is stopped here.
 */
export async function eachTarget(names: readonly string[], partner: string, fn: (name: string, t: Target) => Promise<boolean>): Promise<boolean> {
  let clean = true;
  for (const name of names) {
    const dir = await mkdtemp(join(tmpdir(), `ibf-${partner}-${name}-`));
    let t: Target | undefined;
    try {
      if (name === 'serve') t = await startServe(dir, partner);
      else if (name === 'wrangler') t = await startWrangler(dir, partner);
      else if (name === 'wrangler-control') t = await startWrangler(dir, partner, true);
      else throw new Error(`unknown target ${name}: use serve, wrangler and/or wrangler-control`);
      clean = (await fn(name, t)) && clean;
      t = undefined;
    } finally {
      await t?.stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  }
  return clean;
}
