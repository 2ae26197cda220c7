/**
 * @module geo/resample
 * Aligns a raster (hazard intensity, fraction, class) onto a target grid (usually the exposure grid),
 * `nearest` or `bilinear`, following gdalwarp (GDAL 3.6) exactly: the same source pixel coordinates (an
 * affine map for one CRS, GDAL's approximate transformer around proj4 for two), the same validity rules
 * and the same arithmetic, so results equal `gdalwarp -r near|bilinear -et <errorThreshold>` cell for
 * cell (test/fixtures/gdalwarp/README.md lists the rules, the fixtures and the known differences).
 *
 * Output: float32 bands on the target grid with NaN as nodata (`nodata: NaN`), whatever the source's
 * nodata was: NaN is what the impact kernel and `gdalwarp -dstnodata nan` use, no resampled value can
 * collide with it, and integer sources (class rasters) convert exactly up to 2^24.
 *
 * Memory: the output, plus one strip of about a million target cells of coordinate segments at a
 * time; a WASM kernel also holds a copy of the source. For tiled runs, {@link planResample} gives each
 * tile the source window it needs and produces, per tile, exactly the cells a whole-target run gives.
 */
import { IbfError, type Problem } from '../errors.js';
import type { GeoTransform, Grid } from '../model/grid.js';
import { gridDifferences } from '../model/grid.js';
import type { Raster } from '../model/raster.js';
import {
  FOUR_SAMPLE_SCALE, METHOD_CODES, ReferenceResampleKernel, filterRadius,
  type ResampleKernel, type ResampleMethod,
} from '../kernels/resample.js';
import { WasmResampleKernel } from '../kernels/resample-wasm.js';
import { WasmKernel } from '../kernels/wasm.js';
import { approxRows, type PixelTransform } from './approx-transform.js';
import { canonicalCrs, pointTransform } from './crs.js';

export type { ResampleMethod } from '../kernels/resample.js';

/** Cell window `[x0, y0, x1, y1]`: columns x0..x1-1, rows y0..y1-1 (as in readRaster). */
export type CellWindow = readonly [number, number, number, number];

/** gdalwarp's default error threshold (`-et`), in source pixels. */
export const DEFAULT_ERROR_THRESHOLD = 0.125;
/** Default most output cells (width x height x bands): 2^28 float32 values, 1 GiB. */
export const DEFAULT_MAX_CELLS = 2 ** 28;
/** Target cells per strip: bounds the coordinate segments (and the WASM output strip) held at once. */
const STRIP_CELLS = 2 ** 20;

export interface ResampleOptions {
  method: ResampleMethod;
  /**
   * Kernel: the TypeScript twin (default), a WASM kernel from `loadKernel()` (any `ImpactKernel`
   * backed by WASM is used for resampling too), or a {@link ResampleKernel}.
   */
  kernel?: unknown;
  /**
   * Largest error of the approximate transform in source pixels, as gdalwarp's `-et`: default 0.125;
   * 0 transforms every cell centre exactly (slower across CRSs, no effect for one CRS beyond 1e-13 px).
   */
  errorThreshold?: number;
  /** CRS of the source when its grid carries none (or to override it), e.g. `EPSG:4326`. */
  srcCrs?: string;
  /** Most output cells (width x height x bands) to allocate; larger targets throw `E_LIMIT` first. Default 2^28. */
  maxCells?: number;
}

/** The kernel to resample with: the twin, a WASM kernel's resample export, or a given {@link ResampleKernel}. */
export function resampleKernel(kernel: unknown): ResampleKernel {
  if (kernel === undefined || kernel === null) return new ReferenceResampleKernel();
  if (kernel instanceof WasmKernel) return new WasmResampleKernel(kernel);
  if (kernel instanceof WasmResampleKernel || kernel instanceof ReferenceResampleKernel) return kernel;
  const k = kernel as Partial<ResampleKernel> & { name?: unknown };
  if (typeof k.open === 'function' && typeof k.resample === 'function') return k as ResampleKernel;
  if (k.name === 'ts') return new ReferenceResampleKernel();
  throw new IbfError('E_USAGE', `cannot resample with kernel ${String(k.name ?? kernel)}`, {
    hint: 'Pass a kernel from loadKernel() (ts, wasm-scalar, wasm-simd), a ResampleKernel, or nothing for the TypeScript twin.',
  });
}

