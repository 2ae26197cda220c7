/**
 * @module kernels/coverage
 * Zone coverage rasterisation: the pure-TypeScript twin of asm/coverage.ts, and the ABI both share.
 *
 * Input: one zone's rings in window pixel coordinates (x = column, y = row, in cells from the window's
 * top-left corner, y down), each ring closed, oriented so that outer rings count positive (shoelace
 * area < 0 in these coordinates) and holes negative (src/geo/coverage.ts `zoneRings` prepares this).
 * Output: a weight per window cell for one {@link ZoneRule}, trimmed to the box of non-zero weights
 * (a dense window), or the same weights as row spans: runs of cells of one non-zero weight, which
 * need no memory per window cell (zonal statistics iterate them: src/engine/zonal.ts).
 *
 * Algorithm: one scanline pass over the window's rows with an active edge list (edges bucketed by
 * first row with a counting sort, so no sorting by x is ever needed).
 * - coverage / all-touched: within a row strip, each edge piece adds its exact signed area to the
 *   cells it crosses (split at column lines: the trapezoid right of the piece inside its cell) and the
 *   rest of its height to the next cell, as font rasterisers accumulate coverage; a prefix sum along
 *   the row then gives, per cell, the integral of the winding number over the cell: the exact area
 *   inside the zone for valid polygons (holes subtract, parts add). Parts of an edge left of the window
 *   add their whole height to its first cell, parts right of it nothing. Weights are clamped to [0, 1];
 *   within {@link SLIVER} of 0 or 1 they snap to 0 or 1; `all-touched` is weight > 0 -> 1.
 * - centre: GDAL's scanline (alg/llrasterize.cpp): at each row centre yc, an edge with
 *   ymin <= yc < ymax crosses at x = (yc - y1) * (x2 - x1) / (y2 - y1) + x1 (GDAL's arithmetic), which
 *   adds its direction (+-1) at column floor(x + 0.5); the prefix sum is the winding number and a cell
 *   is in when it is > 0 (equal to GDAL's even-odd fill for valid polygons). A horizontal edge lying on
 *   a row centre that is the bottom of its ring (ring inside above it) burns its cells
 *   [floor(x1 + 0.5), floor(x2 + 0.5)) as GDAL 3.6 does (checked against gdal_rasterize, ties included).
 * The prefix sum visits only the cells some edge touched (a bitmap per row, its set bits taken in
 * column order), since the weight cannot change between them; each change of weight closes a span.
 * Cost: O(vertices + edge-row pieces + column crossings + rows x width / 64), plus the window cells
 * for a dense window; memory: the output (a dense window, or 16 bytes a span) and
 * O(vertices + width + height) scratch.
 *
 * Numerics: f64 throughout; the twin performs the same operations in the same order as the WASM
 * builds (scalar and SIMD compile the same code: a prefix sum does not vectorise), so weights agree
 * bit for bit (tested). Coverage fractions are exact up to rounding (sum of weights = polygon area to
 * ~1e-15 relative, tested at 1e-9); weights are returned as f32 unless f64 is asked for.
 */
import { IbfError } from '../errors.js';
import type { ZoneRule } from '../model/zones.js';

/** Rule codes of the kernel ABI. */
export const RULE_CODES: Readonly<Record<ZoneRule, number>> = { coverage: 0, centre: 1, 'all-touched': 2 };

/**
 * Coverage fractions below this (in cells) count as 0 and above `1 - SLIVER` as 1: an edge that lies on
 * a cell line up to rounding (from a CRS or geotransform) leaves no spurious sliver, and `all-touched`
 * means coverage > SLIVER.
 */
export const SLIVER = 1e-9;

export const COVERAGE_STATUS_MESSAGES: Record<number, string> = {
  1: 'bad arguments (window smaller than 1x1, negative ring count, unknown rule, or ring starts out of order)',
  2: 'a ring vertex is not a finite number',
  3: 'more spans than the room given (spanCapacity is wrong)',
};

