/**
 * @module cli/format
 * Human-readable text for the terminal: the assessment summary (per band, or per lead time for ensembles,
 * with per-zone trigger decisions), the demo's combined forecast + risk table, the curve listing and zonal
 * statistics, and the API keys of `ibf keys list`.
 */
import type { AssessResult } from '../engine/result.js';
import { ALERT_RANK, type AlertLevel, type TriggerRule } from '../engine/trigger.js';
import type { CatalogEntry } from '../catalog/index.js';
import type { ZonalRow, ZonalStat } from '../engine/zonal.js';
import type { ApiKeyRecord } from '../api/ports.js';

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

/** A share as a short percentage: 0.004567 -> `0.46%`, 0.0000123 -> `0.0012%`. */
const share = (v: number) => (v === 0 ? '0%' : `${(100 * v).toPrecision(2)}%`);

/** A trigger entry in one cell: `YES medium 1.00` (decision, alert level, probability). */
const triggerCell = (t: { triggered: boolean; alertLevel: string; probability: number } | undefined) =>
  t ? `${t.triggered ? 'YES' : 'no '} ${t.alertLevel.padEnd(6)} ${prob(t.probability)}` : '-';

export interface DemoSummaryOptions {
  /** The forecast's trigger rule (the result shows its outcome, not its threshold). */
  trigger?: TriggerRule;
  /** Seconds each assessment took. */
  seconds?: { forecast: number; risk: number };
  written?: string[];
}

/**
 * `ibf demo`: one table of zones with the risk (EAD per year, from the return-period maps) beside the
 * forecast's trigger decision, alert level and probability per lead time, then the two scenarios'
 * totals in a line each and which zones trigger.
 */
export function formatDemo(forecast: AssessResult, risk: AssessResult, opts: DemoSummaryOptions = {}): string {
  const u = forecast.units;
  const f = forecast.totals;
  const r = risk.totals;
  const leads = f.ensemble?.map((e) => e.leadTime) ?? forecast.zones.find((z) => z.trigger)?.trigger?.map((t) => t.leadTime) ?? [];
  const g = forecast.grid;
  const rule = opts.trigger;
  const rps = risk.bands.map((b) => b.returnPeriod!);
  const out = [
    'IBF demo: river floods in south-eastern Africa (synthetic data)',
    `  exposure: ${Math.round(f.cells).toLocaleString('en-US')} cells with data${g ? ` on a ${g.width} x ${g.height} grid` : ''}, ${amount(f.exposedValue)} ${u.value} of assets in ${forecast.zones.length} zones`,
    `  forecast: ${f.ensemble?.[0]?.members ?? '?'} members x ${leads.length} lead times = ${forecast.bands.length} flood-depth bands${g && g.hazardResampling !== 'none' ? `, resampled (${g.hazardResampling})` : ''}`,
    ...(rule ? [`            trigger: ${rule.metric} >= ${amount(rule.threshold)} ${rule.metric === 'damage' || rule.metric === 'affectedValue' ? u.value : u.intensity} in >= ${Math.round(rule.pMin * 100)}% of members${rule.maxLeadTime !== undefined ? `, up to ${rule.maxLeadTime}` : ''}`] : []),
    `  risk:     flood depth for return periods ${rps.join(', ')} years; expected annual damage (EAD, ${risk.eadMethod ?? 'loglinear'})`,
    `  kernel ${forecast.manifest.kernel}${opts.seconds ? `; assessed in ${opts.seconds.forecast.toFixed(1)} s (forecast) + ${opts.seconds.risk.toFixed(1)} s (risk)` : ''}`,
    '',
  ];
  const riskZone = new Map(risk.zones.map((z) => [z.id, z]));
  const rows = forecast.zones.map((z) => {
    const ead = riskZone.get(z.id)?.ead;
    return [z.id, z.name ?? '', ead === undefined ? '-' : amount(ead), ead === undefined || !z.exposedValue ? '-' : share(ead / z.exposedValue), ...leads.map((_, i) => triggerCell(z.trigger?.[i]))];
  });
  rows.push(['all', '', r.ead === undefined ? '-' : amount(r.ead), r.ead === undefined || !r.exposedValue ? '-' : share(r.ead / r.exposedValue), ...leads.map(() => '')]);
  out.push(
    table(
      ['zone', 'name', `EAD (${u.value}/yr)`, 'of value', ...leads.map((l) => `trigger ${l}`)],
      rows,
      [false, false, true, true, ...leads.map(() => false)],
    ),
    '',
    `trigger per lead time: triggered (YES / no), alert level, probability (share of members reaching the threshold)`,
  );
  const damageAt = (T: number) => amount(r.damage[risk.bands.find((b) => b.returnPeriod === T)!.index]!);
  out.push(`risk, all zones: damage ${rps.map((T) => `${damageAt(T)} (${T}-yr)`).join(', ')} ${u.value}; EAD ${r.ead === undefined ? '-' : amount(r.ead)} ${u.value}/yr`);
  if (f.ensemble?.length) out.push(`forecast, all zones: median damage ${f.ensemble.map((e) => `${amount(e.median)} (${e.leadTime})`).join(', ')} ${u.value}`);
  const headline = triggerHeadline(forecast);
  if (headline.length) out.push('', ...headline);
  for (const [which, res] of [['forecast', forecast], ['risk', risk]] as const) for (const w of res.warnings) out.push(`warning (${which}): ${w}`);
  if (opts.written?.length) out.push('', 'wrote:', ...opts.written.map((w) => `  ${w}`));
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

/** `ibf keys list`: one row per key (never the token, nor its hash); state is active, revoked or expired. */
export function formatKeys(keys: ReadonlyArray<ApiKeyRecord & { createdAt?: string }>, now: Date = new Date()): string {
  const day = (t: string | undefined) => (t ? t.slice(0, 10) : '-');
  const state = (k: ApiKeyRecord) => (k.revoked ? 'revoked' : k.expiresAt && Date.parse(k.expiresAt) <= now.getTime() ? 'expired' : 'active');
  return table(
    ['id', 'partner', 'scopes', 'origins', 'rate/min', 'expires', 'created', 'state'],
    keys.map((k) => [k.id, k.partner, k.scopes.join(','), k.origins.join(' ') || '-', k.ratePerMinute === undefined ? 'default' : String(k.ratePerMinute), day(k.expiresAt), day(k.createdAt), state(k)]),
    [false, false, false, false, true, false, false, false],
  );
}
