/**
 * @module engine/aggregate
 * Which hazard cell nearest-neighbour resampling copies into each target cell, taken from the resampler
 * itself: an index raster (the source cell number as float32) is resampled with the same plan and
 * kernel, so the mapping is gdalwarp's cell for cell (inside test, edge clamp, approximate transformer)
 * by construction. The aggregated nearest path of src/engine/tile.ts sums exposure per hazard cell with it.
 */
import { IbfError } from '../errors.js';
import type { CellWindow, ResamplePlan } from '../geo/resample.js';
import type { Grid } from '../model/grid.js';

/** A hazard still on its own grid: the `window` of `plan.source` as read, to be resampled by `plan` (nearest). */
export interface NearestHazard {
  plan: ResamplePlan;
  window: CellWindow;
}

/** Largest source window numbered in one float32 band (integers are exact up to 2^24). */
const F32_EXACT = 2 ** 24;

/**
 * Per target cell of `plan.target` (or of its `targetWindow`, row-major), the index (row-major in the source `window`) of the hazard cell that
 * nearest resampling copies, or -1 when the cell falls outside the source (resampled nodata).
 */
export function nearestIndex(plan: ResamplePlan, window: CellWindow, kernel?: unknown, targetWindow?: CellWindow): Int32Array {
  if (plan.method !== 'nearest') throw new IbfError('E_USAGE', `nearestIndex needs a nearest plan, got ${plan.method}`);
  const W = window[2] - window[0];
  const H = window[3] - window[1];
  const n = W * H;
  const t = plan.source.transform;
  // the window's grid exactly as ResamplePlan.run expects it
  const grid: Grid = { width: W, height: H, transform: [t[0] + window[0] * t[1], t[1], 0, t[3] + window[1] * t[5], 0, t[5]], crs: plan.source.crs };
  const single = n <= F32_EXACT;
  const bands: Float32Array[] = single ? [new Float32Array(n)] : [new Float32Array(n), new Float32Array(n)];
  for (let r = 0, i = 0; r < H; r++) {
    for (let c = 0; c < W; c++, i++) {
      if (single) bands[0]![i] = i;
      else {
        bands[0]![i] = c;
        bands[1]![i] = r;
      }
    }
  }
  const tw = targetWindow ?? [0, 0, plan.target.width, plan.target.height];
  const out = plan.run({ grid, bands, nodata: null }, { srcWindow: window, targetWindow: tw, kernel, maxCells: Infinity }).bands;
  const m = (tw[2] - tw[0]) * (tw[3] - tw[1]);
  const idx = new Int32Array(m);
  const a = out[0]!;
  if (single) for (let i = 0; i < m; i++) idx[i] = a[i] === a[i] ? a[i]! : -1;
  else {
    const b = out[1]!;
    for (let i = 0; i < m; i++) idx[i] = a[i] === a[i] ? b[i]! * W + a[i]! : -1;
  }
  return idx;
}
