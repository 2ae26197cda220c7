/**
 * @module engine/derive/events
 * Event sets: bands are events, each with an annual frequency (1/year). CLIMADA semantics
 * (climada/engine/impact.py, impact_calc.py): `atEvent` (impact of each event summed over zones),
 * `eai` (expected annual impact of each zone, sum over events of impact x frequency), `aai` (the sum
 * of `eai`), the exceedance frequency curve `calc_freq_curve`, and the local exceedance impact /
 * local return period of each zone (climada/util/interpolation.py). Impacts are in the exposure's
 * unit (e.g. EUR, people); frequencies in 1/year; return periods in years.
 */
import { IbfError, type Problem } from '../../errors.js';
import { aroundDecimals, argsortStable, interp1d, npInterp, roundSigDigits, searchsortedLeft } from './numeric.js';

/**
 * A per-zone x per-band table as the engine produces it: `table[zone][band]`, e.g.
 * `zones.map((z) => z.damage)`. Values in the exposure's unit.
 */
export type ZoneBandTable = readonly ArrayLike<number>[];

/** One point of an exceedance frequency curve (result field `totals.exceedanceCurve[]`). */
export interface ExceedancePoint {
  /** Return period (years) = 1 / exceedance frequency. */
  returnPeriod: number;
  /** Impact reached or exceeded once per return period (exposure unit). */
  impact: number;
}

/** `atEvent`, `eai` and `aai` of an event set. */
export interface EventSetMetrics {
  /** Per band (event): impact summed over the zones (exposure unit); CLIMADA `at_event`. */
  atEvent: number[];
  /** Per zone: expected annual impact, sum over events of impact x frequency (exposure unit / year); CLIMADA `eai_exp`. */
  eai: number[];
  /** Average annual impact, the sum of `eai` (exposure unit / year); CLIMADA `aai_agg`. */
  aai: number;
}

/** Problems with a list of annual event frequencies for `bandCount` bands (none when valid). */
export function frequencyProblems(frequencies: readonly number[] | undefined, bandCount: number, path = 'hazard.bands.frequencies'): Problem[] {
  if (frequencies === undefined) return [{ path, message: `events need one annual frequency (1/year) per band; the hazard has ${bandCount} band${bandCount === 1 ? '' : 's'}` }];
  const problems: Problem[] = [];
  if (frequencies.length !== bandCount) {
    problems.push({ path, message: `${frequencies.length} frequenc${frequencies.length === 1 ? 'y' : 'ies'} given for ${bandCount} band${bandCount === 1 ? '' : 's'}; give exactly one annual frequency per band` });
  }
  frequencies.forEach((f, i) => {
    if (!(Number.isFinite(f) && f >= 0)) problems.push({ path: `${path}[${i}]`, message: `frequency ${f} is not a finite number >= 0 (1/year)` });
  });
  return problems;
}

function check(problems: Problem[], what: string): void {
  if (problems.length) throw IbfError.fromProblems('E_SCENARIO_INVALID', what, problems);
}

function tableProblems(table: ZoneBandTable, bandCount: number, path: string): Problem[] {
  const problems: Problem[] = [];
  table.forEach((row, z) => {
    if (row.length !== bandCount) problems.push({ path: `${path}[${z}]`, message: `zone has ${row.length} band values, expected ${bandCount}` });
  });
  return problems;
}

/**
 * CLIMADA `at_event`: per band, the impact summed over the zones (in zone order). `bandCount` is
 * needed only for an empty table.
 */
export function atEvent(table: ZoneBandTable, bandCount = table[0]?.length ?? 0): number[] {
  check(tableProblems(table, bandCount, 'table'), 'impact table is invalid');
  const out = new Array<number>(bandCount).fill(0);
  for (const row of table) for (let b = 0; b < bandCount; b++) out[b]! += row[b]!;
  return out;
}

/**
 * CLIMADA `eai_exp`: per zone, the sum over events (in band order) of impact x frequency
 * (exposure unit / year). Throws `E_SCENARIO_INVALID` when the frequencies do not fit the table.
 */
