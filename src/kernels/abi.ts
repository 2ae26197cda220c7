/**
 * @module kernels/abi
 * The binary surface shared with asm/: curve packing, status codes and input checks.
 * Keep in step with asm/curve.ts (record layout) and asm/impact.ts (status codes).
 */
import { IbfError } from '../errors.js';
import type { DamageFunction } from '../model/damage-function.js';
import type { ImpactInputs } from './types.js';

export const CURVE_HEADER_BYTES = 64;
/** Cells per cache block in asm/impact.ts; part of the summation contract (see reference.ts). */
export const BLOCK = 2048;
export const KIND_TABLE = 0;
export const KIND_EMANUEL = 1;

export const STATUS_MESSAGES: Record<number, string> = {
  1: 'bad arguments (negative length, no bands, band or fraction stride shorter than a band, no curve or no zone)',
  2: 'a zone index is >= the number of zones',
  3: 'a class index is >= the number of curves',
};

/** Smallest f32 >= x, so that for any f32 v: v >= x (f64) exactly when v >= ceilF32(x) (f32). */
export function ceilF32(x: number): number {
  const f = Math.fround(x);
  if (f >= x || !Number.isFinite(f)) return f;
  if (f === 0) return 1.401298464324817e-45;
  const buf = new Float32Array([f]);
  const bits = new Uint32Array(buf.buffer);
  bits[0] = f > 0 ? bits[0]! + 1 : bits[0]! - 1;
  return buf[0]!;
}

/** Largest f32 <= x. */
export function floorF32(x: number): number {
  return -ceilF32(-x);
}

/** Bytes a packed curve takes (8-byte multiple). */
export function packedCurveBytes(curve: DamageFunction): number {
  const s = curve.spec;
  if (s.kind === 'emanuel') return CURVE_HEADER_BYTES;
  const k = s.intensity.length;
  return CURVE_HEADER_BYTES + 5 * 8 * (k + 1) + 4 * (k + 3) + 2 * (guessBuckets(k) + 2) + 8;
}

/** Buckets of the knot-count guess table: about 8 per knot, a power of two, at most 4096. */
export function guessBuckets(k: number): number {
  return Math.min(4096, 2 ** Math.ceil(Math.log2(Math.max(64, 8 * k))));
}

/**
 * Writes `curve` into `mem` at byte offset `at` (8-aligned) in the layout of asm/curve.ts.
 * Slopes are numpy's `(fp[j+1] - fp[j]) / (xp[j+1] - xp[j])`, so interpolation matches np.interp.
 */
export function packCurve(curve: DamageFunction, mem: ArrayBuffer, at: number): number {
  const s = curve.spec;
  const bytes = packedCurveBytes(curve);
  const head = new DataView(mem, at, CURVE_HEADER_BYTES);
  if (s.kind === 'emanuel') {
    head.setInt32(0, KIND_EMANUEL, true);
    head.setFloat64(16, s.vThresh, true);
    head.setFloat64(24, s.vHalf, true);
    head.setFloat64(32, s.scale, true);
    return bytes;
  }
  const { intensity: xp, mdd, paa } = s;
  const k = xp.length;
  const e = k + 1;
  head.setInt32(0, KIND_TABLE, true);
  head.setInt32(4, k, true);
  head.setInt32(8, paa.every((p) => p === 1) ? 1 : 0, true);
  head.setFloat64(16, xp[0]!, true);
  head.setFloat64(24, xp[k - 1]!, true);
  const f64 = new Float64Array(mem, at + CURVE_HEADER_BYTES, 5 * e);
  const [XB, YM, SM, YP, SP] = [0, 1, 2, 3, 4].map((t) => f64.subarray(t * e, (t + 1) * e));
  for (let c = 0; c <= k; c++) {
    const j = c === 0 ? 0 : c - 1;
    const inner = c > 0 && c < k;
    XB![c] = xp[j]!;
    YM![c] = mdd[j]!;
    YP![c] = paa[j]!;
    const dx = inner ? xp[j + 1]! - xp[j]! : 0;
    SM![c] = inner && dx > 0 ? (mdd[j + 1]! - mdd[j]!) / dx : 0;
    SP![c] = inner && dx > 0 ? (paa[j + 1]! - paa[j]!) / dx : 0;
  }
  const kupAt = at + CURVE_HEADER_BYTES + 5 * 8 * e;
  const kup = new Float32Array(mem, kupAt, k + 3);
  kup[0] = -Infinity;
  for (let j = 0; j < k; j++) kup[j + 1] = ceilF32(xp[j]!);
  kup[k + 1] = Infinity;
  kup[k + 2] = Infinity;
  // Guess table: knot count at each bucket's start. Only a speed hint: asm verifies every guess.
  const nb = guessBuckets(k);
  const lo32 = Math.fround(xp[0]!);
  const span = xp[k - 1]! - xp[0]!;
  const inv32 = span > 0 ? Math.fround(nb / span) : 0;
  head.setInt32(12, nb, true);
  head.setFloat32(40, lo32, true);
  head.setFloat32(44, inv32, true);
  // Dry fast path: below the first knot mdr is mdd[0] * paa[0]; valid when the first two knots differ
  // (a step at the first knot would make x == knot take the second value).
  const first = xp[0]!;
  let dryMax = Math.fround(first);
  if (dryMax > first) dryMax = floorF32(first);
  head.setFloat32(48, dryMax, true);
  head.setInt32(52, k >= 2 && xp[1]! > first ? 1 : 0, true);
  head.setFloat64(56, paa.every((p) => p === 1) ? mdd[0]! : mdd[0]! * paa[0]!, true);
  const guess = new Uint16Array(mem, kupAt + 4 * (k + 3), nb + 2);
  guess[0] = 0;
  let count = 0;
  for (let b = 0; b <= nb; b++) {
    const start = xp[0]! + (span * b) / nb;
    while (count < k && xp[count]! <= start) count++;
    guess[b + 1] = count;
  }
  return bytes;
}

