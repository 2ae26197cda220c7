/**
 * @module engine/derive/numeric
 * The few numpy / scipy primitives the derivations are defined by, written out so their edge cases
 * are the reference's: `np.interp`, `scipy.interpolate.interp1d` (linear, with fill values or
 * extrapolation), `np.searchsorted` (left), numpy's default (`linear`) quantile, `np.median`, and the
 * two ways CLIMADA rounds values before grouping them (significant digits, decimals). Pure f64 maths.
 */

/**
 * Indices that sort `values` ascending, ties kept in input order (stable). numpy's default
 * `np.argsort` (introsort) is stable for up to 16 elements (insertion sort); beyond that its tie
 * order is unspecified, so this is the reproducible reading of it. NaN sorts last, as in numpy.
 */
export function argsortStable(values: ArrayLike<number>): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  return idx.sort((a, b) => {
    const va = values[a]!;
    const vb = values[b]!;
    const na = va !== va;
    const nb = vb !== vb;
    if (na || nb) return na === nb ? a - b : na ? 1 : -1;
    return va < vb ? -1 : va > vb ? 1 : a - b;
  });
}

/**
 * numpy `np.interp(x, xp, fp, left, right)` for increasing `xp`, with numpy's arithmetic
 * `slope * (x - xp[j]) + fp[j]`, the exact value at a knot, and numpy's retry from the right knot
 * when that gives NaN (infinite knots). `left` / `right` default to `fp[0]` / `fp[n - 1]`.
 */
export function npInterp(x: number, xp: ArrayLike<number>, fp: ArrayLike<number>, left?: number, right?: number): number {
  const n = xp.length;
  if (n === 0) throw new RangeError('npInterp: xp is empty');
  const lval = left ?? fp[0]!;
  const rval = right ?? fp[n - 1]!;
  if (x !== x) return NaN;
  if (n === 1) return x < xp[0]! ? lval : x > xp[0]! ? rval : fp[0]!;
  if (x > xp[n - 1]!) return rval;
  if (x < xp[0]!) return lval;
  if (x === xp[n - 1]!) return fp[n - 1]!;
  // largest j with xp[j] <= x; j < n - 1 here
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (xp[mid]! <= x) lo = mid;
    else hi = mid;
  }
  if (xp[lo] === x) return fp[lo]!;
  const slope = (fp[lo + 1]! - fp[lo]!) / (xp[lo + 1]! - xp[lo]!);
  let y = slope * (x - xp[lo]!) + fp[lo]!;
  if (y !== y) {
    y = slope * (x - xp[lo + 1]!) + fp[lo + 1]!;
    if (y !== y && fp[lo] === fp[lo + 1]) y = fp[lo]!;
  }
  return y;
}

/** numpy `np.searchsorted(a, v, side='left')`: the first index i with `a[i] >= v` (a ascending). */
export function searchsortedLeft(a: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Values outside the knots: a constant each side, or the end segments extended (`'extrapolate'`). */
export type Interp1dFill = 'extrapolate' | readonly [below: number, above: number];

/**
 * `scipy.interpolate.interp1d(x, y, kind='linear', bounds_error=False, fill_value=fill)(xNew)` for
 * ascending `x` with at least two knots: the segment is found with searchsorted (left) clipped to
 * [1, n - 1], then `slope * (xNew - x[lo]) + y[lo]`; out of range values get the fill unless
 * extrapolating, which uses the same formula on the first / last segment.
 */
export function interp1d(x: ArrayLike<number>, y: ArrayLike<number>, xNew: number, fill: Interp1dFill): number {
  const n = x.length;
  if (n < 2) throw new RangeError('interp1d: needs at least two knots');
  if (fill !== 'extrapolate') {
    if (xNew < x[0]!) return fill[0];
    if (xNew > x[n - 1]!) return fill[1];
  }
  const idx = Math.min(Math.max(searchsortedLeft(x, xNew), 1), n - 1);
  const lo = idx - 1;
  const slope = (y[idx]! - y[lo]!) / (x[idx]! - x[lo]!);
  return slope * (xNew - x[lo]!) + y[lo]!;
}

/**
 * numpy's default quantile (`method='linear'`, Hyndman & Fan type 7) of values sorted ascending:
 * virtual index h = (n - 1) q, g = h - floor(h), result `lerp(v[floor h], v[floor h + 1], g)` with
 * numpy's `_lerp` (computed from the upper value when g >= 0.5). `q` in [0, 1].
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  if (lo >= n - 1) return sorted[n - 1]!;
  if (lo < 0) return sorted[0]!;
  const g = h - lo;
  const a = sorted[lo]!;
  const b = sorted[lo + 1]!;
  const diff = b - a;
  return g >= 0.5 ? b - diff * (1 - g) : a + diff * g;
}

/** `np.median` of values sorted ascending: the middle value, or the mean of the two middle values. */
export function medianSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const m = n >>> 1;
  return n % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/**
 * CLIMADA 5 `round_to_sig_digits` (`np.format_float_positional(x, precision=n, unique=False,
 * fractional=False)`): x rounded to `n` significant digits. JavaScript's `toPrecision` rounds the
 * exact binary value as numpy's Dragon4 does; an exact decimal tie rounds up in magnitude here.
 */
export function roundSigDigits(x: number, n: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(n));
}

/** numpy `np.around(x, decimals)` (CLIMADA 6 `bin_decimals`): scale by 10^d, round half to even, unscale. */
export function aroundDecimals(x: number, decimals: number): number {
  if (!Number.isFinite(x)) return x;
  const rint = (v: number) => {
    const r = Math.round(v);
    return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };
  if (decimals >= 0) {
    const s = 10 ** decimals;
    return rint(x * s) / s;
  }
  const s = 10 ** -decimals;
  return rint(x / s) * s;
}
