/**
 * @module engine/assess
 * Assessment of rasters already decoded in memory: hazard bands x exposure x damage function(s), summed
 * in total and per zone. A front of the tiled engine (src/engine/run.ts) for callers that hold rasters:
 * the rasters become `raster` sources of a plan, cut per tile. Files and scenarios go through
 * src/engine/scenario.ts instead, where each tile reads its own windows.
 */
import { IbfError } from '../errors.js';
import { STAT, STATS_PER_BAND, ZONE_STAT, type ImpactKernel, type ImpactPartial } from '../kernels/types.js';
import type { Pool, PoolLogger } from '../pool/pool.js';
import type { DamageFunction } from '../model/damage-function.js';
import { assertSameGrid, type Grid } from '../model/grid.js';
import type { Raster } from '../model/raster.js';
import { inUnit } from '../model/units.js';
import type { CoverageWindow } from '../model/zones.js';
import type { Totals, ZoneResult } from './result.js';
import type { NearestHazard } from './aggregate.js';
import type { AssessPlan, ZoneSpans } from './plan.js';
import { runPlan, type PlanOutput, type Progress } from './run.js';
import { planTiles } from './tiling.js';
import type { TileResult } from './tile.js';

export interface AssessRastersInput {
  /** Hazard intensity bands (hazard unit), on the exposure grid (or the `nearest.window` of `nearest.plan.source`). */
  hazard: Raster;
  hazardUnit: string;
  /** Exposure value raster (first band used), the target grid. */
  exposure: Raster;
  /** One curve, or one per class when `classIndex` is given. Converted to the hazard unit here. */
  curves: DamageFunction[];
  /** Per-cell index into `curves` (0..curves.length-1), on the exposure grid. */
  classIndex?: Uint8Array;
  /** Cells to leave out entirely (e.g. no class); 1 = excluded. */
  excluded?: Uint8Array;
  /** Hazard fraction in [0, 1] on the hazard's grid: one band for every hazard band, or one per band. */
  fraction?: Raster;
  /** Affected when intensity >= this (hazard unit); undefined = any intensity > 0. */
  affectedThreshold?: number;
  /** Also return the per-cell damage raster (exposure unit, float32, NaN nodata). */
  damageRaster?: boolean;
  /** Zones with their coverage windows on the exposure grid (see src/geo/coverage.ts). */
  zones?: Array<{ id: string; name?: string; window: CoverageWindow | null }>;
  /**
   * Set when `hazard` is not on the exposure grid but is the window `window` of `plan.source`, to be
   * brought onto it by nearest-neighbour `plan`. Without `classIndex` the bands are never upsampled:
   * exposure is summed per hazard cell and the kernel runs on those sums (src/engine/tile.ts).
   */
  nearest?: NearestHazard;
}

export interface AssessRastersOptions {
  kernel: ImpactKernel;
  signal?: AbortSignal;
  /** Called after every tile. */
  onProgress?: (p: Progress) => void;
  /** Cells per tile (rounded to whole units); results do not depend on it. */
  tileCells?: number;
  /** Worker pool to run the tiles on (src/pool); without one they run on this thread with `kernel`. */
  pool?: Pool;
  logger?: PoolLogger;
}

export interface AssessRastersOutput {
  totals: Totals;
  zones: ZoneResult[];
  /** The whole grid's sums. */
  partial: ImpactPartial;
  /** The curves actually used, in the hazard unit. */
  curves: DamageFunction[];
  damage?: Raster<Float32Array>;
  /** True when the aggregated nearest path ran (`input.nearest` without a class raster). */
  aggregated?: boolean;
  phases: PlanOutput['phases'];
  tiles: number;
}

/** Totals of a single-zone partial (the whole grid, or one zone). */
export function totalsOf(p: ImpactPartial, zone = 0): Totals {
  const nb = p.nBands;
  const at = (b: number, s: number) => p.stats[(zone * nb + b) * STATS_PER_BAND + s]!;
  const bands = Array.from({ length: nb }, (_, b) => b);
  return {
    cells: p.zoneStats[zone * 2 + ZONE_STAT.cells]!,
    exposedValue: p.zoneStats[zone * 2 + ZONE_STAT.exposure]!,
    damage: bands.map((b) => at(b, STAT.damage)),
    affectedValue: bands.map((b) => at(b, STAT.affected)),
    maxIntensity: bands.map((b) => (at(b, STAT.cells) > 0 ? at(b, STAT.max) : null)),
    meanIntensity: bands.map((b) => (at(b, STAT.cells) > 0 ? at(b, STAT.intensity) / at(b, STAT.cells) : null)),
    footprintValue: bands.map((b) => at(b, STAT.exposed)),
    hazardCells: bands.map((b) => at(b, STAT.cells)),
  };
}

/** A dense coverage window as spans (runs of one non-zero weight along rows), in grid cells. */
export function windowSpans(w: CoverageWindow | null): ZoneSpans {
  if (!w) return { box: null, spans: new Int32Array(0) };
  const out: number[] = [];
  const bits = new Int32Array(1);
  const f = new Float32Array(bits.buffer);
  for (let r = 0; r < w.height; r++) {
    let c = 0;
    while (c < w.width) {
      const v = w.weights[r * w.width + c]!;
      if (!(v > 0)) {
        c++;
        continue;
      }
      let e = c + 1;
      while (e < w.width && w.weights[r * w.width + e] === v) e++;
      f[0] = v;
      out.push(w.y0 + r, w.x0 + c, w.x0 + e, bits[0]!);
      c = e;
    }
  }
  if (!out.length) return { box: null, spans: new Int32Array(0) };
  return { box: [w.x0, w.y0, w.x0 + w.width, w.y0 + w.height], spans: Int32Array.from(out) };
}

