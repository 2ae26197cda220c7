/**
 * @module engine/assess
 * Assessment of rasters already on one grid: hazard bands x exposure x damage function(s), summed.
 * Runtime-neutral: inputs are decoded rasters and a kernel instance; files, hashes and outputs are the
 * caller's (see src/node/run-scenario.ts). Cells are fed to the kernel in chunks of whole kernel
 * blocks, so memory stays bounded by the chunk and results do not depend on the raster's size.
 */
import { IbfError } from '../errors.js';
import { BLOCK } from '../kernels/abi.js';
import { STAT, STATS_PER_BAND, ZONE_STAT, emptyPartial, mergePartial, type ImpactInputs, type ImpactKernel, type ImpactPartial } from '../kernels/types.js';
import { toImpactWire } from '../pool/protocol.js';
import type { Pool } from '../pool/pool.js';
import type { DamageFunction } from '../model/damage-function.js';
import { assertSameGrid, cellCount, type Grid } from '../model/grid.js';
import type { Raster } from '../model/raster.js';
import { inUnit } from '../model/units.js';
import type { Totals, ZoneResult } from './result.js';
import type { CoverageWindow } from '../model/zones.js';
import { assessAggregated, nearestIndex, type NearestHazard } from './aggregate.js';

/** Cells per kernel call: 256 kernel blocks (512 Ki cells; ~2 MiB per f32 band). */
export const CHUNK_CELLS = BLOCK * 256;

export interface AssessRastersInput {
  /** Hazard intensity bands (hazard unit), on the exposure grid. */
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
  /** Affected when intensity >= this (hazard unit); undefined = any intensity > 0. */
  affectedThreshold?: number;
  /** Also return the per-cell damage raster (exposure unit, float32, NaN nodata). */
  damageRaster?: boolean;
  /** Zones with their coverage windows on the exposure grid (see src/geo/coverage.ts). */
  zones?: Array<{ id: string; name?: string; window: CoverageWindow | null }>;
  /**
   * Set when `hazard` is not on the exposure grid yet but is the window `window` of `plan.source`, to be
   * brought onto it by nearest-neighbour `plan` (readAligned with `deferNearest`). Without `classIndex`
   * the bands are then never upsampled: exposure is aggregated per (hazard cell, zone) and the kernel
   * runs on that table (src/engine/aggregate.ts; same sums up to summation order). With `classIndex`
   * the hazard is upsampled first and assessed per cell.
   */
  nearest?: NearestHazard;
}

export interface AssessRastersOptions {
  kernel: ImpactKernel;
  signal?: AbortSignal;
  /** Called after every chunk with cells done and total. */
  onProgress?: (p: { cellsDone: number; cellsTotal: number }) => void;
  chunkCells?: number;
  /** Worker pool to run the chunks on (src/pool); without one they run on this thread with `kernel`. */
  pool?: Pool;
}

export interface AssessRastersOutput {
  totals: Totals;
  zones: ZoneResult[];
  partial: ImpactPartial;
  /** The curves actually used, in the hazard unit. */
  curves: DamageFunction[];
  damage?: Raster<Float32Array>;
  /** True when the aggregated nearest path ran (`input.nearest` without a class raster). */
  aggregated?: boolean;
}

function toFloat32(a: ArrayLike<number>): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

function toFloat64(a: ArrayLike<number>): Float64Array {
  return a instanceof Float64Array ? a : Float64Array.from(a);
}

/** Totals of zone 0 (the whole grid, until zones come). */
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