/**
 * Checks array lengths and ranges once, so both twins fail the same way with a clear message. Returns the
 * band stride, the zone count and the resolved fraction stride (see `ImpactInputs.fractionStride`; 0 also
 * when there is no fraction).
 */
export function checkInputs(inp: ImpactInputs): { stride: number; nZones: number; fractionStride: number } {
  const stride = inp.bandStride ?? inp.cells;
  const nZones = inp.nZones ?? 1;
  const bad = (message: string) =>
    new IbfError('E_KERNEL', `impact kernel: ${message}`, { hint: 'This is a bug in the caller of the kernel; please report it with the scenario.' });
  if (!Number.isInteger(inp.cells) || inp.cells < 0) throw bad(`cells must be a non-negative integer, got ${inp.cells}`);
  if (!Number.isInteger(inp.nBands) || inp.nBands < 1) throw bad(`nBands must be >= 1, got ${inp.nBands}`);
  if (stride < inp.cells) throw bad(`bandStride ${stride} < cells ${inp.cells}`);
  if (inp.hazard.length < (inp.nBands - 1) * stride + inp.cells) throw bad(`hazard has ${inp.hazard.length} values, needs ${(inp.nBands - 1) * stride + inp.cells}`);
  if (inp.exposure.length < inp.cells) throw bad(`exposure has ${inp.exposure.length} values, needs ${inp.cells}`);
  if (inp.zones && inp.zones.length < inp.cells) throw bad(`zones has ${inp.zones.length} values, needs ${inp.cells}`);
  if (inp.weights && inp.weights.length < inp.cells) throw bad(`weights has ${inp.weights.length} values, needs ${inp.cells}`);
  if (inp.classes && inp.classes.length < inp.cells) throw bad(`classes has ${inp.classes.length} values, needs ${inp.cells}`);
  if (inp.curves.length < 1 || inp.curves.length > 256) throw bad(`needs 1 to 256 curves, got ${inp.curves.length}`);
  if (!Number.isInteger(nZones) || nZones < 1) throw bad(`nZones must be >= 1, got ${nZones}`);
  let fractionStride = 0;
  const f = inp.fraction;
  if (f) {
    const needs = (fs: number) => (fs === 0 ? inp.cells : (inp.nBands - 1) * fs + inp.cells);
    if (inp.fractionStride != null) {
      fractionStride = inp.fractionStride;
      if (!Number.isInteger(fractionStride) || fractionStride < 0 || (fractionStride > 0 && fractionStride < inp.cells)) {
        throw bad(`fractionStride must be 0 (one shared band) or an integer >= cells ${inp.cells}, got ${fractionStride}`);
      }
    } else {
      fractionStride = inp.nBands > 1 && f.length >= needs(stride) ? stride : 0;
    }
    if (f.length < needs(fractionStride)) throw bad(`fraction has ${f.length} values, needs ${needs(fractionStride)}`);
  }
  return { stride, nZones, fractionStride };
}

export function statusError(status: number): IbfError {
  return new IbfError('E_KERNEL', `impact kernel failed: ${STATUS_MESSAGES[status] ?? `status ${status}`}`, {
    details: { status },
    hint: 'Check that zone and class rasters only hold indices that exist (zones < nZones, classes < number of curves).',
  });
}
