/**
 * @module web/lib/preview
 * Rasters for the eye: a raster (or a stream of tile windows) reduced to at most `maxSize` cells a side by
 * block means, so the map draws a few hundred thousand cells whatever the input's size. Nodata and NaN
 * cells are left out of the means; a block without data is NaN. Runtime-neutral (build script, workers).
 */
import type { Grid } from '../../../src/model/grid.js';

export type PreviewQuantity = 'hazard' | 'damage' | 'ead';

/** A downsampled raster layer. `values` is row-major on `grid` (NaN = no data). */
export interface Preview {
  id: string;
  label: string;
  /** Unit of the values, e.g. `m` or `USD`. */
  unit: string;
  quantity: PreviewQuantity;
  grid: Grid;
  values: Float32Array;
  /** Finite range of `values`. */
  min: number;
  max: number;
  /** Cells of the source per preview cell along each axis. */
  factor: number;
}

/** Sums and counts per block of `factor` x `factor` source cells. */
export class Downsampler {
  readonly factor: number;
  readonly grid: Grid;
  private readonly sum: Float64Array;
  private readonly n: Uint32Array;

  constructor(readonly source: Grid, maxSize = 512) {
    this.factor = Math.max(1, Math.ceil(Math.max(source.width, source.height) / maxSize));
    const f = this.factor;
    const [x0, dx, rx, y0, ry, dy] = source.transform;
    this.grid = { width: Math.ceil(source.width / f), height: Math.ceil(source.height / f), transform: [x0, dx * f, rx, y0, ry, dy * f], crs: source.crs };
    this.sum = new Float64Array(this.grid.width * this.grid.height);
    this.n = new Uint32Array(this.grid.width * this.grid.height);
  }

  /** Adds a window `[x0, y0, x1, y1]` of the source grid whose cells are `values` (row-major, window-sized). */
  addWindow(win: readonly [number, number, number, number], values: ArrayLike<number>, nodata: number | null = null): void {
    const [wx0, wy0, wx1, wy1] = win;
    const w = wx1 - wx0;
    const f = this.factor;
    const pw = this.grid.width;
    for (let r = wy0; r < wy1; r++) {
      const row = ((r / f) | 0) * pw;
      const base = (r - wy0) * w;
      for (let c = wx0; c < wx1; c++) {
        const v = values[base + c - wx0]!;
        if (v !== v || v === nodata || !Number.isFinite(v)) continue;
        const i = row + ((c / f) | 0);
        this.sum[i] += v;
        this.n[i]++;
      }
    }
  }

  /** Block means (NaN where a block has no data). */
  means(): Float32Array {
    const out = new Float32Array(this.sum.length);
    for (let i = 0; i < out.length; i++) out[i] = this.n[i] ? this.sum[i]! / this.n[i]! : NaN;
    return out;
  }

  preview(meta: Omit<Preview, 'grid' | 'values' | 'min' | 'max' | 'factor'>): Preview {
    const values = this.means();
    return { ...meta, grid: this.grid, values, ...rangeOf(values), factor: this.factor };
  }
}

export function rangeOf(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return Number.isFinite(min) ? { min, max } : { min: 0, max: 0 };
}

/** Per-cell mean over several bands (members), skipping nodata; NaN where no band has data. */
export function meanOfBands(bands: ArrayLike<number>[], nodata: number | null = null): Float32Array {
  const n = bands[0]?.length ?? 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    let k = 0;
    for (const b of bands) {
      const v = b[i]!;
      if (v !== v || v === nodata || !Number.isFinite(v)) continue;
      s += v;
      k++;
    }
    out[i] = k ? s / k : NaN;
  }
  return out;
}

/** A preview reduced from one whole band. */
export function previewOfBand(grid: Grid, values: ArrayLike<number>, nodata: number | null, meta: Omit<Preview, 'grid' | 'values' | 'min' | 'max' | 'factor'>, maxSize = 512): Preview {
  const d = new Downsampler(grid, maxSize);
  d.addWindow([0, 0, grid.width, grid.height], values, nodata);
  return d.preview(meta);
}

/** What a preview file's JSON index holds for each layer (the values are in `file`, float32 little-endian, gzip). */
export type PreviewMeta = Omit<Preview, 'values'> & { file: string };
