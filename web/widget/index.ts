/**
 * @module web/widget
 * `<ibf-impact-widget>`: the alert levels of an IBF forecast for a partner's site, in one module script.
 *
 *   <script type="module" src="https://ibf.example.org/widget/ibf-impact-widget.js"></script>
 *   <ibf-impact-widget api="https://ibf.example.org" key="ibf_…" job="<job id>" zones="…/zones.geojson"></ibf-impact-widget>
 *
 * Attributes: `api` (base URL of the IBF API), `key` (a public read-only key limited to the site's origin),
 * `job` (a job id: its result, waiting while it runs) or `result` (URL of a result JSON), `zones` (URL of the
 * zone polygons, GeoJSON in lon/lat; the property holding the ids is found by matching), `metric`
 * (`alert` default, `probability`, `damage`, `ead`), `lead-time` (label like `48-hour`, or hours), `lang`
 * (`en`, `fr`), `theme` (`light`, `dark`, `auto`), `rows` (table length, default 5), `heading`; and
 * `mode="local"` with `scenario` (URL of a small scenario JSON, sources relative to it): computed in this
 * page's own worker (the engine and WASM load only then). Errors are shown in the widget in plain words
 * (a site whose origin the key does not allow gets a message saying so); the element also fires
 * `ibf-error` and `ibf-render` events.
 */
import type { AssessResult } from '../../src/engine/result.js';
import type { AlertLevel } from '../../src/engine/trigger.js';
import { ApiError, jobResult, reachable, type ApiTarget } from '../src/lib/api.js';
import { compact, percent } from '../src/lib/format.js';
import { featureId, fitProjection, idPropertyOf, pathMaker, rewind, type ZoneCollection } from '../src/lib/map.js';
import { slicesOf, valueOf, type MetricId } from '../src/lib/metrics.js';
import { ALERT_COLOURS, ALERT_ORDER, ALERT_TEXT, NO_DATA_COLOUR, rampGradient, rampTable, scaleFor } from '../src/lib/ramps.js';
import localWorkerUrl from './local-worker.ts?worker&url';
import { words, type Words } from './i18n.js';

const W = 400;
const H = 300;
const RANK: Record<AlertLevel, number> = { none: 0, low: 1, medium: 2, high: 3 };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const CSS = `
:host{display:block;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;--bg:#fff;--fg:#1b1f24;--muted:#59616e;--line:#d5d9e0;--err-bg:#fdecea;--err-fg:#8a1c12;--sea:#eef3f8}
:host([theme=dark]){--bg:#171a1f;--fg:#e8eaed;--muted:#a4acb8;--line:#353c46;--err-bg:#3b1511;--err-fg:#ffb4a9;--sea:#1d242d}
@media (prefers-color-scheme:dark){:host([theme=auto]){--bg:#171a1f;--fg:#e8eaed;--muted:#a4acb8;--line:#353c46;--err-bg:#3b1511;--err-fg:#ffb4a9;--sea:#1d242d}}
.w{background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:8px;padding:.7em .9em;max-width:100%;box-sizing:border-box}
h2{font-size:1.05em;margin:0}
.sub,.foot,.status{color:var(--muted);font-size:.85em;margin:.15em 0}
.body{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:flex-start;margin:.5em 0}
svg{flex:1 1 240px;min-width:0;max-width:100%;height:auto;background:var(--sea);border-radius:6px}
path{stroke:var(--fg);stroke-width:.7;stroke-opacity:.65}
path:focus{outline:none;stroke-width:2.5;stroke-opacity:1}
.legend{flex:0 1 9em;font-size:.85em}
.legend ul{list-style:none;margin:.2em 0;padding:0}
.sw{display:inline-block;width:1em;height:1em;border:1px solid var(--line);vertical-align:-.15em;margin-right:.35em}
.bar{height:.8em;border:1px solid var(--line);border-radius:2px}
.ticks{display:flex;justify-content:space-between;color:var(--muted)}
table{border-collapse:collapse;width:100%;font-size:.9em;font-variant-numeric:tabular-nums}
caption{text-align:left;color:var(--muted);font-size:.9em;padding:.2em 0}
th,td{text-align:left;padding:.25em .4em;border-bottom:1px solid var(--line)}
td.n{text-align:right}
.lvl{display:inline-block;border-radius:3px;padding:0 .4em;min-width:4em;text-align:center}
.error{background:var(--err-bg);color:var(--err-fg);border-radius:6px;padding:.6em .7em;margin:.4em 0}
[hidden]{display:none!important}
`;

type Phase = { kind: 'idle' } | { kind: 'loading'; text: string } | { kind: 'error'; text: string } | { kind: 'ready' };