/** One call of the coverage kernel. */
export interface CoverageInput {
  /** Ring vertices as interleaved x,y pairs in cells from the window's top-left corner (x right, y down). */
  xy: Float64Array;
  /** Vertex index where each ring starts, plus one past the last vertex (length = rings + 1). Rings are closed (last vertex = first). */
  ringStarts: Int32Array;
  /** Window size in cells. */
  width: number;
  height: number;
  rule: ZoneRule;
}

/** Weights of the window cells with a non-zero weight: the box `[x0, x0 + width) x [y0, y0 + height)` of the input window (cells), row-major. */
export interface CoverageResult<T extends Float32Array | Float64Array = Float32Array | Float64Array> {
  x0: number;
  y0: number;
  width: number;
  height: number;
  weights: T;
}

/** Bytes of scratch and output one call needs in WASM memory (see src/kernels/coverage-wasm.ts). */
export interface CoverageLayout {
  xy: number;
  ringStarts: number;
  order: number;
  active: number;
  rowStart: number;
  row: number;
  bits: number;
  out: number;
  bounds: number;
  /** Total bytes from the first buffer's start. */
  bytes: number;
}

/** Output modes of the kernel ABI: dense f32 weights, dense f64 weights, row spans. */
export const MODE_F32 = 0;
export const MODE_F64 = 1;
export const MODE_SPANS = 2;

/** Bytes of one span: i32 row, i32 first column, i32 end column (exclusive), f32 weight. */
export const SPAN_BYTES = 16;

/**
 * Offsets (bytes, 16-aligned, from 0) of each buffer of one call; the WASM wrapper adds its base.
 * `outBytes`: the dense window (4 or 8 bytes a cell) or the spans (`SPAN_BYTES` a span).
 */
export function coverageLayout(nVertices: number, nRings: number, width: number, height: number, outBytes: number): CoverageLayout {
  let top = 0;
  const take = (bytes: number) => {
    const at = Math.ceil(top / 16) * 16;
    top = at + bytes;
    return at;
  };
  const xy = take(16 * nVertices);
  const ringStarts = take(4 * (nRings + 1));
  const order = take(4 * nVertices);
  const active = take(4 * nVertices);
  const rowStart = take(4 * (height + 1));
  const row = take(8 * (width + 2));
  const bits = take(bitWords(width) * 4);
  const out = take(outBytes);
  const bounds = take(20);
  return { xy, ringStarts, order, active, rowStart, row, bits, out, bounds, bytes: top };
}

/** 32-bit words of the touched-cell bitmap of a row of `width` cells (cells 0..width; whole 64-bit words). */
export function bitWords(width: number): number {
  return 2 * (Math.floor(width / 64) + 1);
}

/**
 * An upper bound of the spans one call can give. A span starts at a row cell some edge touched, and an
 * edge touches, in each of the `strips` rows it crosses (at most ceil(|dy|) + 1, and H), at most two
 * cells per column piece (floor(|dx| of the strip) + 2 pieces, at most W + 1) plus one left of the
 * window; the centre rule touches one cell (a burnt bottom edge two) per row. Also at most W x H.
 */
export function spanCapacity(xy: Float64Array, ringStarts: Int32Array, width: number, height: number): number {
  let n = 0;
  for (let k = 0; k + 1 < ringStarts.length; k++) {
    for (let i = ringStarts[k]!; i + 1 < ringStarts[k + 1]!; i++) {
      const strips = Math.min(Math.ceil(Math.abs(xy[2 * i + 3]! - xy[2 * i + 1]!)) + 1, height);
      const pieces = Math.min(Math.ceil(Math.abs(xy[2 * i + 2]! - xy[2 * i]!)) + 2 * strips, (width + 1) * strips);
      n += 2 * pieces + strips;
    }
  }
  return Math.max(1, Math.min(n, width * height));
}

