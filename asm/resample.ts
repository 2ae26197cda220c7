/**
 * Resampling kernel (AssemblyScript): nearest and bilinear sampling of f32 source bands at the source
 * pixel coordinates of target cells, with gdalwarp's (GDAL 3.6) rules and arithmetic. The TypeScript
 * twin is src/kernels/resample.ts; both give the same bits (same f64 operations in the same order).
 *
 * Coordinates come as per-row segments, a coarse lattice the kernel interpolates itself: segment k of a
 * row starts at target column COL[k] (i32) and runs to the next segment's start (or the window end); its
 * record SEG[k] holds five f64 `anchor, x0, y0, dx, dy`, and target column c maps to the source pixel
 * coordinate `x = (x0 + dx * (c - anchor)) - offX`, `y = (y0 + dy * (c - anchor)) - offY` (pixel
 * corners at integers, so a pixel centre is at i + 0.5). An exactly transformed cell is a segment of one
 * column with dx = dy = 0. ROWS[r]..ROWS[r + 1] are the segments of output row r. Cells not covered by a
 * segment, and cells whose coordinate is NaN, are nodata.
 *
 * Rules (GDAL gdalwarpkernel.cpp, checked against gdalwarp 3.6 outputs in test/fixtures/gdalwarp):
 *  - a cell is nodata in every band unless 0 <= x, 0 <= y, x + 1e-10 <= W and y + 1e-10 <= H;
 *    its containing pixel is (trunc(x + 1e-10), trunc(y + 1e-10)), clamped to W - 1, H - 1;
 *  - nearest: the containing pixel's value, nodata where that value is nodata (per band);
 *  - bilinear: nodata in every band when the containing pixel is nodata in *all* bands; otherwise, per
 *    band, the weighted mean of the valid taps (nodata taps and taps outside the source are dropped and
 *    the weights renormalised), nodata when too little weight remains. When both scales are >= 0.95 the
 *    taps are the 2 x 2 pixels around (x, y) (GDAL's GWKBilinearResample4Sample); when the target is
 *    coarser (scale < 0.95 on an axis) GDAL widens the triangle filter by 1 / scale on the axes where the
 *    scale is < 1 (GWKResample), and so does this kernel.
 * A value is nodata when it is NaN or equals `nodata` (when `hasNodata`). Output nodata is NaN.
 *
 * SIMD build: the 2 x 2 bilinear path runs two target cells per f64x2 instruction (coordinates, weights,
 * products and the accumulation, lane by lane in GDAL's order), so it gives the scalar bits.
 * Status: 0 ok, 1 bad arguments, 2 filter wider than MAX_TAPS.
 */

export const RESAMPLE_NEAREST: i32 = 0;
export const RESAMPLE_BILINEAR: i32 = 1;
/** Most taps per axis of the widened (decimating) bilinear filter: 2 * ceil(1 / scale) + 1. */
export const MAX_TAPS: i32 = 1023;
const SEG_BYTES: usize = 40;

const WX = memory.data(<i32>(MAX_TAPS + 1) << 3, 16); // f64 x weights of the widened filter, one cell

// @ts-ignore: decorator
@inline function isValid(v: f32, nd: f32, hasNd: bool): bool {
  return v == v && !(hasNd && v == nd);
}

// @ts-ignore: decorator
@inline function tri(t: f64): f64 {
  const a = abs<f64>(t);
  return a <= 1.0 ? 1.0 - a : 0.0;
}

/** Parameters shared by every cell of one call (kept in globals so the per-cell helpers stay small). */
let gSrc: usize = 0;
let gW: i32 = 0;
let gH: i32 = 0;
let gBands: i32 = 0;
let gBandStride: usize = 0;
let gNd: f32 = 0;
let gHasNd: bool = false;
let gOutStride: usize = 0;
let gSX: f64 = 1;
let gSY: f64 = 1;
let gRX: i32 = 1;
let gRY: i32 = 1;