/** GDALInvGeoTransform (with its exact no-rotation case). */
export function invGeoTransform(gt: GeoTransform): GeoTransform {
  if (gt[2] === 0 && gt[4] === 0 && gt[1] !== 0 && gt[5] !== 0) {
    return [-gt[0] / gt[1], 1 / gt[1], 0, -gt[3] / gt[5], 0, 1 / gt[5]];
  }
  const det = gt[1] * gt[5] - gt[2] * gt[4];
  const inv = 1 / det;
  return [
    (gt[2] * gt[3] - gt[0] * gt[5]) * inv, gt[5] * inv, -gt[2] * inv,
    (-gt[1] * gt[3] + gt[0] * gt[4]) * inv, -gt[4] * inv, gt[1] * inv,
  ];
}

function gridProblems(g: Grid, name: string): Problem[] {
  const p: Problem[] = [];
  if (!Number.isSafeInteger(g.width) || !Number.isSafeInteger(g.height) || g.width < 1 || g.height < 1) {
    p.push({ path: `${name}.size`, message: `is ${g.width}x${g.height}; width and height must be positive integers` });
  }
  const t = g.transform;
  if (!Array.isArray(t) || t.length !== 6 || !t.every(Number.isFinite) || t[1] === 0 || t[5] === 0) {
    p.push({ path: `${name}.transform`, message: `[${String(t)}] is not a valid geotransform` });
  } else if (t[2] !== 0 || t[4] !== 0) {
    p.push({ path: `${name}.transform`, message: `[${t.join(', ')}] is rotated (terms ${t[2]}, ${t[4]}); only north-up grids can be resampled` });
  }
  return p;
}

function checkWindow(w: CellWindow | undefined, width: number, height: number, path: string): Problem[] {
  if (w === undefined) return [];
  if (!Array.isArray(w) || w.length !== 4 || !w.every(Number.isInteger) || !(w[0] >= 0 && w[0] < w[2] && w[2] <= width && w[1] >= 0 && w[1] < w[3] && w[3] <= height)) {
    return [{ path, message: `${JSON.stringify(w)} is not a window of the ${width}x${height} grid (need integers 0 <= x0 < x1 <= ${width}, 0 <= y0 < y1 <= ${height})` }];
  }
  return [];
}

/** Extent in source pixels of transformed sample points; NaN-free min / max, or null when none transformed. */
interface Extent {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

/**
 * GDAL's ComputeSourceWindow sampling: 21 points along each edge of a target window (pixel corners),
 * transformed exactly; min / max of those that transform.
 */
function sourceExtent(t: PixelTransform, w: CellWindow): Extent | null {
  const steps = 21;
  const n = 4 * steps;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const [x0, y0, x1, y1] = w;
  const ww = x1 - x0;
  const wh = y1 - y0;
  for (let i = 0; i < steps; i++) {
    const ratio = i === steps - 1 ? 1 : i * (1 / (steps - 1));
    xs[4 * i] = ratio * ww + x0; ys[4 * i] = y0;
    xs[4 * i + 1] = ratio * ww + x0; ys[4 * i + 1] = y0 + wh;
    xs[4 * i + 2] = x0; ys[4 * i + 2] = ratio * wh + y0;
    xs[4 * i + 3] = ww + x0; ys[4 * i + 3] = ratio * wh + y0;
  }
  t(xs, ys, 0, n);
  let e: Extent | null = null;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (!e) e = { minX: x, maxX: x, minY: y, maxY: y };
    else {
      e.minX = Math.min(e.minX, x); e.maxX = Math.max(e.maxX, x);
      e.minY = Math.min(e.minY, y); e.maxY = Math.max(e.maxY, y);
    }
  }
  return e;
}

/** gdalwarp's kernel scale along one axis: target cells over the source pixels they span (ComputeSourceWindow), snapped to 1/n. */
function kernelScale(targetCells: number, min: number, max: number, rasterSize: number): number {
  const raw = Math.max(0, Math.min(rasterSize - Math.trunc(Math.max(0, min)), max - min));
  if (!(raw > 0)) return 1;
  let s = targetCells / raw;
  if (s < 1) {
    const rec = 1 / s;
    const n = Math.trunc(rec + 0.5);
    if (Math.abs(rec - n) < 0.05) s = 1 / n;
  }
  return s;
}

export interface PlanRunOptions {
  /** Where the given source raster lies in the plan's source grid (default: it is the whole source). */
  srcWindow?: CellWindow;
  /** Target cells to compute (default: the whole target). The result's grid is this window's. */
  targetWindow?: CellWindow;
  kernel?: unknown;
  maxCells?: number;
  /** Target cells per strip (coordinate segments and the WASM output strip held at once); default 2^20. */
  stripCells?: number;
}

