/**
 * Fused impact + zonal kernel (AssemblyScript). One pass over hazard bands, exposure, zone index,
 * coverage weights and class raster gives, per zone and band, five f64 accumulators:
 *   0 exposed   sum of w*exposure where intensity > 0
 *   1 damage    sum of w*exposure*mdr; with a hazard fraction f, sum of (w*exposure)*(mdr*f) (CLIMADA's order)
 *   2 affected  sum of w*exposure where intensity >= threshold
 *   3 max       maximum intensity (caller initialises to -Infinity)
 *   4 cells     sum of w over cells with valid hazard and exposure
 *   5 intensity sum of w*intensity over those cells (zonal mean intensity = slot 5 / slot 4)
 * and per zone, band-independent: 0 exposure total (sum of w*exposure), 1 cells with valid exposure (sum of w).
 * Cells are processed in blocks of BLOCK: the block's exposure, weights and zones stay in cache
 * while every band runs over it (cache blocking). Summation order (part of the contract, mirrored by
 * the TypeScript twin so both agree bit for bit): within a block, each run of consecutive cells with
 * the same zone is summed from 0 in cell order in two lanes, cells at even block offsets in lane 0 and
 * odd ones in lane 1, and lane 0 + lane 1 is added to the accumulator (docs/KERNELS.md).
 * Hazard fraction (CLIMADA's `Hazard.fraction`): an optional f32 per cell, one band shared by all hazard
 * bands or one per band, scales only the damage (slot 1 and the damage raster), as `(w*e) * (mdr*f)` (CLIMADA's
 * `fract.multiply(mdr).multiply(exp_values)`); NaN counts as 0 (a cell without a fraction has no damage). Without a fraction no
 * multiplication happens at all, so the results keep their bits.
 */
import { curveMdr, mdrBlock } from './curve';

export const BLOCK: i32 = 2048;
export const NO_ZONE: u32 = 0xffffffff;

export const STATUS_OK: i32 = 0;
export const STATUS_BAD_ARGS: i32 = 1;
export const STATUS_ZONE_RANGE: i32 = 2;
export const STATUS_CLASS_RANGE: i32 = 3;

const MDR = memory.data(BLOCK << 3, 16); // f64 mean damage ratio of the block, one band
const EW = memory.data(BLOCK << 3, 16); // f64 w*exposure, NaN when the cell counts for no zone
const EXP = memory.data(BLOCK << 3, 16); // f64 exposure, NaN when nodata
const W = memory.data(BLOCK << 3, 16); // f64 weight
const ZONE = memory.data(BLOCK << 2, 16); // u32 zone of the block's cells

// @ts-ignore: decorator
@inline function flushZone(zoneOut: usize, zone: u32, e: f64, c: f64): void {
  if (zone == NO_ZONE) return;
  const zo = zoneOut + (<usize>zone << 4);
  store<f64>(zo, load<f64>(zo) + e);
  store<f64>(zo, load<f64>(zo, 8) + c, 8);
}

/** Adds a run's sums to zone `zone`, band `b` of `out`. */
// @ts-ignore: decorator
@inline function flushScalar(out: usize, zone: u32, nBands: i32, b: i32, e: f64, d: f64, a: f64, m: f64, c: f64, h: f64): void {
  const acc = out + ((<usize>zone * <usize>nBands + <usize>b) * 48);
  store<f64>(acc, load<f64>(acc) + e);
  store<f64>(acc, load<f64>(acc, 8) + d, 8);
  store<f64>(acc, load<f64>(acc, 16) + a, 16);
  store<f64>(acc, max(load<f64>(acc, 24), m), 24);
  store<f64>(acc, load<f64>(acc, 32) + c, 32);
  store<f64>(acc, load<f64>(acc, 40) + h, 40);
}