export function eai(table: ZoneBandTable, frequencies: readonly number[]): number[] {
  check([...frequencyProblems(frequencies, frequencies.length), ...tableProblems(table, frequencies.length, 'table')], 'event set is invalid');
  return table.map((row) => {
    let s = 0;
    for (let b = 0; b < frequencies.length; b++) s += row[b]! * frequencies[b]!;
    return s;
  });
}

/** CLIMADA `aai_agg`: the sum of the per-zone `eai` (exposure unit / year). */
export function aai(eaiPerZone: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < eaiPerZone.length; i++) s += eaiPerZone[i]!;
  return s;
}

/**
 * `aai` from per-event totals, `sum(atEvent x frequency)` (exposure unit / year): for totals that
 * include exposure outside every zone (e.g. `totals.damage[]`), where no per-zone `eai` exists.
 */
export function aaiFromAtEvent(atEventPerBand: ArrayLike<number>, frequencies: readonly number[]): number {
  check(frequencyProblems(frequencies, atEventPerBand.length), 'event set is invalid');
  let s = 0;
  for (let b = 0; b < frequencies.length; b++) s += atEventPerBand[b]! * frequencies[b]!;
  return s;
}

/** `atEvent`, `eai` and `aai` of a zone x event table with annual frequencies. */
export function eventSetMetrics(table: ZoneBandTable, frequencies: readonly number[]): EventSetMetrics {
  const perZone = eai(table, frequencies);
  return { atEvent: atEvent(table, frequencies.length), eai: perZone, aai: aai(perZone) };
}

/**
 * CLIMADA `Impact.calc_freq_curve`: events sorted by impact descending, exceedance frequency = the
 * cumulative sum of their frequencies, return period = 1 / exceedance frequency; returned with
 * return periods ascending (impacts ascending). With `returnPeriods`, the curve is read at those
 * return periods with `np.interp` (linear in return period; below the shortest return period of the
 * curve the smallest impact, above the longest the largest). Tied impacts are taken in the order of
 * numpy's `np.argsort(at_event)[::-1]` for up to 16 events, reproducibly beyond (see {@link argsortStable}).
 *
 * @param atEventPerBand impact of each event (exposure unit)
 * @param frequencies annual frequency of each event (1/year)
 * @param returnPeriods optional return periods to read the curve at (years)
 */
export function exceedanceCurve(atEventPerBand: ArrayLike<number>, frequencies: readonly number[], returnPeriods?: readonly number[]): ExceedancePoint[] {
  const problems = frequencyProblems(frequencies, atEventPerBand.length);
  returnPeriods?.forEach((rp, i) => {
    if (!(rp > 0)) problems.push({ path: `returnPeriods[${i}]`, message: `return period ${rp} is not a number > 0 (years)` });
  });
  check(problems, 'exceedance curve input is invalid');
  const desc = argsortStable(atEventPerBand).reverse();
  const n = desc.length;
  const rp = new Array<number>(n);
  const impact = new Array<number>(n);
  let cum = 0;
  for (let k = 0; k < n; k++) {
    cum += frequencies[desc[k]!]!;
    // position n - 1 - k: return periods ascending
    rp[n - 1 - k] = 1 / cum;
    impact[n - 1 - k] = atEventPerBand[desc[k]!]!;
  }
  if (returnPeriods === undefined) return rp.map((r, i) => ({ returnPeriod: r, impact: impact[i]! }));
  if (n === 0) return returnPeriods.map((r) => ({ returnPeriod: r, impact: NaN }));
  return returnPeriods.map((r) => ({ returnPeriod: r, impact: npInterp(r, rp, impact) }));
}

/**
 * How CLIMADA inter- and extrapolates a zone's (cumulative frequency, impact) points:
 * - `interpolate`: between the points only; outside them NaN.
 * - `extrapolate`: the end segments extended (scipy `interp1d(fill_value='extrapolate')`).
 * - `extrapolate_constant`: beyond the rarest point the largest impact; more frequent than the most
 *   frequent point, the asymptote (0 impact; for return periods NaN).
 * - `stepfunction`: the impact of the next more frequent point (no interpolation), asymptote as above.
 */