/**
 * The geometry of one source-grid-to-target-grid resampling, computed once: the exact transform
 * (target pixel to source pixel), gdalwarp's kernel scales for the whole target, and the approximation
 * settings. Running it on any target window gives the same cells as running it on the whole target,
 * so tiles can be computed independently (map(tile) in the engine).
 */
export class ResamplePlan {
  /** gdalwarp's kernel scales over the whole target (target cells per source pixel, snapped to 1/n). */
  readonly scale: readonly [number, number];
  /** True when the target grid is the source grid (the identity: resampling returns the values unchanged). */
  readonly identity: boolean;
  /** False when no target cell can map into the source (every result is nodata). */
  readonly overlaps: boolean;

  constructor(
    readonly source: Grid,
    readonly target: Grid,
    readonly method: ResampleMethod,
    readonly errorThreshold: number,
    /** Exact transform from target pixel coordinates to source pixel coordinates. */
    readonly transform: PixelTransform,
    identity: boolean,
  ) {
    this.identity = identity;
    const ext = sourceExtent(transform, [0, 0, target.width, target.height]);
    this.overlaps = ext !== null && !(ext.minX > source.width || ext.maxX < 0 || ext.minY > source.height || ext.maxY < 0);
    this.scale = ext ? [kernelScale(target.width, ext.minX, ext.maxX, source.width), kernelScale(target.height, ext.minY, ext.maxY, source.height)] : [1, 1];
  }

  /** Source pixels each side of a sample the filter reads (0 nearest, 1 bilinear, ceil(1 / scale) decimating). */
  get radius(): [number, number] {
    if (this.method === 'nearest') return [0, 0];
    const four = this.scale[0] >= FOUR_SAMPLE_SCALE && this.scale[1] >= FOUR_SAMPLE_SCALE;
    return four ? [1, 1] : [filterRadius(this.scale[0]), filterRadius(this.scale[1])];
  }

  /**
   * The window of source cells that the target cells of `targetWindow` (default: all) read, with a
   * margin for the approximation; null when they read none. Read this window and pass it to
   * {@link ResamplePlan.run} with `srcWindow` to resample a tile.
   */
  sourceWindow(targetWindow?: CellWindow): CellWindow | null {
    const w = targetWindow ?? [0, 0, this.target.width, this.target.height];
    const problems = checkWindow(w, this.target.width, this.target.height, 'targetWindow');
    if (problems.length) throw IbfError.fromProblems('E_USAGE', 'cannot compute a source window', problems);
    const e = sourceExtent(this.transform, w);
    if (!e) return null;
    const [rx, ry] = this.radius;
    const margin = 2;
    const x0 = Math.max(0, Math.floor(e.minX) - rx - margin);
    const y0 = Math.max(0, Math.floor(e.minY) - ry - margin);
    const x1 = Math.min(this.source.width, Math.ceil(e.maxX) + rx + margin);
    const y1 = Math.min(this.source.height, Math.ceil(e.maxY) + ry + margin);
    return x0 < x1 && y0 < y1 ? [x0, y0, x1, y1] : null;
  }

