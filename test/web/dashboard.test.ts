/**
 * The dashboard (web/) in headless Chromium, served with the API on one 127.0.0.1 origin as `wrangler dev`
 * serves it (test/web/harness.ts):
 * - it opens on the demo as the CLI computed it at build time;
 * - it generates the demo's rasters and computes the forecast and the risk in the browser on the worker
 *   pool, and the results equal `ibf demo --out` run here by the CLI: every number of the totals and
 *   zones bit for bit (tolerance: none), the manifest but its time, and the per-cell EAD raster;
 * - Cancel stops a run (no tile finishes after it, the shown result stays) and a later run works;
 * - a corrupt GeoTIFF dropped on the page is named with a clear error, and the page goes on to compute
 *   files dropped after it, then sends them to the API and shows both results agreeing bit for bit.
 * Screenshots go to test/web/artifacts (git-ignored). Needs `npm run build` (dist/ for the CLI, build/).
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../src/api/security.js';
import type { AssessResult } from '../../src/engine/result.js';
import { sha256Hex } from '../../src/engine/manifest.js';
import { assess, type ScenarioIO } from '../../src/engine/scenario.js';
import { readRaster, writeGeoTiff } from '../../src/io/geotiff.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import { parseScenario } from '../../src/model/scenario.js';
import { assertBuilt } from '../runtimes/case.js';
import { ZONES, rasters } from '../api/cases.js';
import { ROOT, SKIP_NO_CHROMIUM as SKIP, artifactsDir, ensureWebBuilt, launch, startAppServer, tempDir, within, type AppServer } from './harness.js';

const run = promisify(execFile);
const TOKEN = 'ibf_web_dashboard_0123456789abcdef';

/** Every number (and string) of `totals` and `zones` that differs between two results, as paths. */
function differences(a: unknown, b: unknown, path = ''): string[] {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b) ? [] : [`${path}: ${String(a)} vs ${String(b)}`];
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${path}: length ${a.length} vs ${b.length}`];
    return a.flatMap((x, i) => differences(x, b[i], `${path}[${i}]`));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`));
  }
  return a === b ? [] : [`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}

async function downloadJson(page: Page, kind: string): Promise<{ name: string; text: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.click(`[data-download="${kind}"]`)]);
  return { name: dl.suggestedFilename(), text: await readFile((await dl.path())!, 'utf8') };
}

async function computeInPage(page: Page, timeout: number): Promise<string> {
  const before = await page.getAttribute('#run-status', 'data-done');
  await page.click('#run-browser');
  await page.waitForFunction((b) => {
    const s = document.getElementById('run-status')!;
    return (s.dataset.done && s.dataset.done !== b) || document.getElementById('run-error')!.textContent;
  }, before, { timeout });
  expect(await page.textContent('#run-error')).toBe('');
  return (await page.textContent('#run-status'))!;
}

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');

/** Drops `files` on the page's drop zone, as a user dragging them from the desktop. */
async function drop(page: Page, files: Array<{ name: string; bytes: Uint8Array }>): Promise<void> {
  const dt = await page.evaluateHandle((fs) => {
    const d = new DataTransfer();
    for (const f of fs) d.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
    return d;
  }, files.map((f) => ({ name: f.name, b64: b64(f.bytes) })));
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
}

describe.skipIf(!!SKIP)('dashboard in headless Chromium', () => {
  let app: AppServer;
  let page: Page;
  let closeBrowser: () => Promise<void>;
  let shots: string;
  let cliDir: string;
  let cli: Promise<{ forecast: AssessResult; risk: AssessResult }>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    assertBuilt();
    cliDir = await tempDir('ibf-web-cli-');
    // the CLI's own run of the same scenarios, beside the build (both read the cached demo rasters)
    cli = run(process.execPath, [join(ROOT, 'dist/src/cli/bin.js'), 'demo', '--out', cliDir], { cwd: ROOT, maxBuffer: 1 << 26 }).then(async () => ({
      forecast: JSON.parse(await readFile(join(cliDir, 'forecast/result.json'), 'utf8')) as AssessResult,
      risk: JSON.parse(await readFile(join(cliDir, 'risk/result.json'), 'utf8')) as AssessResult,
    }));
    cli.catch(() => {});
    await ensureWebBuilt();
    app = await startAppServer({ keys: [{ id: 'k-dash', hash: await hashKey(TOKEN), partner: 'web', scopes: ['read', 'run', 'upload'], origins: ['*'] }] });
    const b = await launch();
    closeBrowser = b.close;
    page = await b.browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    // main-thread tasks over 50 ms, as the browser reports them (a frozen page would show seconds here)
    await page.addInitScript(() => {
      const w = window as unknown as { longTasks: number[] };
      w.longTasks = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) w.longTasks.push(Math.round(e.duration));
      }).observe({ type: 'longtask', buffered: true });
    });
    shots = await artifactsDir();
  }, 180_000);

  afterAll(async () => {
    await closeBrowser?.();
    await app?.close();
    if (cliDir) await rm(cliDir, { recursive: true, force: true });
  }, 30_000);

  it('opens on the demo forecast as the CLI computed it when the app was built', async () => {
    await page.goto(`${app.origin}/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
    expect(await page.textContent('#scenario-title')).toMatch(/river-flood forecast/);
    expect(await page.locator('#zones path[data-zone]').count()).toBe(6);
    expect(await page.locator('#zone-table tbody tr').count()).toBe(6);
    // the table at 72 hours, highest alert first (README: Mozambique high from 48 hours)
    expect(await page.textContent('#zone-table tbody tr:first-child')).toMatch(/Mozambique.*high/);
    expect(await page.getAttribute('#zones path[data-zone="MOZ"]', 'aria-label')).toBe('Mozambique: high');
    // keyboard: Tab reaches a zone, Enter selects it, the details say what it is
    await page.focus('#zones path[data-zone="MWI"]');
    await page.keyboard.press('Enter');
    expect(await page.textContent('#zone-details')).toMatch(/Malawi[\s\S]*Trigger 72-hour.*YES, medium/);
    await page.screenshot({ path: join(shots, 'dashboard-open.png'), fullPage: true });
    const built = JSON.parse(await (await fetch(`${app.origin}/demo/forecast.json`)).text()) as AssessResult;
    expect(built.manifest.kernel).toBe('wasm-simd');
  }, 60_000);

  it('generates the demo rasters and computes the forecast here: every zone and total number equals the CLI\'s, bit for bit', async () => {
    await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks.splice(0));
    const status = await computeInPage(page, 120_000);
    // generation, planning, tiles and previews run in workers: the page's own thread stays free
    const longest = Math.max(0, ...(await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks)));
    expect(longest).toBeLessThan(1000);
    expect(status).toMatch(/Computed in this browser .* on 2 worker\(s\), kernel wasm-simd\. Demo rasters identical to the CLI's/);
    const { name, text } = await downloadJson(page, 'json');
    expect(name).toBe('forecast-result.json');
    const got = JSON.parse(text) as AssessResult;
    const want = (await within(cli, 60_000, 'ibf demo')).forecast;
    expect(differences(got.totals, want.totals, 'totals')).toEqual([]);
    expect(differences(got.zones, want.zones, 'zones')).toEqual([]);
    expect(got.zones.map((z) => z.trigger!.map((t) => t.alertLevel).join(' '))).toEqual(want.zones.map((z) => z.trigger!.map((t) => t.alertLevel).join(' ')));
    // the whole document but the time: same inputs (sha256), curve, scenario hash and kernel
    expect({ ...got, manifest: { ...got.manifest, createdAt: '' } }).toEqual({ ...want, manifest: { ...want.manifest, createdAt: '' } });
    await page.screenshot({ path: join(shots, 'dashboard-computed.png'), fullPage: true });
  }, 180_000);

  it('sends the demo forecast to the API (rasters uploaded, run as a job) and shows both results agreeing bit for bit', async () => {
    await page.click('#api-box summary');
    await page.fill('#api-key', TOKEN);
    await page.click('#run-api');
    await page.waitForSelector('#compare-panel:not([hidden])', { timeout: 150_000 });
    expect(await page.textContent('#compare-verdict')).toMatch(/They agree bit for bit on all [\d,]+ numbers/);
    expect(await page.textContent('#api-status')).toMatch(/The API answered in/);
    expect(app.logs.filter((l) => l.msg === 'request' && l.method === 'PUT' && l.status === 201).length).toBe(2); // hazard.tif and exposure.tif
    expect(app.logs.some((l) => l.msg === 'request' && l.path === '/v1/assess' && l.status === 202)).toBe(true);
    await page.click('#api-box summary');
  }, 180_000);

  it('Cancel stops the work: no tile after it, the result shown stays, and the next run works', async () => {
    const before = await page.textContent('#zone-table tbody');
    await page.click('#run-browser');
    await page.waitForFunction(() => Number((document.getElementById('progress')!.dataset.tiles ?? '0/0').split('/')[0]) >= 1, null, { timeout: 30_000 });
    await page.click('#cancel');
    await page.waitForFunction(() => /Cancelled/.test(document.getElementById('run-status')!.textContent ?? ''), null, { timeout: 5_000 });
    const tiles = await page.getAttribute('#progress', 'data-tiles');
    const [done, total] = tiles!.split('/').map(Number);
    expect(done).toBeLessThan(total!);
    await page.waitForTimeout(1500);
    expect(await page.getAttribute('#progress', 'data-tiles')).toBe(tiles);
    expect(await page.textContent('#run-status')).toMatch(/Cancelled: the workers stopped/);
    expect(await page.isDisabled('#cancel')).toBe(true);
    expect(await page.isEnabled('#run-browser')).toBe(true);
    expect(await page.textContent('#zone-table tbody')).toBe(before);
  }, 60_000);

  it('computes the risk here too: zones, EAD and the per-cell EAD raster equal the CLI\'s', async () => {
    await page.check('input[name="demo"][value="risk"]');
    await page.waitForFunction(() => /river-flood risk/.test(document.getElementById('scenario-title')!.textContent ?? ''));
    await computeInPage(page, 120_000);
    const got = JSON.parse((await downloadJson(page, 'json')).text) as AssessResult;
    const want = (await cli).risk;
    expect(differences(got.totals, want.totals, 'totals')).toEqual([]);
    expect(differences(got.zones, want.zones, 'zones')).toEqual([]);
    expect(got.totals.ead).toBe(want.totals.ead);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-download="ead"]')]);
    const mine = await readRaster(new Uint8Array(await readFile((await dl.path())!)));
    const theirs = await readRaster(new Uint8Array(await readFile(join(cliDir, 'risk/ead.tif'))));
    expect(mine.grid).toEqual(theirs.grid);
    const a = mine.bands[0] as Float32Array;
    const b = theirs.bands[0] as Float32Array;
    let diff = 0;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) diff++;
    expect(diff).toBe(0);
    // per-cell damage of the 4 return periods is kept (16 M cell-bands) and offered as a GeoTIFF
    expect(await page.isEnabled('[data-download="damage"]')).toBe(true);
    await page.selectOption('#layer', 'damage');
    await page.screenshot({ path: join(shots, 'dashboard-risk.png'), fullPage: true });
  }, 180_000);

  it('a corrupt GeoTIFF dropped on the page is named with a clear error; the page computes the next files, and the API agrees', async () => {
    const { hazard, exposure } = rasters();
    const corrupt = new Uint8Array(hazard.byteLength);
    corrupt.set(hazard.subarray(0, 16)); // a TIFF header, then zeros: no valid directory
    await drop(page, [{ name: 'corrupt.tif', bytes: corrupt }]);
    await page.waitForFunction(() => /corrupt\.tif cannot be used/.test(document.getElementById('scenario-error')!.textContent ?? ''), null, { timeout: 10_000 });
    const message = (await page.textContent('#scenario-error'))!;
    expect(message).toMatch(/corrupt\.tif cannot be used: .*corrupt\.tif/);
    expect(message).toMatch(/How to fix: /);
    expect(await page.getAttribute('#scenario-error', 'role')).toBe('alert');
    expect(await page.textContent('#file-list')).toMatch(/corrupt\.tif.*not used/);
    await page.locator('#drop').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'dashboard-corrupt.png'), fullPage: false });
    // the page keeps working: good files, computed here
    await drop(page, [
      { name: 'flood_depth.tif', bytes: hazard },
      { name: 'exposure_value.tif', bytes: exposure },
      { name: 'districts.geojson', bytes: new TextEncoder().encode(JSON.stringify(ZONES)) },
    ]);
    await page.waitForFunction(() => document.getElementById('scenario-title')!.textContent === 'Your files');
    expect(await page.textContent('#scenario-error')).toBe('');
    await page.selectOption('#f-vuln', 'catalog:jrc-flood-europe-residential');
    await page.selectOption('#f-id-prop', 'id');
    await computeInPage(page, 60_000);
    expect(await page.locator('#zone-table tbody tr').count()).toBe(2);
    const browser = JSON.parse((await downloadJson(page, 'json')).text) as AssessResult;
    expect(browser.zones.map((z) => `${z.id} ${z.name}`)).toEqual(['W West', 'E East']);
    expect(browser.totals.damage[0]).toBeGreaterThan(0);
    // the same scenario on the API (files inline as data: URLs), side by side
    await page.click('#api-box summary');
    await page.fill('#api-key', TOKEN);
    await page.click('#run-api');
    await page.waitForSelector('#compare-panel:not([hidden])', { timeout: 30_000 });
    expect(await page.textContent('#compare-verdict')).toMatch(/They agree bit for bit on all \d+ numbers/);
    expect(await page.locator('#compare-table tbody tr').count()).toBe(2);
    await page.locator('#compare-panel').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'dashboard-compare.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('a scenario JSON with its files, a curve CSV and the hazard at a URL (range requests): the ensemble\'s triggers, equal to the engine in Node', async () => {
    // a 3-member x 2-lead-time flood depth on a server of its own (another origin, CORS, range requests)
    const g = { width: 64, height: 48, transform: [30, 0.01, 0, -10, 0, -0.01] as const, crs: 'EPSG:4326' };
    const bands = Array.from({ length: 6 }, (_, b) => new Float32Array(64 * 48).map((_, i) => ((i % 64) / 64) * 3 * (0.8 + 0.2 * Math.floor(b / 2)) * (1 + 0.15 * (b % 2))));
    const hazard = new Uint8Array(writeGeoTiff({ grid: g, bands, nodata: null }));
    const { exposure } = rasters();
    const ranges: string[] = [];
    const cog = createServer((req, res) => {
      const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'range', 'access-control-expose-headers': 'content-range, etag, content-length, accept-ranges' };
      if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
      if (req.url !== '/hazard.tif') return void res.writeHead(404, cors).end();
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (!m) return void res.writeHead(200, { ...cors, 'content-type': 'image/tiff', 'content-length': hazard.length, 'accept-ranges': 'bytes' }).end(req.method === 'HEAD' ? undefined : hazard);
      ranges.push(req.headers.range!);
      const a = Number(m[1]);
      const z = Math.min(m[2] ? Number(m[2]) : hazard.length - 1, hazard.length - 1);
      res.writeHead(206, { ...cors, 'content-type': 'image/tiff', 'content-range': `bytes ${a}-${z}/${hazard.length}`, 'content-length': z - a + 1, 'accept-ranges': 'bytes', etag: '"h1"' }).end(hazard.subarray(a, z + 1));
    });
    await new Promise<void>((ok) => cog.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(cog.address() as AddressInfo).port}/hazard.tif`;
      const csv = '# flood depth-damage, residential (test)\ndepth,residential\n0,0\n0.5,0.25\n1,0.4\n2,0.6\n3,0.75\n6,1\n';
      const scenario = {
        name: 'Forecast from a URL',
        hazard: { source: url, unit: 'm', bands: { type: 'ensemble', members: 3, leadTimes: ['24-hour', '48-hour'] } },
        exposure: { source: 'exposure.tif', unit: 'EUR' },
        zones: { source: 'districts.geojson', idProperty: 'id', nameProperty: 'name', rule: 'centre' },
        vulnerability: { csv: 'curves.csv', column: 'residential', unit: 'm' },
        trigger: { metric: 'damage', threshold: 800_000, pMin: 0.6, alertClasses: [{ level: 'low', threshold: 300_000, pMin: 0.3 }, { level: 'medium', threshold: 800_000, pMin: 0.6 }, { level: 'high', threshold: 1_600_000, pMin: 0.6 }] },
      };
      const text = JSON.stringify(scenario, null, 2);
      await page.setViewportSize({ width: 1280, height: 900 });
      await drop(page, [
        { name: 'forecast.json', bytes: new TextEncoder().encode(text) },
        { name: 'exposure.tif', bytes: exposure },
        { name: 'districts.geojson', bytes: new TextEncoder().encode(JSON.stringify(ZONES)) },
        { name: 'curves.csv', bytes: new TextEncoder().encode(csv) },
      ]);
      await page.waitForFunction(() => /Your scenario: forecast\.json/.test(document.getElementById('scenario-title')!.textContent ?? ''));
      expect(await page.textContent('#scenario-error')).toBe('');
      await computeInPage(page, 60_000);
      const got = JSON.parse((await downloadJson(page, 'json')).text) as AssessResult;
      // the same scenario in Node, over the same bytes
      const kernel = await loadKernel();
      const files: Record<string, Uint8Array> = { [url]: hazard, 'exposure.tif': exposure };
      const texts: Record<string, string> = { 'districts.geojson': JSON.stringify(ZONES), 'curves.csv': csv };
      const io: ScenarioIO = { raster: async (_r, ref) => ({ source: { kind: 'bytes', bytes: files[ref]! }, name: ref }), text: async (_r, ref) => texts[ref]!, inputs: () => [] };
      const want = (await assess(parseScenario(scenario), { io, kernel })).result;
      expect(differences(got.totals, want.totals, 'totals')).toEqual([]);
      expect(differences(got.zones, want.zones, 'zones')).toEqual([]);
      expect(new Set(got.zones.flatMap((z) => z.trigger!.map((t) => t.alertLevel))).size).toBeGreaterThan(1);
      expect(got.warnings.join(' ')).toMatch(/read by range requests/);
      expect(ranges.length).toBeGreaterThan(0);
      expect(got.manifest.scenarioSha256).toBe(await sha256Hex(text));
      // the trigger timeline lists both zones per lead time
      expect(await page.locator('#timeline tbody tr').count()).toBe(2);
      await page.locator('#charts-panel').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(shots, 'dashboard-url-ensemble.png'), fullPage: true });
    } finally {
      cog.closeAllConnections();
      await new Promise<void>((ok) => cog.close(() => ok()));
    }
  }, 90_000);

  it('works at 360 px: nothing wider than the screen outside the scrolling tables', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    await page.check('input[name="demo"][value="forecast"]');
    await page.waitForFunction(() => /river-flood forecast/.test(document.getElementById('scenario-title')!.textContent ?? ''));
    await page.waitForTimeout(400);
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('body *')].filter((el) => !el.closest('.scroll') && el.getBoundingClientRect().right > window.innerWidth + 0.5).map((el) => `${el.tagName}#${el.id}`),
    );
    expect(wide).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.screenshot({ path: join(shots, 'dashboard-360.png'), fullPage: true });
  }, 30_000);
});

if (SKIP) it.skip(`dashboard in headless Chromium: skipped because ${SKIP}`, () => {});