/** Adds a run's sums (lane 0 + lane 1) to zone `zone`, band `b` of `out`. */
// @ts-ignore: decorator
@inline function flush(out: usize, zone: u32, nBands: i32, b: i32, e: v128, d: v128, a: v128, m: v128, c: v128, h: v128): void {
  const acc = out + ((<usize>zone * <usize>nBands + <usize>b) * 48);
  store<f64>(acc, load<f64>(acc) + (f64x2.extract_lane(e, 0) + f64x2.extract_lane(e, 1)));
  store<f64>(acc, load<f64>(acc, 8) + (f64x2.extract_lane(d, 0) + f64x2.extract_lane(d, 1)), 8);
  store<f64>(acc, load<f64>(acc, 16) + (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)), 16);
  store<f64>(acc, max(load<f64>(acc, 24), max(f64x2.extract_lane(m, 0), f64x2.extract_lane(m, 1))), 24);
  store<f64>(acc, load<f64>(acc, 32) + (f64x2.extract_lane(c, 0) + f64x2.extract_lane(c, 1)), 32);
  store<f64>(acc, load<f64>(acc, 40) + (f64x2.extract_lane(h, 0) + f64x2.extract_lane(h, 1)), 40);
}

/**
 * One band over one block, SIMD build. Sums of a run of cells that share a zone stay in registers, as
 * two f64x2 lanes (cells at even and odd block offsets), and are added to `out` as lane0 + lane1 when the
 * zone changes and at the block's end; the twin adds in the same grouping. Invalid cells add +0 (and -inf
 * to the max). `hasFraction` is a constant at both call sites, so each inlined copy carries only its own
 * loop: no test of it per cell.
 */
// @ts-ignore: decorator
@inline function bandSimd(
  out: usize, nBands: i32, b: i32, hz: usize, fr: usize, bn: i32,
  threshold: f64, hazNodata: f64, hazHasNodata: i32, hasFraction: bool,
): void {
  let zone: u32 = load<u32>(ZONE);
  const zero = f64x2.splat(0.0);
  const ninf = f64x2.splat(-Infinity);
  const thr = f64x2.splat(threshold);
  const nd = f64x2.splat(hazNodata);
  let sExposed = zero, sDamage = zero, sAffected = zero, sMax = ninf, sCells = zero, sIntensity = zero;
  for (let j: i32 = 0; j < bn; j += 2) {
    const x2 = f64x2.promote_low_f32x4(v128.load64_zero(hz + (<usize>j << 2)));
    const ew2 = v128.load(EW + (<usize>j << 3));
    let valid = v128.and(f64x2.eq(x2, x2), f64x2.eq(ew2, ew2));
    if (hazHasNodata) valid = v128.andnot(valid, f64x2.eq(x2, nd));
    const z0 = load<u32>(ZONE + (<usize>j << 2));
    const z1: u32 = j + 1 < bn ? load<u32>(ZONE + (<usize>j << 2), 4) : zone;
    if (j + 1 >= bn) valid = v128.and(valid, i64x2(-1, 0));
    // CLIMADA's order: (fraction x mdr) x exposure
    let m2 = v128.load(MDR + (<usize>j << 3));
    if (hasFraction) {
      const f2 = f64x2.promote_low_f32x4(v128.load64_zero(fr + (<usize>j << 2)));
      m2 = f64x2.mul(m2, v128.and(f2, f64x2.eq(f2, f2))); // NaN fraction -> 0
    }
    const d2 = f64x2.mul(ew2, m2);
    if (z0 == zone && z1 == zone) {
      const ewm = v128.and(ew2, valid);
      sExposed = f64x2.add(sExposed, v128.and(ewm, f64x2.gt(x2, zero)));
      sDamage = f64x2.add(sDamage, v128.and(d2, valid));
      sAffected = f64x2.add(sAffected, v128.and(ewm, f64x2.ge(x2, thr)));
      sMax = f64x2.max(sMax, v128.bitselect(x2, ninf, valid));
      const w2 = v128.load(W + (<usize>j << 3));
      sCells = f64x2.add(sCells, v128.and(w2, valid));
      sIntensity = f64x2.add(sIntensity, v128.and(f64x2.mul(w2, x2), valid));
      continue;
    }
    // the pair straddles a zone change: one lane at a time
    for (let lane: i32 = 0; lane < 2; lane++) {
      const z = lane ? z1 : z0;
      if (z != zone) {
        if (zone != NO_ZONE) flush(out, zone, nBands, b, sExposed, sDamage, sAffected, sMax, sCells, sIntensity);
        zone = z;
        sExposed = zero; sDamage = zero; sAffected = zero; sMax = ninf; sCells = zero; sIntensity = zero;
      }
      const v = v128.and(valid, lane ? i64x2(0, -1) : i64x2(-1, 0));
      const ewm = v128.and(ew2, v);
      sExposed = f64x2.add(sExposed, v128.and(ewm, f64x2.gt(x2, zero)));
      sDamage = f64x2.add(sDamage, v128.and(d2, v));
      sAffected = f64x2.add(sAffected, v128.and(ewm, f64x2.ge(x2, thr)));
      sMax = f64x2.max(sMax, v128.bitselect(x2, ninf, v));
      const w2 = v128.load(W + (<usize>j << 3));
      sCells = f64x2.add(sCells, v128.and(w2, v));
      sIntensity = f64x2.add(sIntensity, v128.and(f64x2.mul(w2, x2), v));
    }
  }
  if (zone != NO_ZONE) flush(out, zone, nBands, b, sExposed, sDamage, sAffected, sMax, sCells, sIntensity);
}

