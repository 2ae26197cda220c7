/**
 * Fused impact + zonal kernel (AssemblyScript). One pass over hazard bands, exposure, zone index,
 * coverage weights and class raster gives, per zone and band, five f64 accumulators:
 *   0 exposed   sum of w*exposure where intensity > 0
 *   1 damage    sum of w*exposure*mdr
 *   2 affected  sum of w*exposure where intensity >= threshold
 *   3 max       maximum intensity (caller initialises to -Infinity)
 *   4 cells     sum of w over cells with valid hazard and exposure
 * and per zone, band-independent: 0 exposure total (sum of w*exposure), 1 cells with valid exposure (sum of w).
 * Cells are processed in blocks of BLOCK: the block's exposure, weights and zones stay in cache
 * while every band runs over it (cache blocking). Summation order (part of the contract, mirrored by
 * the TypeScript twin so both agree bit for bit): within a block, each run of consecutive cells with
 * the same zone is summed from 0 in cell order, and the run's sum is added to the accumulator.
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

// @ts-ignore: decorator
@inline function flush(out: usize, zone: u32, nBands: i32, b: i32, e: f64, d: f64, a: f64, m: f64, c: f64): void {
  const acc = out + ((<usize>zone * <usize>nBands + <usize>b) * 40);
  store<f64>(acc, load<f64>(acc) + e);
  store<f64>(acc, load<f64>(acc, 8) + d, 8);
  store<f64>(acc, load<f64>(acc, 16) + a, 16);
  store<f64>(acc, max(load<f64>(acc, 24), m), 24);
  store<f64>(acc, load<f64>(acc, 32) + c, 32);
}

/**
 * @param haz       f32 hazard, band b starts at haz + 4*b*bandStride
 * @param exposure  f64 exposure value per cell (e.g. EUR, people)
 * @param zones     u32 zone index per cell (NO_ZONE = in none), or 0 for "every cell in zone 0"
 * @param weights   f32 coverage weight per cell in [0, 1], or 0 for all 1
 * @param classes   u8 curve index per cell, or 0 for curve 0 everywhere
 * @param curves    u32 pointers to packed curves
 * @param out       f64[nZones * nBands * 5], accumulated into
 * @param zoneOut   f64[nZones * 2], accumulated into
 * @param damage    f32 per-cell damage (exposure * mdr, NaN where nodata) laid out like haz, or 0
 */
export function impactZonal(
  haz: usize, bandStride: i32, nBands: i32, n: i32,
  exposure: usize, zones: usize, weights: usize, classes: usize,
  curves: usize, nCurves: i32,
  hazNodata: f64, hazHasNodata: i32, expNodata: f64, expHasNodata: i32,
  threshold: f64, nZones: i32,
  out: usize, zoneOut: usize, damage: usize,
): i32 {
  if (n < 0 || nBands < 1 || bandStride < n || nCurves < 1 || nZones < 1) return STATUS_BAD_ARGS;
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
          store<f32>(dm + (<usize>i << 2), hazValid ? <f32>(load<f64>(EXP + (<usize>i << 3)) * load<f64>(MDR + (<usize>i << 3))) : NaN);
        }
      }
      // Sums of a run of cells that share a zone stay in locals (registers) and are added to `out`
      // when the zone changes and at the block's end; the twin adds them in the same grouping.
      let zone: u32 = load<u32>(ZONE);
      let sExposed: f64 = 0, sDamage: f64 = 0, sAffected: f64 = 0, sMax: f64 = -Infinity, sCells: f64 = 0;
      for (let i: i32 = 0; i < bn; i++) {
        const z = load<u32>(ZONE + (<usize>i << 2));
        if (z != zone) {
          if (zone != NO_ZONE) flush(out, zone, nBands, b, sExposed, sDamage, sAffected, sMax, sCells);
          zone = z;
          sExposed = 0; sDamage = 0; sAffected = 0; sMax = -Infinity; sCells = 0;
        }
        const x = <f64>load<f32>(hz + (<usize>i << 2));
        const ew = load<f64>(EW + (<usize>i << 3));
        if (x != x || (hazHasNodata && x == hazNodata) || ew != ew) continue;
        sExposed += x > 0 ? ew : 0.0;
        sDamage += ew * load<f64>(MDR + (<usize>i << 3));
        sAffected += x >= threshold ? ew : 0.0;
        sMax = max(sMax, x);
        sCells += load<f64>(W + (<usize>i << 3));
      }
      if (zone != NO_ZONE) flush(out, zone, nBands, b, sExposed, sDamage, sAffected, sMax, sCells);
    }
  }
  return STATUS_OK;
}
