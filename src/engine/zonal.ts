/**
 * @module engine/zonal
 * Zonal statistics of one raster band over admin zones, as exactextract defines them: under the
 * `coverage` rule each cell counts with the fraction of its area inside the zone (count = sum of
 * weights, sum = sum of weight x value, mean = sum / count, stdev = weighted population standard
 * deviation); `min` and `max` are unweighted, over cells with a weight > 0. Nodata cells never count.
 * Under `centre` and `all-touched` every weight is 0 or 1, which gives rasterstats' numbers.
 */
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
  const band = raster.bands[opts.band ?? 0]!;
  const scale = opts.scale ?? 1;
  const values = scale === 1 ? band : Float64Array.from(band, (v) => (isNodata(v, raster.nodata) ? NaN : v * scale));
  const nodata = scale === 1 ? raster.nodata : null;
  const dx = opts.offsetX ?? 0;
  const dy = opts.offsetY ?? 0;
  return zones.zones.map((zone, i) => {
    opts.signal?.throwIfAborted();
    const w0 = windows[i] ?? null;
    const w = w0 && (dx || dy) ? { ...w0, x0: w0.x0 - dx, y0: w0.y0 - dy } : w0;
    const row = { id: zone.id, ...(zone.name !== undefined ? { name: zone.name } : {}), ...windowStats(values, nodata, raster.grid.width, w) };
    opts.onProgress?.({ zonesDone: i + 1, zonesTotal: zones.zones.length });
    return row;
  });
}

/** The smallest window `[x0, y0, x1, y1)` holding every non-null coverage window, or null. */
export function unionWindow(windows: (CoverageWindow | null)[]): [number, number, number, number] | null {
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
