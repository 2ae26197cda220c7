/**
 * @module web/views/compare
 * This browser's result next to the API's for the same scenario: every number of `totals` and `zones`
 * compared bit for bit (the engine promises the same bits in every runtime), the largest relative
 * difference if any, and a per-zone table of the shown metric.
 */
import type { AssessResult } from '../../../src/engine/result.js';
import { compact } from '../lib/format.js';
import { metricLabel, slicesOf, valueOf } from '../lib/metrics.js';
import { state } from '../state.js';

export interface Agreement {
  numbers: number;
  equal: number;
  maxRelDiff: number;
  /** First few paths whose numbers differ (or whose shapes differ). */
  differ: string[];
}

/** Compares every number (and string) under `totals` and `zones` of two results. */
export function agreement(a: AssessResult, b: AssessResult): Agreement {
  const out: Agreement = { numbers: 0, equal: 0, maxRelDiff: 0, differ: [] };
  const walk = (x: unknown, y: unknown, path: string) => {
    if (typeof x === 'number' || typeof y === 'number') {
      out.numbers++;
      if (Object.is(x, y)) out.equal++;
      else {
        if (typeof x === 'number' && typeof y === 'number') out.maxRelDiff = Math.max(out.maxRelDiff, Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), Number.MIN_VALUE));
        else out.maxRelDiff = Infinity;
        if (out.differ.length < 5) out.differ.push(path);
      }
      return;
    }
    if (Array.isArray(x) || Array.isArray(y)) {
      const xs = Array.isArray(x) ? x : [];
      const ys = Array.isArray(y) ? y : [];
      if (xs.length !== ys.length && out.differ.length < 5) out.differ.push(`${path} (length ${xs.length} vs ${ys.length})`);
      for (let i = 0; i < Math.max(xs.length, ys.length); i++) walk(xs[i], ys[i], `${path}[${i}]`);
      return;
    }
    if (x && y && typeof x === 'object' && typeof y === 'object') {
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${path}.${k}`);
      return;
    }
    if (x !== y && out.differ.length < 5) out.differ.push(path);
  };
  walk(a.totals, b.totals, 'totals');
  walk(a.zones, b.zones, 'zones');
  return out;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderCompare(): void {
  const { browser, api } = state.current;
  const panel = document.getElementById('compare-panel')!;
  panel.hidden = !(browser && api);
  if (!browser || !api) return;
  const g = agreement(browser, api);
  const verdict = document.getElementById('compare-verdict')!;
  if (g.equal === g.numbers && !g.differ.length) {
    verdict.innerHTML = `<span class="ok">They agree bit for bit</span> on all ${g.numbers.toLocaleString('en')} numbers of the totals and zones (kernels: browser ${esc(browser.manifest.kernel)}, API ${esc(api.manifest.kernel)}).`;
  } else {
    verdict.innerHTML = `<span class="bad-text">They differ</span>: ${(g.numbers - g.equal).toLocaleString('en')} of ${g.numbers.toLocaleString('en')} numbers, largest relative difference ${g.maxRelDiff.toExponential(2)} (${g.differ.map(esc).join(', ')}).`;
  }
  const m = state.view.metric === 'alert' ? 'damage' : state.view.metric;
  const slice = state.view.slice;
  const label = `${metricLabel(m, browser)}${m === 'ead' ? '' : `, ${slicesOf(browser)[slice]?.label ?? ''}`}`;
  const rows = browser.zones.map((z, i) => {
    const a = valueOf(z, m, slice, state.current.layout).value;
    const bz = api.zones[i];
    const b = bz ? valueOf(bz, m, slice, state.current.layout).value : null;
    return `<tr><th scope="row" class="text">${esc(z.name ?? z.id)}</th><td>${compact(a)}</td><td>${compact(b)}</td><td>${Object.is(a, b) ? '<span class="ok">same bits</span>' : `<span class="bad-text">${a !== null && b !== null ? ((b - a) / Math.abs(a || 1)).toExponential(2) : 'missing'}</span>`}</td></tr>`;
  });
  document.getElementById('compare-table')!.innerHTML = `<caption>${esc(label)}</caption><thead><tr><th scope="col">Zone</th><th scope="col">This browser</th><th scope="col">API</th><th scope="col">Difference</th></tr></thead><tbody>${rows.join('')}</tbody>`;
}
