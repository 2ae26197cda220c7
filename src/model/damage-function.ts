/**
 * @module model/damage-function
 * Damage (impact) functions: hazard intensity -> mean damage ratio, with CLIMADA semantics.
 *
 * A tabulated function holds `intensity` knots with `mdd` (mean damage degree) and `paa` (percentage of
 * affected assets), both in [0, 1]. Its mean damage ratio is `mdr(x) = interp(x, mdd) * interp(x, paa)`,
 * where interp is numpy's `np.interp`: linear between knots, clamped to the end values outside them, and
 * at repeated knots (steps) the right-most value wins. The Emanuel (2011) sigmoid is kept parametric:
 * `v = max(0, (x - vThresh) / (vHalf - vThresh))`, `mdd = scale * v^3 / (1 + v^3)`, `paa = 1`.
 * NaN intensity gives NaN (nodata), never 0.
 */
import { IbfError, type Problem } from '../errors.js';

export interface Provenance {
  /** Short citation, e.g. "Huizinga et al. (2017), JRC global flood depth-damage functions". */
  source: string;
  /** Where the numbers were taken from (report table, repository file at a commit). */
  reference?: string;
  license?: string;
  notes?: string;
}

interface Common {
  /** Catalog or user id. */
  id?: string;
  name?: string;
  /** Unit of the intensity axis: `m` (water depth), `m/s` (wind speed), `ft`, `mm` ... */
  unit: string;
  /** Hazard type, e.g. `flood`, `wind`. */
  hazard?: string;
  provenance?: Provenance;
}

export interface TableSpec extends Common {
  kind: 'table';
  intensity: number[];
  mdd: number[];
  paa: number[];
}

export interface EmanuelSpec extends Common {
  kind: 'emanuel';
  /** Wind speed below which there is no damage (m/s). */
  vThresh: number;
  /** Wind speed at which half the value is damaged (m/s). */
  vHalf: number;
  /** Maximum damage ratio, in (0, 1]. */
  scale: number;
}

export type DamageFunctionSpec = TableSpec | EmanuelSpec;

/** CLIMADA's default intensity sampling for tropical-cyclone wind functions: 0, 5, ..., 120 m/s. */
export const CLIMADA_TC_INTENSITY: readonly number[] = Array.from({ length: 25 }, (_, i) => i * 5);

export class DamageFunction {
  readonly spec: DamageFunctionSpec;

  /** Validates `spec` (all problems at once) and freezes a copy. */
  constructor(spec: DamageFunctionSpec) {
    const problems = validateDamageFunction(spec);
    if (problems.length > 0) {
      throw IbfError.fromProblems(
        'E_CURVE_INVALID',
        `damage function${spec.id ? ` '${spec.id}'` : ''} is invalid`,
        problems,
        'Intensity must be finite and non-decreasing, mdd and paa finite numbers in [0, 1], one per intensity knot.',
      );
    }
    this.spec =
      spec.kind === 'table'
        ? { ...spec, intensity: [...spec.intensity], mdd: [...spec.mdd], paa: [...spec.paa] }
        : { ...spec };
  }

  get id(): string | undefined {
    return this.spec.id;
  }

  get unit(): string {
    return this.spec.unit;
  }

  /** A tabulated function; `paa` defaults to 1 everywhere. */
  static fromTable(t: {
    intensity: number[];
    mdd: number[];
    paa?: number[];
    unit: string;
    id?: string;
    name?: string;
    hazard?: string;
    provenance?: Provenance;
  }): DamageFunction {
    return new DamageFunction({ ...t, kind: 'table', paa: t.paa ?? t.intensity.map(() => 1) });
  }

  /**
   * CLIMADA `ImpactFunc.from_step_impf`: mdd 0 below `thresholds[1]`, 1 from it up to `thresholds[2]`.
   * `thresholds = [min, threshold, max]`; gives knots [min, t, t, max] with mdd [0, 0, 1, 1].
   */
  static fromStep(thresholds: [number, number, number], opts: { unit: string; mdd?: [number, number]; paa?: [number, number]; id?: string }): DamageFunction {
    const [lo, t, hi] = thresholds;
    const [m0, m1] = opts.mdd ?? [0, 1];
    const [p0, p1] = opts.paa ?? [1, 1];
    return DamageFunction.fromTable({ intensity: [lo, t, t, hi], mdd: [m0, m0, m1, m1], paa: [p0, p0, p1, p1], unit: opts.unit, id: opts.id });
  }