function kernelBug(message: string): IbfError {
  return new IbfError('E_KERNEL', `coverage kernel: ${message}`, {
    hint: 'This is a bug in the caller of the kernel; please report it with the zones file and the grid.',
  });
}

/** Checks the input once, so the twin and the WASM wrapper fail alike before touching memory. */
export function checkCoverageInput(inp: CoverageInput): void {
  const { xy, ringStarts, width, height, rule } = inp;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw kernelBug(`window must be at least 1x1 cells, got ${width}x${height}`);
  }
  if (width * height > 2 ** 31 - 1) throw new IbfError('E_LIMIT', `a coverage window of ${width}x${height} cells is too large (more than 2^31 cells)`, {
    hint: 'Use a coarser grid or split the zone.',
  });
  if (!(rule in RULE_CODES)) throw kernelBug(`unknown rule ${JSON.stringify(rule)}`);
  if (ringStarts.length < 1 || ringStarts[0] !== 0) throw kernelBug('ringStarts must start with 0');
  for (let k = 1; k < ringStarts.length; k++) {
    if (ringStarts[k]! < ringStarts[k - 1]!) throw kernelBug(`ringStarts[${k}] = ${ringStarts[k]} < ringStarts[${k - 1}] = ${ringStarts[k - 1]}`);
  }
  if (2 * ringStarts[ringStarts.length - 1]! > xy.length) {
    throw kernelBug(`ringStarts ends at vertex ${ringStarts[ringStarts.length - 1]} but xy holds ${xy.length / 2} vertices`);
  }
}

export function coverageStatusError(status: number): IbfError {
  return new IbfError('E_KERNEL', `coverage kernel failed: ${COVERAGE_STATUS_MESSAGES[status] ?? `status ${status}`}`, {
    details: { status },
    hint: status === 2
      ? 'Zone coordinates must be finite numbers; check the zones file (parseZones reports such problems).'
      : 'This is a bug in the caller of the kernel; please report it with the zones file and the grid.',
  });
}

/**
 * The non-zero box `bounds` = [x0, y0, x1, y1] (cells, end exclusive) of a full-window weight array
 * (row-major, `width` columns) as a new array; null when the box is empty. `src` may be a view into
 * WASM memory: the result never is. When `owned` (the caller gives `src` away) and the box is the whole
 * array, `src` itself is returned.
 */
export function trimWindow<T extends Float32Array | Float64Array>(src: T, width: number, bounds: ArrayLike<number>, owned = false): CoverageResult<T> | null {
  const [x0, y0, x1, y1] = [bounds[0]!, bounds[1]!, bounds[2]!, bounds[3]!];
  if (x1 <= x0 || y1 <= y0) return null;
  const w = x1 - x0;
  const h = y1 - y0;
  let weights: T;
  if (owned && w === width && h * width === src.length) {
    weights = src;
  } else if (w === width) {
    weights = src.slice(y0 * width, y1 * width) as T;
  } else {
    weights = new (src.constructor as { new (n: number): T })(w * h);
    for (let r = 0; r < h; r++) {
      const from = (y0 + r) * width + x0;
      weights.set(src.subarray(from, from + w), r * w);
    }
  }
  return { x0, y0, width: w, height: h, weights };
}

/**
 * Added to the winding count over the cells a burnt bottom edge covers (centre rule): cells count when
 * winding + BURN * burns > 0, which is "winding > 0 or burnt" while fewer than 2^24 rings overlap.
 */
const BURN = 16777216;

/**
 * Which horizontal edges of a ring are its bottom edges (the ring's inside above them, y down): +1 when
 * they run towards +x (shoelace area < 0: an outer ring as normalised), -1 towards -x (a hole), 0 for a
 * ring of zero area.
 */