export type LocalMethod = 'interpolate' | 'extrapolate' | 'extrapolate_constant' | 'stepfunction';

/**
 * How equal (or nearly equal) impacts are grouped, their frequencies summed, before the cumulative
 * frequencies are formed:
 * - `'exact'` (default): identical impacts are one point. Lossless.
 * - `{ sigDigits: n }`: impacts rounded to n significant digits first (CLIMADA 5, `n_sig_dig=3`).
 * - `{ decimals: n }`: impacts rounded with `np.around(x, n)` first (CLIMADA 6, `bin_decimals`).
 * - `'none'`: no grouping (CLIMADA 6 default `bin_decimals=None`): tied impacts stay separate points.
 */
export type ImpactBinning = 'exact' | 'none' | { sigDigits: number } | { decimals: number };

export interface LocalExceedanceOptions {
  /** Default `interpolate` (CLIMADA's default). */
  method?: LocalMethod;
  /** Impacts at or below this are left out (exposure unit); default 0; null = keep all. */
  minImpact?: number | null;
  /** Interpolate in log10 of frequency (default true). */
  logFrequency?: boolean;
  /** Interpolate in log10 of impact (default true). */
  logImpact?: boolean;
  /** Default `'exact'`. */
  binning?: ImpactBinning;
}

interface Points {
  /** Impacts ascending (after grouping). */
  values: number[];
  /** Cumulative (exceedance) frequency of each value: the sum of the frequencies of it and all larger values. */
  cumFreq: number[];
}

/** CLIMADA `preprocess_and_interpolate_ev` up to the cumulative frequencies: sort, group, cumulate. */
function exceedancePoints(values: ArrayLike<number>, frequencies: readonly number[], binning: ImpactBinning): Points {
  const order = argsortStable(values);
  let v = order.map((i) => values[i]!);
  let f = order.map((i) => frequencies[i]!);
  if (binning !== 'none') {
    if (typeof binning === 'object') v = v.map('sigDigits' in binning ? (x) => roundSigDigits(x, binning.sigDigits) : (x) => aroundDecimals(x, binning.decimals));
    // rounding is monotone, so equal values stay adjacent: sum their frequencies in order
    const gv: number[] = [];
    const gf: number[] = [];
    for (let i = 0; i < v.length; i++) {
      if (gv.length > 0 && gv[gv.length - 1] === v[i]) gf[gf.length - 1]! += f[i]!;
      else {
        gv.push(v[i]!);
        gf.push(f[i]!);
      }
    }
    v = gv;
    f = gf;
  }
  const cum = new Array<number>(f.length);
  let s = 0;
  for (let i = f.length - 1; i >= 0; i--) {
    s += f[i]!;
    cum[i] = s;
  }
  return { values: v, cumFreq: cum };
}

/** CLIMADA `_interpolate_small_input`: no point gives the asymptote; one point a step at it. */
function smallInput(xTest: number, xTrain: number[], yTrain: number[], yAsymptotic: number): number {
  if (xTrain.length === 0) return yAsymptotic;
  return xTest > xTrain[0]! ? yAsymptotic : yTrain[0]!;
}

interface EvOptions {
  logx: boolean;
  logy: boolean;
  xThreshold: number | null;
  yThreshold: number | null;
  method: LocalMethod;
  yAsymptotic: number;
}