  /**
   * Resamples `src` (the plan's source, or the `srcWindow` of it, as `readRaster({ window })` returns it)
   * onto the target (or `targetWindow` of it). Every band goes through one pass over the coordinates.
   * Returns fresh float32 bands with NaN as nodata; `src` is not modified.
   * Errors: `E_USAGE` (windows or band sizes that do not fit), `E_LIMIT` (output larger than `maxCells`).
   */
  run(src: Raster, opts: PlanRunOptions = {}): Raster<Float32Array> {
    const S = this.source;
    const T = this.target;
    const sw = opts.srcWindow ?? [0, 0, S.width, S.height];
    const tw = opts.targetWindow ?? [0, 0, T.width, T.height];
    const problems = [...checkWindow(sw, S.width, S.height, 'srcWindow'), ...checkWindow(tw, T.width, T.height, 'targetWindow')];
    const W = sw[2] - sw[0];
    const H = sw[3] - sw[1];
    if (!problems.length) {
      // the raster must be the window of the plan's source grid (as readRaster({ window }) returns it)
      const t = S.transform;
      const at: Grid = { width: W, height: H, transform: [t[0] + sw[0] * t[1], t[1], 0, t[3] + sw[1] * t[5], 0, t[5]], crs: src.grid.crs };
      for (const p of gridDifferences(at, src.grid, 'srcWindow', 'src')) problems.push(p);
    }
    if (!Array.isArray(src.bands) || src.bands.length < 1) problems.push({ path: 'src.bands', message: 'must hold at least one band' });
    else {
      src.bands.forEach((b, i) => {
        if (!ArrayBuffer.isView(b) || b.length !== src.grid.width * src.grid.height) {
          problems.push({ path: `src.bands[${i}]`, message: `has ${(b as { length?: number } | undefined)?.length} values; the source grid needs ${src.grid.width * src.grid.height}` });
        }
      });
    }
    if (problems.length) throw IbfError.fromProblems('E_USAGE', 'cannot resample this raster', problems);
    const ww = tw[2] - tw[0];
    const wh = tw[3] - tw[1];
    const nB = src.bands.length;
    checkCells(ww, wh, nB, opts.maxCells);
    const kernel = resampleKernel(opts.kernel);

    const out = src.bands.map(() => new Float32Array(ww * wh));
    const [tx0, , tx1] = tw;
    const t = T.transform;
    const grid: Grid = { width: ww, height: wh, transform: [t[0] + tw[0] * t[1], t[1], 0, t[3] + tw[1] * t[5], 0, t[5]], crs: T.crs };
    const result: Raster<Float32Array> = { grid, bands: out, nodata: NaN, ...(src.bandNames ? { bandNames: [...src.bandNames] } : {}) };
    if (!this.overlaps) {
      out.forEach((b) => b.fill(NaN));
      return result;
    }
    const bands = src.bands.map((b) => (b instanceof Float32Array ? b : Float32Array.from(b as ArrayLike<number>)));
    const run = kernel.open({ bands, width: W, height: H, nodata: src.nodata });
    const rowsPerStrip = Math.max(1, Math.floor((opts.stripCells ?? STRIP_CELLS) / ww));
    for (let r0 = tw[1]; r0 < tw[3]; r0 += rowsPerStrip) {
      const r1 = Math.min(tw[3], r0 + rowsPerStrip);
      const segments = approxRows(this.transform, T.width, r0, r1, {
        maxError: this.errorThreshold,
        source: { width: S.width, height: S.height },
      });
      const from = (r0 - tw[1]) * ww;
      const to = (r1 - tw[1]) * ww;
      run({
        segments, col0: tx0, col1: tx1, offX: sw[0], offY: sw[1],
        method: this.method, scale: this.scale,
        out: out.map((b) => b.subarray(from, to)),
      });
    }
    return result;
  }
}

function checkCells(width: number, height: number, bands: number, maxCells = DEFAULT_MAX_CELLS): void {
  const cells = width * height * bands;
  if (cells > maxCells) {
    throw new IbfError('E_LIMIT', `resampling onto ${width}x${height} cells x ${bands} band(s) = ${cells} cells exceeds the limit of ${maxCells} cells`, {
      hint: 'Resample tiles of the target (planResample(...).run with targetWindow), fewer bands at a time, or raise maxCells if the memory is there.',
      details: { width, height, bands, cells, maxCells },
    });
  }
}

/**
 * Plans the resampling of rasters on `srcGrid` onto `target`: checks both grids and the CRSs (all
 * problems at once) and fixes the geometry. Errors: `E_GRID_MISMATCH` (rotated or invalid grids),
 * `E_CRS_UNKNOWN` (a CRS proj4 cannot transform here, or a missing CRS), `E_USAGE` (bad options).
 */
