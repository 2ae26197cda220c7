/**
 * @module kernels/resample
 * Resampling kernel contract and its pure-TypeScript twin (the oracle of asm/resample.ts): nearest and
 * bilinear sampling of float32 source bands at per-target-cell source pixel coordinates, with gdalwarp's
 * (GDAL 3.6) rules and f64 arithmetic, operation for operation. The WASM builds give the same bits.
 *
 * Coordinates come as {@link CoordSegments}: per target row, segments that the kernel interpolates
 * linearly (`x = (x0 + dx * (c - anchor)) - offX`), which is how GDAL's approximate transformer fills a
 * scanline; an exactly transformed cell is a one-column segment with dx = dy = 0. Source pixel
 * coordinates have pixel corners at integers (the centre of pixel i is at i + 0.5).
 *
 * Rules (see asm/resample.ts and test/fixtures/gdalwarp/README.md): outside the source (`x < 0`, `y < 0`,
 * `x + 1e-10 > width`, `y + 1e-10 > height`) is nodata; nearest takes the containing pixel
 * `trunc(x + 1e-10)`; bilinear is nodata when the containing pixel is nodata in every band, else drops
 * nodata taps and renormalises (2 x 2 taps when both scales are >= 0.95, GDAL's widened triangle filter
 * when decimating). NaN and `nodata` are nodata; output nodata is NaN.
 */
import { IbfError } from '../errors.js';
import type { KernelName } from './types.js';

export type ResampleMethod = 'nearest' | 'bilinear';
export const METHOD_CODES: Record<ResampleMethod, number> = { nearest: 0, bilinear: 1 };
/** f64 fields per segment record: anchor column, x0, y0, dx, dy. */
export const SEG_FIELDS = 5;
/** Most taps per axis of the widened bilinear filter (asm/resample.ts MAX_TAPS). */
export const MAX_TAPS = 1023;
/** Scales at or above this on both axes select the 2 x 2 bilinear formula (GDAL's bUse4SamplesFormula). */
export const FOUR_SAMPLE_SCALE = 0.95;

export const RESAMPLE_STATUS: Record<number, string> = {
  1: 'bad arguments (sizes, window, method or scales)',
  2: `the widened bilinear filter needs more than ${MAX_TAPS} taps per axis`,
};

/**
 * Source pixel coordinates of target cells, for `rows.length - 1` target rows: segment k starts at
 * target column `cols[k]` and ends where the next segment of its row starts (or at the end of the row);
 * `segs[5k..5k+4]` = anchor column, x0, y0, dx, dy. Row r owns segments `rows[r]` .. `rows[r + 1] - 1`,
 * in increasing column order. Columns are those of the full target row.
 */
export interface CoordSegments {
  cols: Int32Array;
  segs: Float64Array;
  rows: Int32Array;
}

/** The source of a resampling: every band at once (ensemble members share the coordinates). */
export interface ResampleSource {
  /** Source bands, row-major, `width * height` float32 values each. Not modified. */
  bands: readonly Float32Array[];
  width: number;
  height: number;
  /** Source nodata (compared in float32); NaN is always nodata. */
  nodata: number | null;
}

/** One strip of target rows to compute from a staged source. */
export interface ResampleStrip {
  segments: CoordSegments;
  /** Target columns col0..col1-1 of each segment row are computed. */
  col0: number;
  col1: number;
  /** Subtracted from the interpolated coordinates: the offset of the source bands inside a larger source (pixels). */
  offX?: number;
  offY?: number;
  method: ResampleMethod;
  /** GDAL's kernel scales (target cells per source pixel along x and y, snapped); default [1, 1]. */
  scale?: readonly [number, number];
  /** One output array per band, at least `(col1 - col0) * rows` long, written in place (NaN = nodata). */
  out: readonly Float32Array[];
}

export type ResampleCall = ResampleSource & ResampleStrip;

/** A resampling implementation: the twin below or the WASM builds (src/kernels/resample-wasm.ts). */
export interface ResampleKernel {
  readonly name: KernelName;
  /**
   * Stages `source` (the WASM builds copy it into linear memory once) and returns a function that
   * computes strips from it. The stage is valid until the kernel instance is used for anything else.
   */
  open(source: ResampleSource): (strip: ResampleStrip) => void;
  /** One strip from one source (open + run). */
  resample(call: ResampleCall): void;
}

function bad(message: string): IbfError {
  return new IbfError('E_KERNEL', `resample kernel: ${message}`, { hint: 'This is a bug in the caller of the kernel; please report it with the inputs.' });
}

/** Filter radius (taps each side) of the bilinear filter at `scale` (GDAL: ceil(1 / scale) below 1). */
export function filterRadius(scale: number): number {
  return scale < 1 ? Math.ceil(1 / scale) : 1;
}

