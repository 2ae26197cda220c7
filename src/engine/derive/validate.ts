/**
 * @module engine/derive/validate
 * Issue #4 section 7: everything wrong with what the bands mean and how they are to be derived,
 * found before any tile runs and reported at once as one `E_SCENARIO_INVALID`: frequencies not
 * matching the band count, return periods unsorted-and-fine but duplicated or non-positive, an
 * ensemble layout that does not divide the band count, thresholds with no members, pMin outside [0, 1].
 */
import { IbfError, type Problem } from '../../errors.js';
import { triggerProblems, type TriggerMetric, type TriggerRule } from '../trigger.js';
import { EAD_METHODS, returnPeriodProblems, type EadMethod } from './ead.js';
import { ensembleLayoutProblems, quantileProblems, thresholdProblems, type EnsembleLayoutSpec } from './ensemble.js';
import { frequencyProblems } from './events.js';

/** What the hazard bands mean (the scenario's `hazard.bands`, with the ensemble fields of issue #4). */
export type BandsSpec =
  | { type: 'event' }
  | { type: 'events'; frequencies?: readonly number[] }
  | { type: 'return-periods'; returnPeriods?: readonly number[] }
  | ({ type: 'ensemble' } & EnsembleLayoutSpec);

/** Everything a derivation needs besides the zone tables. */
export interface DerivationSpec {
  /** Number of hazard bands (after `hazard.select`). */
  bandCount: number;
  bands: BandsSpec;
  /** Return-period maps: how EAD is integrated (default `loglinear`). */
  ead?: { method?: EadMethod };
  /** Ensembles: quantiles of the member distribution to report, each in [0, 1]. */
  quantiles?: readonly number[];
  /** Ensembles: extra exceedance probabilities to report, per metric. */
  exceedance?: ReadonlyArray<{ metric: TriggerMetric; thresholds: readonly number[] }>;
  trigger?: TriggerRule;
}

/** Every problem of a derivation spec (empty when valid). Paths are scenario paths. */
export function derivationProblems(spec: DerivationSpec): Problem[] {
  const { bands, bandCount } = spec;
  const problems: Problem[] = [];
  if (!(Number.isInteger(bandCount) && bandCount >= 1)) problems.push({ path: 'hazard', message: `the hazard has ${bandCount} bands; at least one is needed` });
  switch (bands.type) {
    case 'events':
      problems.push(...frequencyProblems(bands.frequencies, bandCount));
      break;
    case 'return-periods':
      problems.push(...returnPeriodProblems(bands.returnPeriods, bandCount));
      break;
    case 'ensemble':
      problems.push(...ensembleLayoutProblems(bands, bandCount));
      break;
    case 'event':
      break;
    default:
      problems.push({ path: 'hazard.bands.type', message: `unknown bands type ${JSON.stringify((bands as { type: unknown }).type)}; use event, events, ensemble or return-periods` });
  }
  if (spec.ead?.method !== undefined) {
    if (bands.type !== 'return-periods') problems.push({ path: 'ead', message: `EAD needs return-period maps (hazard.bands.type "return-periods"), not "${bands.type}"` });
    if (!EAD_METHODS.includes(spec.ead.method)) problems.push({ path: 'ead.method', message: `unknown method ${JSON.stringify(spec.ead.method)}; use "loglinear" or "trapezoid"` });
  }
  // thresholds and probabilities need members: an ensemble, or one event as a single member
  const memberless = bands.type === 'events' || bands.type === 'return-periods';
  const noMembers = (path: string) => ({ path, message: `thresholds need ensemble members, but hazard.bands.type is "${bands.type}"; use "ensemble" (or one "event" as a single member)` });
  if (spec.quantiles !== undefined) {
    if (memberless) problems.push(noMembers('quantiles'));
    problems.push(...quantileProblems(spec.quantiles));
  }
  spec.exceedance?.forEach((e, i) => {
    if (memberless) problems.push(noMembers(`exceedance[${i}]`));
    problems.push(...thresholdProblems(e.thresholds, `exceedance[${i}].thresholds`));
  });
  if (spec.trigger !== undefined) {
    if (memberless) problems.push(noMembers('trigger'));
    problems.push(...triggerProblems(spec.trigger));
  }
  return problems;
}

/** Throws one `E_SCENARIO_INVALID` listing every problem of the spec; returns quietly when valid. */
export function assertDerivation(spec: DerivationSpec, name = 'scenario'): void {
  const problems = derivationProblems(spec);
  if (problems.length) throw IbfError.fromProblems('E_SCENARIO_INVALID', `${name} is invalid`, problems);
}
