/**
 * @module web/main
 * The dashboard's wiring: opens on the bundled demo as `ibf demo` computed it at build time, loads other
 * scenarios (inputs.ts), computes in this browser on the worker pool (compute.ts) or on the API
 * (api-run.ts), and renders the map, table, charts, comparison and downloads from one state (state.ts).
 */
import './style.css';
import { isIbfError } from '../../src/errors.js';
import { sha256Hex } from '../../src/engine/manifest.js';
import type { AssessResult } from '../../src/engine/result.js';
import type { Progress } from '../../src/engine/run.js';
import { parseZones } from '../../src/io/zones.js';
import { zonesCsv, zonesGeoJson } from '../../src/io/zones-out.js';
import { parseScenario } from '../../src/model/scenario.js';
import scalarUrl from '../../build/ibf.scalar.wasm?url';
import simdUrl from '../../build/ibf.simd.wasm?url';
import poolWorkerUrl from '../../src/pool/worker-browser.ts?worker&url';
import type { DemoSpec } from '../../src/demo/generate.js';
import type { AuxOps } from './aux-worker.js';
import { runOnApi } from './api-run.js';
import type { BrowserRun } from './compute.js';
import type { EngineOps } from './engine-worker.js';
import type { GeneratedDemo } from './demo-gen.js';
import { analyse, catalog, docFromFiles, explain, guessRoles, layoutOf, scenarioProblems, urlInfo, zonesForMap, type Given } from './inputs.js';
import { ApiError, type ApiTarget } from './lib/api.js';
import { compact, rate } from './lib/format.js';
import { metricLabel, metricsOf, slicesOf, type MetricId } from './lib/metrics.js';
import type { Preview, PreviewMeta } from './lib/preview.js';
import { client } from './lib/rpc.js';
import { emit, onChange, state, type Current } from './state.js';
import { renderCharts, wireCharts } from './views/charts.js';
import { renderCompare } from './views/compare.js';
import { renderMap, watchMapSize } from './views/map.js';
import { renderTable, wireTable } from './views/table.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const aux = client<AuxOps>(() => new Worker(new URL('./aux-worker.ts', import.meta.url), { type: 'module' }));
/** The assessments' worker (it starts the tile pool); terminated by Cancel, started again by the next run. */
const engine = client<EngineOps>(() => new Worker(new URL('./engine-worker.ts', import.meta.url), { type: 'module' }));

interface DemoStamp {
  generator: number;
  spec: DemoSpec;
  files: Record<string, { bytes: number; sha256: string }>;
}
type DemoName = 'forecast' | 'risk';

// ---------------------------------------------------------------------------------------------------
// status lines

function status(text: string): void {
  $('run-status').textContent = text;
}
function runError(e: unknown): void {
  $('run-error').textContent = e ? explain(e) : '';
}
function scenarioError(text: string): void {
  $('scenario-error').textContent = text;
}

// ---------------------------------------------------------------------------------------------------
// the demo: results and previews computed at build time, rasters generated here on demand

