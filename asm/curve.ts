/**
 * Damage-function evaluation (AssemblyScript). JS packs each curve into linear memory (see
 * src/kernels/abi.ts `packCurve`); kernels only read it.
 *
 * Curve record, 8-byte aligned:
 *   0  i32 kind        0 = table, 1 = Emanuel sigmoid
 *   4  i32 K           knots (table)
 *   8  i32 paaConst    1 when paa == 1 everywhere (skip the second interpolation)
 *   12 i32 B           buckets of the knot-count guess table
 *   16 f64 a, 24 f64 b, 32 f64 c
 *                      table: a = first knot, b = last knot; Emanuel: vThresh, vHalf, scale
 *   40 f32 lo, 44 f32 inv  bucket of x = floor((x - lo) * inv), clamped to [-1, B]
 *   48 f32 dryMax, 52 i32 dryOk  when dryOk, every x <= dryMax (largest f32 <= first knot) has mdr = dry
 *   56 f64 dry         mdr below the first knot (the dry / calm value, usually 0)
 *   64 f64 XB[K+1], YM[K+1], SM[K+1], YP[K+1], SP[K+1], f32 KUP[K+3], u16 GUESS[B+2]
 * Entry c of the extended tables serves an intensity with c knots <= it: c = 0 and c = K are the
 * clamped ends (slope 0), others segment c-1. The value is `S[c] * (clamp(x) - XB[c]) + Y[c]`, numpy's
 * own arithmetic, so results equal np.interp bit for bit. KUP[1..K] holds the knots rounded up to f32
 * (KUP[0] = -inf, KUP[K+1] = KUP[K+2] = +inf), so an f32 intensity compares against them exactly as its
 * f64 value does against the f64 knots. GUESS[bucket + 1] is the knot count at the bucket's start: the
 * SIMD path takes it, adds one if x passed the next knot, and verifies against KUP; a wrong guess (a
 * bucket with two knots, rounding at a bucket edge, NaN) falls back to binary search, so speed depends
 * on the guess table but results never do.
 */

export const KIND_TABLE: i32 = 0;
export const KIND_EMANUEL: i32 = 1;
export const HEADER_BYTES: usize = 64;
/** Up to this many knots the SIMD path counts knots with vector compares; above it, it uses the guess table. */
export const COUNT_MAX_KNOTS: i32 = 24;

// @ts-ignore: decorator
@inline export function curveKind(c: usize): i32 { return load<i32>(c); }
// @ts-ignore: decorator
@inline export function curveK(c: usize): i32 { return load<i32>(c, 4); }
// @ts-ignore: decorator
@inline export function paaConst(c: usize): bool { return load<i32>(c, 8) != 0; }
// @ts-ignore: decorator
@inline export function tableXB(c: usize): usize { return c + HEADER_BYTES; }
// @ts-ignore: decorator
@inline export function tableYM(c: usize): usize { return c + HEADER_BYTES + (<usize>(curveK(c) + 1) << 3); }
// @ts-ignore: decorator
@inline export function tableSM(c: usize): usize { return c + HEADER_BYTES + 2 * (<usize>(curveK(c) + 1) << 3); }
// @ts-ignore: decorator
@inline export function tableYP(c: usize): usize { return c + HEADER_BYTES + 3 * (<usize>(curveK(c) + 1) << 3); }
// @ts-ignore: decorator
@inline export function tableSP(c: usize): usize { return c + HEADER_BYTES + 4 * (<usize>(curveK(c) + 1) << 3); }
// @ts-ignore: decorator
@inline export function tableKUP(c: usize): usize { return c + HEADER_BYTES + 5 * (<usize>(curveK(c) + 1) << 3); }
// @ts-ignore: decorator
@inline export function tableGUESS(c: usize): usize { return tableKUP(c) + (<usize>(curveK(c) + 3) << 2); }

