/**
 * @module geo/approx-transform
 * GDAL's approximate transformer (`GDALApproxTransform`, gdaltransformer.cpp), which gdalwarp wraps
 * around every target-to-source transform unless `-et 0`: per target row, the first, middle and last
 * cell centres are transformed exactly; when the middle one is within `maxError` source pixels
 * (|dx| + |dy|) of the straight line between the ends, the whole row is interpolated linearly, else the
 * row is split in two halves (the left half ends one cell before the middle) and each is handled the
 * same way; runs of 5 cells or fewer are transformed exactly.
 *
 * Instead of filling one coordinate per cell, this module emits the result as {@link CoordSegments}
 * that the resampling kernel interpolates itself with GDAL's own arithmetic
 * (`x0 + dx * (c - anchor)`, dx = (x_end - x_start) / (end - start)), so coordinates match gdalwarp's
 * bit for bit and memory stays at a few segments per row.
 *
 * It also reproduces the retry of gdalwarp's kernel (`GWKCheckAndComputeSrcOffsets`): a cell whose
 * interpolated coordinate lands less than one pixel outside the source is transformed again exactly
 * (its own one-cell segment), so approximation never decides whether a cell at the source's edge is inside.
 *
 * Coordinates are pixels: target cell (c, r) has its centre at (c + 0.5, r + 0.5); source pixel i
 * spans [i, i + 1).
 */
import { SEG_FIELDS, type CoordSegments } from '../kernels/resample.js';

/**
 * Exact transform of target pixel coordinates into source pixel coordinates, in place, for entries
 * `from` .. `to - 1` of `xs` / `ys`. A point that cannot be transformed becomes NaN.
 */
export type PixelTransform = (xs: Float64Array, ys: Float64Array, from: number, to: number) => void;

/** Grows typed arrays of segments for a run of target rows. */
export class SegmentBuilder {
  private cols = new Int32Array(64);
  private segs = new Float64Array(64 * SEG_FIELDS);
  private rowStarts: number[] = [0];
  private n = 0;

  get count(): number {
    return this.n;
  }

  push(col: number, anchor: number, x0: number, y0: number, dx: number, dy: number): void {
    if (this.n === this.cols.length) {
      const cols = new Int32Array(this.n * 2);
      cols.set(this.cols);
      this.cols = cols;
      const segs = new Float64Array(this.n * 2 * SEG_FIELDS);
      segs.set(this.segs);
      this.segs = segs;
    }
    this.cols[this.n] = col;
    const f = this.n * SEG_FIELDS;
    this.segs[f] = anchor;
    this.segs[f + 1] = x0;
    this.segs[f + 2] = y0;
    this.segs[f + 3] = dx;
    this.segs[f + 4] = dy;
    this.n++;
  }

  endRow(): void {
    this.rowStarts.push(this.n);
  }

  /** The segments so far; the builder is reset. */
  take(): CoordSegments {
    const out: CoordSegments = { cols: this.cols.subarray(0, this.n), segs: this.segs.subarray(0, this.n * SEG_FIELDS), rows: Int32Array.from(this.rowStarts) };
    this.cols = new Int32Array(64);
    this.segs = new Float64Array(64 * SEG_FIELDS);
    this.rowStarts = [0];
    this.n = 0;
    return out;
  }
}

export interface ApproxRowOptions {
  /** Largest accepted interpolation error in source pixels (|dx| + |dy| at a half's middle); 0 = exact. */
  maxError: number;
  /**
   * Source size in pixels: cells whose interpolated coordinate is less than one pixel outside
   * [0, width] x [0, height] are transformed again exactly (gdalwarp's retry). Omit to skip the retry.
   */
  source?: { width: number; height: number };
}

/** Scratch arrays reused across rows. */
export class Scratch {
  xs = new Float64Array(0);
  ys = new Float64Array(0);
  ensure(n: number): void {
    if (this.xs.length < n) {
      this.xs = new Float64Array(n);
      this.ys = new Float64Array(n);
    }
  }
}

/**
 * Approximates target rows `row0` .. `row1 - 1` of a `width`-cell wide target with `transform` and
 * returns their segments (columns of the full row). Rows are independent, so any row range gives the
 * segments that a whole-target run gives for those rows.
 */
