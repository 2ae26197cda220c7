/**
 * @module web/views/charts
 * Charts (uPlot) for one zone or all: the exceedance curve (damage per return period; an event set's
 * CLIMADA exceedance curve; for ensembles the share of members at or above each damage), the ensemble
 * distribution per lead time (members' damage in order), and the trigger timeline (probability per lead
 * time against pMin), with the alert levels as a table beside them for screen readers and print.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { AssessResult, Totals } from '../../../src/engine/result.js';
import { compact, percent } from '../lib/format.js';
import { memberBands } from '../lib/metrics.js';
import { ALERT_COLOURS, ALERT_TEXT } from '../lib/ramps.js';
import { emit, state } from '../state.js';

/** Okabe–Ito: distinguishable with colour-vision deficiencies. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#7f7f7f'];
const charts = new Map<string, uPlot>();
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function fg(): string {
  return getComputedStyle(document.documentElement).getPropertyValue('--fg').trim() || '#222';
}

function plot(id: string, data: uPlot.AlignedData | null, opts: Omit<uPlot.Options, 'width' | 'height'>, describe: string, empty: string): void {
  const el = document.getElementById(id)!;
  charts.get(id)?.destroy();
  charts.delete(id);
  el.replaceChildren();
  el.setAttribute('aria-label', data ? describe : empty);
  if (!data) {
    el.innerHTML = `<p class="note">${esc(empty)}</p>`;
    return;
  }
  const colour = fg();
  const axis = { stroke: colour, grid: { stroke: 'rgba(128,128,128,.25)' }, ticks: { stroke: 'rgba(128,128,128,.4)' } };
  const width = Math.max(260, el.clientWidth || el.parentElement!.clientWidth || 320);
  const u = new uPlot({ ...opts, width, height: 230, axes: (opts.axes ?? [{}, {}]).map((a) => ({ ...axis, ...a })) }, data, el);
  charts.set(id, u);
}

function zoneOrTotals(r: AssessResult): { name: string; z: Totals } {
  const z = r.zones.find((q) => q.id === state.view.zone);
  return z ? { name: z.name ?? z.id, z } : { name: 'all zones', z: r.totals };
}

function exceedance(r: AssessResult): void {
  const { name, z } = zoneOrTotals(r);
  const unit = r.units.value;
  const layout = state.current.layout;
  if (r.bandsType === 'return-periods') {
    const rp = r.bands.map((b) => b.returnPeriod ?? NaN);
    plot('chart-exceedance', [rp, z.damage], {
      scales: { x: { time: false, distr: 3 } },
      series: [{ label: 'Return period (years)' }, { label: `Damage, ${name} (${unit})`, stroke: PALETTE[0], width: 2, points: { size: 7 } }],
      axes: [{ label: `Return period (years), ${name}` }, { label: `Damage (${unit})`, values: (_u, v) => v.map((x) => compact(x)), size: 60 }],
    }, `Damage of ${name} per return period: ${rp.map((t, i) => `${t} years ${compact(z.damage[i])}`).join(', ')} ${unit}`, '');
    return;
  }
  if (r.totals.exceedanceCurve?.length && !state.view.zone) {
    const c = [...r.totals.exceedanceCurve].sort((a, b) => a.returnPeriod - b.returnPeriod);
    plot('chart-exceedance', [c.map((p) => p.returnPeriod), c.map((p) => p.impact)], {
      scales: { x: { time: false, distr: 3 } },
      series: [{ label: 'Return period (years)' }, { label: `Impact (${unit})`, stroke: PALETTE[0], width: 2, points: { size: 6 } }],
      axes: [{ label: 'Return period (years)' }, { label: unit, values: (_u, v) => v.map((x) => compact(x)), size: 60 }],
    }, `Exceedance curve of the event set over all zones`, '');
    return;
  }
  if (layout && r.bandsType === 'ensemble') {
    // share of members with damage >= x, per lead time, on one x axis of every member value
    const perLead = Array.from({ length: layout.leads }, (_, l) => memberBands(layout, l).map((b) => z.damage[b] ?? NaN).filter(Number.isFinite));
    const xs = [...new Set(perLead.flat())].sort((a, b) => a - b);
    if (xs.length) {
      const ys = perLead.map((vals) => xs.map((x) => vals.filter((v) => v >= x).length / vals.length));
      const leads = r.totals.ensemble?.map((e) => e.leadTime) ?? perLead.map((_, l) => `lead ${l + 1}`);
      plot('chart-exceedance', [xs, ...ys], {
        scales: { x: { time: false } },
        series: [{ label: `Damage (${unit})`, value: (_u, v) => compact(v) }, ...ys.map((_, l) => ({ label: leads[l]!, stroke: PALETTE[l % PALETTE.length], width: 2, paths: uPlot.paths.stepped!({ align: 1 }), value: (_u: uPlot, v: number) => percent(v) }))],
        axes: [{ label: `Damage, ${name} (${unit})`, values: (_u, v) => v.map((x) => compact(x)) }, { label: 'Members ≥ x', values: (_u, v) => v.map((x) => percent(x)), size: 60 }],
      }, `Share of ensemble members whose damage in ${name} reaches each value, per lead time`, '');
      return;
    }
  }
  plot('chart-exceedance', null, { series: [] }, '', 'No exceedance curve: this result has one event (give return periods, an event set with frequencies, or an ensemble).');
}

function ensemble(r: AssessResult): void {
  const { name, z } = zoneOrTotals(r);
  const layout = state.current.layout;
  if (!layout || r.bandsType !== 'ensemble') {
    plot('chart-ensemble', null, { series: [] }, '', 'Only for ensemble forecasts.');
    return;
  }
  const leads = r.totals.ensemble?.map((e) => e.leadTime) ?? [];
  const sorted = Array.from({ length: layout.leads }, (_, l) => memberBands(layout, l).map((b) => z.damage[b] ?? NaN).sort((a, b) => a - b));
  const xs = Array.from({ length: layout.members }, (_, m) => (layout.members > 1 ? m / (layout.members - 1) : 0.5));
  const unit = r.units.value;
  plot('chart-ensemble', [xs, ...sorted], {
    scales: { x: { time: false } },
    series: [{ label: 'Member rank', value: (_u, v) => percent(v) }, ...sorted.map((_, l) => ({ label: leads[l] ?? `lead ${l + 1}`, stroke: PALETTE[l % PALETTE.length], width: 2, points: { size: 4, show: true }, value: (_u: uPlot, v: number) => compact(v) }))],
    axes: [{ label: `Members of ${name}, lowest to highest damage`, values: (_u, v) => v.map((x) => percent(x)) }, { label: `Damage (${unit})`, values: (_u, v) => v.map((x) => compact(x)), size: 60 }],
  }, `Damage of each of the ${layout.members} members in ${name}, sorted, per lead time; medians ${r.totals.ensemble ? leads.map((lt, l) => `${lt} ${compact(sorted[l]![layout.members >> 1])}`).join(', ') : ''}`, '');
}

function trigger(r: AssessResult): void {
  const zones = r.zones.filter((z) => z.trigger?.length);
  const box = document.getElementById('timeline') as HTMLTableElement;
  if (!zones.length) {
    plot('chart-trigger', null, { series: [] }, '', 'No trigger rule in this scenario (ensembles with a "trigger").');
    box.innerHTML = '';
    return;
  }
  const hours = zones[0]!.trigger!.map((t) => t.leadTimeHours);
  const labels = zones[0]!.trigger!.map((t) => t.leadTime);
  // the selected zone and the zones with the highest peak probability, at most 8 lines
  const ranked = [...zones].sort((a, b) => Math.max(...b.trigger!.map((t) => t.probability)) - Math.max(...a.trigger!.map((t) => t.probability)));
  const chosen = ranked.filter((z) => z.id === state.view.zone);
  for (const z of ranked) if (chosen.length < 8 && !chosen.includes(z)) chosen.push(z);
  const pMin = Number((state.current.doc.trigger as { pMin?: number } | undefined)?.pMin ?? NaN);
  const series: uPlot.Series[] = [{ label: 'Lead time (hours)' }, ...chosen.map((z, i) => ({ label: z.name ?? z.id, stroke: PALETTE[i % PALETTE.length], width: z.id === state.view.zone ? 3.5 : 2, points: { size: 7 }, value: (_u: uPlot, v: number) => percent(v) }))];
  const data: number[][] = [hours, ...chosen.map((z) => z.trigger!.map((t) => t.probability))];
  if (Number.isFinite(pMin)) {
    series.push({ label: 'pMin', stroke: fg(), dash: [6, 4], width: 1, points: { show: false } });
    data.push(hours.map(() => pMin));
  }
  plot('chart-trigger', data as uPlot.AlignedData, {
    scales: { x: { time: false }, y: { range: [0, 1] } },
    series,
    axes: [{ label: 'Lead time (hours)' }, { label: 'Trigger probability', values: (_u, v) => v.map((x) => percent(x)), size: 60 }],
  }, `Trigger probability per lead time for ${chosen.map((z) => z.name ?? z.id).join(', ')}; the table below lists every zone's alert level`, '');
  box.innerHTML = `<caption>Alert level and trigger probability per zone and lead time</caption><thead><tr><th scope="col">Zone</th>${labels.map((l) => `<th scope="col">${esc(String(l))}</th>`).join('')}</tr></thead><tbody>${zones
    .map((z) => `<tr><th scope="row" class="text">${esc(z.name ?? z.id)}</th>${z.trigger!.map((t) => `<td><span class="alert-cell" style="background:${ALERT_COLOURS[t.alertLevel]};color:${ALERT_TEXT[t.alertLevel]}">${t.alertLevel}${t.triggered ? ' ✓' : ''}</span> ${percent(t.probability)}</td>`).join('')}</tr>`)
    .join('')}</tbody>`;
}

export function renderCharts(): void {
  const r = state.current.result;
  const sel = document.getElementById('chart-zone') as HTMLSelectElement;
  const opts = r ? [['', 'All zones (totals)'], ...r.zones.map((z) => [z.id, z.name ?? z.id])] : [];
  const want = opts.map(([v, l]) => `<option value="${esc(v!)}">${esc(l!)}</option>`).join('');
  if (sel.dataset.opts !== want) {
    sel.innerHTML = want;
    sel.dataset.opts = want;
  }
  sel.value = state.view.zone ?? '';
  if (!r) return;
  exceedance(r);
  ensemble(r);
  trigger(r);
}

export function wireCharts(): void {
  const sel = document.getElementById('chart-zone') as HTMLSelectElement;
  sel.addEventListener('change', () => {
    state.view.zone = sel.value || null;
    emit();
  });
  let t: ReturnType<typeof setTimeout> | undefined;
  let lastW = 0;
  new ResizeObserver(() => {
    const w = document.getElementById('charts-panel')!.clientWidth;
    if (w === lastW) return;
    lastW = w;
    clearTimeout(t);
    t = setTimeout(renderCharts, 150);
  }).observe(document.getElementById('charts-panel')!);
}
