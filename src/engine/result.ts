/**
 * @module engine/result
 * The result document (`e4drr-ibf/result@1`) of an assessment. Field names are a contract: extend,
 * never rename. Values are f64 sums in the exposure's unit; intensities in the hazard's unit.
 */
import type { KernelName } from '../kernels/types.js';
import type { BandsMeaning } from '../model/scenario.js';
import type { EnsembleStats, ExceedanceEntry, ExceedancePoint } from './derive/index.js';
import type { TriggerEntry } from './trigger.js';

export const RESULT_SCHEMA = 'e4drr-ibf/result@1';

export interface ResultBand {
  /** 0-based position in every per-band array of the result. */
  index: number;
  /** 1-based band number in the hazard file (GDAL numbering). */
  band: number;
  name: string;
  /** `events`: annual frequency (1/year). */
  frequency?: number;
  /** `return-periods`: return period (years). */
  returnPeriod?: number;
}

/** Probabilistic metrics derived from the per-band sums (issue #4): which appear depends on the bands. */
export interface DerivedMetrics {
  /** Event sets: expected annual impact, sum over events of damage x frequency (exposure unit / year). CLIMADA eai. */
  eai?: number;
  /** Event sets, totals: annual average impact (CLIMADA aai_agg). */
  aai?: number;
  /** Event sets, totals: the exceedance curve (CLIMADA calc_freq_curve), return period in years. */
  exceedanceCurve?: ExceedancePoint[];
  /** Return-period maps: expected annual damage (exposure unit / year), integrated as `eadMethod` says. */
  ead?: number;
  /** Ensembles: per lead time, the distribution of damage over members. */
  ensemble?: EnsembleStats[];
  /** Ensembles: per lead time, metric and threshold, the share of members at or above it. */
  exceedance?: ExceedanceEntry[];
  /** Ensembles with a trigger rule: per lead time, probability, triggered, alert level and severity. */
  trigger?: TriggerEntry[];
}

export interface Totals extends DerivedMetrics {
  /** Cells with valid exposure (weighted by zone coverage once zones exist). */
  cells: number;
  /** Sum of exposure over those cells (exposure unit). */
  exposedValue: number;
  /** Per band: expected damage, sum of exposure x mdr (exposure unit). */
  damage: number[];
  /** Per band: exposure where intensity >= the affected threshold (exposure unit; people for population). */
  affectedValue: number[];
  /** Per band: highest intensity over cells with valid exposure, or null where none has data. */
  maxIntensity: (number | null)[];
  /** Per band: mean intensity over cells with hazard and exposure, weighted by zone coverage (hazard unit); null where none. */
  meanIntensity: (number | null)[];
  /** Per band: exposure where intensity > 0, the hazard footprint (exposure unit). */
  footprintValue: number[];
  /** Per band: cells where both hazard and exposure have data. */
  hazardCells: number[];
}

/** Per-zone results: the same per-band arrays as {@link Totals}, over the zone's (weighted) cells. */
export interface ZoneResult extends Totals {
  id: string;
  name?: string;
}

export interface ManifestInput {
  role: string;
  /** As written in the scenario (relative paths stay relative). */
  path: string;
  sha256: string;
  bytes: number;
}

export interface Manifest {
  engine: { name: string; version: string };
  /** Which kernel computed the numbers. */
  kernel: KernelName;
  createdAt: string;
  inputs: ManifestInput[];
  /** Each damage function used, in the hazard's unit, with the sha256 of its canonical JSON. */
  curves: Array<{ id: string | null; unit: string; sha256: string; class?: string }>;
  /** sha256 of the scenario document bytes, when it came from a file. */
  scenarioSha256?: string;
}

export interface AssessResult {
  schema: typeof RESULT_SCHEMA;
  name?: string;
  units: { intensity: string; value: string };
  bandsType: BandsMeaning['type'];
  bands: ResultBand[];
  /** Per admin zone results, in the zones file's order; empty without `zones` in the scenario. */
  zones: ZoneResult[];
  /** The grid everything was computed on (the exposure grid), and how inputs were brought onto it. */
  grid?: { width: number; height: number; transform: number[]; crs: string | null; hazardResampling: 'none' | 'nearest' | 'bilinear'; aggregated?: boolean; zoneRule?: string };
  totals: Totals;
  /** Intensity at or above which a cell counts as affected; null = any intensity > 0. */
  affectedThreshold: number | null;
  /** Return-period maps: how EAD was integrated. */
  eadMethod?: 'loglinear' | 'trapezoid';
  /** Things the user should know that did not stop the run (e.g. cells without a class). */
  warnings: string[];
  manifest: Manifest;
}