export function approxRows(transform: PixelTransform, width: number, row0: number, row1: number, opts: ApproxRowOptions): CoordSegments {
  const out = new SegmentBuilder();
  const scratch = new Scratch();
  for (let r = row0; r < row1; r++) {
    approxRow(transform, width, r, opts, out, scratch);
    out.endRow();
  }
  return out.take();
}

/** One row's segments as they are produced: [col, anchor, x0, y0, dx, dy] each. */
type RowSegs = number[][];

/** Transforms target cells a .. b - 1 of the row exactly and emits one segment per cell. */
function exactCells(t: PixelTransform, row: number, a: number, b: number, out: RowSegs, s: Scratch): void {
  if (b <= a) return;
  s.ensure(b - a);
  const { xs, ys } = s;
  for (let c = a; c < b; c++) {
    xs[c - a] = c + 0.5;
    ys[c - a] = row + 0.5;
  }
  t(xs, ys, 0, b - a);
  for (let c = a; c < b; c++) out.push([c, c, xs[c - a]!, ys[c - a]!, 0, 0]);
}

function exactPoints(t: PixelTransform, row: number, cols: readonly number[]): { x: number[]; y: number[] } {
  const xs = Float64Array.from(cols, (c) => c + 0.5);
  const ys = new Float64Array(cols.length).fill(row + 0.5);
  t(xs, ys, 0, cols.length);
  return { x: Array.from(xs), y: Array.from(ys) };
}

/** Appends the segments of one target row (GDALApproxTransform on the row's cell centres) to `out`. */
export function approxRow(t: PixelTransform, width: number, row: number, opts: ApproxRowOptions, out: SegmentBuilder, scratch = new Scratch()): void {
  const n = width;
  if (n <= 5 || !(opts.maxError > 0)) {
    // exact: one segment per cell, straight into the builder
    scratch.ensure(n);
    const { xs, ys } = scratch;
    for (let c = 0; c < n; c++) {
      xs[c] = c + 0.5;
      ys[c] = row + 0.5;
    }
    t(xs, ys, 0, n);
    for (let c = 0; c < n; c++) out.push(c, c, xs[c]!, ys[c]!, 0, 0);
    return;
  }
  let segs: RowSegs = [];
  {
    const mid = Math.trunc((n - 1) / 2);
    const sme = exactPoints(t, row, [0, mid, n - 1]);
    if (!sme.x.every(Number.isFinite) || !sme.y.every(Number.isFinite)) exactCells(t, row, 0, n, segs, scratch);
    else {
      internal(t, row, 0, n, sme.x as Triple, sme.y as Triple, opts.maxError, segs, scratch);
      if (opts.source) segs = retryEdges(t, row, segs, n, opts.source.width, opts.source.height);
    }
  }
  for (const [c, a, x0, y0, dx, dy] of segs) out.push(c!, a!, x0!, y0!, dx!, dy!);
}

type Triple = [number, number, number];

/**
 * GDALApproxTransformInternal on cells start .. start + len - 1, whose first, middle
 * (start + trunc((len - 1) / 2)) and last cells transform to `sx`, `sy`.
 */
function internal(t: PixelTransform, row: number, start: number, len: number, sx: Triple, sy: Triple, maxError: number, out: RowSegs, s: Scratch): void {
  const nMiddle = Math.trunc((len - 1) / 2);
  const mid = start + nMiddle;
  const end = start + len - 1;
  // x[i] - x[0] of GDAL: differences of cell centres, exact integers here
  const span = end - start;
  const dX = (sx[2] - sx[0]) / span;
  const dY = (sy[2] - sy[0]) / span;
  const md = mid - start;
  const error = Math.abs(sx[0] + dX * md - sx[1]) + Math.abs(sy[0] + dY * md - sy[1]);
  if (!(error > maxError)) {
    out.push([start, start, sx[0], sy[0], dX, dY]);
    return;
  }
  const leftLen = nMiddle; // cells start .. mid - 1
  const rightLen = len - nMiddle; // cells mid .. end
  const leftMid = start + Math.trunc((nMiddle - 1) / 2);
  const leftEnd = start + nMiddle - 1;
  const rightMid = mid + Math.trunc((rightLen - 1) / 2);
  const baseLeft = leftLen <= 5;
  const baseRight = rightLen <= 5;
  const want: number[] = [];
  if (!baseLeft) want.push(leftMid, leftEnd);
  if (!baseRight) want.push(rightMid);
  const m = want.length ? exactPoints(t, row, want) : { x: [], y: [] };
  if (!m.x.every(Number.isFinite) || !m.y.every(Number.isFinite) || (baseLeft && baseRight)) {
    // GDAL transforms every interior cell exactly and keeps the three known ends (same values)
    exactCells(t, row, start, end + 1, out, s);
    return;
  }
  if (!baseLeft) internal(t, row, start, leftLen, [sx[0], m.x[0]!, m.x[1]!], [sy[0], m.y[0]!, m.y[1]!], maxError, out, s);
  else exactCells(t, row, start, mid, out, s);
  if (!baseRight) {
    const k = baseLeft ? 0 : 2;
    internal(t, row, mid, rightLen, [sx[1], m.x[k]!, sx[2]], [sy[1], m.y[k]!, sy[2]], maxError, out, s);
  } else exactCells(t, row, mid, end + 1, out, s);
}