export function planResample(srcGrid: Grid, target: Grid, opts: Pick<ResampleOptions, 'method' | 'errorThreshold' | 'srcCrs'>): ResamplePlan {
  const usage: Problem[] = [];
  if (!opts || !((opts.method as string) in METHOD_CODES)) usage.push({ path: 'method', message: `is ${JSON.stringify(opts?.method)}; must be 'nearest' or 'bilinear'` });
  const et = opts?.errorThreshold ?? DEFAULT_ERROR_THRESHOLD;
  if (typeof et !== 'number' || !(et >= 0) || !Number.isFinite(et)) usage.push({ path: 'errorThreshold', message: `is ${JSON.stringify(opts.errorThreshold)}; must be a number >= 0 (source pixels)` });
  if (usage.length) throw IbfError.fromProblems('E_USAGE', 'cannot resample with these options', usage, "Use { method: 'nearest' | 'bilinear', errorThreshold: 0.125 } (gdalwarp -r / -et).");
  const grids = [...gridProblems(srcGrid, 'source'), ...gridProblems(target, 'target')];
  if (grids.length) {
    throw IbfError.fromProblems('E_GRID_MISMATCH', 'cannot resample between these grids', grids, 'Warp rotated rasters to a north-up grid first, e.g. `gdalwarp in.tif out.tif`.');
  }
  const srcCrs = opts.srcCrs ?? srcGrid.crs;
  const tgtCrs = target.crs;
  if ((srcCrs === null) !== (tgtCrs === null)) {
    const which = srcCrs === null ? 'the source raster has no CRS' : 'the target grid has no CRS';
    throw new IbfError('E_CRS_UNKNOWN', `cannot resample: ${which} while the other is in ${srcCrs ?? tgtCrs}`, {
      hint: srcCrs === null ? 'Pass the source CRS (opts.srcCrs, e.g. EPSG:4326) or fix the file (gdal_edit.py -a_srs EPSG:4326 file.tif).' : 'Give the target grid a CRS (grid.crs, e.g. EPSG:4326).',
    });
  }
  const same = srcCrs === null || canonicalCrs(srcCrs) === canonicalCrs(tgtCrs!);
  const inv = invGeoTransform(srcGrid.transform);
  const [t0, t1, t2, t3, t4, t5] = target.transform;
  const [i0, i1, i2, i3, i4, i5] = inv;
  let transform: PixelTransform;
  if (same) {
    // GDALGenImgProjTransform without reprojection: target pixel -> georeferenced -> source pixel
    transform = (xs, ys, from, to) => {
      for (let i = from; i < to; i++) {
        const px = xs[i]!;
        const py = ys[i]!;
        const X = t0 + px * t1 + py * t2;
        const Y = t3 + px * t4 + py * t5;
        xs[i] = i0 + X * i1 + Y * i2;
        ys[i] = i3 + X * i4 + Y * i5;
      }
    };
  } else {
    const proj = pointTransform(tgtCrs!, srcCrs!, 'the source raster');
    transform = (xs, ys, from, to) => {
      for (let i = from; i < to; i++) {
        const px = xs[i]!;
        const py = ys[i]!;
        const [X, Y] = proj(t0 + px * t1 + py * t2, t3 + px * t4 + py * t5);
        if (!Number.isFinite(X) || !Number.isFinite(Y)) {
          xs[i] = NaN;
          ys[i] = NaN;
          continue;
        }
        xs[i] = i0 + X * i1 + Y * i2;
        ys[i] = i3 + X * i4 + Y * i5;
      }
    };
  }
  const identity = same && gridDifferences(srcGrid, { ...target, crs: srcGrid.crs }).length === 0;
  return new ResamplePlan(srcGrid, target, opts.method, et, transform, identity);
}

/**
 * Resamples `src` onto the `target` grid, as `gdalwarp -r near|bilinear -et <errorThreshold>
 * -dstnodata nan -ot Float32` does (one chunk). Every band goes through one pass over the coordinates.
 *
 * Same-grid fast path: when `target` is `src`'s grid (within 1e-9 of a cell) the values are returned
 * unchanged: `src` itself when its bands are Float32Array with NaN (or no) nodata, else a float32
 * copy with nodata turned into NaN.
 *
 * Errors: `E_CRS_UNKNOWN` (unsupported or missing CRS), `E_GRID_MISMATCH` (rotated or invalid grids),
 * `E_LIMIT` (more than `maxCells` output cells, before allocating), `E_USAGE` (bad options or bands).
 */
export function resampleRaster(src: Raster, target: Grid, opts: ResampleOptions): Raster<Float32Array> {
  const plan = planResample(src.grid, target, opts);
  if (plan.identity) {
    const nd = src.nodata;
    if (src.bands.every((b) => b instanceof Float32Array) && (nd === null || Number.isNaN(nd))) {
      return src as Raster<Float32Array>;
    }
    checkCells(target.width, target.height, src.bands.length, opts.maxCells);
    const f32 = Math.fround(nd ?? NaN);
    const bands = src.bands.map((b) => {
      const o = Float32Array.from(b as ArrayLike<number>);
      if (nd !== null) for (let i = 0; i < o.length; i++) if (o[i] === f32) o[i] = NaN;
      return o;
    });
    return { grid: src.grid, bands, nodata: NaN, ...(src.bandNames ? { bandNames: [...src.bandNames] } : {}) };
  }
  return plan.run(src, { kernel: opts.kernel, maxCells: opts.maxCells });
}