function storeNodata(o: usize): void {
  for (let b: i32 = 0; b < gBands; b++) store<f32>(o + ((<usize>b * gOutStride) << 2), NaN);
}

/** True when the containing pixel (cx, cy) is valid in at least one band. */
// @ts-ignore: decorator
@inline function anyBandValid(p: usize): bool {
  for (let b: i32 = 0; b < gBands; b++) {
    if (isValid(load<f32>(gSrc + ((<usize>b * gBandStride + p) << 2)), gNd, gHasNd)) return true;
  }
  return false;
}

function nearestCell(x: f64, y: f64, o: usize): void {
  if (!(x >= 0.0 && y >= 0.0 && x + 1e-10 <= <f64>gW && y + 1e-10 <= <f64>gH)) {
    storeNodata(o);
    return;
  }
  const cx = min<i32>(<i32>(x + 1e-10), gW - 1);
  const cy = min<i32>(<i32>(y + 1e-10), gH - 1);
  const p = <usize>cy * <usize>gW + <usize>cx;
  for (let b: i32 = 0; b < gBands; b++) {
    const v = load<f32>(gSrc + ((<usize>b * gBandStride + p) << 2));
    store<f32>(o + ((<usize>b * gOutStride) << 2), isValid(v, gNd, gHasNd) ? v : <f32>NaN);
  }
}

/** Returns false (and stores nodata) when the cell is outside the source or its pixel is nodata in all bands. */
function bilinearCheck(x: f64, y: f64, o: usize): bool {
  if (!(x >= 0.0 && y >= 0.0 && x + 1e-10 <= <f64>gW && y + 1e-10 <= <f64>gH)) {
    storeNodata(o);
    return false;
  }
  const cx = min<i32>(<i32>(x + 1e-10), gW - 1);
  const cy = min<i32>(<i32>(y + 1e-10), gH - 1);
  if (!anyBandValid(<usize>cy * <usize>gW + <usize>cx)) {
    storeNodata(o);
    return false;
  }
  return true;
}

/** GDAL's GWKBilinearResample4Sample: taps UL, UR, LL, LR, accumulated in that order. */
function bilinear4Cell(x: f64, y: f64, o: usize): void {
  if (!bilinearCheck(x, y, o)) return;
  let ix = <i32>floor(x - 0.5);
  let iy = <i32>floor(y - 0.5);
  let rx = 1.5 - (x - <f64>ix);
  let ry = 1.5 - (y - <f64>iy);
  if (ix == -1) { ix = 0; rx = 1.0; }
  if (iy == -1) { iy = 0; ry = 1.0; }
  const hasR = ix + 1 < gW;
  const hasB = iy + 1 < gH;
  const m1 = rx * ry;
  const m2 = (1.0 - rx) * ry;
  const m3 = rx * (1.0 - ry);
  const m4 = (1.0 - rx) * (1.0 - ry);
  const p = <usize>iy * <usize>gW + <usize>ix;
  for (let b: i32 = 0; b < gBands; b++) {
    const q = gSrc + ((<usize>b * gBandStride + p) << 2);
    let acc: f64 = 0.0;
    let div: f64 = 0.0;
    let v = load<f32>(q);
    if (isValid(v, gNd, gHasNd)) { div += m1; acc += <f64>v * m1; }
    if (hasR) {
      v = load<f32>(q, 4);
      if (isValid(v, gNd, gHasNd)) { div += m2; acc += <f64>v * m2; }
    }
    if (hasB) {
      const q1 = q + (<usize>gW << 2);
      v = load<f32>(q1);
      if (isValid(v, gNd, gHasNd)) { div += m3; acc += <f64>v * m3; }
      if (hasR) {
        v = load<f32>(q1, 4);
        if (isValid(v, gNd, gHasNd)) { div += m4; acc += <f64>v * m4; }
      }
    }
    const r = div == 1.0 ? acc : div < 0.00001 ? NaN : acc / div;
    store<f32>(o + ((<usize>b * gOutStride) << 2), <f32>r);
  }
}

