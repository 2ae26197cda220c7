/**
 * @module engine/aggregate
 * Assessment of a hazard that nearest-neighbour resampling would bring onto a finer exposure grid,
 * without upsampling it. With `nearest` every exposure cell takes the value of one hazard cell, and the
 * kernel's per-band sums only use the hazard value and sums over cells that share it:
 *
 *   exposed / damage / affected = [x_h > 0] / mdr(x_h) / [x_h >= t]  x  sum(w e)
 *   cells = sum(w), intensity = x_h x sum(w), max = x_h (any valid cell in the group)
 *
 * So exposure is aggregated once per (hazard cell, zone) group: S_e = sum(w e) and S_w = sum(w) over
 * cells with valid exposure and weight > 0 (w = zone coverage, 1 for the totals), and the fused kernel
 * runs once over that table, every band, with exposure S_e. Cells outside the hazard (nodata after
 * resampling) form one group per zone whose hazard is NaN: they count in the zone's exposure and cells,
 * as in the per-cell pass. The kernel's `cells` and `intensity` slots (which need S_w, a float64 sum the
 * kernel's float32 weights cannot carry exactly) and the zone slots are filled in here.
 *
 * Which hazard cell an exposure cell reads is taken from the resampler itself: an index raster (the
 * source cell number as float32) is resampled with the same plan and kernel, so the mapping is gdalwarp's
 * cell for cell (inside test, edge clamp, approximate transformer) by construction.
 *
 * Results equal the per-cell path up to the order of summation (relative ~1e-15 per sum; the tests hold
 * them to 1e-12). Not applicable to a per-cell class raster (the curve then varies within a group):
 * src/engine/assess.ts upsamples in that case. The per-cell damage raster is expanded from the per-hazard-
 * cell mdr: damage = e x mdr(x_h), the same float64 product stored as float32 as the kernel stores it.
 */
import { IbfError } from '../errors.js';
import type { CellWindow, ResamplePlan } from '../geo/resample.js';
import { STAT, STATS_PER_BAND, STATS_PER_ZONE, ZONE_STAT, emptyPartial, mergePartial, type ImpactInputs, type ImpactKernel, type ImpactPartial } from '../kernels/types.js';
import type { DamageFunction } from '../model/damage-function.js';
import type { Grid } from '../model/grid.js';
import type { Raster } from '../model/raster.js';
import type { CoverageWindow } from '../model/zones.js';

/** A hazard still on its own grid: the `window` of `plan.source` as read, to be resampled by `plan` (nearest). */
export interface NearestHazard {
  plan: ResamplePlan;
  window: CellWindow;
}

/** Runs one chunk's kernel pass (as src/engine/assess.ts's runner: pool or this thread). */
export type ChunkRun = (make: () => ImpactInputs) => Promise<ImpactPartial>;

/** Largest source window numbered in one float32 band (integers are exact up to 2^24). */
const F32_EXACT = 2 ** 24;

/**
 * Per target cell of `plan.target`, the index (row-major in the source `window`) of the hazard cell that
 * nearest resampling copies, or -1 when the cell falls outside the source (resampled nodata).
 */
export function nearestIndex(plan: ResamplePlan, window: CellWindow, kernel?: unknown): Int32Array {
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
  const out = plan.run({ grid, bands, nodata: null }, { srcWindow: window, kernel, maxCells: Infinity }).bands;
  const m = plan.target.width * plan.target.height;
  const idx = new Int32Array(m);
  const a = out[0]!;
  if (single) for (let i = 0; i < m; i++) idx[i] = a[i] === a[i] ? a[i]! : -1;
  else {
    const b = out[1]!;
    for (let i = 0; i < m; i++) idx[i] = a[i] === a[i] ? b[i]! * W + a[i]! : -1;
  }
  return idx;
}

