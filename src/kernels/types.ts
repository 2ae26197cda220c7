/**
 * @module kernels/types
 * The contract every kernel implementation (TypeScript twin, WASM scalar, WASM SIMD) fulfils.
 */
import type { DamageFunction } from '../model/damage-function.js';

/** Zone index meaning "this cell belongs to no zone". */
export const NO_ZONE = 0xffffffff;

/** Accumulator slots per zone and band, in this order. */
export const STAT = { exposed: 0, damage: 1, affected: 2, max: 3, cells: 4, intensity: 5 } as const;
export const STATS_PER_BAND = 6;
/** Band-independent slots per zone: exposure total, cells with valid exposure (both weighted). */
export const ZONE_STAT = { exposure: 0, cells: 1 } as const;
export const STATS_PER_ZONE = 2;

export interface ImpactInputs {
  /** Intensity per cell and band (hazard unit), band b at `b * bandStride`. Nodata: NaN or `hazardNodata`. */
  hazard: Float32Array;
  nBands: number;
  /** Cells per band actually processed. */
  cells: number;
  /** Distance between bands in `hazard`, in cells; defaults to `cells`. */
  bandStride?: number;
  /** Exposed value per cell (exposure unit: EUR, USD, people ...). Nodata: NaN or `exposureNodata`. */
  exposure: Float64Array;
  exposureNodata?: number | null;
  hazardNodata?: number | null;
  /** Zone index per cell in [0, nZones) or {@link NO_ZONE}; omitted = every cell in zone 0. */
  zones?: Uint32Array;
  nZones?: number;
  /** Coverage weight per cell in [0, 1]; omitted = 1. */
  weights?: Float32Array;
  /** Curve index per cell into `curves`; omitted = curves[0] everywhere. */
  classes?: Uint8Array;
  /** Damage functions, already in the hazard's intensity unit. */
  curves: readonly DamageFunction[];
  /** A cell is affected when intensity >= threshold (hazard unit). */
  threshold: number;
  /** Also return the per-cell damage raster (exposure unit), laid out like `hazard`. */
  damage?: boolean;
  /**
   * Hazard fraction (CLIMADA's `Hazard.fraction`): the share of each cell the hazard actually covers, in
   * [0, 1] (the caller checks the range; the kernel uses the value as given). It scales only the damage:
   * per cell and band the damage sum adds `(w * exposure) * (mdr * f)` (f64, `f` the float32 value widened)
   * instead of `w * exposure * mdr`, and the damage raster holds `float32(exposure * (mdr * f))` (CLIMADA's order). Exposed,
   * affected, max, cells, intensity and the zone totals do not depend on it. NaN counts as 0: a cell without
   * a fraction has no damage (as a missing entry of CLIMADA's sparse fraction matrix). Omitted: no
   * multiplication at all, so every result keeps the bits it has without this field (and equals a
   * fraction of all ones). Layout per {@link ImpactInputs.fractionStride}.
   */
  fraction?: Float32Array;
  /**
   * Layout of `fraction`, in cells: 0 = one band shared by every hazard band (needs `cells` values);
   * otherwise band b starts at `b * fractionStride` (>= `cells`; needs `(nBands - 1) * fractionStride + cells`
   * values). Omitted: `bandStride` (one fraction band per hazard band, laid out like `hazard`) when
   * `nBands > 1` and `fraction` has at least `(nBands - 1) * bandStride + cells` values, else 0 (shared).
   */
  fractionStride?: number;
}

/** Per-zone partial sums of one call; merge partials with {@link mergePartial}. */
export interface ImpactPartial {
  nZones: number;
  nBands: number;
  /** f64[nZones * nBands * 6], slots per {@link STAT}. */
  stats: Float64Array;
  /** f64[nZones * 2], slots per {@link ZONE_STAT}. */
  zoneStats: Float64Array;
  /** f32 per-cell damage (exposure unit; times the hazard fraction when given), NaN where hazard or exposure is nodata. */
  damage?: Float32Array;
}

export type KernelName = 'ts' | 'wasm-scalar' | 'wasm-simd';

export interface ImpactKernel {
  readonly name: KernelName;
  /**
   * Runs the fused impact + zonal pass. When `into` is given the sums are added to it (and it is
   * returned), so a raster can be fed in chunks. Input arrays are read, never detached.
   */
  impactZonal(inputs: ImpactInputs, into?: ImpactPartial): ImpactPartial;
  /** Mean damage ratio of `curve` at every intensity of `xs` (NaN for NaN). */
  mdr(curve: DamageFunction, xs: Float32Array): Float64Array;
}

/** A zeroed partial (max slots at -Infinity). */
export function emptyPartial(nZones: number, nBands: number): ImpactPartial {
  const stats = new Float64Array(nZones * nBands * STATS_PER_BAND);
  for (let i = STAT.max; i < stats.length; i += STATS_PER_BAND) stats[i] = -Infinity;
  return { nZones, nBands, stats, zoneStats: new Float64Array(nZones * STATS_PER_ZONE) };
}

/** Adds `b` into `a` (sums add, maxima take the max). Order matters for bitwise results: merge in tile order. */
export function mergePartial(a: ImpactPartial, b: ImpactPartial): ImpactPartial {
  if (a.nZones !== b.nZones || a.nBands !== b.nBands) throw new RangeError('partials of different shape');
  for (let i = 0; i < a.stats.length; i++) {
    a.stats[i] = i % STATS_PER_BAND === STAT.max ? Math.max(a.stats[i]!, b.stats[i]!) : a.stats[i]! + b.stats[i]!;
  }
  for (let i = 0; i < a.zoneStats.length; i++) a.zoneStats[i] = a.zoneStats[i]! + b.zoneStats[i]!;
  return a;
}