const demoCache: { stamp?: DemoStamp; zonesText?: string; generated?: GeneratedDemo; docs: Partial<Record<DemoName, Uint8Array>>; results: Partial<Record<DemoName, AssessResult>>; previews?: Array<PreviewMeta & { scenario: DemoName }> } = { docs: {}, results: {} };

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} answered ${res.status}: was the app built with scripts/web-build.mjs (it precomputes the demo)?`);
  return res;
}

async function previewValues(meta: PreviewMeta): Promise<Float32Array> {
  const res = await fetchOk(`demo/${meta.file}`);
  const stream = res.body!.pipeThrough(new DecompressionStream('gzip'));
  return new Float32Array(await new Response(stream).arrayBuffer());
}

async function loadDemo(which: DemoName): Promise<void> {
  const [stamp, zonesText, docBytes, result, index] = await Promise.all([
    demoCache.stamp ?? fetchOk('demo/demo-cache.json').then((r) => r.json() as Promise<DemoStamp>),
    demoCache.zonesText ?? fetchOk('demo/zones.geojson').then((r) => r.text()),
    demoCache.docs[which] ?? fetchOk(`demo/${which}.scenario.json`).then(async (r) => new Uint8Array(await r.arrayBuffer())),
    demoCache.results[which] ?? fetchOk(`demo/${which}.json`).then((r) => r.json() as Promise<AssessResult>),
    demoCache.previews ?? fetchOk('demo/previews.json').then((r) => r.json() as Promise<Array<PreviewMeta & { scenario: DemoName }>>),
  ]);
  Object.assign(demoCache, { stamp, zonesText, previews: index });
  demoCache.docs[which] = docBytes;
  demoCache.results[which] = result;
  const doc = JSON.parse(new TextDecoder().decode(docBytes)) as Record<string, unknown>;
  const files = new Map<string, Blob>([['zones.geojson', new Blob([zonesText], { type: 'application/geo+json' })]]);
  if (demoCache.generated) for (const [n, b] of Object.entries(demoCache.generated.files)) files.set(n, b);
  const metas = index.filter((p) => p.scenario === which);
  const previews: Preview[] = await Promise.all(metas.map(async (m) => ({ ...m, values: await previewValues(m) })));
  setCurrent({
    label: `Demo: ${doc.name as string}`,
    demo: which,
    doc,
    docBytes,
    files,
    zones: zonesForMap(zonesText),
    zonesText,
    layout: layoutOf(doc, result.bands.length),
    result,
    origin: 'cli',
    previews,
  });
  state.view.metric = which === 'forecast' ? 'alert' : 'ead';
  state.view.slice = which === 'forecast' ? slicesOf(result).length - 1 : slicesOf(result).length - 1;
  state.view.layer = which === 'forecast' ? 'hazard' : 'ead';
  fillForm(doc);
  status(`Showing the result ibf demo computed when the app was built (${result.manifest.createdAt}, kernel ${result.manifest.kernel}). "Compute in this browser" generates the same rasters here and computes it again.`);
  emit();
}

/** The demo rasters, generated in the helper worker once per page (same bytes as the CLI's). */
async function demoFiles(signal: AbortSignal): Promise<GeneratedDemo> {
  if (demoCache.generated) return demoCache.generated;
  const stamp = demoCache.stamp!;
  status('Generating the demo rasters in a worker (a few seconds)…');
  const g = await aux.call('demo', { spec: stamp.spec, generator: stamp.generator, zonesText: demoCache.zonesText! }, { signal, onProgress: (p) => status(`Generating the demo rasters in a worker: ${String(p)}…`) });
  demoCache.generated = g;
  const same = Object.entries(g.sha256).every(([n, h]) => stamp.files[n]?.sha256 === h);
  $('run-status').dataset.demoSha = same ? 'match' : 'differ';
  if (!same) console.warn('the demo rasters generated here differ from the CLI stamp', g.sha256, stamp.files);
  return g;
}

// ---------------------------------------------------------------------------------------------------
// current scenario

function setCurrent(c: Current): void {
  if (c.doc !== state.current.doc) $('api-status').textContent = '';
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name="demo"]')) r.checked = r.value === c.demo;
  state.current = c;
  $('scenario-title').textContent = c.label;
  const r = c.result;
  if (r) {
    const ms = metricsOf(r, c.layout);
    if (!ms.includes(state.view.metric)) state.view.metric = ms.includes('alert') ? 'alert' : 'damage';
    if (state.view.slice >= slicesOf(r).length) state.view.slice = 0;
  }
  if (state.view.zone && !r?.zones.some((z) => z.id === state.view.zone)) state.view.zone = null;
}

let given: Given[] = [];

function renderFiles(): void {
  const ul = $('file-list');
  ul.replaceChildren();
  for (const g of given) {
    const li = document.createElement('li');
    if (g.error) li.className = 'bad';
    const name = document.createElement('strong');
    name.textContent = g.name;
    const meta = document.createElement('span');
    meta.className = 'meta';
    if (g.error) meta.textContent = `not used: ${g.error.split('\n')[0]}`;
    else if (g.info) meta.textContent = `${g.info.grid.width} × ${g.info.grid.height} cells, ${g.info.bandCount} band(s), ${g.info.grid.crs ?? 'no CRS'}`;
    else if (g.fields) meta.textContent = `${g.kind === 'zones' ? 'properties' : 'columns'}: ${g.fields.slice(0, 6).join(', ')}`;
    else if (g.kind === 'scenario') meta.textContent = 'scenario';
    li.append(name, meta);
    if (!g.error && g.kind === 'raster') {
      const label = document.createElement('label');
      label.textContent = 'Role ';
      const sel = document.createElement('select');
      for (const r of ['hazard', 'exposure', 'ignore']) sel.add(new Option(r, r, false, g.role === r));
      sel.addEventListener('change', () => {
        g.role = sel.value as Given['role'];
        rebuildFromFiles();
      });
      label.append(sel);
      li.append(label);
    }
    const rm = document.createElement('button');
    rm.type = 'button';
    rm.textContent = 'Remove';
    rm.setAttribute('aria-label', `Remove ${g.name}`);
    rm.addEventListener('click', () => {
      given = given.filter((x) => x !== g);
      renderFiles();
      if (given.some((x) => !x.error)) rebuildFromFiles();
    });
    li.append(rm);
    ul.append(li);
  }
}

async function addFiles(list: FileList | File[]): Promise<void> {
  const files = [...list];
  if (!files.length) return;
  const found = await Promise.all(files.map(analyse));
  for (const g of found) given = [...given.filter((x) => x.name !== g.name), g];
  guessRoles(given);
  renderFiles();
  const bad = found.filter((g) => g.error);
  scenarioError(bad.map((g) => `${g.name} cannot be used: ${g.error}`).join('\n\n'));
  if (found.some((g) => !g.error)) rebuildFromFiles(bad.length > 0);
}

/** The scenario from the files given (a scenario JSON among them wins over the roles). */
function rebuildFromFiles(keepError = false): void {
  const sc = given.find((g) => g.kind === 'scenario' && !g.error);
  const form = formValues();
  const doc = sc?.doc ? JSON.parse(JSON.stringify(sc.doc)) : docFromFiles(given, form);
  if (!sc) {
    // the form's choices carry over to the new files, unless a curve CSV was given
    const v = f.vuln().value;
    if (v.startsWith('catalog:') && !given.some((g) => g.role === 'curves' && !g.error)) doc.vulnerability = v.slice(8);
    if (f.affected().value !== '') doc.affectedThreshold = Number(f.affected().value);
  }
  fillForm(doc);
  const files = new Map(given.filter((g) => !g.error).map((g) => [g.name, g.blob] as const));
  const zonesRef = (doc.zones as { source?: string } | undefined)?.source;
  const zonesGiven = given.find((g) => g.kind === 'zones' && !g.error && zonesRef && (g.name === zonesRef || zonesRef.endsWith(`/${g.name}`)));
  let zones;
  try {
    zones = zonesGiven?.text ? zonesForMap(zonesGiven.text) : undefined;
  } catch (e) {
    scenarioError(`${zonesGiven!.name}: ${explain(e)}`);
  }
  const hz = given.find((g) => g.role === 'hazard' && !g.error && g.info);
  const docBytes = sc?.text !== undefined ? new TextEncoder().encode(sc.text) : undefined; // the file's own bytes, hashed as the CLI does
  setCurrent({ label: sc ? `Your scenario: ${sc.name}` : 'Your files', doc, docBytes, files, zones, zonesText: zonesGiven?.text, layout: hz?.info ? layoutOf(doc, hz.info.bandCount) : undefined, previews: [] });
  showDoc();
  const problems = scenarioProblems(doc);
  if (!keepError) scenarioError(problems);
  else if (problems) scenarioError(`${$('scenario-error').textContent}\n\n${problems}`);
  status('Files loaded: compute in this browser (nothing leaves this device) or send them to the API.');
  emit();
  void hazardPreviews();
}

/** Hazard previews of the current scenario's raster, read in the helper worker. */
async function hazardPreviews(): Promise<void> {
  const cur = state.current;
  const doc = cur.doc as { hazard?: { source?: string; unit?: string; bands?: { type?: string; leadTimes?: unknown[] } } };
  const ref = doc.hazard?.source;
  if (!ref) return;
  const blob = cur.files.get(ref);
  const source = blob ?? (/^https?:/i.test(ref) ? ref : undefined);
  if (!source) return;
  try {
    const info = blob ? given.find((g) => g.blob === blob)?.info : await urlInfo(ref);
    if (!info) return;
    const layout = layoutOf(cur.doc, info.bandCount);
    const groups = layout
      ? Array.from({ length: layout.leads }, (_, l) => ({ id: `hazard-${l}`, label: `Hazard, mean of members, ${String(doc.hazard!.bands!.leadTimes![l])}`, bands: Array.from({ length: layout.members }, (_, m) => (layout.order === 'member-major' ? m * layout.leads + l : l * layout.members + m)) }))
      : Array.from({ length: Math.min(info.bandCount, 12) }, (_, b) => ({ id: `hazard-${b}`, label: `Hazard, ${info.bandNames?.[b] || `band ${b + 1}`}`, bands: [b] }));
    const previews = await aux.call('preview', { source, name: ref, unit: doc.hazard!.unit ?? '', groups });
    if (state.current !== cur) return;
    cur.previews = [...previews, ...cur.previews.filter((p) => p.quantity !== 'hazard')];
    if (state.view.layer === 'none') state.view.layer = 'hazard';
    emit();
  } catch (e) {
    if (state.current === cur) scenarioError(`The hazard preview could not be drawn: ${explain(e)}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// form and JSON

