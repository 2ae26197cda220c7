/**
 * @module engine/derive/ead
 * Expected annual damage (EAD) from return-period maps: bands are damages for return periods T
 * (years), exceedance probability p = 1 / T (1/year), EAD = integral of damage over p (exposure unit
 * per year). Both methods are weighted sums `EAD = sum_i w_i D_i`, so EAD is linear and (weights >= 0)
 * monotone in the damages:
 * - `loglinear` (default): Delft-FIAT's risk-density integration (src/fiat/methods/ead.py
 *   `risk_density` / `calc_ead`): damage linear in ln p between the return periods.
 * - `trapezoid`: damage linear in p between the return periods (trapezoid rule over p).
 *
 * Tails, the same for both (Delft-FIAT's convention): rarer than the longest return period
 * (p < 1 / T_max) the damage stays at D(T_max), adding D(T_max) / T_max; more frequent than the
 * shortest return period (p > 1 / T_min) the damage is 0. One return period gives D / T.
 */
import { IbfError, type Problem } from '../../errors.js';

export type EadMethod = 'loglinear' | 'trapezoid';
export const EAD_METHODS: readonly EadMethod[] = ['loglinear', 'trapezoid'];

/**
 * Problems with return periods (years): none, non-positive or non-finite values, duplicates.
 * Unsorted return periods are fine (they are sorted together with their damages).
 */
export function returnPeriodProblems(returnPeriods: readonly number[] | undefined, bandCount?: number, path = 'hazard.bands.returnPeriods'): Problem[] {
  if (returnPeriods === undefined || returnPeriods.length === 0) return [{ path, message: 'return-period maps need one return period (years) per band' }];
  const problems: Problem[] = [];
  if (bandCount !== undefined && returnPeriods.length !== bandCount) {
    problems.push({ path, message: `${returnPeriods.length} return period${returnPeriods.length === 1 ? '' : 's'} given for ${bandCount} band${bandCount === 1 ? '' : 's'}; give exactly one per band` });
  }
  returnPeriods.forEach((t, i) => {
    if (!(Number.isFinite(t) && t > 0)) problems.push({ path: `${path}[${i}]`, message: `return period ${t} is not a finite number > 0 (years)` });
  });
  const seen = new Map<number, number[]>();
  returnPeriods.forEach((t, i) => seen.set(t, [...(seen.get(t) ?? []), i]));
  for (const [t, at] of seen) {
    if (at.length > 1) problems.push({ path, message: `return period ${t} appears ${at.length} times (bands ${at.map((i) => i + 1).join(', ')}); each band needs its own return period` });
  }
  return problems;
}

function checkReturnPeriods(returnPeriods: readonly number[], bandCount?: number): void {
  const problems = returnPeriodProblems(returnPeriods, bandCount, 'returnPeriods');
  if (problems.length) throw IbfError.fromProblems('E_SCENARIO_INVALID', 'return periods are invalid', problems, 'Give each band one distinct return period in years (> 0); their order does not matter.');
}

/** Band indices ordered by return period ascending. */
function ascending(returnPeriods: readonly number[]): number[] {
  return returnPeriods.map((_, i) => i).sort((a, b) => returnPeriods[a]! - returnPeriods[b]!);
}

/**
 * Delft-FIAT `risk_density`: the weight (1/year) of each return period's damage in the log-linear
 * EAD, in the order given. Over the return periods sorted ascending, with p_i = 1 / T_i, the damage
 * is linear in ln p between neighbours; integrating the two hat functions of a segment gives
 * b_i = p_i - q_i (to D_i) and a_i = q_i - p_{i+1} (to D_{i+1}) with q_i = (p_i - p_{i+1}) / ln(p_i / p_{i+1});
 * alpha_0 = b_0, alpha_i = a_{i-1} + b_i, alpha_{n-1} = a_{n-2} + p_{n-1}; one return period: alpha = p.
 *
 * This is FIAT's algebra (its c_i, G_i, a_i, b_i reduce to exactly these) evaluated without its
 * cancellation: q_i from d = T_{i+1} - T_i as (d / T_i / T_{i+1}) / log1p(d / T_i), so close return
 * periods (10 and 10.0000001) keep accurate, non-negative weights where FIAT's literal formula
 * loses all digits. For distinct return periods like [2, 5, 10, 25] the two agree to ~1e-15.
 */
export function riskDensity(returnPeriods: readonly number[]): number[] {
  checkReturnPeriods(returnPeriods);
  const order = ascending(returnPeriods);
  const t = order.map((i) => returnPeriods[i]!);
  const n = t.length;
  const alpha = new Array<number>(n).fill(0);
  for (let i = 0; i < n - 1; i++) {
    const d = t[i + 1]! - t[i]!;
    const q = d / t[i]! / t[i + 1]! / Math.log1p(d / t[i]!);
    alpha[i]! += 1 / t[i]! - q;
    alpha[i + 1]! += q - 1 / t[i + 1]!;
  }
  alpha[n - 1]! += 1 / t[n - 1]!;
  const out = new Array<number>(n);
  order.forEach((band, k) => (out[band] = alpha[k]!));
  return out;
}

/**
 * Trapezoid-rule weights (1/year) over exceedance probability, in the order given: with p = 1/T
 * sorted descending, w_0 = (p_0 - p_1)/2, w_i = (p_{i-1} - p_{i+1})/2, w_{n-1} = (p_{n-2} - p_{n-1})/2
 * + p_{n-1} (the constant tail beyond the longest return period). One return period gives p.
 */