/** GDAL's GWKResample with the bilinear (triangle) filter widened by 1 / scale on decimating axes. */
function bilinearWideCell(x: f64, y: f64, o: usize): void {
  if (!bilinearCheck(x, y, o)) return;
  const ix = <i32>floor(x - 0.5);
  const iy = <i32>floor(y - 0.5);
  const dx = x - 0.5 - <f64>ix;
  const dy = y - 0.5 - <f64>iy;
  let j0 = -gRY;
  let j1 = gRY;
  if (iy + j0 < 0) j0 = -iy;
  if (iy + j1 >= gH) j1 = gH - iy - 1;
  let i0 = -gRX;
  let i1 = gRX;
  if (ix + i0 < 0) i0 = -ix;
  if (ix + i1 >= gW) i1 = gW - ix - 1;
  const sx = gSX;
  const sy = gSY;
  for (let i = i0; i <= i1; i++) {
    store<f64>(WX + (<usize>(i - i0) << 3), sx < 1.0 ? tri((<f64>i - dx) * sx) : tri(<f64>i - dx));
  }
  for (let b: i32 = 0; b < gBands; b++) {
    const band = gSrc + ((<usize>b * gBandStride) << 2);
    let acc: f64 = 0.0;
    let ws: f64 = 0.0;
    for (let j = j0; j <= j1; j++) {
      const w1 = sy < 1.0 ? tri((<f64>j - dy) * sy) : tri(<f64>j - dy);
      const row = band + ((<usize>(iy + j) * <usize>gW + <usize>(ix + i0)) << 2);
      let la: f64 = 0.0;
      let lw: f64 = 0.0;
      for (let i = i0; i <= i1; i++) {
        const v = load<f32>(row + (<usize>(i - i0) << 2));
        if (!isValid(v, gNd, gHasNd)) continue;
        const w2 = load<f64>(WX + (<usize>(i - i0) << 3));
        la += <f64>v * w2;
        lw += w2;
      }
      acc += la * w1;
      ws += lw * w1;
    }
    const r = ws < 0.000001 ? NaN : ws < 0.99999 || ws > 1.00001 ? acc / ws : acc;
    store<f32>(o + ((<usize>b * gOutStride) << 2), <f32>r);
  }
}

/** f64x2 lanes of i64 mask `m` (all ones / zeros) choosing `a` else +0. */
// @ts-ignore: decorator
@inline function keep(a: v128, m: v128): v128 {
  return v128.and(a, m);
}

/**
 * Two target cells of one segment through the 2 x 2 bilinear path, lane 0 = (xa, ya), lane 1 = the next
 * column. Every lane does the scalar path's operations in the same order; invalid taps add +0 (which
 * leaves the sums' bits unchanged). Cells that are outside the source or have an all-nodata pixel go
 * through the scalar path instead (rare).
 */
