/**
 * The web tests' harness: builds web/dist once (scripts/web-build.mjs; a lock keeps parallel test files
 * from building twice, and a build newer than every source is reused), serves it on 127.0.0.1 the way
 * `wrangler dev` will (static files with web/public/_headers' CORS, and the API under /v1 and /healthz:
 * `createApi` over the memory ports, served by @hono/node-server), serves partner pages from other
 * 127.0.0.1 ports (other origins), and launches the system Chromium with the flags of TOOLCHAIN.md.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser } from 'playwright-core';
import { DEFAULT_LIMITS, createApi, inProcessRunner, memoryJobStore, memoryKeyStore, memoryObjectStore, memoryRateLimiter, type ApiKeyRecord, type ApiLimits, type LogLine } from '../../src/api/index.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import { ROOT } from '../runtimes/case.js';
import { CHROMIUM } from '../runtimes/chromium.js';

export { SKIP_NO_CHROMIUM, within } from '../runtimes/chromium.js';
export { ROOT };

export const DIST = join(ROOT, 'web/dist');
export const ARTIFACTS = join(ROOT, 'test/web/artifacts');

async function newest(dir: string, skip: (p: string) => boolean): Promise<number> {
  let t = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (skip(p)) continue;
    t = Math.max(t, e.isDirectory() ? await newest(p, skip) : (await stat(p)).mtimeMs);
  }
  return t;
}

/** Builds web/dist unless a build newer than every source exists; one build across parallel test files. */
export async function ensureWebBuilt(log: (l: string) => void = () => {}): Promise<void> {
  const stampFile = join(DIST, 'build.json');
  const skip = (p: string) => p.includes(`${sep}dist`) || p.includes(`${sep}public${sep}demo`) || p.includes(`${sep}node_modules`);
  const fresh = async () => existsSync(stampFile) && statSync(stampFile).mtimeMs > Math.max(await newest(join(ROOT, 'web'), skip), await newest(join(ROOT, 'src'), skip), statSync(join(ROOT, 'build/ibf.simd.wasm')).mtimeMs);
  if (await fresh()) return;
  const lock = join(ROOT, 'web/.build-lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      // a lock left by a killed run (older than 5 minutes) is stale
      if (Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs > 300_000) await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`web build lock ${lock} held for 3 minutes (remove it if no build runs)`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (await fresh()) return;
    const { buildWeb } = (await import(join(ROOT, 'scripts/web-build.mjs'))) as { buildWeb(o: { log: (l: string) => void }): Promise<unknown> };
    await buildWeb({ log });
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.geojson': 'application/geo+json', '.wasm': 'application/wasm', '.gz': 'application/octet-stream', '.tif': 'image/tiff', '.svg': 'image/svg+xml',
};

/** A static file of `dir` for a URL path, with the CORS headers of web/public/_headers. */
async function staticFile(dir: string, pathname: string): Promise<Response> {
  const rel = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
  const file = resolve(dir, `.${rel}`);
  if (!file.startsWith(dir + sep)) return new Response('no', { status: 404 });
  try {
    const body = await readFile(file);
    const headers: Record<string, string> = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' };
    if (/^\/(widget|demo)\//.test(pathname)) Object.assign(headers, { 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' });
    return new Response(body, { headers });
  } catch {
    return new Response(`no ${pathname}`, { status: 404 });
  }
}

export interface AppServer {
  origin: string;
  logs: LogLine[];
  /** Waits for the API's background jobs. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** web/dist and the API on one 127.0.0.1 origin (what `wrangler dev` serves), port 0. */
export async function startAppServer(opts: { keys?: ApiKeyRecord[]; limits?: Partial<ApiLimits> } = {}): Promise<AppServer> {
  const logs: LogLine[] = [];
  const kernel = loadKernel();
  const base = {
    store: memoryObjectStore(), jobs: memoryJobStore(), kernel: () => kernel, log: (l: LogLine) => logs.push(l),
    config: { bucket: 'ibf-web-test', limits: { ...DEFAULT_LIMITS, ...opts.limits }, allowHosts: [], tileCells: 131_072 },
  };
  const runner = inProcessRunner(base);
  const app = createApi({ ...base, keys: memoryKeyStore(opts.keys ?? []), limiter: memoryRateLimiter(), runner });
  const fetch = (req: Request) => {
    const { pathname } = new URL(req.url);
    return pathname.startsWith('/v1/') || pathname === '/healthz' ? app.fetch(req) : staticFile(DIST, pathname);
  };
  const server = await new Promise<ServerType>((ok) => {
    const s = serve({ fetch, hostname: '127.0.0.1', port: 0 }, () => ok(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    logs,
    idle: () => runner.idle(),
    close: async () => {
      runner.abort();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** A partner page on its own 127.0.0.1 port (another origin): `html` at /, and `files` at their paths. */
export async function startPageServer(html: string | ((origin: string) => string), files: Record<string, { type: string; body: string | Uint8Array }> = {}): Promise<{ origin: string; close(): Promise<void> }> {
  let origin = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(typeof html === 'string' ? html : html(origin));
    else if (files[path]) res.writeHead(200, { 'content-type': files[path]!.type, 'cache-control': 'no-store' }).end(files[path]!.body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** The system Chromium, headless, with the flags that keep it off the (closed) network. */
export async function launch(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { browser, close: () => browser.close().catch(() => {}) };
}

export async function artifactsDir(): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  return ARTIFACTS;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}