  /**
   * CLIMADA `ImpactFunc.from_sigmoid_impf`: mdd = L / (1 + exp(-k (x - x0))), paa = 1, sampled at `intensity`.
   */
  static fromSigmoid(p: { L: number; k: number; x0: number; intensity: number[]; unit: string; id?: string }): DamageFunction {
    const mdd = p.intensity.map((x) => p.L / (1 + Math.exp(-p.k * (x - p.x0))));
    return DamageFunction.fromTable({ intensity: p.intensity, mdd, unit: p.unit, id: p.id });
  }

  /**
   * Emanuel (2011) wind damage function, CLIMADA `ImpfTropCyclone.from_emanuel_usa` parameters
   * (defaults vThresh 25.7 m/s, vHalf 74.7 m/s, scale 1). Without `intensity` it stays parametric (exact
   * for any wind speed); with `intensity` it is sampled there as CLIMADA does, and then interpolated
   * (pass {@link CLIMADA_TC_INTENSITY} to reproduce CLIMADA impacts exactly, including the clamp above 120 m/s).
   */
  static fromEmanuel(p: { vThresh?: number; vHalf?: number; scale?: number; intensity?: readonly number[]; id?: string; name?: string; provenance?: Provenance } = {}): DamageFunction {
    const vThresh = p.vThresh ?? 25.7;
    const vHalf = p.vHalf ?? 74.7;
    const scale = p.scale ?? 1;
    const problems: Problem[] = [];
    if (!(vHalf > vThresh)) problems.push({ path: 'vHalf', message: `vHalf (${vHalf}) must be greater than vThresh (${vThresh})` });
    if (!(vThresh >= 0)) problems.push({ path: 'vThresh', message: `vThresh (${vThresh}) must be >= 0` });
    if (!(scale > 0 && scale <= 1)) problems.push({ path: 'scale', message: `scale (${scale}) must be in (0, 1]` });
    if (problems.length) throw IbfError.fromProblems('E_CURVE_INVALID', 'Emanuel damage function is invalid', problems);
    const common = { id: p.id, name: p.name, unit: 'm/s', hazard: 'wind', provenance: p.provenance };
    if (!p.intensity) return new DamageFunction({ ...common, kind: 'emanuel', vThresh, vHalf, scale });
    const mdd = p.intensity.map((x) => emanuelMdd(x, vThresh, vHalf, scale));
    return new DamageFunction({ ...common, kind: 'table', intensity: [...p.intensity], mdd, paa: p.intensity.map(() => 1) });
  }

  /** Mean damage ratio at intensity `x` (unit {@link unit}); NaN for NaN. Reference f64 evaluation. */
  mdr(x: number): number {
    const s = this.spec;
    if (s.kind === 'emanuel') return emanuelMdd(x, s.vThresh, s.vHalf, s.scale);
    return interp(x, s.intensity, s.mdd) * interp(x, s.intensity, s.paa);
  }

  /** Mean damage degree at `x`. */
  mdd(x: number): number {
    const s = this.spec;
    return s.kind === 'emanuel' ? emanuelMdd(x, s.vThresh, s.vHalf, s.scale) : interp(x, s.intensity, s.mdd);
  }

  /** Percentage of affected assets at `x`. */
  paa(x: number): number {
    const s = this.spec;
    if (x !== x) return NaN;
    return s.kind === 'emanuel' ? 1 : interp(x, s.intensity, s.paa);
  }

  /** Lowest intensity with a non-zero mdr (the damage onset), or Infinity if the function is zero. */
  onset(): number {
    const s = this.spec;
    if (s.kind === 'emanuel') return s.vThresh;
    for (let i = 0; i < s.intensity.length; i++) {
      if (s.mdd[i]! * s.paa[i]! > 0) return i > 0 ? s.intensity[i - 1]! : s.intensity[i]!;
    }
    return Infinity;
  }

