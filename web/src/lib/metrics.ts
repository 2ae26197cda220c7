/**
 * @module web/lib/metrics
 * What the map, the table and the widget show of a result (`e4drr-ibf/result@1`): the metrics a result
 * offers (damage, affected value, EAD, trigger probability, alert level), the slices they are shown for
 * (lead times of an ensemble, bands otherwise), and each zone's value. Pure functions of the result.
 */
import type { AssessResult, ZoneResult } from '../../../src/engine/result.js';
import type { AlertLevel } from '../../../src/engine/trigger.js';

export type MetricId = 'damage' | 'affected' | 'ead' | 'probability' | 'alert';

export const METRIC_IDS: readonly MetricId[] = ['damage', 'affected', 'ead', 'probability', 'alert'];

/** How an ensemble's bands map to members and lead times (from the scenario; the result does not say). */
export interface Layout {
  members: number;
  leads: number;
  order: 'member-major' | 'lead-major';
}

export interface Slice {
  /** Lead-time index (ensembles) or band index. */
  index: number;
  label: string;
}

export interface ZoneValue {
  id: string;
  name: string;
  value: number | null;
  level?: AlertLevel;
}

const isEnsemble = (r: AssessResult) => r.bandsType === 'ensemble' || r.zones.some((z) => z.ensemble?.length) || Boolean(r.totals.ensemble?.length);

/** The lead times (ensembles) or bands (everything else) a metric can be shown for. */
export function slicesOf(r: AssessResult): Slice[] {
  if (isEnsemble(r)) {
    const src = r.totals.ensemble ?? r.totals.trigger ?? r.zones.find((z) => z.ensemble || z.trigger)?.ensemble ?? [];
    return src.map((e, index) => ({ index, label: String(e.leadTime) }));
  }
  return r.bands.map((b) => ({
    index: b.index,
    label: b.returnPeriod !== undefined ? `${b.returnPeriod}-year` : b.name,
  }));
}

/** Metrics this result can show. */
export function metricsOf(r: AssessResult, layout?: Layout): MetricId[] {
  const out: MetricId[] = ['damage'];
  if (!isEnsemble(r) || layout) out.push('affected');
  if (r.totals.ead !== undefined || r.totals.aai !== undefined || r.zones.some((z) => z.eai !== undefined)) out.push('ead');
  if (r.zones.some((z) => z.trigger?.length)) out.push('probability', 'alert');
  return out;
}

export function metricLabel(m: MetricId, r: AssessResult): string {
  const unit = r.units.value;
  switch (m) {
    case 'damage':
      return isEnsemble(r) ? `Damage, median of members (${unit})` : `Damage (${unit})`;
    case 'affected':
      return isEnsemble(r) ? `Affected value, median of members (${unit})` : `Affected value (${unit})`;
    case 'ead':
      return r.totals.ead !== undefined ? `Expected annual damage (${unit}/year)` : `Expected annual impact (${unit}/year)`;
    case 'probability':
      return 'Trigger probability';
    case 'alert':
      return 'Alert level';
  }
}

/** Band indices of every member at lead `lead`. */
export function memberBands(layout: Layout, lead: number): number[] {
  return Array.from({ length: layout.members }, (_, m) => (layout.order === 'member-major' ? m * layout.leads + lead : lead * layout.members + m));
}

function median(xs: number[]): number | null {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return null;
  const h = v.length >> 1;
  return v.length % 2 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
}

/** One zone's (or the totals') value of metric `m` at slice `index`. */
export function valueOf(z: Pick<ZoneResult, 'damage' | 'affectedValue' | 'ead' | 'eai' | 'ensemble' | 'trigger'> & { aai?: number }, m: MetricId, index: number, layout?: Layout): { value: number | null; level?: AlertLevel } {
  switch (m) {
    case 'damage':
      if (z.ensemble?.length) return { value: z.ensemble[index]?.median ?? null };
      return { value: z.damage[index] ?? null };
    case 'affected':
      if (layout) return { value: median(memberBands(layout, index).map((b) => z.affectedValue[b] ?? NaN)) };
      return { value: z.affectedValue[index] ?? null };
    case 'ead':
      return { value: z.ead ?? z.eai ?? z.aai ?? null };
    case 'probability':
      return { value: z.trigger?.[index]?.probability ?? null };
    case 'alert': {
      const t = z.trigger?.[index];
      return t ? { value: t.severity, level: t.alertLevel } : { value: null };
    }
  }
}

/** Every zone's value of metric `m` at slice `index`. */
export function zoneValues(r: AssessResult, m: MetricId, index: number, layout?: Layout): ZoneValue[] {
  return r.zones.map((z) => ({ id: z.id, name: z.name ?? z.id, ...valueOf(z, m, index, layout) }));
}

/** The highest alert level of a zone over all lead times, with the first lead time it is reached. */
export function peakAlert(z: ZoneResult): { level: AlertLevel; leadTime: string | null; probability: number } {
  const rank: Record<AlertLevel, number> = { none: 0, low: 1, medium: 2, high: 3 };
  let best: { level: AlertLevel; leadTime: string | null; probability: number } = { level: 'none', leadTime: null, probability: 0 };
  for (const t of z.trigger ?? []) {
    if (rank[t.alertLevel] > rank[best.level]) best = { level: t.alertLevel, leadTime: String(t.leadTime), probability: t.probability };
  }
  return best;
}
