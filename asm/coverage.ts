/**
 * Zone coverage rasterisation (AssemblyScript). JS lays out the rings, the scratch and the output
 * (src/kernels/coverage-wasm.ts); the kernel allocates nothing and returns a status code:
 * 0 ok, 1 bad arguments, 2 a vertex is not finite, 3 more spans than `cap`. The TypeScript twin
 * (src/kernels/coverage.ts, `coverageCore`) performs the same f64 operations in the same order: keep
 * the two in step.
 *
 * Rings: f64 x,y pairs in cells from the window's top-left corner (y down), closed, outer rings with
 * shoelace area < 0 (they count positive here) and holes > 0. Per row (scanline with an active edge
 * list, edges bucketed by first row with a counting sort), each edge piece adds its exact signed
 * area right of it within each cell it crosses, and the rest of its height to the next cell; a prefix
 * sum along the row gives the area of each cell inside the polygon. Rule 1 (centre) adds +-1 at the
 * first cell whose centre lies right of each crossing of the row centre line instead (GDAL's
 * scanline), and the prefix sum is the winding number.
 *
 * The prefix sum visits only the cells an edge touched (a bitmap of the row, read with ctz), since the
 * weight cannot change between them: the cost per row is O(width / 64 + touched cells), not O(width).
 * Output is a dense window (f32 or f64) or row spans (runs of one weight; no memory per window cell).
 */

export const RULE_COVERAGE: i32 = 0;
export const RULE_CENTRE: i32 = 1;
export const RULE_ALL_TOUCHED: i32 = 2;

const SLIVER: f64 = 1e-9;
const ONE_MINUS_SLIVER: f64 = 1.0 - 1e-9;