export async function assessRasters(input: AssessRastersInput, opts: AssessRastersOptions): Promise<AssessRastersOutput> {
  if (input.nearest) {
    const { plan, window } = input.nearest;
    if (plan.method !== 'nearest') throw new IbfError('E_USAGE', `input.nearest needs a nearest plan, got ${plan.method}`);
    if (!input.classIndex) return assessNearest(input, input.nearest, opts);
    const onGrid = plan.run(input.hazard, { srcWindow: window, kernel: opts.kernel });
    return assessRasters({ ...input, hazard: onGrid, nearest: undefined }, opts);
  }
  const { hazard, exposure, kernel } = { ...input, ...opts };
  assertSameGrid(exposure.grid, hazard.grid, 'exposure', 'hazard');
  const grid: Grid = exposure.grid;
  const n = cellCount(grid);
  const nBands = hazard.bands.length;
  if (nBands < 1) throw new IbfError('E_INPUT_FORMAT', 'the hazard raster has no bands', { hint: 'Check hazard.select: band numbers start at 1.' });
  if (input.classIndex && input.classIndex.length !== n) throw new IbfError('E_GRID_MISMATCH', `class raster has ${input.classIndex.length} cells, exposure ${n}`);
  const curves = input.curves.map((c) => inUnit(c, input.hazardUnit));
  const hazardBands = hazard.bands.map(toFloat32);
  const expValues = toFloat64(exposure.bands[0]!);
  const excluded = input.excluded;
  const chunk = Math.max(BLOCK, Math.floor((opts.chunkCells ?? CHUNK_CELLS) / BLOCK) * BLOCK);
  const run = chunkRunner(kernel, opts);
  const threshold = input.affectedThreshold ?? Number.MIN_VALUE;
  const damage = input.damageRaster ? hazardBands.map(() => new Float32Array(n)) : undefined;
  // Chunks of whole kernel blocks, each a fresh partial (a pure function of the chunk, so it can run in
  // any worker), merged in chunk order: the same bits whatever the pool size.
  let cellsDone = 0;
  const starts = Array.from({ length: Math.ceil(n / chunk) }, (_, i) => i * chunk);
  const parts = await Promise.all(
    starts.map(async (start) => {
      const len = Math.min(chunk, n - start);
      const part = await run(() => {
        const hz = new Float32Array(len * nBands);
        for (let b = 0; b < nBands; b++) hz.set(hazardBands[b]!.subarray(start, start + len), b * len);
        const exp = expValues.slice(start, start + len);
        if (excluded) for (let i = 0; i < len; i++) if (excluded[start + i]) exp[i] = NaN;
        return {
          cells: len, nBands, hazard: hz, exposure: exp, exposureNodata: exposure.nodata, hazardNodata: hazard.nodata,
          curves, classes: input.classIndex?.slice(start, start + len), threshold, damage: Boolean(damage),
        };
      });
      if (damage) for (let b = 0; b < nBands; b++) damage[b]!.set(part.damage!.subarray(b * len, (b + 1) * len), start);
      delete part.damage;
      cellsDone += len;
      opts.onProgress?.({ cellsDone, cellsTotal: n });
      return part;
    }),
  );
  const acc = parts.reduce((a, p) => mergePartial(a, p), emptyPartial(1, nBands));
  const zones = await Promise.all(
    (input.zones ?? []).map(async (z) => {
      const part = z.window ? await zonePartial(z.window, grid.width, hazardBands, expValues, input, curves, run, exposure.nodata, hazard.nodata, chunk) : emptyPartial(1, nBands);
      return { id: z.id, ...(z.name !== undefined ? { name: z.name } : {}), ...totalsOf(part) };
    }),
  );
  return {
    totals: totalsOf(acc),
    zones,
    partial: acc,
    curves,
    damage: damage ? { grid, bands: damage, nodata: NaN } : undefined,
  };
}

