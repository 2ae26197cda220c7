/**
 * @module engine/zonal
 * Zonal statistics of one raster band over admin zones, as exactextract defines them: under the
 * `coverage` rule each cell counts with the fraction of its area inside the zone (count = sum of
 * weights, sum = sum of weight x value, mean = sum / count, stdev = weighted population standard
 * deviation); `min` and `max` are unweighted, over cells with a weight > 0. Nodata cells never count.
 * Under `centre` and `all-touched` every weight is 0 or 1, which gives rasterstats' numbers.
 *
 * Two paths give the same bits: {@link zonalStatsOf} (zones as row spans straight from the coverage
 * kernel: work and memory follow the cells inside the zones, not their bounding boxes; the fast one)
 * and {@link zonalStats} / {@link zonalStatsOfWindows} over dense coverage windows. Both visit the
 * cells with a non-zero weight row by row, left to right, and sum in that order.
 */
import { IbfError } from '../errors.js';
import { zoneSpans, type CoverageSpans } from '../geo/coverage.js';
import type { ImpactKernel } from '../kernels/types.js';
import type { Grid } from '../model/grid.js';
import { isNodata, type Raster } from '../model/raster.js';
import type { CoverageWindow, Zone, ZoneRule, Zones } from '../model/zones.js';

export const ZONAL_STATS = ['count', 'sum', 'mean', 'min', 'max', 'stdev'] as const;
export type ZonalStat = (typeof ZONAL_STATS)[number];

export interface ZonalRow {
  id: string;
  name?: string;
  /** Sum of weights of valid cells (cells under `centre` / `all-touched`). */
  count: number;
  sum: number;
  /** null when count is 0. */
  mean: number | null;
  min: number | null;
  max: number | null;
  stdev: number | null;
}

/** Computes the coverage window of one zone on a grid (see src/geo/coverage.ts). */
export type CoverageFn = (zone: Zone, zonesCrs: string, grid: Grid, rule: ZoneRule) => CoverageWindow | null;

/**
 * Stats of `values` (row-major, row length `gridWidth`) over one coverage window, in one pass. The
 * spread uses shifted sums (values minus the first valid value), which keeps the variance accurate
 * when the mean is large against the spread, without a second pass over the window.
 */