/** Checks a source once, so every implementation fails the same way with a clear message. */
export function checkResampleSource(c: ResampleSource): void {
  const { width: W, height: H, bands } = c;
  if (!Number.isInteger(W) || !Number.isInteger(H) || W < 1 || H < 1) throw bad(`source size ${W}x${H} is not positive`);
  if (bands.length < 1) throw bad('no source bands');
  bands.forEach((b, i) => {
    if (!(b instanceof Float32Array) || b.length < W * H) throw bad(`source band ${i} must be a Float32Array of ${W * H} values`);
  });
  if (c.nodata !== null && typeof c.nodata !== 'number') throw bad(`nodata must be a number or null, got ${JSON.stringify(c.nodata)}`);
}

/** Checks a strip against its source; returns the number of rows. */
export function checkResampleStrip(source: ResampleSource, c: ResampleStrip): number {
  const { segments: s, col0, col1 } = c;
  if (!(c.method in METHOD_CODES)) throw bad(`unknown method ${JSON.stringify(c.method)}`);
  if (!Number.isInteger(col0) || !Number.isInteger(col1) || col0 < 0 || col1 < col0) throw bad(`bad column window ${col0}..${col1}`);
  const nRows = s.rows.length - 1;
  if (nRows < 0) throw bad('segments.rows must hold rows + 1 offsets');
  const nSeg = s.rows[nRows]!;
  if (s.rows[0] !== 0 || s.cols.length < nSeg || s.segs.length < SEG_FIELDS * nSeg) throw bad('segments.rows does not match cols / segs');
  for (let r = 0; r < nRows; r++) if (s.rows[r + 1]! < s.rows[r]!) throw bad(`segments.rows decreases at row ${r}`);
  const [sx, sy] = c.scale ?? [1, 1];
  if (!(sx > 0) || !(sy > 0)) throw bad(`scales must be > 0, got ${sx}, ${sy}`);
  if (c.method === 'bilinear' && !(sx >= FOUR_SAMPLE_SCALE && sy >= FOUR_SAMPLE_SCALE)) {
    if (2 * filterRadius(sx) + 1 > MAX_TAPS || 2 * filterRadius(sy) + 1 > MAX_TAPS) {
      throw new IbfError('E_LIMIT', `bilinear resampling with scales ${sx}, ${sy} needs a filter wider than ${MAX_TAPS} source pixels`, {
        hint: 'The target is more than 500 times coarser than the source: aggregate the source first, or use method nearest.',
      });
    }
  }
  const cells = (col1 - col0) * nRows;
  c.out.forEach((o, i) => {
    if (!(o instanceof Float32Array) || o.length < cells) throw bad(`output band ${i} must be a Float32Array of at least ${cells} values`);
  });
  if (c.out.length !== source.bands.length) throw bad(`${c.out.length} output bands for ${source.bands.length} source bands`);
  return nRows;
}

export function resampleStatusError(status: number): IbfError {
  return bad(`failed with status ${status}: ${RESAMPLE_STATUS[status] ?? 'unknown status'}`);
}

const tri = (t: number): number => {
  const a = Math.abs(t);
  return a <= 1 ? 1 - a : 0;
};

/** The pure-TypeScript resampling kernel; the reference the WASM builds are tested against. */
export class ReferenceResampleKernel implements ResampleKernel {
  readonly name = 'ts' as const;

  open(source: ResampleSource): (strip: ResampleStrip) => void {
    checkResampleSource(source);
    return (strip) => this.run(source, strip);
  }

  resample(call: ResampleCall): void {
    this.open(call)(call);
  }

