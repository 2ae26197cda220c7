/**
 * @module web/views/map
 * The map: zones as a choropleth of the chosen metric (SVG paths from d3-geo, each focusable, with hover,
 * click and keyboard details) over a raster layer (a downsampled preview drawn on a canvas), with legends.
 */
import type { GeoProjection } from 'd3-geo';
import type { AssessResult, ZoneResult } from '../../../src/engine/result.js';
import { pointTransform } from '../../../src/geo/crs.js';
import { compact, percent } from '../lib/format.js';
import { drawRaster, featureId, fitProjection, idPropertyOf, measureMaker, pathMaker, type ZoneCollection } from '../lib/map.js';
import { metricLabel, slicesOf, valueOf, zoneValues, type MetricId } from '../lib/metrics.js';
import type { Preview } from '../lib/preview.js';
import { ALERT_COLOURS, ALERT_ORDER, NO_DATA_COLOUR, rampGradient, rampTable, scaleFor, type RampName, type Scale } from '../lib/ramps.js';
import { emit, state } from '../state.js';

const SVG = 'http://www.w3.org/2000/svg';
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ZONE_RAMP: RampName = 'viridis';
const RASTER_RAMP: RampName = 'cividis';

let lastKey = '';

/** Zone fill colour for a metric value. */
function fillOf(m: MetricId, v: { value: number | null; level?: string }, scale: Scale): string {
  if (m === 'alert') return v.level ? ALERT_COLOURS[v.level as keyof typeof ALERT_COLOURS] : NO_DATA_COLOUR;
  if (v.value === null || !Number.isFinite(v.value)) return NO_DATA_COLOUR;
  const t = rampTable(ZONE_RAMP);
  const i = Math.round(scale.at(v.value) * 255) * 3;
  return `rgb(${t[i]},${t[i + 1]},${t[i + 2]})`;
}

function valueText(m: MetricId, v: { value: number | null; level?: string }): string {
  if (m === 'alert') return v.level ?? 'no trigger';
  if (m === 'probability') return percent(v.value);
  return compact(v.value);
}

/** A rectangle feature around a preview's grid (EPSG:4326 only), to frame a map without zones. */
function extentOf(p: Preview): ZoneCollection | undefined {
  if (p.grid.crs && p.grid.crs !== 'EPSG:4326') return undefined;
  const [x0, dx, , y0, , dy] = p.grid.transform;
  const x1 = x0 + dx * p.grid.width;
  const y1 = y0 + dy * p.grid.height;
  return { type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[x0, y0], [x0, y1], [x1, y1], [x1, y0], [x0, y0]]] } }] };
}

export function zoneDetails(r: AssessResult, z: ZoneResult): string {
  const unit = r.units.value;
  const m = state.view.metric;
  const slices = slicesOf(r);
  const rows: Array<[string, string]> = [
    ['Id', z.id],
    ['Exposed value', `${compact(z.exposedValue)} ${unit}`],
    [metricLabel(m, r) + (m === 'ead' ? '' : `, ${slices[state.view.slice]?.label ?? ''}`), valueText(m, valueOf(z, m, state.view.slice, state.current.layout))],
  ];
  if (m !== 'damage') rows.push([`Damage, ${slices[state.view.slice]?.label ?? ''}`, `${compact(valueOf(z, 'damage', state.view.slice).value)} ${unit}`]);
  if (z.ead !== undefined && m !== 'ead') rows.push(['Expected annual damage', `${compact(z.ead)} ${unit}/year`]);
  if (z.eai !== undefined && m !== 'ead') rows.push(['Expected annual impact', `${compact(z.eai)} ${unit}/year`]);
  for (const t of z.trigger ?? []) rows.push([`Trigger ${t.leadTime}`, `${t.triggered ? 'YES' : 'no'}, ${t.alertLevel}, p = ${percent(t.probability)}`]);
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<h3>${esc(z.name ?? z.id)}</h3><dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

function showDetails(id: string | null): void {
  const r = state.current.result;
  const box = $('zone-details');
  const z = r?.zones.find((q) => q.id === id);
  box.innerHTML = r && z ? zoneDetails(r, z) : '<p class="note">Hover, click or focus a zone (Tab) for its details.</p>';
}

function legendContinuous(el: HTMLElement, title: string, ramp: RampName, scale: Scale, fmt: (v: number) => string): void {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => fmt(scale.invert(t)));
  el.innerHTML = `<div>${title}</div><div class="bar" style="background:${rampGradient(ramp)}"></div><div class="ticks">${ticks.map((t) => `<span>${t}</span>`).join('')}</div>`;
  el.setAttribute('aria-label', `${title}: from ${ticks[0]} to ${ticks[4]}${scale.kind === 'sqrt' ? ' (square-root scale)' : ''}`);
}

function legendAlert(el: HTMLElement): void {
  el.innerHTML = `<div>Alert level</div><ul>${ALERT_ORDER.map((l) => `<li><span class="sw" style="background:${ALERT_COLOURS[l]}"></span>${l}</li>`).join('')}<li><span class="sw" style="background:${NO_DATA_COLOUR}"></span>no trigger rule / no data</li></ul>`;
}

