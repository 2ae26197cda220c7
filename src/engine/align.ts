/**
 * @module engine/align
 * Brings a raster onto the target grid while reading only what is needed: when the grids differ, the
 * resampling plan names the source window the target cells read, and only that window is decoded
 * (a global forecast over one country reads the country's part of it). Same grid: a plain read.
 */
import { readRaster, readRasterInfo, type ByteInput, type ReadRasterOptions } from '../io/geotiff.js';
import { planResample, type ResamplePlan, type ResampleMethod } from '../geo/resample.js';
import { sameGrid, withCrs, type Grid } from '../model/grid.js';
import type { Raster } from '../model/raster.js';

export interface AlignedRaster {
  raster: Raster;
  /** False when the file was already on the target grid. */
  resampled: boolean;
  /** The file's own grid (CRS filled from the target when it had none). */
  sourceGrid: Grid;
  /** Source cells decoded `[x0, y0, x1, y1)`, or null when the file was read whole. */
  window: [number, number, number, number] | null;
  /**
   * Only with `deferNearest` and a nearest resampling: `raster` is then the decoded source `window`
   * (on its own grid, not resampled), and this plan brings it onto the target (assessRasters' `nearest`).
   */
  nearest?: { plan: ResamplePlan; window: [number, number, number, number] };
}

/** Reads `source` onto `target` (`method` when resampling); `read` options apply to the file. */
export async function readAligned(
  source: ByteInput,
  target: Grid,
  opts: {
    name: string; method: ResampleMethod; kernel?: unknown; read?: Omit<ReadRasterOptions, 'window' | 'name'>;
    /** With method nearest and different grids: skip the resampling and return the source window and plan (see `nearest`). */
    deferNearest?: boolean;
  },
): Promise<AlignedRaster> {
  const info = await readRasterInfo(source, { name: opts.name });
  const sourceGrid = withCrs(info.grid, target.crs);
  const read = { ...opts.read, name: opts.name };
  if (sameGrid(target, sourceGrid)) return { raster: await readRaster(source, read), resampled: false, sourceGrid, window: null };
  const plan = planResample(sourceGrid, target, { method: opts.method });
  // no target cell reads the source: one cell stands in, and every target cell comes out nodata
  const w = plan.sourceWindow() ?? [0, 0, 1, 1];
  const window: [number, number, number, number] = [w[0], w[1], w[2], w[3]];
  const part = await readRaster(source, { ...read, window });
  if (opts.deferNearest && opts.method === 'nearest') {
    return { raster: { ...part, grid: { ...part.grid, crs: sourceGrid.crs } }, resampled: true, sourceGrid, window, nearest: { plan, window } };
  }
  const raster = plan.run({ ...part, grid: { ...part.grid, crs: sourceGrid.crs } }, { srcWindow: window, kernel: opts.kernel });
  return { raster: { ...raster, ...(part.bandNames ? { bandNames: part.bandNames } : {}) }, resampled: true, sourceGrid, window };
}