function bilinear4Pair(x2: v128, y2: v128, o: usize): void {
  const wF = f64x2.splat(<f64>gW);
  const hF = f64x2.splat(<f64>gH);
  const eps = f64x2.splat(1e-10);
  const zero = f64x2.splat(0.0);
  const xe = f64x2.add(x2, eps);
  const ye = f64x2.add(y2, eps);
  // inside: 0 <= x, 0 <= y, x + 1e-10 <= W, y + 1e-10 <= H (NaN fails every compare)
  const inside = v128.and(v128.and(f64x2.ge(x2, zero), f64x2.ge(y2, zero)), v128.and(f64x2.le(xe, wF), f64x2.le(ye, hF)));
  if (!i64x2.all_true(inside)) {
    bilinear4Cell(f64x2.extract_lane(x2, 0), f64x2.extract_lane(y2, 0), o);
    bilinear4Cell(f64x2.extract_lane(x2, 1), f64x2.extract_lane(y2, 1), o + 4);
    return;
  }
  // containing pixels (trunc(x + 1e-10) clamped), lanes 0 and 1 of i32x4
  const cx = i32x4.min_s(i32x4.trunc_sat_f64x2_s_zero(xe), i32x4.splat(gW - 1));
  const cy = i32x4.min_s(i32x4.trunc_sat_f64x2_s_zero(ye), i32x4.splat(gH - 1));
  const one1 = gBands == 1;
  if (!one1) {
    // several bands: the centre rule needs every band's containing pixel (rare cells go scalar)
    const cp = i32x4.add(i32x4.mul(cy, i32x4.splat(gW)), cx);
    if (!(anyBandValid(<usize>i32x4.extract_lane(cp, 0)) && anyBandValid(<usize>i32x4.extract_lane(cp, 1)))) {
      bilinear4Cell(f64x2.extract_lane(x2, 0), f64x2.extract_lane(y2, 0), o);
      bilinear4Cell(f64x2.extract_lane(x2, 1), f64x2.extract_lane(y2, 1), o + 4);
      return;
    }
  }
  const half = f64x2.splat(0.5);
  const one = f64x2.splat(1.0);
  const fx = f64x2.floor(f64x2.sub(x2, half));
  const fy = f64x2.floor(f64x2.sub(y2, half));
  const minus1 = f64x2.splat(-1.0);
  const rx = v128.bitselect(one, f64x2.sub(f64x2.splat(1.5), f64x2.sub(x2, fx)), f64x2.eq(fx, minus1));
  const ry = v128.bitselect(one, f64x2.sub(f64x2.splat(1.5), f64x2.sub(y2, fy)), f64x2.eq(fy, minus1));
  const zi = i32x4.splat(0);
  const ix = i32x4.max_s(i32x4.trunc_sat_f64x2_s_zero(fx), zi);
  const iy = i32x4.max_s(i32x4.trunc_sat_f64x2_s_zero(fy), zi);
  const crx = f64x2.sub(one, rx);
  const cry = f64x2.sub(one, ry);
  const m1 = f64x2.mul(rx, ry);
  const m2 = f64x2.mul(crx, ry);
  const m3 = f64x2.mul(rx, cry);
  const m4 = f64x2.mul(crx, cry);
  // tap existence: right column and bottom row inside the source (i32 lanes -> i64 lane masks)
  const hasR32 = i32x4.lt_s(i32x4.add(ix, i32x4.splat(1)), i32x4.splat(gW));
  const hasB32 = i32x4.lt_s(i32x4.add(iy, i32x4.splat(1)), i32x4.splat(gH));
  const hasR = i64x2.extend_low_i32x4_s(hasR32);
  const hasB = i64x2.extend_low_i32x4_s(hasB32);
  const hasRB = v128.and(hasR, hasB);
  // one band: the containing pixel is one of the four taps; which one, as i64 lane masks
  const right = i64x2.extend_low_i32x4_s(i32x4.ne(cx, ix));
  const below = i64x2.extend_low_i32x4_s(i32x4.ne(cy, iy));
  const p = i32x4.add(i32x4.mul(iy, i32x4.splat(gW)), ix);
  const pa = <usize>i32x4.extract_lane(p, 0) << 2;
  const pb = <usize>i32x4.extract_lane(p, 1) << 2;
  // bottom row offset: the same row when there is none, so that every load stays inside the band
  const dRow = v128.and(hasB32, i32x4.splat(gW << 2));
  const da = <usize>i32x4.extract_lane(dRow, 0);
  const db = <usize>i32x4.extract_lane(dRow, 1);
  const nan = f64x2.splat(NaN);
  const tiny = f64x2.splat(0.00001);
  const nd = f32x4.splat(gNd);
  for (let b: i32 = 0; b < gBands; b++) {
    const band = gSrc + ((<usize>b * gBandStride) << 2);
    const qa = band + pa;
    const qb = band + pb;
    // [UL_a, UR_a, UL_b, UR_b] and [LL_a, LR_a, LL_b, LR_b]; the source has 16 bytes of padding after
    // its last band, so reading UR / LR past a row end stays inside memory (those lanes are masked).
    const top = v128.load64_lane(qb, v128.load64_zero(qa), 1);
    const bot = v128.load64_lane(qb + db, v128.load64_zero(qa + da), 1);
    let okTop = f32x4.eq(top, top);
    let okBot = f32x4.eq(bot, bot);
    if (gHasNd) {
      okTop = v128.andnot(okTop, f32x4.eq(top, nd));
      okBot = v128.andnot(okBot, f32x4.eq(bot, nd));
    }
    // regroup per tap: [UL_a, UL_b, UR_a, UR_b]
    const t = v128.shuffle<f32>(top, top, 0, 2, 1, 3);
    const u = v128.shuffle<f32>(bot, bot, 0, 2, 1, 3);
    const tm = v128.shuffle<i32>(okTop, okTop, 0, 2, 1, 3);
    const um = v128.shuffle<i32>(okBot, okBot, 0, 2, 1, 3);
    const ul = f64x2.promote_low_f32x4(t);
    const ur = f64x2.promote_low_f32x4(v128.shuffle<f32>(t, t, 2, 3, 0, 1));
    const ll = f64x2.promote_low_f32x4(u);
    const lr = f64x2.promote_low_f32x4(v128.shuffle<f32>(u, u, 2, 3, 0, 1));
    const kUL = i64x2.extend_low_i32x4_s(tm);
    const kUR = v128.and(i64x2.extend_high_i32x4_s(tm), hasR);
    const kLL = v128.and(i64x2.extend_low_i32x4_s(um), hasB);
    const kLR = v128.and(i64x2.extend_high_i32x4_s(um), hasRB);
    // from +0 as the scalar path (0.0 + -0.0 is +0.0)
    let div = f64x2.add(zero, keep(m1, kUL));
    let acc = f64x2.add(zero, keep(f64x2.mul(ul, m1), kUL));
    div = f64x2.add(div, keep(m2, kUR));
    acc = f64x2.add(acc, keep(f64x2.mul(ur, m2), kUR));
    div = f64x2.add(div, keep(m3, kLL));
    acc = f64x2.add(acc, keep(f64x2.mul(ll, m3), kLL));
    div = f64x2.add(div, keep(m4, kLR));
    acc = f64x2.add(acc, keep(f64x2.mul(lr, m4), kLR));
    let r = v128.bitselect(acc, v128.bitselect(nan, f64x2.div(acc, div), f64x2.lt(div, tiny)), f64x2.eq(div, one));
    if (one1) {
      // the containing pixel's validity (taps inside the source by construction)
      const rawUL = i64x2.extend_low_i32x4_s(tm);
      const rawUR = i64x2.extend_high_i32x4_s(tm);
      const rawLL = i64x2.extend_low_i32x4_s(um);
      const rawLR = i64x2.extend_high_i32x4_s(um);
      const top2 = v128.bitselect(rawUR, rawUL, right);
      const bot2 = v128.bitselect(rawLR, rawLL, right);
      r = v128.bitselect(r, nan, v128.bitselect(bot2, top2, below));
    }
    v128.store64_lane(o + ((<usize>b * gOutStride) << 2), f32x4.demote_f64x2_zero(r), 0);
  }
}