  toJSON(): DamageFunctionSpec {
    return this.spec;
  }
}

/** Emanuel mdd in CLIMADA's arithmetic order: `(v3 / (1 + v3)) * scale`, with v^3 correctly rounded. */
export function emanuelMdd(x: number, vThresh: number, vHalf: number, scale: number): number {
  if (x !== x) return NaN;
  const v = Math.max(0, (x - vThresh) / (vHalf - vThresh));
  const v3 = cube(v);
  return (v3 / (1 + v3)) * scale;
}

const SPLIT = 134217729; // 2^27 + 1, Dekker's splitter for f64

/** Error of the f64 product a*b = p (Dekker's two-product without FMA). */
function productError(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/**
 * v^3 rounded as libm's pow(v, 3) is (numpy `v**3`), not as `v*v*v` (which is off by an ulp for
 * about a third of the CLIMADA test winds): the cube is carried in double-double and rounded once.
 * asm/curve.ts computes the same operations in the same order.
 */
export function cube(v: number): number {
  const p = v * v;
  const e1 = productError(v, v, p);
  const q = p * v;
  const e2 = productError(p, v, q);
  return q + (e2 + e1 * v);
}

/**
 * numpy `np.interp(x, xp, fp)` for non-decreasing `xp`: clamped ends, right-most knot at steps,
 * and the same arithmetic `slope * (x - xp[j]) + fp[j]`, so results are bitwise equal to numpy's.
 */
export function interp(x: number, xp: readonly number[], fp: readonly number[]): number {
  if (x !== x) return NaN;
  const n = xp.length;
  if (x >= xp[n - 1]!) return fp[n - 1]!;
  if (x < xp[0]!) return fp[0]!;
  // largest j with xp[j] <= x (binary search); j < n - 1 here
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (xp[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const slope = (fp[lo + 1]! - fp[lo]!) / (xp[lo + 1]! - xp[lo]!);
  return slope * (x - xp[lo]!) + fp[lo]!;
}

/** Every problem with a damage-function spec, without throwing. */
export function validateDamageFunction(spec: DamageFunctionSpec, path = ''): Problem[] {
  const problems: Problem[] = [];
  const at = (p: string) => (path ? `${path}.${p}` : p);
  if (typeof spec.unit !== 'string' || spec.unit.trim() === '') {
    problems.push({ path: at('unit'), message: 'the intensity unit is missing (e.g. "m" for water depth, "m/s" for wind speed)' });
  }
  if (spec.kind === 'emanuel') {
    if (!(spec.vHalf > spec.vThresh)) problems.push({ path: at('vHalf'), message: `vHalf (${spec.vHalf}) must be greater than vThresh (${spec.vThresh})` });
    if (!(spec.scale > 0 && spec.scale <= 1)) problems.push({ path: at('scale'), message: `scale (${spec.scale}) must be in (0, 1]` });
    return problems;
  }
  const { intensity, mdd, paa } = spec;
  if (!Array.isArray(intensity) || intensity.length < 2) {
    problems.push({ path: at('intensity'), message: `needs at least 2 knots, got ${Array.isArray(intensity) ? intensity.length : typeof intensity}` });
    return problems;
  }
  for (const [name, arr] of [['mdd', mdd], ['paa', paa]] as const) {
    if (!Array.isArray(arr) || arr.length !== intensity.length) {
      problems.push({ path: at(name), message: `has ${Array.isArray(arr) ? arr.length : 'no'} values but intensity has ${intensity.length}` });
      continue;
    }
    arr.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) problems.push({ path: at(`${name}[${i}]`), message: `is ${v}; must be a finite number` });
      else if (v < 0 || v > 1) problems.push({ path: at(`${name}[${i}]`), message: `is ${v}; must be in [0, 1] (a ratio, not a percentage)` });
    });
  }
  intensity.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) problems.push({ path: at(`intensity[${i}]`), message: `is ${v}; must be a finite number` });
    else if (i > 0 && v < intensity[i - 1]!) {
      problems.push({ path: at(`intensity[${i}]`), message: `is ${v}, less than the previous knot ${intensity[i - 1]}; intensity must be non-decreasing` });
    }
  });
  return problems;
}
