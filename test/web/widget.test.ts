/**
 * `<ibf-impact-widget>` in headless Chromium, embedded in partner pages served from other 127.0.0.1 ports
 * (other origins) than the app + API (test/web/harness.ts):
 * - a job computed by the API (a 3-member, 2-lead-time ensemble with alert classes) is shown with the
 *   alert level of every zone the API gave, on a page whose origin the key allows;
 * - a page on an origin no key allows gets a friendly message naming its origin (the API refuses the CORS
 *   preflight, so the browser hides the answer; the widget then finds the API up and says why), and a page
 *   allowed for another key but not this one shows the API's own message;
 * - `mode="local"` computes a small scenario in the partner page's own worker (started through a blob:
 *   module, the widget being cross-origin) and equals the API's numbers;
 * - the docs page shows the snippet and live examples in English and French; the widget's JavaScript stays
 *   within 60 KB gzip.
 * Screenshots go to test/web/artifacts (git-ignored).
 */
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../src/api/security.js';
import type { AssessResult } from '../../src/engine/result.js';
import { writeGeoTiff } from '../../src/io/geotiff.js';
import { ZONES, dataUrl } from '../api/cases.js';
import { ROOT, SKIP_NO_CHROMIUM as SKIP, artifactsDir, ensureWebBuilt, launch, startAppServer, startPageServer, type AppServer } from './harness.js';

const TOKENS = { web: 'ibf_web_widget_read_0123456789ab', run: 'ibf_web_widget_run_0123456789abc', other: 'ibf_web_widget_other_0123456789a' };
const MEMBERS = 3;
const LEADS = ['24-hour', '48-hour'];

/** Flood depth (m) rising west to east, scaled per member and lead time (member-major bands); values (EUR) by row. */
function ensembleRasters(width = 64, height = 48): { hazard: Uint8Array; exposure: Uint8Array } {
  const g = { width, height, transform: [30, 0.01, 0, -10, 0, -0.01] as const, crs: 'EPSG:4326' };
  const bands: Float32Array[] = [];
  for (let m = 0; m < MEMBERS; m++) {
    for (let l = 0; l < LEADS.length; l++) {
      const f = (0.8 + 0.2 * m) * (1 + 0.15 * l);
      const b = new Float32Array(width * height);
      for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) b[r * width + c] = (c / width) * 3 * f;
      bands.push(b);
    }
  }
  const value = new Float32Array(width * height).map((_, i) => 1000 + 37 * ((Math.floor(i / width) * 13 + (i % width) * 7) % 50));
  return { hazard: new Uint8Array(writeGeoTiff({ grid: g, bands, nodata: null })), exposure: new Uint8Array(writeGeoTiff({ grid: g, bands: [value], nodata: null })) };
}

function ensembleScenario(sources: { hazard: string; exposure: string; zones: string }) {
  return {
    name: 'Widget test forecast',
    hazard: { source: sources.hazard, unit: 'm', bands: { type: 'ensemble', members: MEMBERS, leadTimes: LEADS, order: 'member-major' } },
    exposure: { source: sources.exposure, unit: 'EUR' },
    zones: { source: sources.zones, idProperty: 'id', nameProperty: 'name' },
    vulnerability: 'jrc-flood-europe-residential',
    trigger: {
      metric: 'hazardMax', threshold: 2.4, pMin: 0.6,
      alertClasses: [{ level: 'low', threshold: 0.8, pMin: 0.3 }, { level: 'medium', threshold: 1.7, pMin: 0.6 }, { level: 'high', threshold: 2.4, pMin: 0.6 }],
    },
  };
}

const page = (script: string, attrs: string) => `<!doctype html><html lang="en"><meta charset="utf-8"><title>Partner</title><link rel="icon" href="data:,">
<body style="font-family:sans-serif;margin:1em;max-width:560px"><h1>Partner site</h1>
<script type="module" src="${script}"></script>
<ibf-impact-widget ${attrs}></ibf-impact-widget></body></html>`;

async function shadowText(w: Locator): Promise<string> {
  return w.evaluate((el) => el.shadowRoot?.textContent ?? '');
}

async function settled(p: Page, timeout = 20_000): Promise<void> {
  await p.waitForFunction(() => {
    const r = document.querySelector('ibf-impact-widget')?.shadowRoot;
    return Boolean(r?.querySelector('table, .error'));
  }, null, { timeout });
}