const f = {
  hazardUnit: () => $<HTMLSelectElement>('f-hazard-unit'),
  exposureUnit: () => $<HTMLInputElement>('f-exposure-unit'),
  vuln: () => $<HTMLSelectElement>('f-vuln'),
  csvCol: () => $<HTMLSelectElement>('f-csv-col'),
  rule: () => $<HTMLSelectElement>('f-rule'),
  idProp: () => $<HTMLSelectElement>('f-id-prop'),
  affected: () => $<HTMLInputElement>('f-affected'),
  trigThreshold: () => $<HTMLInputElement>('f-trigger-threshold'),
  trigPMin: () => $<HTMLInputElement>('f-trigger-pmin'),
};

function formValues() {
  return { hazardUnit: f.hazardUnit().value, exposureUnit: f.exposureUnit().value || 'USD' };
}

function setOptions(sel: HTMLSelectElement, opts: Array<[string, string]>, value: string): void {
  sel.replaceChildren(...opts.map(([v, l]) => new Option(l, v)));
  if (value && !opts.some(([v]) => v === value)) sel.add(new Option(value, value));
  sel.value = value;
}

/** Shows a scenario document in the form. */
function fillForm(doc: Record<string, any>): void {
  const unitSel = f.hazardUnit();
  if (doc.hazard?.unit && ![...unitSel.options].some((o) => o.value === doc.hazard.unit)) unitSel.add(new Option(doc.hazard.unit));
  unitSel.value = doc.hazard?.unit ?? 'm';
  f.exposureUnit().value = doc.exposure?.unit ?? 'USD';
  const v = doc.vulnerability;
  const csvs = given.filter((g) => g.role === 'curves' && !g.error);
  const vuln = f.vuln();
  for (const o of [...vuln.querySelectorAll('option[data-csv]')]) o.remove();
  for (const g of csvs) {
    const o = new Option(`CSV: ${g.name}`, `csv:${g.name}`);
    o.dataset.csv = '1';
    vuln.prepend(o);
  }
  if (typeof v === 'string') vuln.value = `catalog:${v}`;
  else if (v?.catalog) vuln.value = `catalog:${v.catalog}`;
  else if (v?.csv) {
    if (![...vuln.options].some((o) => o.value === `csv:${v.csv}`)) vuln.prepend(Object.assign(new Option(`CSV: ${v.csv}`, `csv:${v.csv}`), { dataset: { csv: '1' } }));
    vuln.value = `csv:${v.csv}`;
  } else {
    if (![...vuln.options].some((o) => o.value === 'custom')) vuln.prepend(new Option('(as in the scenario JSON)', 'custom'));
    vuln.value = 'custom';
  }
  syncCsvColumns(v?.column);
  f.rule().value = doc.zones?.rule ?? 'coverage';
  const props = given.find((g) => g.kind === 'zones' && !g.error && g.name === doc.zones?.source)?.fields ?? (doc.zones?.idProperty ? [doc.zones.idProperty] : []);
  setOptions(f.idProp(), props.map((p: string) => [p, p]), doc.zones?.idProperty ?? '');
  f.idProp().disabled = !doc.zones;
  f.affected().value = doc.affectedThreshold ?? '';
  const ens = doc.hazard?.bands?.type === 'ensemble';
  $('f-trigger').toggleAttribute('disabled', !ens);
  f.trigThreshold().value = doc.trigger?.threshold ?? '';
  f.trigPMin().value = doc.trigger?.pMin ?? '';
}