/** One band over one block, scalar build: the two lanes of {@link bandSimd} in scalars, same sums. */
// @ts-ignore: decorator
@inline function bandScalar(
  out: usize, nBands: i32, b: i32, hz: usize, fr: usize, bn: i32,
  threshold: f64, hazNodata: f64, hazHasNodata: i32, hasFraction: bool,
): void {
  let zone: u32 = load<u32>(ZONE);
  // lane 0: cells at even block offsets, lane 1: odd (the SIMD build's two f64x2 lanes)
  let e0: f64 = 0, e1: f64 = 0, d0: f64 = 0, d1: f64 = 0, a0: f64 = 0, a1: f64 = 0;
  let m0: f64 = -Infinity, m1: f64 = -Infinity, c0: f64 = 0, c1: f64 = 0, h0: f64 = 0, h1: f64 = 0;
  for (let i: i32 = 0; i < bn; i++) {
    const z = load<u32>(ZONE + (<usize>i << 2));
    if (z != zone) {
      if (zone != NO_ZONE) flushScalar(out, zone, nBands, b, e0 + e1, d0 + d1, a0 + a1, max(m0, m1), c0 + c1, h0 + h1);
      zone = z;
      e0 = 0; e1 = 0; d0 = 0; d1 = 0; a0 = 0; a1 = 0; m0 = -Infinity; m1 = -Infinity; c0 = 0; c1 = 0; h0 = 0; h1 = 0;
    }
    const x = <f64>load<f32>(hz + (<usize>i << 2));
    const ew = load<f64>(EW + (<usize>i << 3));
    if (x != x || (hazHasNodata && x == hazNodata) || ew != ew) continue;
    let m = load<f64>(MDR + (<usize>i << 3));
    if (hasFraction) {
      const f = <f64>load<f32>(fr + (<usize>i << 2));
      m *= f == f ? f : 0.0; // NaN fraction -> 0; CLIMADA's order: (fraction x mdr) x exposure
    }
    const d = ew * m;
    const w = load<f64>(W + (<usize>i << 3));
    if (i & 1) {
      e1 += x > 0 ? ew : 0.0; d1 += d; a1 += x >= threshold ? ew : 0.0; m1 = max(m1, x); c1 += w; h1 += w * x;
    } else {
      e0 += x > 0 ? ew : 0.0; d0 += d; a0 += x >= threshold ? ew : 0.0; m0 = max(m0, x); c0 += w; h0 += w * x;
    }
  }
  if (zone != NO_ZONE) flushScalar(out, zone, nBands, b, e0 + e1, d0 + d1, a0 + a1, max(m0, m1), c0 + c1, h0 + h1);
}

/**
 * @param haz       f32 hazard, band b starts at haz + 4*b*bandStride
 * @param exposure  f64 exposure value per cell (e.g. EUR, people)
 * @param zones     u32 zone index per cell (NO_ZONE = in none), or 0 for "every cell in zone 0"
 * @param weights   f32 coverage weight per cell in [0, 1], or 0 for all 1
 * @param classes   u8 curve index per cell, or 0 for curve 0 everywhere
 * @param curves    u32 pointers to packed curves
 * @param out       f64[nZones * nBands * 6], accumulated into
 * @param zoneOut   f64[nZones * 2], accumulated into
 * @param damage    f32 per-cell damage (exposure * mdr [* fraction], NaN where nodata) laid out like haz, or 0
 * @param fraction  f32 hazard fraction per cell (NaN = 0), band b at fraction + 4*b*fractionStride, or 0 for none
 * @param fractionStride  0: one fraction band for every hazard band; else >= n
 */