export function trapezoidWeights(returnPeriods: readonly number[]): number[] {
  checkReturnPeriods(returnPeriods);
  const order = ascending(returnPeriods);
  const n = order.length;
  const p = order.map((i) => 1 / returnPeriods[i]!);
  const out = new Array<number>(n);
  for (let k = 0; k < n; k++) {
    const before = k > 0 ? (p[k - 1]! - p[k]!) / 2 : 0;
    const after = k < n - 1 ? (p[k]! - p[k + 1]!) / 2 : p[k]!;
    out[order[k]!] = before + after;
  }
  return out;
}

/** The EAD weights (1/year) of each return period, in the order given. */
export function eadWeights(returnPeriods: readonly number[], method: EadMethod = 'loglinear'): number[] {
  if (method === 'loglinear') return riskDensity(returnPeriods);
  if (method === 'trapezoid') return trapezoidWeights(returnPeriods);
  throw IbfError.fromProblems('E_SCENARIO_INVALID', 'EAD method is invalid', [{ path: 'ead.method', message: `unknown method ${JSON.stringify(method)}; use "loglinear" or "trapezoid"` }]);
}

/**
 * Delft-FIAT `calculate_ead`: sum of weight x damage. Summed in ascending return period order, so
 * an unsorted input gives the same bits as the sorted one.
 */
function weightedSum(weights: readonly number[], order: readonly number[], damage: (band: number) => number): number {
  let s = 0;
  for (const b of order) s += weights[b]! * damage(b);
  return s;
}

/**
 * EAD (exposure unit / year) from the damage of each return period.
 * @param damages damage per band (exposure unit), one per return period
 * @param returnPeriods return period per band (years), any order, distinct, > 0
 */
export function ead(damages: ArrayLike<number>, returnPeriods: readonly number[], method: EadMethod = 'loglinear'): number {
  checkReturnPeriods(returnPeriods, damages.length);
  const w = eadWeights(returnPeriods, method);
  return weightedSum(w, ascending(returnPeriods), (b) => damages[b]!);
}

/** EAD per zone (exposure unit / year) of a zone x return-period damage table (`zones[].damage`). */
export function eadPerZone(table: readonly ArrayLike<number>[], returnPeriods: readonly number[], method: EadMethod = 'loglinear'): number[] {
  checkReturnPeriods(returnPeriods);
  const problems: Problem[] = [];
  table.forEach((row, z) => {
    if (row.length !== returnPeriods.length) problems.push({ path: `table[${z}]`, message: `zone has ${row.length} band values, expected ${returnPeriods.length}` });
  });
  if (problems.length) throw IbfError.fromProblems('E_SCENARIO_INVALID', 'damage table is invalid', problems);
  const w = eadWeights(returnPeriods, method);
  const order = ascending(returnPeriods);
  return table.map((row) => weightedSum(w, order, (b) => row[b]!));
}

export interface EadCellsOptions {
  /** Return period of each band (years). */
  returnPeriods: readonly number[];
  method?: EadMethod;
  /** A damage value meaning "no data" besides NaN; a cell with no data in any band gets NaN. */
  nodata?: number | null;
  /** Where to write (length = cells); a new Float64Array by default. */
  out?: Float32Array | Float64Array;
}

/**
 * Per-cell EAD (for `ead.tif`) over band-sequential damages: band b of cell c at `data[b * cells + c]`
 * (exposure unit). Returns EAD per cell (exposure unit / year), NaN where any band has no data
 * (NaN or `nodata`). Nothing is detached or kept; `out` is written in place when given.
 */
export function eadCells(data: Float32Array | Float64Array, cells: number, options: EadCellsOptions): Float32Array | Float64Array {
  const nb = options.returnPeriods.length;
  checkReturnPeriods(options.returnPeriods);
  if (!(Number.isInteger(cells) && cells >= 0) || data.length !== nb * cells) {
    throw new IbfError('E_GRID_MISMATCH', `damage data has ${data.length} values, expected ${nb} bands x ${cells} cells = ${nb * cells}`, {
      hint: 'Pass band-sequential damages: one band per return period, each the size of the grid.',
    });
  }
  return cellLoop(Array.from({ length: nb }, (_, b) => data.subarray(b * cells, (b + 1) * cells)), cells, options);
}

/** {@link eadCells} over one array per band (as `Raster.bands`), e.g. the `damage` raster of an assessment. */
export function eadBands(bands: readonly (Float32Array | Float64Array)[], options: EadCellsOptions): Float32Array | Float64Array {
  checkReturnPeriods(options.returnPeriods, bands.length);
  const cells = bands[0]?.length ?? 0;
  const bad = bands.findIndex((b) => b.length !== cells);
  if (bad >= 0) throw new IbfError('E_GRID_MISMATCH', `band ${bad + 1} has ${bands[bad]!.length} cells, band 1 has ${cells}`, { hint: 'All return-period bands must be on one grid.' });
  return cellLoop(bands, cells, options);
}

function cellLoop(bands: readonly (Float32Array | Float64Array)[], cells: number, options: EadCellsOptions): Float32Array | Float64Array {
  const { returnPeriods, method = 'loglinear', nodata = null } = options;
  const out = options.out ?? new Float64Array(cells);
  if (out.length !== cells) throw new IbfError('E_GRID_MISMATCH', `output has ${out.length} cells, expected ${cells}`, { hint: 'Pass an output array with one value per cell.' });
  const w = eadWeights(returnPeriods, method);
  const order = ascending(returnPeriods);
  const ws = order.map((b) => w[b]!);
  const sorted = order.map((b) => bands[b]!);
  const nb = sorted.length;
  for (let c = 0; c < cells; c++) {
    let s = 0;
    for (let k = 0; k < nb; k++) {
      const d = sorted[k]![c]!;
      if (d !== d || d === nodata) {
        s = NaN;
        break;
      }
      s += ws[k]! * d;
    }
    out[c] = s;
  }
  return out;
}