function syncCsvColumns(col?: string): void {
  const v = f.vuln().value;
  const g = v.startsWith('csv:') ? given.find((x) => x.name === v.slice(4)) : undefined;
  $('f-csv-col-label').hidden = !g;
  if (g) setOptions(f.csvCol(), (g.fields ?? []).slice(1).map((c) => [c, c]), col ?? g.fields?.[1] ?? '');
}

/** Writes the form's fields into `doc`. */
function applyForm(doc: Record<string, any>): void {
  doc.hazard = { ...doc.hazard, unit: f.hazardUnit().value };
  doc.exposure = { ...doc.exposure, unit: f.exposureUnit().value || 'USD' };
  const v = f.vuln().value;
  if (v.startsWith('catalog:')) doc.vulnerability = v.slice(8);
  else if (v.startsWith('csv:')) doc.vulnerability = { csv: v.slice(4), ...(f.csvCol().value ? { column: f.csvCol().value } : {}) };
  if (doc.zones) doc.zones = { ...doc.zones, rule: f.rule().value, ...(f.idProp().value ? { idProperty: f.idProp().value } : {}) };
  const a = f.affected().value;
  if (a === '') delete doc.affectedThreshold;
  else doc.affectedThreshold = Number(a);
  if (doc.hazard?.bands?.type === 'ensemble') {
    const t = f.trigThreshold().value;
    const p = f.trigPMin().value;
    if (t !== '') doc.trigger = { metric: 'damage', pMin: 0.5, ...doc.trigger, threshold: Number(t), ...(p !== '' ? { pMin: Number(p) } : {}) };
  }
}