/** CLIMADA `_preprocess_interpolation_data` (threshold filter, then log10) + `_interpolate_ev` / `_stepfunction_ev`. */
function interpolateEv(xTests: readonly number[], x0: number[], y0: number[], o: EvOptions): number[] {
  let x = x0;
  let y = y0;
  if (o.xThreshold !== null) {
    const keep = x.map((v) => v > o.xThreshold!);
    x = x.filter((_, i) => keep[i]);
    y = y.filter((_, i) => keep[i]);
  }
  if (o.yThreshold !== null) {
    const keep = y.map((v) => v > o.yThreshold!);
    x = x.filter((_, i) => keep[i]);
    y = y.filter((_, i) => keep[i]);
  }
  if (o.method === 'stepfunction') {
    if (x.length < 2) return xTests.map((t) => smallInput(t, x, y, o.yAsymptotic));
    return xTests.map((t) => {
      const i = searchsortedLeft(x, t);
      return i === x.length ? o.yAsymptotic : y[i]!;
    });
  }
  const xs = o.logx ? x.map(Math.log10) : x;
  const ys = o.logy ? y.map(Math.log10) : y;
  const ts = o.logx ? xTests.map(Math.log10) : xTests;
  if (xs.length < 2) {
    if (o.method === 'interpolate') return ts.map(() => NaN);
    // small input works on the original y (CLIMADA converts back from log10)
    return ts.map((t) => smallInput(t, xs, y, o.yAsymptotic));
  }
  const fill =
    o.method === 'extrapolate'
      ? ('extrapolate' as const)
      : o.method === 'extrapolate_constant'
        ? ([ys[0]!, o.logy ? Math.log10(o.yAsymptotic) : o.yAsymptotic] as const)
        : ([NaN, NaN] as const);
  return ts.map((t) => {
    const r = interp1d(xs, ys, t, fill);
    return o.logy ? 10 ** r : r;
  });
}

function localProblems(table: ZoneBandTable, frequencies: readonly number[], tests: readonly number[], testName: string, positive: boolean): Problem[] {
  const problems = [...frequencyProblems(frequencies, frequencies.length), ...tableProblems(table, frequencies.length, 'table')];
  tests.forEach((t, i) => {
    if (!(positive ? t > 0 : Number.isFinite(t))) problems.push({ path: `${testName}[${i}]`, message: `${t} is not ${positive ? 'a number > 0' : 'a finite number'}` });
  });
  return problems;
}

/**
 * CLIMADA `Impact.local_exceedance_impact`: per zone, the impact exceeded once per each return
 * period (exposure unit), `result[zone][i]` for `returnPeriods[i]` (years). The zone's events give
 * points (exceedance frequency, impact); impacts <= `minImpact` are dropped after the cumulative
 * frequencies are formed; the asymptote (more frequent than every point) is 0.
 */
export function localExceedanceImpact(table: ZoneBandTable, frequencies: readonly number[], returnPeriods: readonly number[], options: LocalExceedanceOptions = {}): number[][] {
  check(localProblems(table, frequencies, returnPeriods, 'returnPeriods', true), 'local exceedance input is invalid');
  const { method = 'interpolate', minImpact = 0, logFrequency = true, logImpact = true, binning = 'exact' } = options;
  const testFreq = returnPeriods.map((rp) => 1 / rp);
  return table.map((row) => {
    const p = exceedancePoints(row, frequencies, binning);
    // x: cumulative frequency ascending, y: impact descending
    return interpolateEv(testFreq, [...p.cumFreq].reverse(), [...p.values].reverse(), {
      logx: logFrequency,
      logy: logImpact,
      xThreshold: null,
      yThreshold: minImpact,
      method,
      yAsymptotic: 0,
    });
  });
}

/**
 * CLIMADA `Impact.local_return_period`: per zone, the return period (years) at which each impact
 * threshold (exposure unit) is reached or exceeded, `result[zone][i]` for `thresholds[i]`. NaN where
 * the threshold lies beyond the zone's points (as in CLIMADA: the asymptote is NaN, and an
 * exceedance frequency of 0 gives NaN, not Infinity).
 */
export function localReturnPeriod(table: ZoneBandTable, frequencies: readonly number[], thresholds: readonly number[], options: LocalExceedanceOptions = {}): number[][] {
  check(localProblems(table, frequencies, thresholds, 'thresholds', false), 'local return period input is invalid');
  const { method = 'interpolate', minImpact = 0, logFrequency = true, logImpact = true, binning = 'exact' } = options;
  return table.map((row) => {
    const p = exceedancePoints(row, frequencies, binning);
    // x: impact ascending, y: cumulative frequency descending
    const freq = interpolateEv(thresholds, p.values, p.cumFreq, {
      logx: logImpact,
      logy: logFrequency,
      xThreshold: minImpact,
      yThreshold: null,
      method,
      yAsymptotic: NaN,
    });
    return freq.map((f) => (f === 0 ? NaN : 1 / f));
  });
}