// @ts-ignore: decorator
@inline function vx(xy: usize, i: i32): f64 { return load<f64>(xy + (<usize>i << 4)); }
// @ts-ignore: decorator
@inline function vy(xy: usize, i: i32): f64 { return load<f64>(xy + (<usize>i << 4), 8); }
// @ts-ignore: decorator
@inline function i32At(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setI32(p: usize, i: i32, v: i32): void { store<i32>(p + (<usize>i << 2), v); }

/** Output modes: dense f32 weights, dense f64 weights, row spans. */
export const MODE_F32: i32 = 0;
export const MODE_F64: i32 = 1;
export const MODE_SPANS: i32 = 2;

/** Adds v to row cell c and marks the cell touched. */
// @ts-ignore: decorator
@inline function addRow(row: usize, bits: usize, c: i32, v: f64): void {
  const p = row + (<usize>c << 3);
  store<f64>(p, load<f64>(p) + v);
  const q = bits + (<usize>(c >> 6) << 3);
  store<u64>(q, load<u64>(q) | (<u64>1 << <u64>(c & 63)));
}
/** Dense modes: weight w into cells [i, e) of `out`. */
// @ts-ignore: decorator
@inline function fill(out: usize, mode: i32, i: i32, e: i32, w: f64): void {
  if (mode == MODE_F64) {
    for (let k = i; k < e; k++) store<f64>(out + (<usize>k << 3), w);
  } else {
    const w32 = <f32>w;
    for (let k = i; k < e; k++) store<f32>(out + (<usize>k << 2), w32);
  }
}
/** Span n: cells [c0, c1) of row r with weight w (rounded to f32). */
// @ts-ignore: decorator
@inline function putSpan(out: usize, n: i32, r: i32, c0: i32, c1: i32, w: f64): void {
  const p = out + (<usize>n << 4);
  store<i32>(p, r);
  store<i32>(p, c0, 4);
  store<i32>(p, c1, 8);
  store<f32>(p, <f32>w, 12);
}

/** Added to the winding count where a bottom edge is burnt (centre rule); see the twin. */
const BURN: f64 = 16777216.0;

/** +1 when the ring's bottom edges run towards +x (shoelace < 0), -1 towards -x, 0 for zero area. */
function bottomDirection(xy: usize, s: i32, e: i32): i32 {
  const ox = vx(xy, s);
  const oy = vy(xy, s);
  let a2: f64 = 0;
  for (let i = s; i + 1 < e; i++) {
    a2 += (vx(xy, i) - ox) * (vy(xy, i + 1) - oy) - (vx(xy, i + 1) - ox) * (vy(xy, i) - oy);
  }
  return a2 < 0 ? 1 : a2 > 0 ? -1 : 0;
}

/** First row of edge i, or -1 when it adds nothing to the window's rows (see the twin's edgeRow). */
function edgeRow(xy: usize, i: i32, fH: f64, bottom: i32): i32 {
  const y0 = vy(xy, i);
  const y1 = vy(xy, i + 1);
  if (y0 == y1) {
    if (bottom == 0) return -1;
    const dx = vx(xy, i + 1) - vx(xy, i);
    if (bottom > 0 ? !(dx > 0) : !(dx < 0)) return -1;
    const t = y0 - 0.5;
    if (!(t >= 0 && t < fH) || t != Math.floor(t)) return -1;
    return <i32>t;
  }
  const ylo = y0 < y1 ? y0 : y1;
  const yhi = y0 < y1 ? y1 : y0;
  if (yhi <= 0 || ylo >= fH) return -1;
  return ylo <= 0 ? 0 : <i32>Math.floor(ylo);
}

/**
 * Weights of a `width` x `height` window for one zone, as a dense window or as row spans.
 * @param xy         f64 ring vertices (x, y) in window cells
 * @param ringStarts i32[nRings + 1] first vertex of each ring, then the vertex count
 * @param rule       0 coverage (exact area fraction), 1 centre, 2 all-touched (coverage > SLIVER)
 * @param order      i32 scratch, one per vertex (edges sorted by first row)
 * @param active     i32 scratch, one per vertex (active edge list)
 * @param rowStart   i32 scratch, height + 1
 * @param row        f64 scratch, width + 2 (cleared here)
 * @param bits       u64 scratch, (width >> 6) + 1 words: the row cells an edge touched (cleared here)
 * @param out        mode 0: f32 weights, width * height, row-major; mode 1: the same in f64;
 *                   mode 2: spans of 16 bytes (i32 row, i32 first column, i32 end column, f32 weight),
 *                   runs of cells of one non-zero weight, rows top to bottom, columns left to right
 * @param cap        mode 2: room in `out` (spans); status 3 when more are needed
 * @param bounds     i32[5] out: x0, y0, x1, y1 of the cells with a non-zero weight (x1 <= x0 when none),
 *                   then the number of spans (mode 2)
 */
export function coverage(
  xy: usize, ringStarts: usize, nRings: i32, width: i32, height: i32, rule: i32,
  order: usize, active: usize, rowStart: usize, row: usize, bits: usize,
  out: usize, mode: i32, cap: i32, bounds: usize,
): i32 {
  if (width < 1 || height < 1 || nRings < 0 || rule < 0 || rule > 2 || mode < 0 || mode > 2) return 1;
  const W = width;
  const H = height;
  const fW = <f64>W;
  const fH = <f64>H;
  memory.fill(rowStart, 0, (<usize>H + 1) << 2);
  memory.fill(row, 0, (<usize>W + 2) << 3);
  memory.fill(bits, 0, ((<usize>W >> 6) + 1) << 3);
  // Pass 1: check vertices, count edges per first row.
  let nEdges: i32 = 0;
  for (let k: i32 = 0; k < nRings; k++) {
    const s = i32At(ringStarts, k);
    const e = i32At(ringStarts, k + 1);
    if (s < 0 || e < s) return 1;
    for (let i = s; i < e; i++) {
      const x = vx(xy, i);
      const y = vy(xy, i);
      if (x - x != 0 || y - y != 0) return 2;
    }
    const bottom = rule == RULE_CENTRE ? bottomDirection(xy, s, e) : 0;
    for (let i = s; i + 1 < e; i++) {
      const r = edgeRow(xy, i, fH, bottom);
      if (r < 0) continue;
      setI32(rowStart, r, i32At(rowStart, r) + 1);
      nEdges++;
    }
  }
  // Counting sort of edges by first row (buckets keep vertex order).
  for (let r: i32 = 1; r < H; r++) setI32(rowStart, r, i32At(rowStart, r) + i32At(rowStart, r - 1));
  setI32(rowStart, H, nEdges);
  for (let k: i32 = nRings - 1; k >= 0; k--) {
    const s = i32At(ringStarts, k);
    const e = i32At(ringStarts, k + 1);
    const bottom = rule == RULE_CENTRE ? bottomDirection(xy, s, e) : 0;
    for (let i = e - 2; i >= s; i--) {
      const r = edgeRow(xy, i, fH, bottom);
      if (r < 0) continue;
      const c = i32At(rowStart, r) - 1;
      setI32(rowStart, r, c);
      setI32(order, c, i);
    }
  }
  // Pass 2: rows top to bottom.
  const shift: usize = mode == MODE_F64 ? 3 : 2;
  let nActive: i32 = 0;
  let nSpans: i32 = 0;
  let bx0: i32 = W;
  let bx1: i32 = -1;
  let by0: i32 = H;
  let by1: i32 = -1;
  for (let r: i32 = 0; r < H; r++) {
    const kEnd = i32At(rowStart, r + 1);
    for (let k = i32At(rowStart, r); k < kEnd; k++) {
      setI32(active, nActive, i32At(order, k));
      nActive++;
    }
    const base: i32 = r * W;
    const fr = <f64>r;
    let cmin: i32 = W + 1;
    let cmax: i32 = -1;
    let i: i32 = 0;
    while (i < nActive) {
      const v = i32At(active, i);
      const x0 = vx(xy, v);
      const y0 = vy(xy, v);
      const x1 = vx(xy, v + 1);
      const y1 = vy(xy, v + 1);
      const down = y0 < y1;
      const xa = down ? x0 : x1;
      const ya = down ? y0 : y1;
      const xb = down ? x1 : x0;
      const yb = down ? y1 : y0;
      const dir: f64 = down ? 1.0 : -1.0;
      if (yb <= fr) {
        nActive--;
        setI32(active, i, i32At(active, nActive));
        continue;
      }
      i++;
      if (rule == RULE_CENTRE) {
        const yc = fr + 0.5;
        if (ya == yb) {
          const k1 = Math.floor(xa + 0.5);
          const k2 = Math.floor(xb + 0.5);
          const lo = k1 < k2 ? k1 : k2;
          const hi = k1 < k2 ? k2 : k1;
          if (lo < fW) {
            const kk: i32 = lo < 0 ? 0 : <i32>lo;
            addRow(row, bits, kk, BURN);
            if (kk < cmin) cmin = kk;
            if (kk > cmax) cmax = kk;
          }
          if (hi < fW) {
            const kk: i32 = hi < 0 ? 0 : <i32>hi;
            addRow(row, bits, kk, -BURN);
            if (kk < cmin) cmin = kk;
            if (kk > cmax) cmax = kk;
          }
        } else if (yc >= ya && yc < yb) {
          const x = ((yc - ya) * (xb - xa)) / (yb - ya) + xa;
          const kf = Math.floor(x + 0.5);
          if (kf < fW) {
            const kk: i32 = kf < 0 ? 0 : <i32>kf;
            addRow(row, bits, kk, dir);
            if (kk < cmin) cmin = kk;
            if (kk > cmax) cmax = kk;
          }
        }
        continue;
      }
      const t0 = ya > fr ? ya : fr;
      const t1 = yb < fr + 1 ? yb : fr + 1;
      const xt0 = t0 == ya ? xa : ((t0 - ya) * (xb - xa)) / (yb - ya) + xa;
      const xt1 = t1 == yb ? xb : ((t1 - ya) * (xb - xa)) / (yb - ya) + xa;
      const dy = dir * (t1 - t0);
      const xl = xt0 < xt1 ? xt0 : xt1;
      const xr = xt0 < xt1 ? xt1 : xt0;
      if (xl >= fW) continue;
      if (xr <= 0) {
        addRow(row, bits, 0, dy);
        if (0 < cmin) cmin = 0;
        if (0 > cmax) cmax = 0;
        continue;
      }
      if (xl == xr) {
        const cf = Math.floor(xl);
        const c = <i32>cf;
        const a = dy * (1 - (xl - cf));
        addRow(row, bits, c, a);
        addRow(row, bits, c + 1, dy - a);
        if (c < cmin) cmin = c;
        if (c + 1 > cmax) cmax = c + 1;
        continue;
      }
      const inv = dy / (xr - xl);
      let rem = dy;
      let x = xl;
      if (x < 0) {
        const d = inv * -x;
        addRow(row, bits, 0, d);
        rem -= d;
        x = 0;
      }
      const end = xr < fW ? xr : fW;
      let cf = Math.floor(x);
      let c = <i32>cf;
      if (c < cmin) cmin = c;
      while (x < end) {
        const nx = cf + 1 < end ? cf + 1 : end;
        const d = nx == xr ? rem : inv * (nx - x);
        const a = d * (cf + 1 - 0.5 * (x + nx));
        addRow(row, bits, c, a);
        addRow(row, bits, c + 1, d - a);
        rem -= d;
        x = nx;
        c++;
        cf += 1;
      }
      if (c > cmax) cmax = c;
    }
    // Prefix sum along the row over the touched cells only (between them the weight stays as it is),
    // in column order; each change of weight closes a span. Scratch is zeroed as it is read.
    if (mode != MODE_SPANS) memory.fill(out + (<usize>base << shift), 0, <usize>W << shift);
    if (cmax < 0) continue;
    const cEnd = cmax < W - 1 ? cmax : W - 1;
    let acc: f64 = 0;
    let w: f64 = 0;
    let start: i32 = 0;
    let first: i32 = -1;
    let last: i32 = -1;
    const q1 = cmax >> 6;
    for (let q = cmin >> 6; q <= q1; q++) {
      const p = bits + (<usize>q << 3);
      let m = load<u64>(p);
      if (m == 0) continue;
      store<u64>(p, 0);
      while (m != 0) {
        const c: i32 = (q << 6) + <i32>ctz(m);
        m &= m - 1;
        const rp = row + (<usize>c << 3);
        const v = load<f64>(rp);
        store<f64>(rp, 0);
        if (v == 0 || c > cEnd) continue;
        acc += v;
        let nw: f64;
        if (rule == RULE_CENTRE) nw = acc > 0 ? 1.0 : 0.0;
        else {
          nw = acc < SLIVER ? 0.0 : acc > ONE_MINUS_SLIVER ? 1.0 : acc;
          if (rule == RULE_ALL_TOUCHED && nw > 0) nw = 1.0;
        }
        if (nw == w) continue;
        if (w != 0) {
          if (mode == MODE_SPANS) {
            if (nSpans >= cap) return 3;
            putSpan(out, nSpans++, r, start, c, w);
          } else fill(out, mode, base + start, base + c, w);
          if (first < 0) first = start;
          last = c - 1;
        }
        start = c;
        w = nw;
      }
    }
    if (w != 0) {
      if (mode == MODE_SPANS) {
        if (nSpans >= cap) return 3;
        putSpan(out, nSpans++, r, start, W, w);
      } else fill(out, mode, base + start, base + W, w);
      if (first < 0) first = start;
      last = W - 1;
    }
    if (last >= 0) {
      if (first < bx0) bx0 = first;
      if (last > bx1) bx1 = last;
      if (r < by0) by0 = r;
      by1 = r;
    }
  }
  store<i32>(bounds, bx0);
  store<i32>(bounds, by0, 4);
  store<i32>(bounds, bx1 + 1, 8);
  store<i32>(bounds, by1 + 1, 12);
  store<i32>(bounds, nSpans, 16);
  return 0;
}