function showDoc(): void {
  $<HTMLTextAreaElement>('scenario-json').value = JSON.stringify(state.current.doc, null, 2);
}

/** The user changed the scenario: the shown result no longer belongs to it. */
function scenarioChanged(doc: Record<string, unknown>, how: string): void {
  const cur = state.current;
  const wasDemo = cur.demo;
  setCurrent({ ...cur, doc, docBytes: undefined, demo: undefined, label: wasDemo ? `${cur.label} (changed)` : cur.label, browser: undefined, api: undefined, layout: cur.result ? layoutOf(doc, cur.result.bands.length) : cur.layout });
  showDoc();
  scenarioError(scenarioProblems(doc));
  status(`${how}: compute again to see its result (the map still shows the previous one).`);
  emit();
}

// ---------------------------------------------------------------------------------------------------
// computing

let controller: AbortController | undefined;
const abs = (u: string) => new URL(u, location.href).href;

function setBusy(busy: boolean): void {
  state.busy = busy;
  $<HTMLButtonElement>('run-browser').disabled = busy;
  $<HTMLButtonElement>('run-api').disabled = busy;
  $<HTMLButtonElement>('cancel').disabled = !busy;
  $('main').setAttribute('aria-busy', String(busy));
}

function progress(p: Progress | null, text?: string): void {
  const bar = $<HTMLProgressElement>('progress');
  if (p === null) bar.removeAttribute('value');
  else bar.value = p.cellsTotal ? p.cellsDone / p.cellsTotal : 0;
  if (p) {
    bar.dataset.tiles = `${p.tilesDone}/${p.tilesTotal}`;
    status(`Tile ${p.tilesDone} of ${p.tilesTotal} · ${rate(p.cellsPerSecond)} · ${p.etaSeconds === null ? '' : `about ${Math.ceil(p.etaSeconds)} s left`}`);
  } else if (text) status(text);
}

