/**
 * @module engine/metrics
 * Turns the per-band sums of an assessment into the metrics the bands call for: event sets give eai,
 * aai and the exceedance curve (CLIMADA), return-period maps give EAD (Delft-FIAT log-linear or
 * trapezoid) and ead.tif, ensembles give member distributions, exceedance probabilities and triggers
 * per zone and lead time. `derivationSpec` is checked before any cell is computed.
 */
import {
  aaiFromAtEvent, assertDerivation, eadBands, ead as eadOf, ensembleStats, exceedance, exceedanceCurve,
  resolveEnsembleLayout, type DerivationSpec, type EnsembleLayout,
} from './derive/index.js';
import { IbfError } from '../errors.js';
import { metricValues, zoneTriggers } from './trigger.js';
import type { Scenario } from '../model/scenario.js';
import type { DerivedMetrics, Totals } from './result.js';

/** Event frequencies as numbers: a frequencies CSV must have been read first (src/engine/scenario.ts does). */
function frequenciesOf(f: number[] | string | undefined): number[] | undefined {
  if (typeof f === 'string') {
    throw new IbfError('E_USAGE', `hazard.bands.frequencies names a CSV (${f}) that was not read`, { hint: 'Run the scenario through assess(), which reads the CSV, or give the frequencies inline.' });
  }
  return f;
}

/** The derivation spec of a scenario with `bandCount` hazard bands (after `hazard.select`). */
export function derivationSpec(s: Scenario, bandCount: number): DerivationSpec {
  const b = s.hazard.bands ?? { type: 'event' as const };
  const bands: DerivationSpec['bands'] =
    b.type === 'events' ? { type: 'events', frequencies: frequenciesOf(b.frequencies) }
    : b.type === 'return-periods' ? { type: 'return-periods', returnPeriods: b.returnPeriods }
    : b.type === 'ensemble' ? { type: 'ensemble', members: b.members, leadTimes: b.leadTimes, order: b.order }
    : { type: 'event' };
  return {
    bandCount,
    bands,
    ...(s.ead ? { ead: { method: s.ead.method ?? 'loglinear' } } : {}),
    ...(s.quantiles ? { quantiles: s.quantiles } : {}),
    ...(s.exceedance ? { exceedance: s.exceedance } : {}),
    ...(s.trigger ? { trigger: s.trigger } : {}),
  };
}

/** Checks the spec: one `E_SCENARIO_INVALID` listing every problem. */
export function checkDerivation(s: Scenario, bandCount: number): void {
  assertDerivation(derivationSpec(s, bandCount));
}

/** The ensemble layout, for `ensemble` bands and for one `event` treated as a single member. */
function layoutOf(spec: DerivationSpec): EnsembleLayout | null {
  if (spec.bands.type === 'ensemble') return resolveEnsembleLayout(spec.bands, spec.bandCount);
  if (spec.bands.type === 'event' && (spec.trigger || spec.exceedance || spec.quantiles)) return { members: 1, leadTimes: ['0-hour'], order: 'member-major' };
  return null;
}

/** Metrics of one zone (or of the totals) from its per-band sums. */
export function derive(t: Totals, spec: DerivationSpec, opts: { totals: boolean; curveReturnPeriods?: readonly number[] }): DerivedMetrics {
  const b = spec.bands;
  if (b.type === 'events') {
    const aai = aaiFromAtEvent(t.damage, b.frequencies!);
    // an event of frequency 0 at the top of the curve has an infinite return period: not a point to plot
    const curve = exceedanceCurve(t.damage, b.frequencies!, opts.curveReturnPeriods).filter((p) => Number.isFinite(p.returnPeriod));
    return opts.totals ? { aai, exceedanceCurve: curve } : { eai: aai };
  }
  if (b.type === 'return-periods') return { ead: eadOf(t.damage, b.returnPeriods!, spec.ead?.method ?? 'loglinear') };
  const layout = layoutOf(spec);
  if (!layout) return {};
  const out: DerivedMetrics = { ensemble: ensembleStats(t.damage, layout, spec.quantiles ?? []) };
  const rows = (spec.exceedance ?? []).flatMap((e) => exceedance(metricValues(t, e.metric), layout, e.metric, e.thresholds));
  if (spec.trigger) {
    const z = zoneTriggers(metricValues(t, spec.trigger.metric), layout, spec.trigger);
    out.trigger = z.trigger;
    rows.push(...z.exceedance);
  }
  if (rows.length) out.exceedance = rows;
  return out;
}

/** Per-cell EAD (exposure unit / year) from the per-band damage rasters of return-period maps. */
export function eadRaster(damage: Float32Array[], spec: DerivationSpec): Float32Array | null {
  if (spec.bands.type !== 'return-periods') return null;
  return eadBands(damage, { returnPeriods: spec.bands.returnPeriods!, method: spec.ead?.method ?? 'loglinear', out: new Float32Array(damage[0]!.length) }) as Float32Array;
}