export function impactZonal(
  haz: usize, bandStride: i32, nBands: i32, n: i32,
  exposure: usize, zones: usize, weights: usize, classes: usize,
  curves: usize, nCurves: i32,
  hazNodata: f64, hazHasNodata: i32, expNodata: f64, expHasNodata: i32,
  threshold: f64, nZones: i32,
  out: usize, zoneOut: usize, damage: usize,
  fraction: usize, fractionStride: i32,
): i32 {
  if (n < 0 || nBands < 1 || bandStride < n || nCurves < 1 || nZones < 1) return STATUS_BAD_ARGS;
  if (fraction && (fractionStride < 0 || (fractionStride != 0 && fractionStride < n))) return STATUS_BAD_ARGS;
  const curve0 = <usize>load<u32>(curves);
  for (let start: i32 = 0; start < n; start += BLOCK) {
    const bn = min(BLOCK, n - start);
    // Pre-pass: exposure validity, weights and zones of the block, once for all bands. Zone totals
    // are summed per run of cells with one zone, like the band sums below.
    let runZone: u32 = zones ? load<u32>(zones + (<usize>start << 2)) : 0;
    let runExposure: f64 = 0, runCells: f64 = 0;
    for (let i: i32 = 0; i < bn; i++) {
      const cell = <usize>(start + i);
      let e = load<f64>(exposure + (cell << 3));
      if (expHasNodata && e == expNodata) e = NaN;
      const w: f64 = weights ? <f64>load<f32>(weights + (cell << 2)) : 1.0;
      const z: u32 = zones ? load<u32>(zones + (cell << 2)) : 0;
      if (z != NO_ZONE && z >= <u32>nZones) return STATUS_ZONE_RANGE;
      if (classes && <i32>load<u8>(classes + cell) >= nCurves) return STATUS_CLASS_RANGE;
      if (z != runZone) {
        flushZone(zoneOut, runZone, runExposure, runCells);
        runZone = z;
        runExposure = 0;
        runCells = 0;
      }
      store<f64>(EXP + (<usize>i << 3), e);
      const inZone = z != NO_ZONE && w > 0 && e == e;
      store<f64>(EW + (<usize>i << 3), inZone ? w * e : NaN);
      store<f64>(W + (<usize>i << 3), w);
      store<u32>(ZONE + (<usize>i << 2), z);
      if (inZone) {
        runExposure += w * e;
        runCells += w;
      }
    }
    flushZone(zoneOut, runZone, runExposure, runCells);
    for (let b: i32 = 0; b < nBands; b++) {
      const hz = haz + ((<usize>b * <usize>bandStride + <usize>start) << 2);
      const fr = fraction ? fraction + ((<usize>b * <usize>fractionStride + <usize>start) << 2) : 0;
      if (classes) {
        for (let i: i32 = 0; i < bn; i++) {
          const cls = <usize>load<u8>(classes + <usize>(start + i));
          const c = <usize>load<u32>(curves + (cls << 2));
          store<f64>(MDR + (<usize>i << 3), curveMdr(c, <f64>load<f32>(hz + (<usize>i << 2))));
        }
      } else {
        mdrBlock(curve0, hz, bn, MDR);
      }
      const dm = damage ? damage + ((<usize>b * <usize>bandStride + <usize>start) << 2) : 0;
      if (dm) {
        for (let i: i32 = 0; i < bn; i++) {
          const x = <f64>load<f32>(hz + (<usize>i << 2));
          const hazValid = x == x && !(hazHasNodata && x == hazNodata);
          let m = load<f64>(MDR + (<usize>i << 3));
          if (fr) {
            const f = <f64>load<f32>(fr + (<usize>i << 2));
            m *= f == f ? f : 0.0;
          }
          const d = load<f64>(EXP + (<usize>i << 3)) * m;
          store<f32>(dm + (<usize>i << 2), hazValid ? <f32>d : NaN);
        }
      }
      if (ASC_FEATURE_SIMD) {
        if (fr) bandSimd(out, nBands, b, hz, fr, bn, threshold, hazNodata, hazHasNodata, true);
        else bandSimd(out, nBands, b, hz, 0, bn, threshold, hazNodata, hazHasNodata, false);
      } else {
        if (fr) bandScalar(out, nBands, b, hz, fr, bn, threshold, hazNodata, hazHasNodata, true);
        else bandScalar(out, nBands, b, hz, 0, bn, threshold, hazNodata, hazHasNodata, false);
      }
    }
  }
  return STATUS_OK;
}