  private run(source: ResampleSource, call: ResampleStrip): void {
    const nRows = checkResampleStrip(source, call);
    const { bands, width: W, height: H } = source;
    const { col0, col1, out } = call;
    const { cols, segs, rows } = call.segments;
    const nB = bands.length;
    const hasNd = source.nodata !== null;
    const nd = Math.fround(source.nodata ?? 0);
    const valid = (v: number) => v === v && !(hasNd && v === nd);
    const offX = call.offX ?? 0;
    const offY = call.offY ?? 0;
    const [sx, sy] = call.scale ?? [1, 1];
    const nearest = call.method === 'nearest';
    const four = sx >= FOUR_SAMPLE_SCALE && sy >= FOUR_SAMPLE_SCALE;
    const RX = filterRadius(sx);
    const RY = filterRadius(sy);
    const wx = new Float64Array(2 * RX + 2);
    const width = col1 - col0;

    const nodataCell = (o: number) => {
      for (let b = 0; b < nB; b++) out[b]![o] = NaN;
    };
    const inside = (x: number, y: number) => x >= 0 && y >= 0 && x + 1e-10 <= W && y + 1e-10 <= H;
    const anyValid = (p: number) => {
      for (let b = 0; b < nB; b++) if (valid(bands[b]![p]!)) return true;
      return false;
    };
    const containing = (x: number, y: number) => Math.min(Math.trunc(y + 1e-10), H - 1) * W + Math.min(Math.trunc(x + 1e-10), W - 1);

    const nearestCell = (x: number, y: number, o: number) => {
      if (!inside(x, y)) return nodataCell(o);
      const p = containing(x, y);
      for (let b = 0; b < nB; b++) {
        const v = bands[b]![p]!;
        out[b]![o] = valid(v) ? v : NaN;
      }
    };

    // GDAL GWKBilinearResample4Sample: taps UL, UR, LL, LR accumulated in that order
    const bilinear4 = (x: number, y: number, o: number) => {
      if (!inside(x, y) || !anyValid(containing(x, y))) return nodataCell(o);
      let ix = Math.floor(x - 0.5);
      let iy = Math.floor(y - 0.5);
      let rx = 1.5 - (x - ix);
      let ry = 1.5 - (y - iy);
      if (ix === -1) { ix = 0; rx = 1; }
      if (iy === -1) { iy = 0; ry = 1; }
      const hasR = ix + 1 < W;
      const hasB = iy + 1 < H;
      const m1 = rx * ry;
      const m2 = (1 - rx) * ry;
      const m3 = rx * (1 - ry);
      const m4 = (1 - rx) * (1 - ry);
      const p = iy * W + ix;
      for (let b = 0; b < nB; b++) {
        const band = bands[b]!;
        let acc = 0;
        let div = 0;
        let v = band[p]!;
        if (valid(v)) { div += m1; acc += v * m1; }
        if (hasR) {
          v = band[p + 1]!;
          if (valid(v)) { div += m2; acc += v * m2; }
        }
        if (hasB) {
          v = band[p + W]!;
          if (valid(v)) { div += m3; acc += v * m3; }
          if (hasR) {
            v = band[p + W + 1]!;
            if (valid(v)) { div += m4; acc += v * m4; }
          }
        }
        out[b]![o] = div === 1 ? acc : div < 0.00001 ? NaN : acc / div;
      }
    };

    // GDAL GWKResample with the triangle filter widened by 1 / scale on decimating axes
    const bilinearWide = (x: number, y: number, o: number) => {
      if (!inside(x, y) || !anyValid(containing(x, y))) return nodataCell(o);
      const ix = Math.floor(x - 0.5);
      const iy = Math.floor(y - 0.5);
      const dx = x - 0.5 - ix;
      const dy = y - 0.5 - iy;
      let j0 = -RY;
      let j1 = RY;
      if (iy + j0 < 0) j0 = -iy;
      if (iy + j1 >= H) j1 = H - iy - 1;
      let i0 = -RX;
      let i1 = RX;
      if (ix + i0 < 0) i0 = -ix;
      if (ix + i1 >= W) i1 = W - ix - 1;
      for (let i = i0; i <= i1; i++) wx[i - i0] = sx < 1 ? tri((i - dx) * sx) : tri(i - dx);
      for (let b = 0; b < nB; b++) {
        const band = bands[b]!;
        let acc = 0;
        let ws = 0;
        for (let j = j0; j <= j1; j++) {
          const w1 = sy < 1 ? tri((j - dy) * sy) : tri(j - dy);
          const row = (iy + j) * W + ix;
          let la = 0;
          let lw = 0;
          for (let i = i0; i <= i1; i++) {
            const v = band[row + i]!;
            if (!valid(v)) continue;
            const w2 = wx[i - i0]!;
            la += v * w2;
            lw += w2;
          }
          acc += la * w1;
          ws += lw * w1;
        }
        out[b]![o] = ws < 0.000001 ? NaN : ws < 0.99999 || ws > 1.00001 ? acc / ws : acc;
      }
    };

    const cell = nearest ? nearestCell : four ? bilinear4 : bilinearWide;
    for (let r = 0; r < nRows; r++) {
      const rowOut = r * width;
      const s0 = rows[r]!;
      const s1 = rows[r + 1]!;
      let filled = col0;
      for (let k = s0; k < s1; k++) {
        let c = Math.max(cols[k]!, col0);
        const end = k + 1 < s1 ? Math.min(cols[k + 1]!, col1) : col1;
        if (c >= end) continue;
        for (; filled < c; filled++) nodataCell(rowOut + filled - col0);
        const f = SEG_FIELDS * k;
        const anchor = segs[f]!;
        const x0 = segs[f + 1]!;
        const y0 = segs[f + 2]!;
        const dx = segs[f + 3]!;
        const dy = segs[f + 4]!;
        for (; c < end; c++) {
          const dist = c - anchor;
          cell(x0 + dx * dist - offX, y0 + dy * dist - offY, rowOut + c - col0);
        }
        filled = end;
      }
      for (; filled < col1; filled++) nodataCell(rowOut + filled - col0);
    }
  }
}