async function computeInBrowser(): Promise<void> {
  if (state.busy) return;
  setBusy(true);
  runError(null);
  controller = new AbortController();
  const signal = controller.signal;
  const cur = state.current;
  const t0 = performance.now();
  try {
    parseScenario(cur.doc, 'the scenario'); // every problem at once, before any work
    if (cur.demo || cur.label.startsWith('Demo')) {
      progress(null);
      const g = await demoFiles(signal);
      for (const [n, b] of Object.entries(g.files)) cur.files.set(n, b);
      if (cur.demo) {
        const gen = [...g.previews[cur.demo]];
        cur.previews = [...gen, ...cur.previews.filter((p) => p.quantity !== 'hazard')];
      }
    }
    const size = Number($<HTMLSelectElement>('workers').value) || navigator.hardwareConcurrency || 1;
    const docBytes = cur.docBytes ?? new TextEncoder().encode(`${JSON.stringify(cur.doc, null, 2)}\n`);
    progress({ tilesDone: 0, tilesTotal: 0, cellsDone: 0, cellsTotal: 0, cellsPerSecond: 0, etaSeconds: null, elapsedSeconds: 0 });
    status(`Planning: reading headers and zones, then ${size} worker(s) compute the tiles…`);
    const run: BrowserRun = await engine.call(
      'run',
      { doc: cur.doc, files: Object.fromEntries(cur.files), scenarioSha256: await sha256Hex(docBytes), workers: size, wasm: { simd: abs(simdUrl), scalar: abs(scalarUrl) }, poolWorker: abs(poolWorkerUrl) },
      { signal, onProgress: (p) => progress(p as Progress) },
    );
    if (state.current !== cur) return;
    const cells = run.result.grid ? run.result.grid.width * run.result.grid.height : 0;
    setCurrent({
      ...cur,
      result: run.result,
      origin: 'browser',
      browser: run.result,
      layout: layoutOf(cur.doc, run.result.bands.length),
      previews: [...cur.previews.filter((p) => p.quantity === 'hazard'), ...run.previews],
      damageTiff: run.damageTiff,
      eadTiff: run.eadTiff,
      damageNote: run.damageNote,
    });
    if (!state.current.previews.some((p) => p.id.startsWith(state.view.layer))) state.view.layer = run.previews[0]?.quantity ?? 'hazard';
    $<HTMLProgressElement>('progress').value = 1;
    const sha = cur.demo ? $('run-status').dataset.demoSha : undefined;
    const secs = (x: number) => x.toFixed(x < 1 ? 2 : 1);
    status(`Computed in this browser in ${secs((performance.now() - t0) / 1000)} s (assessment ${secs(run.seconds)} s, ${compact(cells / run.seconds)} cells/s) on ${size} worker(s), kernel ${run.result.manifest.kernel}.${sha ? ` Demo rasters ${sha === 'match' ? 'identical to' : 'DIFFERENT from'} the CLI's (sha256).` : ''}`);
    $('run-status').dataset.done = String(Date.now());
    emit();
  } catch (e) {
    const cancelled = signal.aborted || (isIbfError(e) && e.code === 'E_CANCELLED') || (e as Error)?.name === 'AbortError';
    $<HTMLProgressElement>('progress').value = 0;
    if (cancelled) status('Cancelled: the workers stopped; the result shown is unchanged.');
    else {
      status('The computation failed (see below); the result shown is unchanged.');
      runError(e);
    }
  } finally {
    setBusy(false);
  }
}

function apiTarget(): ApiTarget {
  const base = $<HTMLInputElement>('api-base').value.trim();
  const key = $<HTMLInputElement>('api-key').value.trim();
  try {
    sessionStorage.setItem('ibf-api', JSON.stringify({ base }));
  } catch {
    // storage may be off
  }
  return { base, key };
}

async function computeOnApi(): Promise<void> {
  if (state.busy) return;
  setBusy(true);
  runError(null);
  controller = new AbortController();
  const cur = state.current;
  const apiStatus = (t: string) => ($('api-status').textContent = t);
  const t0 = performance.now();
  try {
    if (cur.demo) {
      const g = await demoFiles(controller.signal);
      for (const [n, b] of Object.entries(g.files)) cur.files.set(n, b);
    }
    progress(null);
    const result = await runOnApi(cur.doc, cur.files, apiTarget(), { signal: controller.signal, onStatus: apiStatus });
    if (state.current !== cur) return;
    setCurrent({ ...cur, api: result, ...(cur.browser ? {} : { result, origin: 'api' as const, layout: layoutOf(cur.doc, result.bands.length) }) });
    apiStatus(`The API answered in ${((performance.now() - t0) / 1000).toFixed(1)} s (kernel ${result.manifest.kernel}).${cur.browser ? '' : ' Compute in this browser too to compare.'}`);
    $<HTMLProgressElement>('progress').value = 1;
    emit();
  } catch (e) {
    $<HTMLProgressElement>('progress').value = 0;
    if (controller.signal.aborted) apiStatus('Stopped waiting for the API (a job it started may still finish there).');
    else {
      apiStatus('The API did not compute it (see below).');
      if (e instanceof ApiError && e.status === 0) runError(Object.assign(new Error(`${e.message}`), { hint: 'Check the API base URL; a key used from a browser must list this page\'s origin, or the API must allow it (CORS).' }));
      else if (e instanceof ApiError) runError(Object.assign(new Error(`The API answered ${e.status} ${e.code}: ${e.message}`), { hint: e.hint ?? '' }));
      else runError(e);
    }
  } finally {
    setBusy(false);
  }
}

// ---------------------------------------------------------------------------------------------------
// controls and downloads

function renderControls(): void {
  const r = state.current.result;
  const metric = $<HTMLSelectElement>('metric');
  const slice = $<HTMLSelectElement>('slice');
  const layer = $<HTMLSelectElement>('layer');
  if (r) {
    const ms = metricsOf(r, state.current.layout);
    setOptions(metric, ms.map((m) => [m, metricLabel(m, r)]), state.view.metric);
    const sl = slicesOf(r);
    setOptions(slice, sl.map((s) => [String(s.index), s.label]), String(state.view.slice));
    $('slice-label').firstChild!.textContent = r.bandsType === 'ensemble' ? 'Lead time ' : r.bandsType === 'return-periods' ? 'Return period ' : 'Band ';
    slice.disabled = state.view.metric === 'ead' || sl.length < 2;
  }
  const kinds = new Map<string, string>([['none', 'none']]);
  for (const p of state.current.previews) if (!kinds.has(p.quantity)) kinds.set(p.quantity, p.quantity === 'ead' ? 'expected annual damage' : p.quantity === 'damage' ? 'damage per cell' : 'hazard intensity');
  setOptions(layer, [...kinds], kinds.has(state.view.layer) ? state.view.layer : 'none');
  const has = { json: Boolean(r), csv: Boolean(r?.zones.length), geojson: Boolean(r?.zones.length && state.current.zonesText), damage: Boolean(state.current.damageTiff), ead: Boolean(state.current.eadTiff) };
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-download]')) b.disabled = !has[b.dataset.download as keyof typeof has];
  $('download-note').textContent = state.current.damageNote
    ? `Damage GeoTIFF: ${state.current.damageNote}.`
    : state.current.damageTiff || state.current.eadTiff ? '' : 'The GeoTIFFs appear once the scenario is computed in this browser.';
}