/** Every problem of the in-memory inputs, at once. */
function check(input: AssessRastersInput, grid: Grid): void {
  const n = grid.width * grid.height;
  if (input.hazard.bands.length < 1) throw new IbfError('E_INPUT_FORMAT', 'the hazard raster has no bands', { hint: 'Check hazard.select: band numbers start at 1.' });
  if (input.nearest) {
    if (input.nearest.plan.method !== 'nearest') throw new IbfError('E_USAGE', `input.nearest needs a nearest plan, got ${input.nearest.plan.method}`);
    assertSameGrid(grid, input.nearest.plan.target, 'exposure', 'nearest plan target');
  } else assertSameGrid(grid, input.hazard.grid, 'exposure', 'hazard');
  if (input.classIndex && input.classIndex.length !== n) throw new IbfError('E_GRID_MISMATCH', `class raster has ${input.classIndex.length} cells, exposure ${n}`);
  if (input.excluded && input.excluded.length !== n) throw new IbfError('E_GRID_MISMATCH', `excluded mask has ${input.excluded.length} cells, exposure ${n}`);
  const f = input.fraction;
  if (f) {
    const nb = input.hazard.bands.length;
    if (f.bands.length !== 1 && f.bands.length !== nb) throw new IbfError('E_GRID_MISMATCH', `the fraction raster has ${f.bands.length} bands; it needs 1 or ${nb} (one per hazard band)`);
    assertSameGrid(input.hazard.grid, f.grid, 'hazard', 'fraction');
  }
}

/** Assesses in-memory rasters through the tiled engine. */
export async function assessRasters(input: AssessRastersInput, opts: AssessRastersOptions): Promise<AssessRastersOutput> {
  const grid: Grid = input.exposure.grid;
  check(input, grid);
  const n = grid.width * grid.height;
  const nBands = input.hazard.bands.length;
  const curves = input.curves.map((c) => inUnit(c, input.hazardUnit));
  const nh = input.nearest;
  const aggregate = Boolean(nh) && !input.classIndex;
  const hazardGrid = nh ? nh.plan.source : grid;
  const origin: [number, number] = nh ? [nh.window[0], nh.window[1]] : [0, 0];
  const all = (r: Raster) => Array.from({ length: r.bands.length }, (_, i) => i);
  let classes: AssessPlan['classes'];
  if (input.classIndex || input.excluded) {
    // curve index per cell, 65535 where excluded
    const band = new Uint16Array(n);
    for (let i = 0; i < n; i++) band[i] = input.excluded?.[i] ? 65535 : (input.classIndex?.[i] ?? 0);
    classes = {
      source: { kind: 'raster', raster: { grid, bands: [band], nodata: 65535 }, origin: [0, 0] },
      name: 'classes', grid, bands: [0], as: 'native', method: 'none',
      curveOf: curves.map((_, i) => [i, i] as [number, number]), defaultCurve: -1,
    };
  }
  const plan: AssessPlan = {
    grid,
    tiles: planTiles(grid.width, grid.height, { tileCells: opts.tileCells, nBands, damage: input.damageRaster }),
    nBands,
    exposure: { source: { kind: 'raster', raster: { ...input.exposure, bands: [input.exposure.bands[0]!] }, origin: [0, 0] }, name: 'exposure', grid, bands: [0], as: 'float64' },
    hazard: {
      source: { kind: 'raster', raster: input.hazard, origin }, name: 'hazard', grid: hazardGrid,
      bands: all(input.hazard), as: 'float32', method: nh ? 'nearest' : 'none', aggregate,
    },
    ...(input.fraction ? { fraction: { source: { kind: 'raster', raster: input.fraction, origin }, name: 'fraction', grid: hazardGrid, bands: all(input.fraction), as: 'float32', method: nh ? 'nearest' : 'none' } } : {}),
    ...(classes ? { classes } : {}),
    curves: curves.map((c) => c.spec),
    threshold: input.affectedThreshold ?? Number.MIN_VALUE,
    zones: (input.zones ?? []).map((z) => windowSpans(z.window)),
    cellOutputs: { damage: Boolean(input.damageRaster), ead: null },
  };
  const damage = input.damageRaster ? Array.from({ length: nBands }, () => new Float32Array(n)) : undefined;
  const onTile = damage
    ? (r: TileResult) => {
        const [x0, y0, x1, y1] = r.window;
        const w = x1 - x0;
        for (let b = 0; b < nBands; b++) for (let y = y0; y < y1; y++) damage[b]!.set(r.damage![b]!.subarray((y - y0) * w, (y - y0 + 1) * w), y * grid.width + x0);
      }
    : undefined;
  const out = await runPlan(plan, { kernel: opts.kernel, pool: opts.pool, signal: opts.signal, onProgress: opts.onProgress, onTile, logger: opts.logger });
  const total = out.partials[0]!;
  return {
    totals: totalsOf(total),
    zones: (input.zones ?? []).map((z, i) => ({ id: z.id, ...(z.name !== undefined ? { name: z.name } : {}), ...totalsOf(out.partials[i + 1]!) })),
    partial: total,
    curves,
    ...(damage ? { damage: { grid, bands: damage, nodata: NaN } } : {}),
    ...(aggregate ? { aggregated: true } : {}),
    phases: out.phases,
    tiles: out.tiles,
  };
}