/** The (zone, hazard cell) table: zone index (0 = totals), hazard slot (`nSrc` = no hazard), S_e, S_w. */
class GroupTable {
  size = 0;
  zone = new Uint32Array(1024);
  slot = new Int32Array(1024);
  se = new Float64Array(1024);
  sw = new Float64Array(1024);

  push(z: number, h: number, e: number, w: number): void {
    if (this.size === this.zone.length) {
      const grow = <T extends Uint32Array | Int32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.zone = grow(this.zone);
      this.slot = grow(this.slot);
      this.se = grow(this.se);
      this.sw = grow(this.sw);
    }
    const k = this.size++;
    this.zone[k] = z;
    this.slot[k] = h;
    this.se[k] = e;
    this.sw[k] = w;
  }
}

export interface AggregateInput {
  /** Hazard bands on the source window grid (any nodata; compared in float32 as the resampler does). */
  hazard: Raster;
  /** {@link nearestIndex} of every exposure cell. */
  index: Int32Array;
  /** Exposure values on the exposure grid (width `width`), and their nodata. */
  exposure: Float64Array;
  exposureNodata: number | null;
  width: number;
  excluded?: Uint8Array;
  /** Curves in the hazard unit; only the first is used (no class raster on this path). */
  curves: DamageFunction[];
  threshold: number;
  zones: Array<{ window: CoverageWindow | null }>;
  damageRaster?: boolean;
}

export interface AggregateOutput {
  /** Whole-grid partial (one zone). */
  total: ImpactPartial;
  /** One single-zone partial per input zone. */
  zones: ImpactPartial[];
  /** Per-cell damage per band (exposure grid, NaN nodata) when asked for. */
  damage?: Float32Array[];
  /** Rows of the (zone, hazard cell) table the kernel ran on. */
  groups: number;
}

