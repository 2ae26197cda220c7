/**
 * @module cli/format
 * Human-readable text for the terminal: the assessment summary (per band, or per lead time for ensembles,
 * with per-zone trigger decisions), the curve listing and zonal statistics.
 */
import type { AssessResult } from '../engine/result.js';
import { ALERT_RANK, type AlertLevel } from '../engine/trigger.js';
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

/** Large amounts as a short number with a unit suffix (719.6 M, 2.706 B), small ones in full. */
const amount = (v: number | null) => {
  if (v === null || !Number.isFinite(v)) return v === null ? '-' : String(v);
  const a = Math.abs(v);
  const [div, suffix] = a >= 1e9 ? [1e9, ' B'] : a >= 1e6 ? [1e6, ' M'] : a >= 1e4 ? [1e3, ' k'] : [1, ''];
  return div === 1 ? num(v, a >= 100 ? 0 : 2) : `${(v / div).toPrecision(4)}${suffix}`;
};

const prob = (p: number) => p.toFixed(2);

/** A quantile as a column head: 0.1 -> `10%`. */
const pct = (q: number) => `${Math.round(q * 1000) / 10}%`;

type ZoneRow = AssessResult['zones'][number];

/** Per lead time: the member distribution of damage over the whole grid (ensembles). */
function leadTimeTable(r: AssessResult): string {
  const stats = r.totals.ensemble ?? [];
  const qs = stats[0]?.quantiles.map((q) => q.q) ?? [];
  const u = r.units;
  return table(
    ['lead time', 'members', `damage mean (${u.value})`, 'median', ...qs.map(pct), 'min', 'max'],
    stats.map((e) => [e.leadTime, String(e.members), amount(e.mean), amount(e.median), ...e.quantiles.map((q) => amount(q.value)), amount(e.min), amount(e.max)]),
    [false, true, true, true, ...qs.map(() => true), true, true],
  );
}

/** Per zone and lead time: the trigger decision (probability, triggered, alert level) and the damage distribution. */
function triggerTable(r: AssessResult): string {
  const u = r.units;
  const hasTrigger = r.zones.some((z) => z.trigger);
  const qs = r.zones.find((z) => z.ensemble)?.ensemble?.[0]?.quantiles.map((q) => q.q) ?? [];
  const rows: string[][] = [];
  for (const z of r.zones) {
    const leads = z.ensemble ?? [];
    leads.forEach((e, i) => {
      const t = z.trigger?.[i];
      rows.push([
        i === 0 ? z.id : '',
        i === 0 ? (z.name ?? '') : '',
        e.leadTime,
        ...(hasTrigger ? [t ? prob(t.probability) : '-', t ? (t.triggered ? 'YES' : 'no') : '-', t ? t.alertLevel : '-'] : []),
        amount(e.median),
        ...e.quantiles.map((q) => amount(q.value)),
      ]);
    });
  }
  return table(
    ['zone', 'name', 'lead time', ...(hasTrigger ? ['probability', 'triggered', 'alert'] : []), `damage median (${u.value})`, ...qs.map(pct)],
    rows,
    [false, false, false, ...(hasTrigger ? [true, false, false] : []), true, ...qs.map(() => true)],
  );
}