export class IbfImpactWidget extends HTMLElement {
  static observedAttributes = ['api', 'key', 'job', 'result', 'zones', 'metric', 'lead-time', 'lang', 'theme', 'rows', 'heading', 'mode', 'scenario'];

  private readonly root: ShadowRoot;
  private result?: AssessResult;
  private zones?: ZoneCollection;
  private zonesError?: string;
  private phase: Phase = { kind: 'idle' };
  private controller?: AbortController;
  private worker?: Worker;
  private queued = false;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
  }

  connectedCallback(): void {
    this.schedule();
  }

  disconnectedCallback(): void {
    this.controller?.abort();
    this.worker?.terminate();
    this.worker = undefined;
  }

  attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (old === value || !this.isConnected) return;
    if (['metric', 'lead-time', 'lang', 'theme', 'rows', 'heading'].includes(name)) this.render();
    else this.schedule();
  }

  private get t(): ReturnType<typeof words>['t'] {
    return words(this.getAttribute('lang') ?? document.documentElement.lang).t;
  }

  private get language(): string {
    return words(this.getAttribute('lang') ?? document.documentElement.lang).lang;
  }

  /** Loads once per burst of attribute changes. */
  private schedule(): void {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      void this.load();
    });
  }

  private set(phase: Phase): void {
    this.phase = phase;
    this.render();
  }

  private async load(): Promise<void> {
    this.controller?.abort();
    const controller = (this.controller = new AbortController());
    const signal = controller.signal;
    const t = this.t;
    const api = this.getAttribute('api') ?? '';
    const target: ApiTarget = { base: api, key: this.getAttribute('key') ?? '' };
    const job = this.getAttribute('job');
    const resultUrl = this.getAttribute('result');
    const local = this.getAttribute('mode') === 'local';
    const zonesUrl = this.getAttribute('zones');
    this.result = undefined;
    this.set({ kind: 'loading', text: t(local ? 'computing' : 'loading') });
    const zones = zonesUrl ? this.loadZones(zonesUrl, signal) : Promise.resolve();
    try {
      let r: AssessResult;
      if (local) r = await this.computeLocal(signal);
      else if (job) {
        r = await jobResult(target, job, {
          signal,
          onStatus: (j) => {
            if (j.status !== 'succeeded') this.set({ kind: 'loading', text: t('waiting', { done: j.progress?.tilesDone ?? 0, total: j.progress?.tilesTotal ?? '?' }) });
          },
        });
      } else if (resultUrl) {
        const res = await fetch(new URL(resultUrl, document.baseURI), { signal, headers: target.key ? { authorization: `Bearer ${target.key}` } : {} }).catch((e: Error) => {
          throw e.name === 'AbortError' ? e : new ApiError(0, 'E_NETWORK', e.message);
        });
        if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, `${resultUrl}: HTTP ${res.status}`);
        r = (await res.json()) as AssessResult;
      } else throw new ApiError(-1, 'E_USAGE', t('errNeedSource'));
      await zones;
      if (signal.aborted) return;
      this.result = r;
      this.set({ kind: 'ready' });
      this.dispatchEvent(new CustomEvent('ibf-render', { detail: { zones: r.zones.length } }));
    } catch (e) {
      if (signal.aborted) return;
      const text = await this.friendly(e, target);
      this.set({ kind: 'error', text });
      this.dispatchEvent(new CustomEvent('ibf-error', { detail: { message: text, code: (e as ApiError).code, status: (e as ApiError).status } }));
    }
  }

  private async loadZones(url: string, signal: AbortSignal): Promise<void> {
    try {
      const res = await fetch(new URL(url, document.baseURI), { signal });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.zones = rewind((await res.json()) as ZoneCollection);
      this.zonesError = undefined;
    } catch (e) {
      if (!signal.aborted) {
        this.zones = undefined;
        this.zonesError = (e as Error).message;
      }
    }
  }

  /** `mode="local"`: the scenario computed in a worker of this page (the engine loads only now). */
  private computeLocal(signal: AbortSignal): Promise<AssessResult> {
    const scenario = this.getAttribute('scenario');
    if (!scenario) return Promise.reject(new ApiError(-1, 'E_USAGE', 'mode="local" needs a "scenario" attribute (URL of a scenario JSON)'));
    this.worker?.terminate();
    const url = new URL(localWorkerUrl, import.meta.url);
    // a worker script must be same-origin: from another origin, start it through a one-line module of this page
    const same = url.origin === location.origin;
    const boot = same ? url : URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};`], { type: 'text/javascript' }));
    const worker = (this.worker = new Worker(boot, { type: 'module' }));
    return new Promise<AssessResult>((ok, fail) => {
      signal.addEventListener('abort', () => worker.terminate(), { once: true });
      worker.onmessage = (e: MessageEvent<{ result?: AssessResult; error?: { code?: string; message: string } }>) => {
        worker.terminate();
        if (e.data.result) ok(e.data.result);
        else fail(new ApiError(422, e.data.error?.code ?? 'E_LOCAL', e.data.error?.message ?? 'failed'));
      };
      worker.onerror = (e) => {
        e.preventDefault();
        fail(new ApiError(0, 'E_WORKER', e.message || 'the worker could not start (does this page\'s Content-Security-Policy allow blob: workers?)'));
      };
      worker.postMessage({ scenario: new URL(scenario, document.baseURI).href });
    }).finally(() => {
      if (!same) URL.revokeObjectURL(String(boot));
    });
  }

  /** A message for the people reading the partner's page. */
  private async friendly(e: unknown, target: ApiTarget): Promise<string> {
    const t = this.t;
    const api = target.base || location.origin;
    if (!(e instanceof ApiError)) return t('errOther', { detail: (e as Error)?.message ?? String(e) });
    if (e.status === -1) return e.message;
    if (e.status === 0) {
      if (e.code === 'E_WORKER') return t('errOther', { detail: e.message });
      // the browser hides why: the API answers /healthz to anyone, so if that works the origin was refused
      return (await reachable(target)) ? t('errOrigin', { origin: location.origin, api }) : t('errUnreachable', { api });
    }
    if (e.status === 401) return t('errAuth');
    if (e.status === 403) return t('errForbidden', { detail: e.message });
    if (e.status === 404) return t('errNotFound', { detail: e.message });
    if (e.code !== 'E_NETWORK' && e.status === 422) return t('errFailed', { detail: e.message });
    return t('errOther', { detail: e.message });
  }

  private leadIndex(r: AssessResult): number {
    const slices = slicesOf(r);
    const want = this.getAttribute('lead-time');
    if (!want) return 0;
    const hours = Number(want);
    const src = r.totals.ensemble ?? r.zones.find((z) => z.trigger)?.trigger ?? [];
    const i = src.findIndex((e) => e.leadTime === want || (Number.isFinite(hours) && e.leadTimeHours === hours));
    if (i >= 0) return i;
    const j = slices.findIndex((s) => s.label === want);
    return j >= 0 ? j : 0;
  }

  private render(): void {
    const t = this.t;
    const heading = this.getAttribute('heading') ?? t('title');
    const r = this.result;
    let html = `<style>${CSS}</style><div class="w" part="container" role="region" aria-label="${esc(heading)}"><h2 part="heading">${esc(heading)}</h2>`;
    if (this.phase.kind === 'loading') html += `<p class="status" role="status">${esc(this.phase.text)}</p>`;
    if (this.phase.kind === 'error') html += `<p class="error" role="alert" part="error">${esc(this.phase.text)}</p>`;
    if (r && this.phase.kind === 'ready') html += this.body(r, t);
    html += '</div>';
    this.root.innerHTML = html;
  }

  private body(r: AssessResult, t: (k: keyof Words, v?: Record<string, string | number>) => string): string {
    const lang = this.language;
    const hasTrigger = r.zones.some((z) => z.trigger?.length);
    let metric = (this.getAttribute('metric') ?? 'alert') as MetricId;
    if (!['alert', 'probability', 'damage', 'ead'].includes(metric) || ((metric === 'alert' || metric === 'probability') && !hasTrigger)) metric = hasTrigger ? 'alert' : r.totals.ead !== undefined ? 'ead' : 'damage';
    const lead = this.leadIndex(r);
    const leadLabel = slicesOf(r)[lead]?.label ?? '';
    const level = (l: AlertLevel) => t(l);
    const zones = r.zones.map((z) => {
      const tr = z.trigger?.[lead];
      return { z, level: tr?.alertLevel, p: tr?.probability ?? null, damage: valueOf(z, 'damage', lead).value, v: valueOf(z, metric, lead) };
    });
    const scale = metric === 'probability' ? scaleFor([0, 1], 'linear') : scaleFor(zones.map((q) => q.v.value));
    const ramp = rampTable('viridis');
    const fill = (q: (typeof zones)[number]) => {
      if (metric === 'alert') return q.level ? ALERT_COLOURS[q.level] : NO_DATA_COLOUR;
      const v = q.v.value;
      if (v === null || !Number.isFinite(v)) return NO_DATA_COLOUR;
      const i = Math.round(scale.at(v) * 255) * 3;
      return `rgb(${ramp[i]},${ramp[i + 1]},${ramp[i + 2]})`;
    };
    const show = (q: (typeof zones)[number]) => (metric === 'alert' ? (q.level ? level(q.level) : t('noTrigger')) : metric === 'probability' ? percent(q.v.value, lang) : compact(q.v.value, lang));
    const metricName = metric === 'alert' ? t('alert') : metric === 'probability' ? t('probability') : metric === 'damage' ? t('damage') : t('ead');
    let out = `<p class="sub">${esc(r.name ?? '')}${metric !== 'ead' && leadLabel ? ` · ${esc(t('leadTime'))}: ${esc(leadLabel)}` : ''}</p>`;
    // map
    const list = zones.map((q) => `${q.z.name ?? q.z.id} ${show(q)}`).join(', ');
    out += '<div class="body">';
    if (this.zones) {
      const proj = fitProjection(this.zones, W, H, 6);
      const path = pathMaker(proj);
      const prop = idPropertyOf(this.zones, r.zones.map((z) => z.id));
      const byId = new Map(zones.map((q) => [q.z.id, q]));
      out += `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(t('mapLabel', { metric: metricName, lead: leadLabel, list }))}" part="map">`;
      for (const f of this.zones.features) {
        const id = featureId(f, prop);
        const q = id !== undefined ? byId.get(id) : undefined;
        out += `<path d="${path(f)}" fill="${q ? fill(q) : NO_DATA_COLOUR}"${q ? ` data-zone="${esc(q.z.id)}" data-level="${q.level ?? ''}"` : ''}><title>${esc(q ? `${q.z.name ?? q.z.id}: ${show(q)}` : String(id ?? ''))}</title></path>`;
      }
      out += '</svg>';
    } else if (this.zonesError) out += `<p class="status">${esc(t('errZones', { detail: this.zonesError }))}</p>`;
    // legend
    if (metric === 'alert') out += `<div class="legend"><div>${esc(t('legend'))}</div><ul>${ALERT_ORDER.map((l) => `<li><span class="sw" style="background:${ALERT_COLOURS[l]}"></span>${esc(level(l))}</li>`).join('')}</ul></div>`;
    else out += `<div class="legend"><div>${esc(metricName)}</div><div class="bar" style="background:${rampGradient('viridis')}"></div><div class="ticks"><span>${metric === 'probability' ? '0%' : compact(scale.domain[0], lang)}</span><span>${metric === 'probability' ? '100%' : compact(scale.domain[1], lang)}</span></div></div>`;
    out += '</div>';
    // table: highest alert first
    const rows = Math.max(1, Number(this.getAttribute('rows') ?? 5) || 5);
    const sorted = [...zones].sort((a, b) => RANK[b.level ?? 'none'] - RANK[a.level ?? 'none'] || (b.p ?? -1) - (a.p ?? -1) || (b.damage ?? -1) - (a.damage ?? -1));
    out += `<table part="table"><caption>${esc(t('tableCaption', { lead: leadLabel }))}</caption><thead><tr><th scope="col">${esc(t('zone'))}</th>${hasTrigger ? `<th scope="col">${esc(t('alert'))}</th><th scope="col">${esc(t('probability'))}</th>` : ''}<th scope="col">${esc(t('damage'))}</th></tr></thead><tbody>`;
    for (const q of sorted.slice(0, rows)) {
      const l = q.level;
      out += `<tr data-zone="${esc(q.z.id)}"><th scope="row">${esc(q.z.name ?? q.z.id)}</th>${hasTrigger ? `<td>${l ? `<span class="lvl" style="background:${ALERT_COLOURS[l]};color:${ALERT_TEXT[l]}">${esc(level(l))}</span>` : '–'}</td><td class="n">${percent(q.p, lang)}</td>` : ''}<td class="n">${compact(q.damage, lang)} ${esc(r.units.value)}</td></tr>`;
    }
    out += '</tbody></table>';
    if (sorted.length > rows) out += `<p class="foot">${esc(sorted.length - rows === 1 ? t('more1') : t('more', { n: sorted.length - rows }))}</p>`;
    const when = r.manifest?.createdAt ? new Date(r.manifest.createdAt).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' }) : '';
    out += `<p class="foot">${esc(t('source', { src: this.getAttribute('mode') === 'local' ? 'e4drr-ibf (local)' : this.getAttribute('api') || this.getAttribute('result') || '' }))}${when ? ` · ${esc(t('computedAt', { when }))}` : ''}</p>`;
    return out;
  }
}

if (!customElements.get('ibf-impact-widget')) customElements.define('ibf-impact-widget', IbfImpactWidget);