/** Assesses `input` through the (zone, hazard cell) table; see the module header. */
export async function assessAggregated(input: AggregateInput, run: ChunkRun, kernel: ImpactKernel, chunkCells: number, signal?: AbortSignal): Promise<AggregateOutput> {
  const { hazard, index, exposure, width, excluded, curves } = input;
  const n = index.length;
  if (exposure.length !== n) throw new IbfError('E_GRID_MISMATCH', `exposure has ${exposure.length} cells, the nearest index ${n}`);
  const nBands = hazard.bands.length;
  const nSrc = hazard.grid.width * hazard.grid.height;
  const bands = hazard.bands.map((b) => (b instanceof Float32Array ? b : Float32Array.from(b as ArrayLike<number>)));
  const hasExpNd = input.exposureNodata != null;
  const expNd = input.exposureNodata ?? 0;
  const expAt = (i: number) => {
    const e = exposure[i]!;
    return (hasExpNd && e === expNd) || (excluded && excluded[i]) ? NaN : e;
  };

  // 1. group sums, zone by zone (0 = the whole grid, weight 1), with a touched list so each zone costs its cells
  const table = new GroupTable();
  const se = new Float64Array(nSrc + 1);
  const sw = new Float64Array(nSrc + 1);
  const mark = new Uint8Array(nSrc + 1);
  const touched = new Int32Array(nSrc + 1);
  let nTouched = 0;
  const add = (i: number, w: number) => {
    const e = expAt(i);
    if (e !== e) return;
    const j = index[i]!;
    const h = j < 0 ? nSrc : j;
    if (!mark[h]) {
      mark[h] = 1;
      touched[nTouched++] = h;
    }
    se[h] = se[h]! + w * e;
    sw[h] = sw[h]! + w;
  };
  const flush = (z: number) => {
    for (let k = 0; k < nTouched; k++) {
      const h = touched[k]!;
      table.push(z, h, se[h]!, sw[h]!);
      se[h] = 0;
      sw[h] = 0;
      mark[h] = 0;
    }
    nTouched = 0;
  };
  for (let i = 0; i < n; i++) add(i, 1);
  flush(0);
  input.zones.forEach((zone, zi) => {
    const w = zone.window;
    if (!w) return;
    for (let r = 0, k = 0; r < w.height; r++) {
      const row = (w.y0 + r) * width + w.x0;
      for (let c = 0; c < w.width; c++, k++) {
        const wt = w.weights[k]!;
        if (wt > 0) add(row + c, wt);
      }
    }
    flush(zi + 1);
  });
  signal?.throwIfAborted();

  // 2. the fused kernel over the table, every band, in chunks merged in order
  const T = table.size;
  const nZones = 1 + input.zones.length;
  const hz = (b: number, t: number) => {
    const h = table.slot[t]!;
    return h === nSrc ? NaN : bands[b]![h]!;
  };
  const starts = Array.from({ length: Math.ceil(T / chunkCells) }, (_, i) => i * chunkCells);
  const parts = await Promise.all(
    starts.map((s) =>
      run(() => {
        const len = Math.min(chunkCells, T - s);
        const h = new Float32Array(len * nBands);
        for (let b = 0; b < nBands; b++) for (let t = 0; t < len; t++) h[b * len + t] = hz(b, s + t);
        return {
          cells: len, nBands, hazard: h, exposure: table.se.slice(s, s + len), hazardNodata: hazard.nodata,
          zones: table.zone.slice(s, s + len), nZones, curves: [curves[0]!], threshold: input.threshold,
        };
      }),
    ),
  );
  const acc = parts.reduce((a, p) => mergePartial(a, p), emptyPartial(nZones, nBands));

  // 3. the slots that need S_w: cells and intensity per band, exposure and cells per zone
  const stats = acc.stats;
  for (let i = 0; i < stats.length; i += STATS_PER_BAND) {
    stats[i + STAT.cells] = 0;
    stats[i + STAT.intensity] = 0;
  }
  acc.zoneStats.fill(0);
  for (let t = 0; t < T; t++) {
    const zo = table.zone[t]! * STATS_PER_ZONE;
    acc.zoneStats[zo + ZONE_STAT.exposure] = acc.zoneStats[zo + ZONE_STAT.exposure]! + table.se[t]!;
    acc.zoneStats[zo + ZONE_STAT.cells] = acc.zoneStats[zo + ZONE_STAT.cells]! + table.sw[t]!;
  }
  const hasHazNd = hazard.nodata != null;
  const hazNd = Math.fround(hazard.nodata ?? 0);
  for (let b = 0; b < nBands; b++) {
    const band = bands[b]!;
    for (let t = 0; t < T; t++) {
      const h = table.slot[t]!;
      if (h === nSrc) continue;
      const x = band[h]!;
      if (x !== x || (hasHazNd && x === hazNd)) continue;
      const a = (table.zone[t]! * nBands + b) * STATS_PER_BAND;
      const w = table.sw[t]!;
      stats[a + STAT.cells] = stats[a + STAT.cells]! + w;
      stats[a + STAT.intensity] = stats[a + STAT.intensity]! + w * x;
    }
  }
  const zonePart = (z: number): ImpactPartial => {
    const p = emptyPartial(1, nBands);
    p.stats.set(stats.subarray(z * nBands * STATS_PER_BAND, (z + 1) * nBands * STATS_PER_BAND));
    p.zoneStats.set(acc.zoneStats.subarray(z * STATS_PER_ZONE, (z + 1) * STATS_PER_ZONE));
    return p;
  };

  // 4. the per-cell damage raster, expanded from mdr per hazard cell
  let damage: Float32Array[] | undefined;
  if (input.damageRaster) {
    damage = bands.map((band) => {
      signal?.throwIfAborted();
      const m = kernel.mdr(curves[0]!, band);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const h = index[i]!;
        const x = h < 0 ? NaN : band[h]!;
        out[i] = x !== x || (hasHazNd && x === hazNd) ? NaN : expAt(i) * m[h]!;
      }
      return out;
    });
  }
  return { total: zonePart(0), zones: input.zones.map((_, z) => zonePart(z + 1)), damage, groups: T };
}