function rasterColour(p: Preview): { scale: Scale; colour: (v: number) => readonly [number, number, number, number] | null } {
  const scale = scaleFor([0, p.max], p.quantity === 'hazard' ? 'linear' : 'sqrt');
  const tab = rampTable(RASTER_RAMP);
  const colour = (v: number) => {
    if (!(v > 0)) return null;
    const i = Math.round(scale.at(v) * 255) * 3;
    return [tab[i]!, tab[i + 1]!, tab[i + 2]!, 215] as const;
  };
  return { scale, colour };
}

/** Renders the map for the current state. */
export function renderMap(): void {
  const cur = state.current;
  const r = cur.result;
  const fig = $('map');
  const svg = document.getElementById('zones') as unknown as SVGSVGElement;
  const canvas = $<HTMLCanvasElement>('raster');
  const W = Math.max(200, Math.round(fig.clientWidth));
  const H = Math.max(200, Math.round(fig.clientHeight));
  const kind = state.view.layer;
  const layer = kind === 'none' ? undefined : cur.previews.find((p) => p.id === `${kind}-${state.view.slice}`) ?? cur.previews.find((p) => p.id === kind) ?? cur.previews.find((p) => p.quantity === kind);
  const frame = cur.zones ?? (layer ? extentOf(layer) : undefined);
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const key = JSON.stringify([W, H, state.view, cur.label, cur.origin, cur.previews.length, Boolean(r)]);
  if (key === lastKey) return;
  lastKey = key;
  svg.replaceChildren();
  if (!frame) {
    canvas.width = canvas.height = 1;
    $('legend-raster').replaceChildren();
    $('legend-zones').replaceChildren();
    return;
  }
  const projection: GeoProjection = fitProjection(frame, W, H, 10);
  // raster layer
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d');
  ctx?.clearRect(0, 0, W, H);
  if (layer) {
    const { scale, colour } = rasterColour(layer);
    const crs = layer.grid.crs;
    const toGrid = crs && crs !== 'EPSG:4326' ? pointTransform('EPSG:4326', crs, 'the raster') : undefined;
    drawRaster(canvas, projection, layer.grid, layer.values, colour, toGrid);
    legendContinuous($('legend-raster'), `${layer.label} (${layer.unit}${layer.factor > 1 ? `, mean of ${layer.factor}×${layer.factor} cells` : ''})`, RASTER_RAMP, scale, (v) => compact(v));
  } else $('legend-raster').replaceChildren();
  if (!cur.zones) return;
  // zones
  const path = pathMaker(projection);
  const { centroid, bounds } = measureMaker(projection);
  const m = state.view.metric;
  const values = r ? zoneValues(r, m, state.view.slice, cur.layout) : [];
  const byId = new Map(values.map((v) => [v.id, v]));
  const prop = idPropertyOf(cur.zones, values.map((v) => v.id));
  const scale = scaleFor(values.map((v) => v.value), m === 'probability' ? 'linear' : undefined);
  if (m === 'probability') scale.domain[1] = 1;
  const opacity = layer ? '0.3' : '0.9';
  const labels: SVGTextElement[] = [];
  for (const f of cur.zones.features) {
    const id = featureId(f, prop);
    const v = id !== undefined ? byId.get(id) : undefined;
    const el = document.createElementNS(SVG, 'path');
    el.setAttribute('d', path(f));
    el.setAttribute('fill', v ? fillOf(m, v, m === 'probability' ? scaleFor([0, 1], 'linear') : scale) : NO_DATA_COLOUR);
    el.setAttribute('fill-opacity', opacity);
    if (v) {
      el.setAttribute('tabindex', '0');
      el.setAttribute('role', 'button');
      el.setAttribute('aria-label', `${v.name}: ${valueText(m, v)}`);
      el.dataset.zone = v.id;
      if (state.view.zone === v.id) el.classList.add('selected');
      el.addEventListener('mouseenter', () => showDetails(v.id));
      el.addEventListener('focus', () => showDetails(v.id));
      el.addEventListener('mouseleave', () => showDetails(state.view.zone));
      const select = () => {
        state.view.zone = v.id;
        emit();
      };
      el.addEventListener('click', select);
      el.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          select();
        }
      });
      const title = document.createElementNS(SVG, 'title');
      title.textContent = `${v.name}: ${valueText(m, v)}`;
      el.append(title);
    }
    svg.append(el);
    if (v && W >= 320) {
      const [[x0, y0], [x1, y1]] = bounds(f);
      if (x1 - x0 < 40 || y1 - y0 < 14) continue;
      const [cx, cy] = centroid(f);
      const t = document.createElementNS(SVG, 'text');
      t.setAttribute('class', 'label');
      t.setAttribute('text-anchor', 'middle');
      t.setAttribute('x', String(cx));
      t.setAttribute('y', String(cy));
      t.textContent = v.name;
      labels.push(t);
    }
  }
  svg.append(...labels); // above every path
  if (m === 'alert') legendAlert($('legend-zones'));
  else if (r) legendContinuous($('legend-zones'), metricLabel(m, r) + (m === 'ead' ? '' : `, ${slicesOf(r)[state.view.slice]?.label ?? ''}`), ZONE_RAMP, m === 'probability' ? scaleFor([0, 1], 'linear') : scale, m === 'probability' ? (x) => percent(x) : (x) => compact(x));
  showDetails(state.view.zone);
}

/** Re-renders on size changes (debounced). */
export function watchMapSize(): void {
  let t: ReturnType<typeof setTimeout> | undefined;
  new ResizeObserver(() => {
    clearTimeout(t);
    t = setTimeout(renderMap, 120);
  }).observe($('map'));
}
