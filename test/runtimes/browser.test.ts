/**
 * Proves the kernels load and compute identically in a real browser: headless Chromium (system binary,
 * driven by playwright-core) fetches dist/ and build/ from a local static server, loads the SIMD kernel
 * through load-browser.ts (WebAssembly.compileStreaming, so the .wasm must come as application/wasm),
 * runs the fixed case of case.ts, and the results must equal the ReferenceKernel in Node bit for bit.
 * Needs `npm run build` first (dist/, build/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { EMANUEL_USA_120, ROOT, assertBuilt, bitDiffs, decodeResult, expectedResult, wireCase, type WireResult } from './case.js';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM) ? '' : `${CHROMIUM} is missing (apt-get install -y chromium; CI installs it)`;
const HERE = fileURLToPath(new URL('./', import.meta.url));
const TYPES: Record<string, string> = {
  '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.html': 'text/html; charset=utf-8', '.map': 'application/json', '.ts': 'text/plain',
};
const PAGE = `<!doctype html><meta charset="utf-8"><title>ibf kernels</title><link rel="icon" href="data:,">
<script type="module">
window.ibfRun = async (wire) => {
  const { loadKernelFromUrl } = await import('/dist/src/kernels/load-browser.js');
  const { DamageFunction } = await import('/dist/src/model/damage-function.js');
  const { runCase } = await import('/runner.mjs');
  const kernel = await loadKernelFromUrl({ simd: '/build/ibf.simd.wasm', scalar: '/build/ibf.scalar.wasm' });
  return runCase(wire, kernel, DamageFunction);
};
</script>`;

/** Rejects when `p` takes longer than `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Static files: /dist/** and /build/** of the repo, /runner.mjs, and the page at /. */
function fileFor(pathname: string): string | undefined {
  if (pathname === '/runner.mjs') return join(HERE, 'runner.mjs');
  const m = /^\/(dist|build)\//.exec(pathname);
  if (!m) return undefined;
  const base = resolve(ROOT, m[1]!);
  const file = resolve(base, '.' + decodeURIComponent(pathname.slice(m[0].length - 1)));
  return file.startsWith(base + sep) ? file : undefined;
}

describe.skipIf(!!SKIP)('kernels in headless Chromium', () => {
  let server: Server;
  let context: BrowserContext | undefined;
  let page: Page;
  let profile: string | undefined;
  const served: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    assertBuilt();
    server = createServer((req, res) => {
      const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
      served.push(pathname);
      if (pathname === '/') return void res.writeHead(200, { 'content-type': TYPES['.html']! }).end(PAGE);
      const file = fileFor(pathname);
      if (!file) return void res.writeHead(404).end(`no ${pathname}`);
      readFile(file).then(
        (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    profile = await mkdtemp(join(tmpdir(), 'ibf-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`, { timeout: 15_000 });
  }, 60_000);

  afterAll(async () => {
    await within(context?.close() ?? Promise.resolve(), 15_000, 'closing Chromium').catch(() => {});
    server?.closeAllConnections();
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
    if (profile) await rm(profile, { recursive: true, force: true });
  }, 30_000);

  it('loads the SIMD kernel by streaming compile and matches the ReferenceKernel bit for bit', async () => {
    const wire = await within(page.evaluate(`window.ibfRun(${JSON.stringify(wireCase())})`) as Promise<WireResult>, 20_000, 'the page');
    expect(pageErrors).toEqual([]);
    expect(wire.kernel).toBe('wasm-simd');
    expect(wire.userAgent).toMatch(/HeadlessChrome|Chrome/);
    expect(served).toContain('/build/ibf.simd.wasm');
    expect(served).not.toContain('/build/ibf.scalar.wasm');
    const got = decodeResult(wire);
    expect(got.mdr[0]![18]).toBe(EMANUEL_USA_120);
    expect(bitDiffs(got, expectedResult())).toEqual([]);
  }, 30_000);
});

if (SKIP) it.skip(`kernels in headless Chromium: skipped because ${SKIP}`, () => {});