function save(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function download(kind: string): void {
  const cur = state.current;
  const r = cur.result;
  if (!r) return;
  const slug = cur.demo ?? (String(cur.doc.name ?? 'scenario').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'scenario');
  try {
    if (kind === 'json') save(`${slug}-result.json`, `${JSON.stringify(r, null, 2)}\n`, 'application/json');
    else if (kind === 'csv') save(`${slug}-zones.csv`, zonesCsv(r), 'text/csv');
    else if (kind === 'geojson') {
      const z = cur.doc.zones as { idProperty: string; nameProperty?: string };
      const zones = parseZones(JSON.parse(cur.zonesText!), { idProperty: z.idProperty, nameProperty: z.nameProperty, name: 'zones' });
      save(`${slug}-zones.geojson`, `${JSON.stringify(zonesGeoJson(r, zones))}\n`, 'application/geo+json');
    } else if (kind === 'damage' && cur.damageTiff) save(`${slug}-damage.tif`, cur.damageTiff as Uint8Array<ArrayBuffer>, 'image/tiff');
    else if (kind === 'ead' && cur.eadTiff) save(`${slug}-ead.tif`, cur.eadTiff as Uint8Array<ArrayBuffer>, 'image/tiff');
  } catch (e) {
    runError(e);
  }
}

// ---------------------------------------------------------------------------------------------------
// start

function wire(): void {
  const workers = $<HTMLSelectElement>('workers');
  const cores = navigator.hardwareConcurrency || 1;
  for (let i = 1; i <= Math.max(cores, 2); i++) workers.add(new Option(`${i}${i === cores ? ' (all cores)' : ''}`, String(i), false, i === cores));
  $('run-browser').addEventListener('click', () => void computeInBrowser());
  $('run-api').addEventListener('click', () => void computeOnApi());
  $('cancel').addEventListener('click', () => controller?.abort());
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="demo"]')) {
    radio.addEventListener('change', () => {
      if (!radio.checked || state.busy) return;
      given = [];
      renderFiles();
      scenarioError('');
      runError(null);
      void loadDemo(radio.value as DemoName).catch((e) => runError(e));
    });
  }
  // files: drop anywhere on the drop zone, or choose
  const drop = $('drop');
  const input = $<HTMLInputElement>('file-input');
  $('choose-files').addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    if (input.files) void addFiles(input.files);
    input.value = '';
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer?.files.length) void addFiles(e.dataTransfer.files);
  });
  // a file dropped elsewhere must not navigate away from the page
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  $('use-urls').addEventListener('click', () => void useUrls());
  // form
  const formChanged = () => {
    syncCsvColumns();
    const doc = JSON.parse(JSON.stringify(state.current.doc)) as Record<string, unknown>;
    applyForm(doc);
    scenarioChanged(doc, 'The scenario changed');
  };
  for (const id of ['f-hazard-unit', 'f-exposure-unit', 'f-vuln', 'f-csv-col', 'f-rule', 'f-id-prop', 'f-affected', 'f-trigger-threshold', 'f-trigger-pmin']) $(id).addEventListener('change', formChanged);
  $('apply-json').addEventListener('click', () => {
    try {
      const doc = JSON.parse($<HTMLTextAreaElement>('scenario-json').value) as Record<string, unknown>;
      fillForm(doc);
      scenarioChanged(doc, 'The scenario JSON was applied');
    } catch (e) {
      scenarioError(`The scenario JSON does not parse: ${(e as Error).message}`);
    }
  });
  // views
  $('metric').addEventListener('change', () => {
    state.view.metric = $<HTMLSelectElement>('metric').value as MetricId;
    emit();
  });
  $('slice').addEventListener('change', () => {
    state.view.slice = Number($<HTMLSelectElement>('slice').value);
    emit();
  });
  $('layer').addEventListener('change', () => {
    state.view.layer = $<HTMLSelectElement>('layer').value;
    emit();
  });
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-download]')) b.addEventListener('click', () => download(b.dataset.download!));
  wireTable();
  wireCharts();
  watchMapSize();
  try {
    const saved = JSON.parse(sessionStorage.getItem('ibf-api') ?? '{}') as { base?: string };
    if (saved.base) $<HTMLInputElement>('api-base').value = saved.base;
  } catch {
    // storage may be off
  }
  // `npm start` opens the page as /#key=<a local dev key>: fill the field, then drop the key from the
  // address bar (a fragment never reaches a server, but it would stay in the history)
  const fromHash = /(?:^#|&)key=([^&]+)/.exec(location.hash)?.[1];
  if (fromHash) {
    $<HTMLInputElement>('api-key').value = decodeURIComponent(fromHash);
    history.replaceState(null, '', location.pathname + location.search);
  }
  onChange(() => {
    renderControls();
    renderMap();
    renderTable();
    renderCharts();
    renderCompare();
  });
}