/** Number of knots <= x (upper bound), by binary search over the f64 knots (XB[1..K] are the knots). */
function knotsAtOrBelow(c: usize, x: f64): i32 {
  // (not inlined into the SIMD loop: it is the rare fallback there)
  const k = curveK(c);
  const xb = tableXB(c) + 8; // XB[1 + j] = knot j
  let lo: i32 = 0;
  let hi: i32 = k;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (load<f64>(xb + (<usize>mid << 3)) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Mean damage ratio of a table curve at x (NaN for NaN). */
export function tableMdr(c: usize, x: f64): f64 {
  if (x != x) return NaN;
  const e: usize = <usize>knotsAtOrBelow(c, x) << 3;
  const xc = min(max(x, load<f64>(c, 16)), load<f64>(c, 24));
  const dx = xc - load<f64>(tableXB(c) + e);
  const mdd = load<f64>(tableSM(c) + e) * dx + load<f64>(tableYM(c) + e);
  if (paaConst(c)) return mdd;
  return mdd * (load<f64>(tableSP(c) + e) * dx + load<f64>(tableYP(c) + e));
}

/** Emanuel (2011): v = max(0, (x - vThresh) / (vHalf - vThresh)); mdd = scale v^3 / (1 + v^3). */
export function emanuelMdr(c: usize, x: f64): f64 {
  if (x != x) return NaN;
  const t = load<f64>(c, 16);
  const v = max<f64>(0.0, (x - t) / (load<f64>(c, 24) - t));
  const v3 = cube(v);
  return (v3 / (1.0 + v3)) * load<f64>(c, 32);
}

const SPLIT: f64 = 134217729.0; // 2^27 + 1

/** Error of the product a*b = p (Dekker, no FMA); same operations as src/model/damage-function.ts. */
// @ts-ignore: decorator
@inline function productError(a: f64, b: f64, p: f64): f64 {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/** v^3 carried in double-double and rounded once, as libm pow(v, 3) (numpy v**3) rounds it. */
// @ts-ignore: decorator
@inline function cube(v: f64): f64 {
  const p = v * v;
  const e1 = productError(v, v, p);
  const q = p * v;
  return q + (productError(p, v, q) + e1 * v);
}

// @ts-ignore: decorator
@inline function productErrorX2(a: v128, b: v128, p: v128): v128 {
  const s = f64x2.splat(SPLIT);
  let t = f64x2.mul(s, a);
  const ah = f64x2.sub(t, f64x2.sub(t, a));
  const al = f64x2.sub(a, ah);
  t = f64x2.mul(s, b);
  const bh = f64x2.sub(t, f64x2.sub(t, b));
  const bl = f64x2.sub(b, bh);
  return f64x2.add(f64x2.add(f64x2.add(f64x2.sub(f64x2.mul(ah, bh), p), f64x2.mul(ah, bl)), f64x2.mul(al, bh)), f64x2.mul(al, bl));
}

// @ts-ignore: decorator
@inline function cubeX2(v: v128): v128 {
  const p = f64x2.mul(v, v);
  const e1 = productErrorX2(v, v, p);
  const q = f64x2.mul(p, v);
  return f64x2.add(q, f64x2.add(productErrorX2(p, v, q), f64x2.mul(e1, v)));
}

// @ts-ignore: decorator
@inline function emanuelX2(x: v128, t: v128, span: v128, scale: v128): v128 {
  const v = f64x2.max(f64x2.splat(0.0), f64x2.div(f64x2.sub(x, t), span));
  const v3 = cubeX2(v);
  return f64x2.mul(f64x2.div(v3, f64x2.add(f64x2.splat(1.0), v3)), scale);
}

/** Mean damage ratio of any curve kind at x. */
export function curveMdr(c: usize, x: f64): f64 {
  return curveKind(c) == KIND_EMANUEL ? emanuelMdr(c, x) : tableMdr(c, x);
}

/** Knot count of x: the bucket's guess, plus one past the next knot, verified; else binary search. */
// @ts-ignore: decorator
@inline function entryOf(c: usize, kup: usize, guess: usize, x: f32, bucket: i32): i32 {
  let g = <i32>load<u16>(guess + (<usize>bucket << 1));
  if (x >= load<f32>(kup + (<usize>(g + 1) << 2))) g++;
  if (load<f32>(kup + (<usize>g << 2)) <= x && x < load<f32>(kup + (<usize>(g + 1) << 2))) return g;
  return knotsAtOrBelow(c, <f64>x);
}

/** f64x2 of table `t` at byte offsets e0, e1 (a two-lane gather). */
// @ts-ignore: decorator
@inline function gather2(t: usize, e0: usize, e1: usize): v128 {
  return f64x2.replace_lane(f64x2.splat(load<f64>(t + e0)), 1, load<f64>(t + e1));
}

/**
 * mdr of four f32 intensities `x4` whose knot counts are `cnt` (i32x4), stored as four f64 at `o`:
 * `S[c] * (clamp(x) - XB[c]) + Y[c]` for mdd (times the same for paa unless paa == 1), in f64x2.
 * NaN intensity: the clamp propagates NaN into the result.
 */
// @ts-ignore: decorator
@inline function lerp4(c: usize, x4: v128, cnt: v128, o: usize): void {
  const lo = f64x2.splat(load<f64>(c, 16));
  const hi = f64x2.splat(load<f64>(c, 24));
  const e0: usize = <usize>i32x4.extract_lane(cnt, 0) << 3;
  const e1: usize = <usize>i32x4.extract_lane(cnt, 1) << 3;
  const e2: usize = <usize>i32x4.extract_lane(cnt, 2) << 3;
  const e3: usize = <usize>i32x4.extract_lane(cnt, 3) << 3;
  const xa = f64x2.min(f64x2.max(f64x2.promote_low_f32x4(x4), lo), hi);
  const xb = f64x2.min(f64x2.max(f64x2.promote_low_f32x4(v128.shuffle<f32>(x4, x4, 2, 3, 0, 1)), lo), hi);
  const xbT = tableXB(c);
  const dxa = f64x2.sub(xa, gather2(xbT, e0, e1));
  const dxb = f64x2.sub(xb, gather2(xbT, e2, e3));
  const smT = tableSM(c);
  const ymT = tableYM(c);
  let ma = f64x2.add(f64x2.mul(gather2(smT, e0, e1), dxa), gather2(ymT, e0, e1));
  let mb = f64x2.add(f64x2.mul(gather2(smT, e2, e3), dxb), gather2(ymT, e2, e3));
  if (!paaConst(c)) {
    const spT = tableSP(c);
    const ypT = tableYP(c);
    ma = f64x2.mul(ma, f64x2.add(f64x2.mul(gather2(spT, e0, e1), dxa), gather2(ypT, e0, e1)));
    mb = f64x2.mul(mb, f64x2.add(f64x2.mul(gather2(spT, e2, e3), dxb), gather2(ypT, e2, e3)));
  }
  v128.store(o, ma);
  v128.store(o, mb, 16);
}

/**
 * Mean damage ratio for n f32 intensities at `xs` into f64 `out`, one curve, the SIMD way when the
 * build has SIMD: an f32x4 bucket index guesses each lane's segment (verified per lane), a 4-lane
 * gather fetches it, f64x2 interpolates.
 * NaN lanes give NaN. Returns nothing: validity of the curve is checked once by the caller.
 */
export function mdrBlock(c: usize, xs: usize, n: i32, out: usize): void {
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    const n4 = n & ~3;
    if (curveKind(c) == KIND_EMANUEL) {
      const t = f64x2.splat(load<f64>(c, 16));
      const span = f64x2.splat(load<f64>(c, 24) - load<f64>(c, 16));
      const scale = f64x2.splat(load<f64>(c, 32));
      for (; i < n4; i += 4) {
        const x4 = v128.load(xs + (<usize>i << 2));
        const lo = f64x2.promote_low_f32x4(x4);
        const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(x4, x4, 2, 3, 0, 1));
        v128.store(out + (<usize>i << 3), emanuelX2(lo, t, span, scale));
        v128.store(out + (<usize>i << 3), emanuelX2(hi, t, span, scale), 16);
      }
      // NaN lanes: max(0, NaN) is NaN in wasm (f64x2.max propagates NaN), so NaN stays NaN.
    } else {
      const kup = tableKUP(c);
      const guess = tableGUESS(c);
      const lo32 = f32x4.splat(load<f32>(c, 40));
      const inv32 = f32x4.splat(load<f32>(c, 44));
      const bMax = i32x4.splat(load<i32>(c, 12));
      const minus1 = i32x4.splat(-1);
      const one = i32x4.splat(1);
      const k = curveK(c);
      const dryOk = load<i32>(c, 52) != 0;
      const dryMax = f32x4.splat(load<f32>(c, 48));
      const dry = f64x2.splat(load<f64>(c, 56));
      if (k <= COUNT_MAX_KNOTS) {
        // eight cells per pass over the knots: one knot splat serves two vectors
        const n8 = n & ~7;
        for (; i < n8; i += 8) {
          const xa = v128.load(xs + (<usize>i << 2));
          const xb = v128.load(xs + (<usize>i << 2), 16);
          if (dryOk && i32x4.all_true(v128.and(f32x4.le(xa, dryMax), f32x4.le(xb, dryMax)))) {
            // all eight cells dry / calm: the curve's first value, exactly as the general path gives it
            const o = out + (<usize>i << 3);
            v128.store(o, dry); v128.store(o, dry, 16); v128.store(o, dry, 32); v128.store(o, dry, 48);
            continue;
          }
          let ca = i32x4.splat(0);
          let cb = i32x4.splat(0);
          for (let j: i32 = 1; j <= k; j++) {
            // mask lanes are -1 where knot <= x: subtracting counts them
            const kv = v128.load32_splat(kup + (<usize>j << 2));
            ca = i32x4.sub(ca, f32x4.le(kv, xa));
            cb = i32x4.sub(cb, f32x4.le(kv, xb));
          }
          lerp4(c, xa, ca, out + (<usize>i << 3));
          lerp4(c, xb, cb, out + (<usize>(i + 4) << 3));
        }
      }
      for (; i < n4; i += 4) {
        const x4 = v128.load(xs + (<usize>i << 2));
        if (dryOk && i32x4.all_true(f32x4.le(x4, dryMax))) {
          v128.store(out + (<usize>i << 3), dry);
          v128.store(out + (<usize>i << 3), dry, 16);
          continue;
        }
        let cnt: v128;
        if (k <= COUNT_MAX_KNOTS) {
          cnt = i32x4.splat(0);
          for (let j: i32 = 1; j <= k; j++) cnt = i32x4.sub(cnt, f32x4.le(v128.load32_splat(kup + (<usize>j << 2)), x4));
        } else {
          const bucket = i32x4.add(i32x4.min_s(i32x4.max_s(i32x4.trunc_sat_f32x4_s(f32x4.floor(f32x4.mul(f32x4.sub(x4, lo32), inv32))), minus1), bMax), one);
          cnt = i32x4.splat(entryOf(c, kup, guess, f32x4.extract_lane(x4, 0), i32x4.extract_lane(bucket, 0)));
          cnt = i32x4.replace_lane(cnt, 1, entryOf(c, kup, guess, f32x4.extract_lane(x4, 1), i32x4.extract_lane(bucket, 1)));
          cnt = i32x4.replace_lane(cnt, 2, entryOf(c, kup, guess, f32x4.extract_lane(x4, 2), i32x4.extract_lane(bucket, 2)));
          cnt = i32x4.replace_lane(cnt, 3, entryOf(c, kup, guess, f32x4.extract_lane(x4, 3), i32x4.extract_lane(bucket, 3)));
        }
        lerp4(c, x4, cnt, out + (<usize>i << 3));
      }
    }
  }
  for (; i < n; i++) {
    store<f64>(out + (<usize>i << 3), curveMdr(c, <f64>load<f32>(xs + (<usize>i << 2))));
  }
}
