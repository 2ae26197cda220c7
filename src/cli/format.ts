/**
 * @module cli/format
 * Human-readable text for the terminal: the assessment summary and the curve listing.
 */
import type { AssessResult } from '../engine/result.js';
import type { CatalogEntry } from '../catalog/index.js';
import type { ZonalRow, ZonalStat } from '../engine/zonal.js';

const num = (v: number | null, digits = 2) =>
  v === null ? '-' : Math.abs(v) >= 1e6 ? v.toExponential(4) : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

/** A plain-text table; `numeric[i]` right-aligns column i. */
function table(head: string[], rows: string[][], numeric: boolean[] = head.map((_, i) => i > 0)): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatSummary(r: AssessResult, written: string[]): string {
  const t = r.totals;
  const u = r.units;
  const out = [
    r.name ? `${r.name}` : 'assessment',
    `  ${num(t.cells, 0)} cells with exposure, ${num(t.exposedValue)} ${u.value} exposed; intensity in ${u.intensity}; kernel ${r.manifest.kernel}`,
    '',
    table(
      ['band', `damage (${u.value})`, `affected (${u.value})`, `max intensity (${u.intensity})`, 'cells with hazard'],
      r.bands.map((b) => [b.name, num(t.damage[b.index]!), num(t.affectedValue[b.index]!), num(t.maxIntensity[b.index]!, 3), num(t.hazardCells[b.index]!, 0)]),
    ),
  ];
  if (r.affectedThreshold !== null) out.push('', `affected: intensity >= ${r.affectedThreshold} ${u.intensity}`);
  if (t.ead !== undefined) out.push(`expected annual damage (${r.eadMethod}): ${num(t.ead)} ${u.value}/year`);
  if (t.aai !== undefined) out.push(`annual average impact: ${num(t.aai)} ${u.value}/year`);
  if (r.zones.length) {
    const band = (z: { damage: number[] }) => (r.bands.length === 1 ? num(z.damage[0]!) : num(z.damage.reduce((a, b) => Math.max(a, b), 0)));
    const extra = (z: (typeof r.zones)[number]) =>
      z.ead !== undefined ? num(z.ead) : z.eai !== undefined ? num(z.eai) : z.trigger ? z.trigger.map((e) => `${e.leadTime}: ${e.alertLevel}${e.triggered ? ' (triggered)' : ''}`).join(', ') : '';
    const extraHead = t.ead !== undefined ? `EAD (${u.value}/yr)` : t.aai !== undefined ? `eai (${u.value}/yr)` : r.zones[0]?.trigger ? 'alert by lead time' : '';
    out.push(
      '',
      table(
        ['zone', 'name', 'cells', r.bands.length === 1 ? `damage (${u.value})` : `max damage over bands (${u.value})`, ...(extraHead ? [extraHead] : [])],
        r.zones.map((z) => [z.id, z.name ?? '', num(z.cells, 1), band(z), ...(extraHead ? [extra(z)] : [])]),
        [false, false, true, true, false],
      ),
    );
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  if (written.length) out.push('', 'wrote:', ...written.map((w) => `  ${w}`));
  return out.join('\n');
}

export function formatCurves(entries: CatalogEntry[]): string {
  return table(
    ['id', 'hazard', 'unit', 'title'],
    entries.map((e) => [e.id, e.hazard, e.unit, e.title]),
    [false, false, false, false],
  );
}

export function formatZonal(rows: ZonalRow[], stats: readonly ZonalStat[]): string {
  const hasName = rows.some((r) => r.name !== undefined);
  return table(
    ['id', ...(hasName ? ['name'] : []), ...stats],
    rows.map((r) => [r.id, ...(hasName ? [r.name ?? ''] : []), ...stats.map((s) => num(r[s], 4))]),
    [false, ...(hasName ? [false] : []), ...stats.map(() => true)],
  );
}