/**
 * Resamples `nBands` f32 bands (band b at src + 4*b*W*H, W x H cells, 16 bytes of readable padding
 * after the last band) at the coordinates described by the segments, for output columns col0..col1-1
 * of nRows rows, into f32 `out` (row r, column c, band b at out + 4*(b*outStride + r*(col1-col0) + c-col0)).
 * `scaleX`, `scaleY`: GDAL's kernel scales (target cells per source pixel, snapped); both >= 0.95
 * selects the 2 x 2 bilinear, otherwise the widened filter.
 */
export function resample(
  src: usize, W: i32, H: i32, nBands: i32, nodata: f64, hasNodata: i32,
  cols: usize, segs: usize, rows: usize, col0: i32, col1: i32, nRows: i32,
  offX: f64, offY: f64, method: i32, scaleX: f64, scaleY: f64,
  out: usize, outStride: i32,
): i32 {
  if (W < 1 || H < 1 || nBands < 1 || col1 < col0 || nRows < 0 || col0 < 0) return 1;
  if (method != RESAMPLE_NEAREST && method != RESAMPLE_BILINEAR) return 1;
  const width = col1 - col0;
  if (<i64>outStride < <i64>width * <i64>nRows) return 1;
  if (!(scaleX > 0.0) || !(scaleY > 0.0)) return 1;
  const four = scaleX >= 0.95 && scaleY >= 0.95;
  const rx = scaleX < 1.0 ? ceil(1.0 / scaleX) : 1.0;
  const ry = scaleY < 1.0 ? ceil(1.0 / scaleY) : 1.0;
  if (!four && (2.0 * rx + 1.0 > <f64>MAX_TAPS || 2.0 * ry + 1.0 > <f64>MAX_TAPS)) return 2;
  gRX = <i32>rx;
  gRY = <i32>ry;
  gSrc = src; gW = W; gH = H; gBands = nBands; gBandStride = <usize>W * <usize>H;
  gNd = <f32>nodata; gHasNd = hasNodata != 0; gOutStride = <usize>outStride;
  gSX = scaleX; gSY = scaleY;
  const nearest = method == RESAMPLE_NEAREST;
  for (let r: i32 = 0; r < nRows; r++) {
    const rowOut = out + ((<usize>r * <usize>width) << 2);
    const s0 = load<i32>(rows + (<usize>r << 2));
    const s1 = load<i32>(rows + (<usize>(r + 1) << 2));
    let filled = col0;
    for (let k = s0; k < s1; k++) {
      let c = max<i32>(load<i32>(cols + (<usize>k << 2)), col0);
      const end = k + 1 < s1 ? min<i32>(load<i32>(cols + (<usize>(k + 1) << 2)), col1) : col1;
      if (c >= end) continue;
      for (; filled < c; filled++) storeNodata(rowOut + (<usize>(filled - col0) << 2));
      const rec = segs + <usize>k * SEG_BYTES;
      const anchor = load<f64>(rec);
      const x0 = load<f64>(rec, 8);
      const y0 = load<f64>(rec, 16);
      const dx = load<f64>(rec, 24);
      const dy = load<f64>(rec, 32);
      if (ASC_FEATURE_SIMD) {
        if (!nearest && four) {
          const x0v = f64x2.splat(x0);
          const y0v = f64x2.splat(y0);
          const dxv = f64x2.splat(dx);
          const dyv = f64x2.splat(dy);
          const offXv = f64x2.splat(offX);
          const offYv = f64x2.splat(offY);
          for (; c + 1 < end; c += 2) {
            const dist = f64x2.replace_lane(f64x2.splat(<f64>c - anchor), 1, <f64>(c + 1) - anchor);
            const x2 = f64x2.sub(f64x2.add(x0v, f64x2.mul(dxv, dist)), offXv);
            const y2 = f64x2.sub(f64x2.add(y0v, f64x2.mul(dyv, dist)), offYv);
            bilinear4Pair(x2, y2, rowOut + (<usize>(c - col0) << 2));
          }
        }
      }
      for (; c < end; c++) {
        const dist = <f64>c - anchor;
        const x = (x0 + dx * dist) - offX;
        const y = (y0 + dy * dist) - offY;
        const o = rowOut + (<usize>(c - col0) << 2);
        if (nearest) nearestCell(x, y, o);
        else if (four) bilinear4Cell(x, y, o);
        else bilinearWideCell(x, y, o);
      }
      filled = end;
    }
    for (; filled < col1; filled++) storeNodata(rowOut + (<usize>(filled - col0) << 2));
  }
  return 0;
}