function bottomDirection(xy: Float64Array, s: number, e: number): number {
  const ox = xy[2 * s]!;
  const oy = xy[2 * s + 1]!;
  let a2 = 0;
  for (let i = s; i + 1 < e; i++) {
    a2 += (xy[2 * i]! - ox) * (xy[2 * i + 3]! - oy) - (xy[2 * i + 2]! - ox) * (xy[2 * i + 1]! - oy);
  }
  return a2 < 0 ? 1 : a2 > 0 ? -1 : 0;
}

/**
 * First row of edge i (vertex i to i + 1) in a window of `fH` rows, or -1 when it adds nothing there:
 * outside the rows, or horizontal (unless `bottom` != 0 and it is a bottom edge lying on a row centre
 * line, which the centre rule burns as GDAL does).
 */
function edgeRow(xy: Float64Array, i: number, fH: number, bottom: number): number {
  const y0 = xy[2 * i + 1]!;
  const y1 = xy[2 * i + 3]!;
  if (y0 === y1) {
    if (bottom === 0) return -1;
    const dx = xy[2 * i + 2]! - xy[2 * i]!;
    if (bottom > 0 ? !(dx > 0) : !(dx < 0)) return -1;
    const t = y0 - 0.5;
    if (!(t >= 0 && t < fH) || t !== Math.floor(t)) return -1;
    return t;
  }
  const ylo = y0 < y1 ? y0 : y1;
  const yhi = y0 < y1 ? y1 : y0;
  if (yhi <= 0 || ylo >= fH) return -1;
  return ylo <= 0 ? 0 : Math.floor(ylo);
}

/**
 * The kernel loop, operation for operation as asm/coverage.ts `coverage` (typed arrays in place of
 * pointers). `mode` {@link MODE_F32} / {@link MODE_F64}: writes a weight for every window cell into
 * `out`; {@link MODE_SPANS}: writes spans into `spans` (4 int32 each: row, first column, end column,
 * and the f32 weight's bits, read through `spanWeights`, a Float32Array on the same buffer), at most
 * `cap` of them. `bounds` receives the non-zero box ([x0, y0, x1, y1], empty when x1 <= x0) and the
 * number of spans. Returns the status (0 = ok).
 */