/** 0 inside, 1 retry (just outside), 2 outside: GWKCheckAndComputeSrcOffsets on the approximate coordinate. */
function edgeCase(x: number, y: number, W: number, H: number): 0 | 1 | 2 {
  if (!(x === x && y === y)) return 2;
  if (x < 0) return x > -1 ? 1 : 2;
  if (y < 0) return y > -1 ? 1 : 2;
  if (x + 1e-10 > W || y + 1e-10 > H) return x + 1e-10 < W + 1 && y + 1e-10 < H + 1 ? 1 : 2;
  return 0;
}

/** Columns c in [a, b) where v0 + d * (c - anchor) may lie in [lo, hi] (with slack). */
function columnsNear(v0: number, d: number, anchor: number, a: number, b: number, lo: number, hi: number): [number, number] {
  if (d === 0) return v0 >= lo - 1e-6 && v0 <= hi + 1e-6 ? [a, b] : [a, a];
  let c0 = anchor + (lo - v0) / d;
  let c1 = anchor + (hi - v0) / d;
  if (c0 > c1) [c0, c1] = [c1, c0];
  if (!(c1 >= a) || !(c0 < b)) return [a, a];
  return [Math.max(a, Math.floor(c0) - 1), Math.min(b, Math.ceil(c1) + 2)];
}

/**
 * Cuts out of the row's interpolated segments the cells that gdalwarp transforms again because their
 * coordinate is less than a pixel outside the source; each becomes an exact one-cell segment, and the
 * rest of the segment keeps its anchor (so its cells keep their bits).
 */
function retryEdges(t: PixelTransform, row: number, segs: RowSegs, width: number, W: number, H: number): RowSegs {
  const out: RowSegs = [];
  segs.forEach((seg, k) => {
    const [a, anchor, x0, y0, dx, dy] = seg as [number, number, number, number, number, number];
    const b = k + 1 < segs.length ? segs[k + 1]![0]! : width;
    if (dx === 0 && dy === 0 && b - a <= 1) {
      out.push(seg);
      return;
    }
    const ranges = [
      columnsNear(x0, dx, anchor, a, b, -1, 0),
      columnsNear(x0, dx, anchor, a, b, W, W + 1),
      columnsNear(y0, dy, anchor, a, b, -1, 0),
      columnsNear(y0, dy, anchor, a, b, H, H + 1),
    ];
    const retry = new Set<number>();
    for (const [c0, c1] of ranges) {
      for (let c = c0; c < c1; c++) {
        const dist = c - anchor;
        if (edgeCase(x0 + dx * dist, y0 + dy * dist, W, H) === 1) retry.add(c);
      }
    }
    if (retry.size === 0) {
      out.push(seg);
      return;
    }
    const cols = [...retry].sort((p, q) => p - q);
    const exact = exactPoints(t, row, cols);
    let at = a;
    cols.forEach((c, i) => {
      if (c > at) out.push([at, anchor, x0, y0, dx, dy]);
      out.push([c, c, exact.x[i]!, exact.y[i]!, 0, 0]);
      at = c + 1;
    });
    if (at < b) out.push([at, anchor, x0, y0, dx, dy]);
  });
  return out;
}
