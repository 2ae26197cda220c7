/**
 * @module engine/run
 * Runs a plan: map every tile (on this thread, or on a worker pool where each worker reads its own
 * windows), reduce as tiles finish, report progress (tiles, cells per second, time left), stop on abort.
 * Per-cell outputs (damage, EAD) go to `onTile` tile by tile, so nothing grid-sized is held here.
 */
import { IbfError } from '../errors.js';
import type { Pool, PoolLogger } from '../pool/pool.js';
import type { ImpactKernel, ImpactPartial } from '../kernels/types.js';
import { planSlice, type AssessPlan } from './plan.js';
import { Reducer } from './reduce.js';
import { SourceCache } from './sources.js';
import { mapTile, resamplePlanFor, type TileResult } from './tile.js';
import type { CellWindow } from '../geo/resample.js';

export interface Progress {
  tilesDone: number;
  tilesTotal: number;
  cellsDone: number;
  cellsTotal: number;
  /** Target cells per second since the start (all bands of a cell count once). */
  cellsPerSecond: number;
  /** Seconds left at the current rate; null before the first tile. */
  etaSeconds: number | null;
  elapsedSeconds: number;
}

export interface RunPlanOptions {
  kernel: ImpactKernel;
  /** Workers to run tiles on; without one, tiles run one after the other on this thread. */
  pool?: Pool;
  /** Opened sources for tiles run on this thread (Node passes one that opens file paths). */
  cache?: SourceCache;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Receives every tile's result (in completion order) before it is reduced: write per-cell outputs here. */
  onTile?: (r: TileResult) => void | Promise<void>;
  logger?: PoolLogger;
}

export interface PlanOutput {
  /** Slot 0: the whole grid; slot z + 1: zone z. */
  partials: ImpactPartial[];
  excludedCells: number;
  /** Milliseconds: read, resample and kernel summed over tiles (CPU time across workers); reduce and wall on this thread. */
  phases: { read: number; resample: number; kernel: number; reduce: number; wall: number };
  tiles: number;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** The windows of its own grid each layer of tile `t` reads (for cutting decoded sources). */
function sourceWindows(plan: AssessPlan, t: number, cache: SourceCache) {
  const T = plan.tiles[t]!;
  const win = (layer: AssessPlan['hazard'] | NonNullable<AssessPlan['fraction']> | undefined, sameAsHazard = false): CellWindow | null => {
    if (!layer) return null;
    if (layer.source.kind !== 'raster') return null;
    const method = sameAsHazard ? plan.hazard.method : layer.method;
    if (method === 'none') return T;
    return resamplePlanFor(sameAsHazard ? { ...layer, method } : layer, plan.grid, cache).sourceWindow(T);
  };
  return {
    exposure: T,
    hazard: win(plan.hazard),
    fraction: win(plan.fraction, plan.hazard.aggregate),
    classes: win(plan.classes),
  };
}

/** Maps every tile of `plan`, reduces, and returns the partials. Aborting rejects with the signal's reason. */
export async function runPlan(plan: AssessPlan, opts: RunPlanOptions): Promise<PlanOutput> {
  const t0 = now();
  const nT = plan.tiles.length;
  const reducer = new Reducer(plan.zones.length + 1, plan.nBands);
  const phases = { read: 0, resample: 0, kernel: 0, reduce: 0, wall: 0 };
  const cellsTotal = plan.tiles.reduce((s, T) => s + (T[2] - T[0]) * (T[3] - T[1]), 0);
  let tilesDone = 0;
  let cellsDone = 0;
  const done = async (r: TileResult) => {
    opts.signal?.throwIfAborted();
    await opts.onTile?.(r);
    const t1 = now();
    reducer.add(r);
    phases.reduce += now() - t1;
    phases.read += r.ms.read;
    phases.resample += r.ms.resample;
    phases.kernel += r.ms.kernel;
    tilesDone++;
    cellsDone += r.cells;
    const elapsed = (now() - t0) / 1000;
    const rate = elapsed > 0 ? cellsDone / elapsed : 0;
    opts.onProgress?.({ tilesDone, tilesTotal: nT, cellsDone, cellsTotal, cellsPerSecond: rate, etaSeconds: rate > 0 ? (cellsTotal - cellsDone) / rate : null, elapsedSeconds: elapsed });
  };
  const mainCache = opts.cache ?? new SourceCache();
  try {
    if (opts.pool && opts.pool.size > 0) {
      const pool = opts.pool;
      // tiles are posted a few per worker at a time: bounded memory for their arguments and results,
      // and a bounded number of abort listeners on the signal
      const inFlight = Math.max(2, 2 * pool.size);
      const controller = new AbortController();
      const signal = opts.signal ? AbortSignal.any([opts.signal, controller.signal]) : controller.signal;
      let next = 0;
      let failure: unknown;
      const worker = async (): Promise<void> => {
        while (failure === undefined && next < nT) {
          const t = next++;
          try {
            const r = await pool.run('assessTile', () => ({ plan: planSlice(plan, t, sourceWindows(plan, t, mainCache)), tile: t }), { signal });
            await done(r);
          } catch (e) {
            if (failure === undefined) {
              failure = e;
              controller.abort(e);
            }
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(inFlight, nT) }, worker));
      if (failure !== undefined) throw failure;
    } else {
      for (let t = 0; t < nT; t++) {
        opts.signal?.throwIfAborted();
        await done(await mapTile(plan, t, { kernel: opts.kernel, cache: mainCache, signal: opts.signal }));
        // let timers and I/O (progress output, Ctrl-C) run between tiles
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
  } finally {
    if (!opts.cache) await mainCache.close();
  }
  if (tilesDone !== nT) throw new IbfError('E_KERNEL', `${tilesDone} of ${nT} tiles finished`);
  phases.wall = now() - t0;
  return {
    partials: Array.from({ length: plan.zones.length + 1 }, (_, s) => reducer.partial(s)),
    excludedCells: reducer.excludedCells,
    phases,
    tiles: nT,
  };
}