async function useUrls(): Promise<void> {
  const h = $<HTMLInputElement>('url-hazard').value.trim();
  const x = $<HTMLInputElement>('url-exposure').value.trim();
  const z = $<HTMLInputElement>('url-zones').value.trim();
  scenarioError('');
  try {
    const [hi] = await Promise.all([urlInfo(h), urlInfo(x)]);
    let zonesText: string | undefined;
    if (z) {
      const res = await fetch(z);
      if (!res.ok) throw new Error(`${z} answered ${res.status}`);
      zonesText = await res.text();
    }
    const form = formValues();
    const doc: Record<string, unknown> = { name: 'Scenario from URLs', hazard: { source: h, unit: form.hazardUnit }, exposure: { source: x, unit: form.exposureUnit } };
    const props = zonesText ? Object.keys((JSON.parse(zonesText) as { features: Array<{ properties?: object }> }).features[0]?.properties ?? {}) : [];
    if (z) doc.zones = { source: z, idProperty: props[0] ?? 'id', rule: 'coverage' };
    applyForm(doc);
    if (zonesText) given = [...given.filter((g) => g.name !== z), { name: z, blob: new Blob([zonesText]), kind: 'zones', role: 'zones', fields: props, text: zonesText }];
    fillForm(doc);
    setCurrent({ label: 'Scenario from URLs', doc, files: new Map(), zones: zonesText ? zonesForMap(zonesText) : undefined, zonesText, layout: layoutOf(doc, hi.bandCount), previews: [] });
    showDoc();
    scenarioError(scenarioProblems(doc));
    status('Rasters at URLs: the tiles read only the windows they need (range requests).');
    emit();
    void hazardPreviews();
  } catch (e) {
    scenarioError(`The URLs cannot be used: ${explain(e)}`);
  }
}

async function start(): Promise<void> {
  wire();
  const cat = await catalog({ base: $<HTMLInputElement>('api-base').value.trim(), key: '' });
  const vuln = $<HTMLSelectElement>('f-vuln');
  const groups = new Map<string, HTMLOptGroupElement>();
  for (const c of cat.curves) {
    let g = groups.get(c.hazard);
    if (!g) groups.set(c.hazard, (g = Object.assign(document.createElement('optgroup'), { label: `${c.hazard} (${cat.from === 'api' ? 'API catalog' : 'built-in catalog'})` })));
    g.append(new Option(`${c.id}: ${c.title}`, `catalog:${c.id}`));
  }
  vuln.append(...groups.values());
  await loadDemo('forecast');
  document.body.dataset.ready = 'true';
}

start().catch((e) => {
  runError(e);
  document.body.dataset.ready = 'error';
});
