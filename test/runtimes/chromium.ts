/**
 * One headless-Chromium harness for the browser tests: a static server on 127.0.0.1 (port 0) serving the
 * repo's dist/ and build/ (plus extra files a test names) and a page, and the system Chromium driven by
 * playwright-core with the flags TOOLCHAIN.md lists (no background networking on the closed network).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from './case.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Reason to skip browser tests on a machine without Chromium, or '' (CI installs it). */
export const SKIP_NO_CHROMIUM = existsSync(CHROMIUM) ? '' : `${CHROMIUM} is missing (apt-get install -y chromium; CI installs it)`;

export const TYPES: Record<string, string> = {
  '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.html': 'text/html; charset=utf-8', '.map': 'application/json', '.ts': 'text/plain',
};

/** Rejects when `p` takes longer than `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A file of the repo's dist/ or build/ for a URL path, never outside them. */
function repoFile(pathname: string): string | undefined {
  const m = /^\/(dist|build)\//.exec(pathname);
  if (!m) return undefined;
  const base = resolve(ROOT, m[1]!);
  const file = resolve(base, '.' + decodeURIComponent(pathname.slice(m[0].length - 1)));
  return file.startsWith(base + sep) ? file : undefined;
}

export interface BrowserPage {
  page: Page;
  /** URL paths the server was asked for, in order. */
  served: string[];
  /** Page errors and console errors. */
  pageErrors: string[];
  close(): Promise<void>;
}

/**
 * Serves `html` at / (and dist/, build/, and `extra` paths -> files), opens it in headless Chromium,
 * and returns the page. `rewrite` may change a served JavaScript body (e.g. resolve a bare specifier).
 */
export async function openPage(html: string, opts: { extra?: Record<string, string>; rewrite?: (body: string) => string } = {}): Promise<BrowserPage> {
  const served: string[] = [];
  const pageErrors: string[] = [];
  const server: Server = createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    served.push(pathname);
    if (pathname === '/') return void res.writeHead(200, { 'content-type': TYPES['.html']! }).end(html);
    const file = opts.extra?.[pathname] ?? repoFile(pathname);
    if (!file) return void res.writeHead(404).end(`no ${pathname}`);
    readFile(file).then(
      (body) => {
        const type = TYPES[extname(file)] ?? 'application/octet-stream';
        const out = type === 'text/javascript' && opts.rewrite ? opts.rewrite(body.toString('utf8')) : body;
        res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(out);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const profile = await mkdtemp(join(tmpdir(), 'ibf-chromium-'));
  let context: BrowserContext | undefined;
  const close = async () => {
    await within(context?.close() ?? Promise.resolve(), 15_000, 'closing Chromium').catch(() => {});
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
    await rm(profile, { recursive: true, force: true });
  };
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`, { timeout: 15_000 });
    return { page, served, pageErrors, close };
  } catch (e) {
    await close();
    throw e;
  }
}