/** One line per outcome: which zones trigger (at which lead times) and which do not. */
function triggerHeadline(r: AssessResult): string[] {
  const withTrigger = r.zones.filter((z) => z.trigger);
  if (!withTrigger.length) return [];
  const label = (z: ZoneRow) => (z.name ? `${z.name} (${z.id})` : z.id);
  const peak = (z: ZoneRow) => z.trigger!.reduce<AlertLevel>((a, t) => (ALERT_RANK[t.alertLevel] > ALERT_RANK[a] ? t.alertLevel : a), 'none');
  const triggered = withTrigger.filter((z) => z.trigger!.some((t) => t.triggered));
  const quiet = withTrigger.filter((z) => !z.trigger!.some((t) => t.triggered));
  const out = [`triggered (${triggered.length} of ${withTrigger.length} zones):`];
  for (const z of triggered) out.push(`  ${label(z)}: from ${z.trigger!.find((t) => t.triggered)!.leadTime}, alert up to ${peak(z)}`);
  if (!triggered.length) out.push('  none');
  const quietLabel = (z: ZoneRow) => (peak(z) === 'none' ? label(z) : `${z.name ? `${z.name} (${z.id}, ` : `${z.id} (`}alert ${peak(z)})`);
  if (quiet.length) out.push(`not triggered: ${quiet.map(quietLabel).join(', ')}`);
  return out;
}

/** The trigger rule as far as the result shows it: metric and the thresholds looked at. */
function triggerRule(r: AssessResult): string | null {
  const ex = r.zones.find((z) => z.trigger && z.exceedance)?.exceedance;
  const t = r.zones.find((z) => z.trigger)?.trigger?.[0];
  if (!ex?.length || !t) return null;
  const metric = ex[ex.length - 1]!.metric;
  const thresholds = [...new Set(ex.filter((e) => e.metric === metric).map((e) => e.threshold))].sort((a, b) => a - b);
  const unit = metric === 'damage' || metric === 'affectedValue' ? r.units.value : r.units.intensity;
  return [
    `probability: share of the ${t.members} member${t.members === 1 ? '' : 's'} whose ${metric} reaches the trigger threshold`,
    `  (thresholds of the rule and its alert classes: ${thresholds.map((v) => amount(v)).join(', ')} ${unit})`,
  ].join('\n');
}

export function formatSummary(r: AssessResult, written: string[]): string {
  const t = r.totals;
  const u = r.units;
  const ensemble = r.bandsType === 'ensemble' && t.ensemble?.length;
  const out = [
    r.name ? `${r.name}` : 'assessment',
    ensemble
      ? `  ${Math.round(t.cells).toLocaleString('en-US')} cells with exposure, ${amount(t.exposedValue)} ${u.value} exposed; intensity in ${u.intensity}; kernel ${r.manifest.kernel}`
      : `  ${num(t.cells, 0)} cells with exposure, ${num(t.exposedValue)} ${u.value} exposed; intensity in ${u.intensity}; kernel ${r.manifest.kernel}`,
  ];
  if (ensemble) {
    const g = r.grid;
    const grid = g ? `; ${g.width} x ${g.height} grid${g.hazardResampling !== 'none' ? `, hazard resampled (${g.hazardResampling})` : ''}` : '';
    out.push(`  ensemble forecast: ${t.ensemble![0]!.members} members x ${t.ensemble!.length} lead times = ${r.bands.length} hazard bands${grid}`);
  }
  out.push(
    '',
    ensemble
      ? leadTimeTable(r)
      : table(
          ['band', `damage (${u.value})`, `affected (${u.value})`, `max intensity (${u.intensity})`, 'cells with hazard'],
          r.bands.map((b) => [b.name, num(t.damage[b.index]!), num(t.affectedValue[b.index]!), num(t.maxIntensity[b.index]!, 3), num(t.hazardCells[b.index]!, 0)]),
        ),
  );
  if (r.affectedThreshold !== null) out.push('', `affected: intensity >= ${r.affectedThreshold} ${u.intensity}`);
  if (t.ead !== undefined) out.push(`expected annual damage (${r.eadMethod}): ${num(t.ead)} ${u.value}/year`);
  if (t.aai !== undefined) out.push(`annual average impact: ${num(t.aai)} ${u.value}/year`);
  if (r.zones.length && r.zones.some((z) => z.ensemble)) {
    const rule = triggerRule(r);
    out.push('', triggerTable(r), ...(rule ? ['', rule] : []), ...(triggerHeadline(r).length ? ['', ...triggerHeadline(r)] : []));
  } else if (r.zones.length) {
    const band = (z: { damage: number[] }) => (r.bands.length === 1 ? num(z.damage[0]!) : num(z.damage.reduce((a, b) => Math.max(a, b), 0)));
    const extra = (z: ZoneRow) => (z.ead !== undefined ? num(z.ead) : z.eai !== undefined ? num(z.eai) : '');
    const extraHead = t.ead !== undefined ? `EAD (${u.value}/yr)` : t.aai !== undefined ? `eai (${u.value}/yr)` : '';
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