describe.skipIf(!!SKIP)('<ibf-impact-widget> in headless Chromium, cross-origin', () => {
  let app: AppServer;
  let closeBrowser: () => Promise<void>;
  let newPage: () => Promise<Page>;
  const servers: Array<{ origin: string; close(): Promise<void> }> = [];
  let partner: { origin: string };
  let stranger: { origin: string };
  let otherPartner: { origin: string };
  let jobId: string;
  let apiResult: AssessResult;
  let shots: string;
  const files = ensembleRasters();
  const zonesText = JSON.stringify(ZONES);
  /** What the three partner servers answer at / (each test sets it). */
  const html = { current: '' };
  const setHtml = (h: string) => (html.current = h);

  beforeAll(async () => {
    await ensureWebBuilt();
    shots = await artifactsDir();
    // partner pages first: their origins go into the keys
    partner = await startPageServer(() => html.current, { '/zones.geojson': { type: 'application/geo+json', body: zonesText } });
    stranger = await startPageServer(() => html.current);
    otherPartner = await startPageServer(() => html.current);
    servers.push(partner as never, stranger as never, otherPartner as never);
    app = await startAppServer({
      keys: [
        { id: 'k-web', hash: await hashKey(TOKENS.web), partner: 'p1', scopes: ['read'], origins: [partner.origin] },
        { id: 'k-run', hash: await hashKey(TOKENS.run), partner: 'p1', scopes: ['read', 'run', 'upload'], origins: [] },
        { id: 'k-other', hash: await hashKey(TOKENS.other), partner: 'p2', scopes: ['read'], origins: [otherPartner.origin] },
      ],
      limits: { syncCellBands: 1000 },
    });
    // a job computed by the API (over the sync budget: a real job, run in the server)
    const body = ensembleScenario({ hazard: dataUrl(files.hazard), exposure: dataUrl(files.exposure), zones: dataUrl(new TextEncoder().encode(zonesText), 'application/geo+json') });
    const res = await fetch(`${app.origin}/v1/jobs`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.run}` } });
    expect(res.status).toBe(202);
    jobId = ((await res.json()) as { id: string }).id;
    await app.idle();
    const r = await fetch(`${app.origin}/v1/jobs/${jobId}/result`, { headers: { authorization: `Bearer ${TOKENS.run}` } });
    expect(r.status).toBe(200);
    apiResult = (await r.json()) as AssessResult;
    const b = await launch();
    closeBrowser = b.close;
    newPage = () => b.browser.newPage({ viewport: { width: 640, height: 720 } });
  }, 120_000);

  afterAll(async () => {
    await closeBrowser?.();
    await app?.close();
    for (const s of servers) await s.close();
  }, 30_000);

  it('renders the alert levels of a job computed by the API, on a partner origin the key allows', async () => {
    const levels = apiResult.zones.map((z) => z.trigger![1]!.alertLevel);
    expect(new Set(levels).size).toBeGreaterThan(1); // the check means something: zones differ
    setHtml(page(`${app.origin}/widget/ibf-impact-widget.js`, `api="${app.origin}" key="${TOKENS.web}" job="${jobId}" zones="/zones.geojson" lead-time="48-hour" heading="Flood alert, 48 hours"`));
    const p = await newPage();
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(`${partner.origin}/`);
    await settled(p);
    const w = p.locator('ibf-impact-widget');
    expect(await w.evaluate((el) => el.shadowRoot!.querySelector('.error')?.textContent ?? '')).toBe('');
    const shown = await w.evaluate((el) => [...el.shadowRoot!.querySelectorAll('path[data-zone]')].map((p) => `${p.getAttribute('data-zone')}=${p.getAttribute('data-level')}`));
    expect(shown.sort()).toEqual(apiResult.zones.map((z) => `${z.id}=${z.trigger![1]!.alertLevel}`).sort());
    const rows = await w.evaluate((el) => [...el.shadowRoot!.querySelectorAll('tbody tr')].map((r) => r.textContent));
    for (const z of apiResult.zones) expect(rows.some((t) => t!.includes(z.name!) && t!.includes(z.trigger![1]!.alertLevel))).toBe(true);
    expect(await shadowText(w)).toMatch(/Lead time: 48-hour/);
    expect(errors).toEqual([]);
    await w.screenshot({ path: join(shots, 'widget-job.png') });
    await p.close();
  }, 60_000);

  it('a page on an origin no key allows gets a friendly, visible error naming its origin', async () => {
    setHtml(page(`${app.origin}/widget/ibf-impact-widget.js`, `api="${app.origin}" key="${TOKENS.web}" job="${jobId}"`));
    const p = await newPage();
    await p.goto(`${stranger.origin}/`);
    await settled(p);
    const w = p.locator('ibf-impact-widget');
    const err = await w.evaluate((el) => el.shadowRoot!.querySelector('.error[role="alert"]')?.textContent ?? '');
    expect(err).toBe(`This website (${stranger.origin}) is not allowed to show forecasts from ${app.origin} with this key. Ask the forecast provider to add this website to the key.`);
    expect(await w.evaluate((el) => el.shadowRoot!.querySelector('table'))).toBeNull();
    await w.screenshot({ path: join(shots, 'widget-denied.png') });
    await p.close();
    // the API refused it (preflight 403, problem+json) and logged the origin
    expect(app.logs.some((l) => l.method === 'OPTIONS' && l.status === 403 && l.origin === stranger.origin)).toBe(true);
  }, 30_000);

  it('a page allowed for another key, not this one, shows the API\'s own message (in French)', async () => {
    setHtml(page(`${app.origin}/widget/ibf-impact-widget.js`, `api="${app.origin}" key="${TOKENS.web}" job="${jobId}" lang="fr" theme="dark"`));
    const p = await newPage();
    await p.goto(`${otherPartner.origin}/`);
    await settled(p);
    const err = await p.locator('ibf-impact-widget').evaluate((el) => el.shadowRoot!.querySelector('.error')?.textContent ?? '');
    expect(err).toBe(`Le service de prévision a refusé la demande : API key k-web may not be used from ${otherPartner.origin}`);
    await p.close();
  }, 30_000);

  it('mode="local" computes a small scenario in the partner page\'s own worker, with the API\'s numbers', async () => {
    const scenario = ensembleScenario({ hazard: 'hazard.tif', exposure: 'exposure.tif', zones: 'zones.geojson' });
    const local = await startPageServer(page(`${app.origin}/widget/ibf-impact-widget.js`, 'mode="local" scenario="/data/scenario.json" zones="/data/zones.geojson" lead-time="48" metric="probability"'), {
      '/data/scenario.json': { type: 'application/json', body: JSON.stringify(scenario) },
      '/data/hazard.tif': { type: 'image/tiff', body: files.hazard },
      '/data/exposure.tif': { type: 'image/tiff', body: files.exposure },
      '/data/zones.geojson': { type: 'application/geo+json', body: zonesText },
    });
    servers.push(local);
    const p = await newPage();
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(`${local.origin}/`);
    await settled(p, 30_000);
    const w = p.locator('ibf-impact-widget');
    expect(await w.evaluate((el) => el.shadowRoot!.querySelector('.error')?.textContent ?? '')).toBe('');
    const shown = await w.evaluate((el) => [...el.shadowRoot!.querySelectorAll('path[data-zone]')].map((p) => `${p.getAttribute('data-zone')}=${p.getAttribute('data-level')}`));
    expect(shown.sort()).toEqual(apiResult.zones.map((z) => `${z.id}=${z.trigger![1]!.alertLevel}`).sort());
    const probs = await w.evaluate((el) => [...el.shadowRoot!.querySelectorAll('tbody td.n')].map((td) => td.textContent));
    expect(probs.length).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await w.screenshot({ path: join(shots, 'widget-local.png') });
    await p.close();
  }, 60_000);

  it('the docs page shows the snippet and live examples in English and French', async () => {
    const p = await newPage();
    await p.setViewportSize({ width: 1100, height: 900 });
    await p.goto(`${app.origin}/widget.html`);
    await p.waitForFunction(() => [...document.querySelectorAll('ibf-impact-widget[result]')].every((w) => w.shadowRoot?.querySelector('table')), null, { timeout: 20_000 });
    expect(await p.textContent('#snippet')).toContain(`<script type="module" src="${app.origin}/widget/ibf-impact-widget.js"></script>`);
    const en = p.locator('#example-en');
    expect(await en.evaluate((el) => el.shadowRoot!.querySelectorAll('path[data-zone]').length)).toBe(6);
    expect(await en.evaluate((el) => el.shadowRoot!.querySelector('path[data-zone="MOZ"]')!.getAttribute('data-level'))).toBe('high');
    expect(await shadowText(p.locator('#example-fr'))).toMatch(/Échéance : 48-hour|Échéance: 48-hour/);
    await p.screenshot({ path: join(shots, 'widget-docs.png'), fullPage: true });
    await p.close();
  }, 40_000);

  it('the widget\'s JavaScript is within 60 KB gzip (without the WASM and the local-mode worker)', async () => {
    const { widgetSize, WIDGET_BUDGET_BYTES } = (await import(join(ROOT, 'scripts/web-build.mjs'))) as { widgetSize(d: string): Promise<{ gzip: number; files: string[] }>; WIDGET_BUDGET_BYTES: number };
    const size = await widgetSize(join(ROOT, 'web/dist/widget'));
    expect(WIDGET_BUDGET_BYTES).toBe(60 * 1024);
    expect(size.gzip).toBeLessThanOrEqual(WIDGET_BUDGET_BYTES);
    expect(size.files[0]).toBe('ibf-impact-widget.js');
  });
});

if (SKIP) it.skip(`<ibf-impact-widget> in headless Chromium: skipped because ${SKIP}`, () => {});