export function coverageCore(
  xy: Float64Array, ringStarts: Int32Array, nRings: number, W: number, H: number, rule: number,
  order: Int32Array, active: Int32Array, rowStart: Int32Array, row: Float64Array, bits: Int32Array,
  mode: number, out: Float32Array | Float64Array | null, spans: Int32Array | null, spanWeights: Float32Array | null, cap: number,
  bounds: Int32Array,
): number {
  if (W < 1 || H < 1 || nRings < 0 || rule < 0 || rule > 2 || mode < 0 || mode > 2) return 1;
  const fH = H;
  rowStart.fill(0, 0, H + 1);
  row.fill(0, 0, W + 2);
  bits.fill(0, 0, bitWords(W));
  // Pass 1: check vertices, count edges per first row (edges outside the rows, and horizontal edges
  // except the bottom edges that the centre rule burns, are skipped).
  let nEdges = 0;
  for (let k = 0; k < nRings; k++) {
    const s = ringStarts[k]!;
    const e = ringStarts[k + 1]!;
    if (s < 0 || e < s) return 1;
    for (let i = s; i < e; i++) {
      const x = xy[2 * i]!;
      const y = xy[2 * i + 1]!;
      if (x - x !== 0 || y - y !== 0) return 2;
    }
    const bottom = rule === 1 ? bottomDirection(xy, s, e) : 0;
    for (let i = s; i + 1 < e; i++) {
      const r = edgeRow(xy, i, fH, bottom);
      if (r < 0) continue;
      rowStart[r]!++;
      nEdges++;
    }
  }
  // Counting sort of edges by first row: rowStart[r] becomes the end of row r's bucket, then each
  // edge (taken backwards, so buckets keep vertex order) moves it down to the bucket's start.
  for (let r = 1; r < H; r++) rowStart[r] = rowStart[r]! + rowStart[r - 1]!;
  rowStart[H] = nEdges;
  for (let k = nRings - 1; k >= 0; k--) {
    const s = ringStarts[k]!;
    const e = ringStarts[k + 1]!;
    const bottom = rule === 1 ? bottomDirection(xy, s, e) : 0;
    for (let i = e - 2; i >= s; i--) {
      const r = edgeRow(xy, i, fH, bottom);
      if (r < 0) continue;
      const c = rowStart[r]! - 1;
      rowStart[r] = c;
      order[c] = i;
    }
  }
  // Adds v to row cell c and marks it touched.
  const add = (c: number, v: number) => {
    row[c] = row[c]! + v;
    bits[c >>> 5] = bits[c >>> 5]! | (1 << (c & 31));
  };
  // Pass 2: rows top to bottom.
  let nActive = 0;
  let nSpans = 0;
  let bx0 = W;
  let bx1 = -1;
  let by0 = H;
  let by1 = -1;
  for (let r = 0; r < H; r++) {
    for (let k = rowStart[r]!; k < rowStart[r + 1]!; k++) active[nActive++] = order[k]!;
    const base = r * W;
    const fr = r;
    let cmin = W + 1;
    let cmax = -1;
    let i = 0;
    while (i < nActive) {
      const v = active[i]!;
      const x0 = xy[2 * v]!;
      const y0 = xy[2 * v + 1]!;
      const x1 = xy[2 * v + 2]!;
      const y1 = xy[2 * v + 3]!;
      // canonical: (xa, ya) the upper end (smaller y), dir +1 when the edge runs down
      const down = y0 < y1;
      const xa = down ? x0 : x1;
      const ya = down ? y0 : y1;
      const xb = down ? x1 : x0;
      const yb = down ? y1 : y0;
      const dir = down ? 1.0 : -1.0;
      if (yb <= fr) {
        nActive--;
        active[i] = active[nActive]!;
        continue;
      }
      i++;
      if (rule === 1) {
        // GDAL scanline at the row centre: edges with ya <= yc < yb; the crossing x counts for cells
        // whose centre lies strictly right of it, i.e. from column floor(x + 0.5).
        const yc = fr + 0.5;
        if (ya === yb) {
          // a ring's bottom edge on the centre line: its cells are burnt whatever the winding
          const k1 = Math.floor(xa + 0.5);
          const k2 = Math.floor(xb + 0.5);
          const lo = k1 < k2 ? k1 : k2;
          const hi = k1 < k2 ? k2 : k1;
          if (lo < W) {
            const kk = lo < 0 ? 0 : lo;
            add(kk, BURN);
            if (kk < cmin) cmin = kk;
            if (kk > cmax) cmax = kk;
          }
          if (hi < W) {
            const kk = hi < 0 ? 0 : hi;
            add(kk, -BURN);
            if (kk < cmin) cmin = kk;
            if (kk > cmax) cmax = kk;
          }
        } else if (yc >= ya && yc < yb) {
          const x = ((yc - ya) * (xb - xa)) / (yb - ya) + xa;
          const kf = Math.floor(x + 0.5);
          if (kf < W) {
            const kk = kf < 0 ? 0 : kf;
            add(kk, dir);
            if (kk < cmin) cmin = kk;
            if (kk > cmax) cmax = kk;
          }
        }
        continue;
      }
      // The edge's piece inside the row strip [r, r + 1].
      const t0 = ya > fr ? ya : fr;
      const t1 = yb < fr + 1 ? yb : fr + 1;
      const xt0 = t0 === ya ? xa : ((t0 - ya) * (xb - xa)) / (yb - ya) + xa;
      const xt1 = t1 === yb ? xb : ((t1 - ya) * (xb - xa)) / (yb - ya) + xa;
      const dy = dir * (t1 - t0);
      const xl = xt0 < xt1 ? xt0 : xt1;
      const xr = xt0 < xt1 ? xt1 : xt0;
      if (xl >= W) continue; // right of the window: covers none of its cells
      if (xr <= 0) {
        // left of the window: its whole height covers every cell of the row to its right
        add(0, dy);
        if (0 < cmin) cmin = 0;
        if (0 > cmax) cmax = 0;
        continue;
      }
      if (xl === xr) {
        const c = Math.floor(xl);
        const a = dy * (1 - (xl - c));
        add(c, a);
        add(c + 1, dy - a);
        if (c < cmin) cmin = c;
        if (c + 1 > cmax) cmax = c + 1;
        continue;
      }
      // Split at column lines; each piece adds the area right of it within its cell, and the rest of
      // its height to the next cell (the carry). The last piece takes what is left of dy.
      const inv = dy / (xr - xl);
      let rem = dy;
      let x = xl;
      if (x < 0) {
        const d = inv * -x;
        add(0, d);
        rem -= d;
        x = 0;
      }
      const end = xr < W ? xr : W;
      let c = Math.floor(x);
      if (c < cmin) cmin = c;
      while (x < end) {
        const nx = c + 1 < end ? c + 1 : end;
        const d = nx === xr ? rem : inv * (nx - x);
        const a = d * (c + 1 - 0.5 * (x + nx));
        add(c, a);
        add(c + 1, d - a);
        rem -= d;
        x = nx;
        c++;
      }
      if (c > cmax) cmax = c;
    }
    // Prefix sum along the row over the touched cells, in column order (between them the weight
    // stays as it is); each change of weight closes a span. Scratch is zeroed as it is read.
    if (mode !== MODE_SPANS) out!.fill(0, base, base + W);
    if (cmax < 0) continue;
    const cEnd = cmax < W - 1 ? cmax : W - 1;
    let acc = 0;
    let w = 0;
    let start = 0;
    let first = -1;
    let last = -1;
    // touched cells in column order (32-bit bitmap words here, 64-bit in the WASM build: same order)
    const q1 = cmax >>> 5;
    for (let q = cmin >>> 5; q <= q1; q++) {
      let m = bits[q]!;
      if (m === 0) continue;
      bits[q] = 0;
      while (m !== 0) {
        const low = m & -m;
        const c = 32 * q + 31 - Math.clz32(low);
        m ^= low;
        const v = row[c]!;
        row[c] = 0;
        if (v === 0 || c > cEnd) continue;
        acc += v;
        let nw: number;
        if (rule === 1) nw = acc > 0 ? 1 : 0;
        else {
          nw = acc < SLIVER ? 0 : acc > 1 - SLIVER ? 1 : acc;
          if (rule === 2 && nw > 0) nw = 1;
        }
        if (nw === w) continue;
        if (w !== 0) {
          if (mode === MODE_SPANS) {
            if (nSpans >= cap) return 3;
            putSpan(spans!, spanWeights!, nSpans++, r, start, c, w);
          } else out!.fill(w, base + start, base + c);
          if (first < 0) first = start;
          last = c - 1;
        }
        start = c;
        w = nw;
      }
    }
    if (w !== 0) {
      if (mode === MODE_SPANS) {
        if (nSpans >= cap) return 3;
        putSpan(spans!, spanWeights!, nSpans++, r, start, W, w);
      } else out!.fill(w, base + start, base + W);
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
  bounds[0] = bx0;
  bounds[1] = by0;
  bounds[2] = bx1 + 1;
  bounds[3] = by1 + 1;
  bounds[4] = nSpans;
  return 0;
}

function putSpan(spans: Int32Array, weights: Float32Array, n: number, r: number, c0: number, c1: number, w: number): void {
  spans[4 * n] = r;
  spans[4 * n + 1] = c0;
  spans[4 * n + 2] = c1;
  weights[4 * n + 3] = w;
}

/**
 * A zone's weights as row spans: span i is the cells [start, end) of one row, all with one non-zero
 * weight; spans come row by row (top to bottom), left to right, and never overlap. Columns and rows
 * are in the same cells as the box `x0, y0, width, height` (the box of the non-zero weights): the
 * kernel's window for {@link rasterizeSpans}, the grid for `coverageSpans` (src/geo/coverage.ts).
 */
export interface CoverageSpans {
  x0: number;
  y0: number;
  width: number;
  height: number;
  /** Number of spans. */
  length: number;
  /** 4 int32 per span: `spans[4i]` row, `spans[4i + 1]` first column, `spans[4i + 2]` end column (exclusive). */
  spans: Int32Array;
  /** `weights[4i + 3]`: span i's weight in (0, 1] (f32, as a dense window holds it); the buffer of `spans`. */
  weights: Float32Array;
}

/** Fresh spans from `n` kernel spans in `src` (a view, possibly into WASM memory) and the kernel's `bounds`; null when empty. */
export function copySpans(src: Int32Array, n: number, bounds: ArrayLike<number>): CoverageSpans | null {
  const [x0, y0, x1, y1] = [bounds[0]!, bounds[1]!, bounds[2]!, bounds[3]!];
  if (x1 <= x0 || y1 <= y0 || n === 0) return null;
  const spans = src.slice(0, 4 * n);
  return { x0, y0, width: x1 - x0, height: y1 - y0, length: n, spans, weights: new Float32Array(spans.buffer, spans.byteOffset, 4 * n) };
}

/**
 * Coverage weights of one zone's rings on a window (the TypeScript twin). `f64` returns the weights
 * unrounded (Float64Array, for checks); the default is Float32Array as the impact kernel takes them.
 * Null when no cell has a non-zero weight. Inputs are not modified.
 */
export function rasterizeCoverage(inp: CoverageInput, opts?: { f64?: false }): CoverageResult<Float32Array> | null;
export function rasterizeCoverage(inp: CoverageInput, opts: { f64: true }): CoverageResult<Float64Array> | null;
export function rasterizeCoverage(inp: CoverageInput, opts: { f64?: boolean } = {}): CoverageResult | null {
  checkCoverageInput(inp);
  const { xy, ringStarts, width: W, height: H } = inp;
  const nRings = ringStarts.length - 1;
  const nV = ringStarts[nRings]!;
  const out = opts.f64 ? new Float64Array(W * H) : new Float32Array(W * H);
  const bounds = new Int32Array(5);
  const status = coverageCore(
    xy, ringStarts, nRings, W, H, RULE_CODES[inp.rule],
    new Int32Array(nV), new Int32Array(nV), new Int32Array(H + 1), new Float64Array(W + 2), new Int32Array(bitWords(W)),
    opts.f64 ? MODE_F64 : MODE_F32, out, null, null, 0, bounds,
  );
  if (status !== 0) throw coverageStatusError(status);
  return trimWindow(out, W, bounds, true);
}

/**
 * The same weights as {@link rasterizeCoverage} (f32) as row spans, in the input window's cells (the
 * TypeScript twin). Null when no cell has a non-zero weight. Inputs are not modified.
 */
export function rasterizeSpans(inp: CoverageInput): CoverageSpans | null {
  checkCoverageInput(inp);
  const { xy, ringStarts, width: W, height: H } = inp;
  const nRings = ringStarts.length - 1;
  const nV = ringStarts[nRings]!;
  const cap = spanCapacity(xy, ringStarts, W, H);
  const spans = new Int32Array(4 * cap);
  const bounds = new Int32Array(5);
  const status = coverageCore(
    xy, ringStarts, nRings, W, H, RULE_CODES[inp.rule],
    new Int32Array(nV), new Int32Array(nV), new Int32Array(H + 1), new Float64Array(W + 2), new Int32Array(bitWords(W)),
    MODE_SPANS, null, spans, new Float32Array(spans.buffer), cap, bounds,
  );
  if (status !== 0) throw coverageStatusError(status);
  return copySpans(spans, bounds[4]!, bounds);
}