export function windowStats(values: ArrayLike<number>, nodata: number | null, gridWidth: number, w: CoverageWindow | null): Omit<ZonalRow, 'id' | 'name'> {
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let shift = NaN;
  let s1 = 0; // sum of w (v - shift)
  let s2 = 0; // sum of w (v - shift)^2
  const nd = nodata ?? NaN;
  if (w) {
    const weights = w.weights;
    for (let r = 0; r < w.height; r++) {
      const row = (w.y0 + r) * gridWidth + w.x0;
      const wr = r * w.width;
      for (let c = 0; c < w.width; c++) {
        const wt = weights[wr + c]!;
        if (wt === 0) continue;
        const v = values[row + c]!;
        if (v !== v || v === nd) continue;
        if (shift !== shift) shift = v;
        const d = v - shift;
        count += wt;
        sum += wt * v;
        s1 += wt * d;
        s2 += wt * d * d;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
  }
  return finish(count, sum, min, max, s1, s2);
}

/**
 * {@link windowStats} over row spans (`CoverageSpans`, src/geo/coverage.ts) instead of a dense window:
 * the same sums in the same order, so the same bits. Span cell (column c, row r) is
 * `values[(r - offsetY) * gridWidth + c - offsetX]`, so (`offsetX`, `offsetY`) is where the values
 * start in the spans' cells. Every span must lie inside the values (not checked per cell).
 */
export function spanStats(
  values: ArrayLike<number>,
  nodata: number | null,
  gridWidth: number,
  s: CoverageSpans | null,
  offsetX = 0,
  offsetY = 0,
): Omit<ZonalRow, 'id' | 'name'> {
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let shift = NaN;
  let s1 = 0; // sum of w (v - shift)
  let s2 = 0; // sum of w (v - shift)^2
  const nd = nodata ?? NaN;
  if (s) {
    const sp = s.spans;
    const ws = s.weights;
    const n4 = 4 * s.length;
    for (let k = 0; k < n4; k += 4) {
      const at = (sp[k]! - offsetY) * gridWidth - offsetX;
      const end = at + sp[k + 2]!;
      const wt = ws[k + 3]!;
      if (wt === 1) {
        // w = 1: w * v = v and (w * d) * d = d * d exactly, so this is windowStats' arithmetic
        for (let j = at + sp[k + 1]!; j < end; j++) {
          const v = values[j]!;
          if (v === nd || v !== v) continue; // the sentinel first: most skipped cells are nodata
          if (shift !== shift) shift = v;
          const d = v - shift;
          count += 1;
          sum += v;
          s1 += d;
          s2 += d * d;
          if (v < min) min = v;
          if (v > max) max = v;
        }
      } else {
        for (let j = at + sp[k + 1]!; j < end; j++) {
          const v = values[j]!;
          if (v === nd || v !== v) continue;
          if (shift !== shift) shift = v;
          const d = v - shift;
          count += wt;
          sum += wt * v;
          s1 += wt * d;
          s2 += wt * d * d;
          if (v < min) min = v;
          if (v > max) max = v;
        }
      }
    }
  }
  return finish(count, sum, min, max, s1, s2);
}

/** The stats from the running sums (s1, s2: shifted first and second moments, weighted). */
function finish(count: number, sum: number, min: number, max: number, s1: number, s2: number): Omit<ZonalRow, 'id' | 'name'> {
  if (!(count > 0)) return { count: 0, sum: 0, mean: null, min: null, max: null, stdev: null };
  const m1 = s1 / count;
  return { count, sum, mean: sum / count, min, max, stdev: Math.sqrt(Math.max(0, s2 / count - m1 * m1)) };
}

export interface ZonalOptions {
  rule: ZoneRule;
  coverage: CoverageFn;
  /** 0-based band of `raster` (default 0). */
  band?: number;
  /** Multiply every valid value by this (e.g. a unit conversion); default 1. */
  scale?: number;
  signal?: AbortSignal;
  onProgress?: (p: { zonesDone: number; zonesTotal: number }) => void;
}

/** The values a zonal pass reads: the band, scaled (nodata -> NaN) when a scale is given. */
function bandValues(raster: Raster, opts: { band?: number; scale?: number }): { values: ArrayLike<number>; nodata: number | null } {
  const band = raster.bands[opts.band ?? 0]!;
  const scale = opts.scale ?? 1;
  if (scale === 1) return { values: band, nodata: raster.nodata };
  return { values: Float64Array.from(band, (v) => (isNodata(v, raster.nodata) ? NaN : v * scale)), nodata: null };
}

const rowOf = (zone: Zone, stats: Omit<ZonalRow, 'id' | 'name'>): ZonalRow => ({ id: zone.id, ...(zone.name !== undefined ? { name: zone.name } : {}), ...stats });

/** One row per zone, in the zones' order; a zone outside the raster gives count 0, not an error. */
export function zonalStats(raster: Raster, zones: Zones, opts: ZonalOptions): ZonalRow[] {
  const windows = zones.zones.map((zone) => opts.coverage(zone, zones.crs, raster.grid, opts.rule));
  return zonalStatsOfWindows(raster, zones, windows, opts);
}

/**
 * Like {@link zonalStats} with the coverage windows already computed, possibly on a larger grid of
 * which `raster` is the window starting at cell (`offsetX`, `offsetY`) (read only what the zones need).
 */
export function zonalStatsOfWindows(
  raster: Raster,
  zones: Zones,
  windows: (CoverageWindow | null)[],
  opts: Omit<ZonalOptions, 'coverage' | 'rule'> & { offsetX?: number; offsetY?: number },
): ZonalRow[] {
  const { values, nodata } = bandValues(raster, opts);
  const dx = opts.offsetX ?? 0;
  const dy = opts.offsetY ?? 0;
  return zones.zones.map((zone, i) => {
    opts.signal?.throwIfAborted();
    const w0 = windows[i] ?? null;
    const w = w0 && (dx || dy) ? { ...w0, x0: w0.x0 - dx, y0: w0.y0 - dy } : w0;
    const row = rowOf(zone, windowStats(values, nodata, raster.grid.width, w));
    opts.onProgress?.({ zonesDone: i + 1, zonesTotal: zones.zones.length });
    return row;
  });
}

/**
 * Zonal statistics of `raster` over `zones` under `rule`, zone by zone straight from the coverage
 * kernel's row spans (src/geo/coverage.ts `coverageSpans`): the fast path, with the same numbers, bit
 * for bit, as {@link zonalStats} with `coverageWindow`. `kernel`: a `WasmKernel` runs the WASM coverage
 * kernel (its spans are read in place, nothing is copied out), anything else the TypeScript twin.
 * Memory: the kernel's scratch for one zone at a time (O(vertices + window width + height + spans)),
 * plus a scaled copy of the band when `scale` is given. Errors as `coverageWindow`.
 */
export function zonalStatsOf(
  raster: Raster,
  zones: Zones,
  rule: ZoneRule,
  kernel?: ImpactKernel | { readonly exports?: unknown } | null,
  opts: Omit<ZonalOptions, 'coverage' | 'rule'> = {},
): ZonalRow[] {
  const { values, nodata } = bandValues(raster, opts);
  const width = raster.grid.width;
  return zones.zones.map((zone, i) => {
    opts.signal?.throwIfAborted();
    const z = zoneSpans(zone, zones.crs, raster.grid, rule, kernel, true);
    const row = rowOf(zone, spanStats(values, nodata, width, z && z.spans, z ? -z.originX : 0, z ? -z.originY : 0));
    opts.onProgress?.({ zonesDone: i + 1, zonesTotal: zones.zones.length });
    return row;
  });
}

/**
 * Like {@link zonalStatsOfWindows} with row spans (`coverageSpans`, grid cells) in place of windows,
 * possibly on a larger grid of which `raster` is the window starting at cell (`offsetX`, `offsetY`).
 * `E_USAGE` when a zone's spans reach outside the raster.
 */
export function zonalStatsOfSpans(
  raster: Raster,
  zones: Zones,
  spans: (CoverageSpans | null)[],
  opts: Omit<ZonalOptions, 'coverage' | 'rule'> & { offsetX?: number; offsetY?: number } = {},
): ZonalRow[] {
  const dx = opts.offsetX ?? 0;
  const dy = opts.offsetY ?? 0;
  const { width, height } = raster.grid;
  spans.forEach((s, i) => {
    if (s && (s.x0 < dx || s.y0 < dy || s.x0 + s.width > dx + width || s.y0 + s.height > dy + height)) {
      throw new IbfError('E_USAGE', `zone ${JSON.stringify(zones.zones[i]?.id)} covers cells [${s.x0}, ${s.x0 + s.width}) x [${s.y0}, ${s.y0 + s.height}) but the raster holds [${dx}, ${dx + width}) x [${dy}, ${dy + height})`, {
        hint: 'Read the raster window given by unionWindow(spans), and pass its top-left cell as offsetX / offsetY.',
      });
    }
  });
  const { values, nodata } = bandValues(raster, opts);
  return zones.zones.map((zone, i) => {
    opts.signal?.throwIfAborted();
    const row = rowOf(zone, spanStats(values, nodata, width, spans[i] ?? null, dx, dy));
    opts.onProgress?.({ zonesDone: i + 1, zonesTotal: zones.zones.length });
    return row;
  });
}

/** The smallest window `[x0, y0, x1, y1)` holding every non-null coverage window (or spans' box), or null. */
export function unionWindow(windows: ({ x0: number; y0: number; width: number; height: number } | null)[]): [number, number, number, number] | null {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const w of windows) {
    if (!w) continue;
    x0 = Math.min(x0, w.x0);
    y0 = Math.min(y0, w.y0);
    x1 = Math.max(x1, w.x0 + w.width);
    y1 = Math.max(y1, w.y0 + w.height);
  }
  return x0 === Infinity ? null : [x0, y0, x1, y1];
}

/** CSV text of zonal rows with the chosen stats (RFC 4180 quoting). */
export function zonalCsv(rows: ZonalRow[], stats: readonly ZonalStat[]): string {
  const q = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const hasName = rows.some((r) => r.name !== undefined);
  const head = ['id', ...(hasName ? ['name'] : []), ...stats];
  const lines = rows.map((r) => [q(r.id), ...(hasName ? [q(r.name ?? '')] : []), ...stats.map((s) => (r[s] === null ? '' : String(r[s])))].join(','));
  return `${[head.join(','), ...lines].join('\n')}\n`;
}
