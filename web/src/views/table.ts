/**
 * @module web/views/table
 * The zone table: one row per zone with the metrics at the chosen lead time / band, sortable by any
 * column (header buttons, `aria-sort`), filtered by a search box; a zone's button selects it.
 */
import { compact, percent } from '../lib/format.js';
import { metricsOf, slicesOf, valueOf, type MetricId } from '../lib/metrics.js';
import { ALERT_COLOURS, ALERT_TEXT } from '../lib/ramps.js';
import { emit, state } from '../state.js';

interface Column {
  key: string;
  label: string;
  text?: boolean;
  get: (i: number) => number | string | null;
  show: (i: number) => string;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderTable(): void {
  const r = state.current.result;
  const table = document.getElementById('zone-table') as HTMLTableElement;
  const head = table.tHead!;
  const body = table.tBodies[0]!;
  if (!r) {
    head.innerHTML = '';
    body.innerHTML = '';
    return;
  }
  const slice = state.view.slice;
  const sliceLabel = slicesOf(r)[slice]?.label ?? '';
  const layout = state.current.layout;
  const metrics = metricsOf(r, layout);
  const unit = r.units.value;
  const zones = r.zones;
  const num = (m: MetricId) => (i: number) => valueOf(zones[i]!, m, slice, layout).value;
  const cols: Column[] = [
    { key: 'name', label: 'Zone', text: true, get: (i) => zones[i]!.name ?? zones[i]!.id, show: (i) => `<button type="button" data-zone="${esc(zones[i]!.id)}" class="zone-link">${esc(zones[i]!.name ?? zones[i]!.id)}</button>` },
    { key: 'id', label: 'Id', text: true, get: (i) => zones[i]!.id, show: (i) => esc(zones[i]!.id) },
    { key: 'exposed', label: `Exposed (${unit})`, get: (i) => zones[i]!.exposedValue, show: (i) => compact(zones[i]!.exposedValue) },
    { key: 'damage', label: `Damage ${sliceLabel}`, get: num('damage'), show: (i) => compact(num('damage')(i)) },
  ];
  if (metrics.includes('affected')) cols.push({ key: 'affected', label: `Affected ${sliceLabel}`, get: num('affected'), show: (i) => compact(num('affected')(i)) });
  if (metrics.includes('ead')) cols.push({ key: 'ead', label: r.totals.ead !== undefined ? `EAD (${unit}/yr)` : `EAI (${unit}/yr)`, get: num('ead'), show: (i) => compact(num('ead')(i)) });
  if (metrics.includes('probability')) {
    cols.push({ key: 'probability', label: `Probability ${sliceLabel}`, get: num('probability'), show: (i) => percent(num('probability')(i)) });
    cols.push({
      key: 'alert', label: `Alert ${sliceLabel}`, get: num('alert'),
      show: (i) => {
        const l = valueOf(zones[i]!, 'alert', slice).level;
        return l ? `<span class="alert-cell" style="background:${ALERT_COLOURS[l]};color:${ALERT_TEXT[l]}">${l}</span>` : '–';
      },
    });
  }
  const { key, dir } = state.view.sort;
  const sortCol = cols.find((c) => c.key === key) ?? cols.find((c) => c.key === state.view.metric) ?? cols[3]!;
  const q = state.view.search.trim().toLowerCase();
  const rows = zones.map((_, i) => i).filter((i) => !q || (zones[i]!.name ?? '').toLowerCase().includes(q) || zones[i]!.id.toLowerCase().includes(q));
  rows.sort((a, b) => {
    const x = sortCol.get(a);
    const y = sortCol.get(b);
    if (x === y) return a - b;
    if (x === null) return 1;
    if (y === null) return -1;
    return (x < y ? -1 : 1) * dir;
  });
  head.innerHTML = `<tr>${cols
    .map((c) => {
      const sorted = c === sortCol ? (dir === 1 ? 'ascending' : 'descending') : 'none';
      return `<th scope="col" class="${c.text ? 'text' : ''}" aria-sort="${sorted}"><button type="button" data-sort="${c.key}">${esc(c.label)}${c === sortCol ? (dir === 1 ? ' ▲' : ' ▼') : ''}</button></th>`;
    })
    .join('')}</tr>`;
  body.innerHTML = rows
    .map((i) => `<tr data-zone="${esc(zones[i]!.id)}" class="${state.view.zone === zones[i]!.id ? 'selected' : ''}">${cols.map((c) => `<td class="${c.text ? 'text' : ''}">${c.show(i)}</td>`).join('')}</tr>`)
    .join('');
  document.getElementById('table-caption')!.textContent = `${rows.length} of ${zones.length} zones, sorted by ${sortCol.label} (${dir === 1 ? 'ascending' : 'descending'}). Numbers: ${unit}.`;
}

export function wireTable(): void {
  const table = document.getElementById('zone-table')!;
  table.addEventListener('click', (e) => {
    const t = e.target as HTMLElement;
    const sort = t.closest<HTMLElement>('[data-sort]')?.dataset.sort;
    if (sort) {
      const s = state.view.sort;
      state.view.sort = s.key === sort ? { key: sort, dir: (s.dir === 1 ? -1 : 1) as 1 | -1 } : { key: sort, dir: sort === 'name' || sort === 'id' ? 1 : -1 };
      emit();
      (document.querySelector(`[data-sort="${sort}"]`) as HTMLElement | null)?.focus();
      return;
    }
    const zone = t.closest<HTMLElement>('[data-zone]')?.dataset.zone;
    if (zone) {
      state.view.zone = zone;
      emit();
      (document.querySelector(`#zone-table button[data-zone="${CSS.escape(zone)}"]`) as HTMLElement | null)?.focus();
    }
  });
  const search = document.getElementById('search') as HTMLInputElement;
  search.addEventListener('input', () => {
    state.view.search = search.value;
    emit();
  });
}