/** The aggregated nearest path (src/engine/aggregate.ts): no upsampled bands, one kernel pass over (zone, hazard cell) groups. */
async function assessNearest(input: AssessRastersInput, nh: NearestHazard, opts: AssessRastersOptions): Promise<AssessRastersOutput> {
  const { hazard, exposure } = input;
  const grid: Grid = exposure.grid;
  assertSameGrid(grid, nh.plan.target, 'exposure', 'nearest plan target');
  const n = cellCount(grid);
  if (hazard.bands.length < 1) throw new IbfError('E_INPUT_FORMAT', 'the hazard raster has no bands', { hint: 'Check hazard.select: band numbers start at 1.' });
  const curves = input.curves.map((c) => inUnit(c, input.hazardUnit));
  const chunk = Math.max(BLOCK, Math.floor((opts.chunkCells ?? CHUNK_CELLS) / BLOCK) * BLOCK);
  opts.signal?.throwIfAborted();
  const index = nearestIndex(nh.plan, nh.window, opts.kernel);
  const out = await assessAggregated(
    {
      hazard, index, exposure: toFloat64(exposure.bands[0]!), exposureNodata: exposure.nodata, width: grid.width, excluded: input.excluded,
      curves, threshold: input.affectedThreshold ?? Number.MIN_VALUE, zones: input.zones ?? [], damageRaster: input.damageRaster,
    },
    chunkRunner(opts.kernel, opts),
    opts.kernel,
    chunk,
    opts.signal,
  );
  opts.onProgress?.({ cellsDone: n, cellsTotal: n });
  return {
    totals: totalsOf(out.total),
    zones: (input.zones ?? []).map((z, i) => ({ id: z.id, ...(z.name !== undefined ? { name: z.name } : {}), ...totalsOf(out.zones[i]!) })),
    partial: out.total,
    curves,
    damage: out.damage ? { grid, bands: out.damage, nodata: NaN } : undefined,
    aggregated: true,
  };
}

/**
 * Copies window cells [s, s + len) (row-major within window `w`) out of the grid-sized array `a`
 * (row length `width`) into `out` at `at`.
 */
function gather<T extends Float32Array | Float64Array | Uint8Array>(a: T, width: number, w: CoverageWindow, s: number, len: number, out: T, at = 0): T {
  let done = 0;
  while (done < len) {
    const i = s + done;
    const r = Math.floor(i / w.width);
    const c = i - r * w.width;
    const take = Math.min(w.width - c, len - done);
    const from = (w.y0 + r) * width + w.x0 + c;
    out.set(a.subarray(from, from + take) as T, at + done);
    done += take;
  }
  return out;
}

/**
 * The fused pass over one zone's coverage window, the window's weights as coverage weights, in chunks of
 * whole kernel blocks (fresh partials merged in order, as for the totals).
 */
async function zonePartial(
  w: CoverageWindow,
  width: number,
  hazardBands: Float32Array[],
  exposure: Float64Array,
  input: AssessRastersInput,
  curves: DamageFunction[],
  run: ChunkRun,
  exposureNodata: number | null,
  hazardNodata: number | null,
  chunkCells: number,
): Promise<ImpactPartial> {
  const n = w.width * w.height;
  const nBands = hazardBands.length;
  const chunk = Math.min(chunkCells, n);
  const starts = Array.from({ length: Math.ceil(n / chunk) }, (_, i) => i * chunk);
  const parts = await Promise.all(
    starts.map((s) =>
      run(() => {
        const len = Math.min(chunk, n - s);
        const hz = new Float32Array(len * nBands);
        hazardBands.forEach((band, b) => gather(band, width, w, s, len, hz, b * len));
        const exp = gather(exposure, width, w, s, len, new Float64Array(len));
        if (input.excluded) {
          const ex = gather(input.excluded, width, w, s, len, new Uint8Array(len));
          for (let i = 0; i < len; i++) if (ex[i]) exp[i] = NaN;
        }
        return {
          cells: len, nBands, hazard: hz, exposure: exp, exposureNodata, hazardNodata,
          weights: w.weights.slice(s, s + len), curves,
          classes: input.classIndex ? gather(input.classIndex, width, w, s, len, new Uint8Array(len)) : undefined,
          threshold: input.affectedThreshold ?? Number.MIN_VALUE,
        };
      }),
    ),
  );
  return parts.reduce((a, p) => mergePartial(a, p), emptyPartial(1, nBands));
}

/** Runs one chunk's kernel pass: in a worker of the pool, or on this thread. */
type ChunkRun = (make: () => ImpactInputs) => Promise<ImpactPartial>;

function chunkRunner(kernel: ImpactKernel, opts: AssessRastersOptions): ChunkRun {
  const pool = opts.pool;
  if (pool) return (make) => pool.run('impactZonal', () => toImpactWire(make()), { signal: opts.signal });
  return async (make) => {
    opts.signal?.throwIfAborted();
    const part = kernel.impactZonal(make());
    // let other work (progress output, abort) run between chunks
    await Promise.resolve();
    return part;
  };
}
