/**
 * @module engine/steps
 * The assessment as independent steps, for runners whose steps share no memory and may run in fresh
 * isolates (Cloudflare Workflows, queues, batch jobs):
 *
 *     planAssessment(s)          every input checked (as assess does), the tiling: a small summary
 *     runTileBatch(s, {from,to}) re-plans (planning is deterministic), maps tiles [from, to), returns
 *                                the batch's reducer state (exact sums as components, maxima)
 *     finishAssessment(s, [...]) merges every batch state, derives, builds the result
 *
 * Every value between steps is plain JSON (non-finite numbers and -0 as strings), and merging batch
 * states in any order gives the bits one reducer over every tile gives, so the result is the one
 * `assess()` gives for the same scenario (only `manifest.createdAt` differs). Steps after the plan skip
 * the class and fraction pre-scans (the plan step did them), so a batch reads only its own windows.
 *
 * The steps trust that the inputs do not change during a run (pin object versions): each step reads
 * them again. Batch states carry a key of the plan (scenario and tiling), and `finishAssessment`
 * refuses states of another plan and tiles covered twice or not at all.
 */
import { IbfError, type Problem } from '../errors.js';
import type { ImpactKernel } from '../kernels/types.js';
import type { Scenario } from '../model/scenario.js';
import type { PoolLogger } from '../pool/pool.js';
import { canonicalJson, sha256Hex } from './manifest.js';
import type { AssessPlan } from './plan.js';
import { Reducer, type ReducerState } from './reduce.js';
import type { AssessResult } from './result.js';
import { buildResult, planScenario, type PlannedAssessment, type ScenarioIO } from './scenario.js';
import { SourceCache } from './sources.js';
import { mapTile } from './tile.js';

/** What every step needs: the same in every step of one run. */
export interface StepOptions {
  /** Reaches the scenario's files (R2 objects on the edge, paths in Node). */
  io: ScenarioIO;
  kernel: ImpactKernel;
  /** Cells per tile (whole units); every step of a run must use the same value. */
  tileCells?: number;
  logger?: PoolLogger;
  signal?: AbortSignal;
}

/** Tiles `from` (inclusive) to `to` (exclusive), in plan order. */
export interface TileRange {
  from: number;
  to: number;
}

/** What the plan step returns (plain JSON). */
export interface AssessmentSummary {
  /** Key of the plan (sha256 of the scenario and the tiling); batch states carry it. */
  plan: string;
  tiles: number;
  /** Target cells (the exposure grid). */
  cells: number;
  grid: { width: number; height: number };
  nBands: number;
  zones: number;
  /** Contiguous tile ranges, when `batches` or `maxTilesPerBatch` was given. */
  batches?: TileRange[];
  warnings: string[];
}

/** What a batch step returns (plain JSON; see {@link ReducerState} for its size). */
export interface BatchPartial {
  plan: string;
  /** Tiles in the plan. */
  tiles: number;
  from: number;
  to: number;
  /** Target cells in the batch's tiles. */
  cells: number;
  state: ReducerState;
}

/** The key of a plan: batch states of one run must share it. */
async function planKey(s: Scenario, plan: AssessPlan): Promise<string> {
  return sha256Hex(canonicalJson({ scenario: s, grid: plan.grid, nBands: plan.nBands, zones: plan.zones.length, tiles: plan.tiles }));
}

const tileCells = (plan: AssessPlan, from = 0, to = plan.tiles.length) =>
  plan.tiles.slice(from, to).reduce((n, T) => n + (T[2] - T[0]) * (T[3] - T[1]), 0);

/** Plans `s` with its own source cache, closed afterwards. */
async function withPlan<T>(s: Scenario, opts: StepOptions, prescan: boolean, f: (p: PlannedAssessment, cache: SourceCache) => Promise<T>): Promise<T> {
  const cache = new SourceCache(opts.io.openPath);
  try {
    const planned = await planScenario(s, { io: opts.io, kernel: opts.kernel, tileCells: opts.tileCells, signal: opts.signal }, cache, { prescan });
    return await f(planned, cache);
  } finally {
    await cache.close();
  }
}

/**
 * Splits `nTiles` tiles into contiguous ranges: `batches` of them (sizes differing by at most one; fewer
 * when there are fewer tiles), or as few as hold at most `maxTilesPerBatch` tiles each, but no more than
 * `maxBatches` (a runner's step limit: Workflows allow 1 024 steps on the free plan, 10 000 paid).
 */
export function tileBatches(nTiles: number, split: { batches: number } | { maxTilesPerBatch: number; maxBatches?: number }): TileRange[] {
  if (!(Number.isInteger(nTiles) && nTiles >= 0)) throw new IbfError('E_USAGE', `tileBatches: ${nTiles} tiles is not a count`);
  const cap = 'maxBatches' in split && split.maxBatches !== undefined ? split.maxBatches : Infinity;
  const n = 'batches' in split ? split.batches : Math.min(Math.ceil(nTiles / split.maxTilesPerBatch), cap);
  const what = 'batches' in split ? `batches ${split.batches}` : `maxTilesPerBatch ${split.maxTilesPerBatch}${cap < Infinity ? ` and maxBatches ${cap}` : ''}`;
  if (!(Number.isInteger(n) && (n >= 1 || nTiles === 0))) {
    throw new IbfError('E_USAGE', `tileBatches: ${what} is not usable`, { hint: 'Give a whole number >= 1.' });
  }
  const k = Math.min(n, nTiles);
  return Array.from({ length: k }, (_, i) => ({ from: Math.floor((i * nTiles) / k), to: Math.floor(((i + 1) * nTiles) / k) }));
}

/**
 * The plan step: opens and checks every input (all problems at once, as `assess` does, pre-scans
 * included), and summarises the plan. With `batches` (a count) or `maxTilesPerBatch` it also cuts the
 * tiles into ranges for {@link runTileBatch}.
 */
export async function planAssessment(s: Scenario, opts: StepOptions & { batches?: number; maxTilesPerBatch?: number; maxBatches?: number }): Promise<AssessmentSummary> {
  return withPlan(s, opts, true, async ({ plan, warnings }) => {
    for (const w of warnings) opts.logger?.warn(w);
    const nT = plan.tiles.length;
    const split = opts.batches !== undefined ? { batches: opts.batches } : opts.maxTilesPerBatch !== undefined ? { maxTilesPerBatch: opts.maxTilesPerBatch, maxBatches: opts.maxBatches } : undefined;
    return {
      plan: await planKey(s, plan),
      tiles: nT,
      cells: tileCells(plan),
      grid: { width: plan.grid.width, height: plan.grid.height },
      nBands: plan.nBands,
      zones: plan.zones.length,
      ...(split ? { batches: tileBatches(nT, split) } : {}),
      warnings,
    };
  });
}

/**
 * A batch step: re-plans `s` (without the pre-scans), maps tiles `[from, to)` (each reads its own
 * windows) and returns their reducer state. Pure: a retry gives the same partial.
 */
export async function runTileBatch(s: Scenario, opts: StepOptions, range: TileRange, signal = opts.signal): Promise<BatchPartial> {
  return withPlan(s, { ...opts, signal }, false, async ({ plan }, cache) => {
    const nT = plan.tiles.length;
    const { from, to } = range;
    if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from < to && to <= nT)) {
      throw new IbfError('E_USAGE', `tile range ${from}..${to} is not within the plan's ${nT} tiles`, { hint: 'Use the ranges planAssessment (or tileBatches) gave, with the same tileCells.' });
    }
    const reducer = new Reducer(plan.zones.length + 1, plan.nBands);
    for (let t = from; t < to; t++) {
      signal?.throwIfAborted();
      reducer.add(await mapTile(plan, t, { kernel: opts.kernel, cache, signal }));
    }
    opts.logger?.debug(`assess: tiles ${from}..${to - 1} of ${nT} mapped`, { from, to, tiles: nT });
    return { plan: await planKey(s, plan), tiles: nT, from, to, cells: tileCells(plan, from, to), state: reducer.state() };
  });
}

/** Tile numbers as text: "3-5, 9". */
function ranges(tiles: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < tiles.length; ) {
    let j = i;
    while (j + 1 < tiles.length && tiles[j + 1] === tiles[j]! + 1) j++;
    out.push(i === j ? `${tiles[i]}` : `${tiles[i]}-${tiles[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

/**
 * The finish step: re-plans `s` (without the pre-scans), checks that the batches cover every tile of
 * the plan exactly once (`E_USAGE` naming the tiles otherwise), merges their states in any order, and
 * derives and builds the result: the `AssessResult` `assess()` gives (the manifest records the inputs
 * this step read). `onPlan` sees the plan (e.g. its zones, for zones.geojson).
 */
export async function finishAssessment(
  s: Scenario,
  opts: StepOptions & { scenarioSha256?: string; onPlan?: (p: PlannedAssessment) => void | Promise<void> },
  partials: readonly BatchPartial[],
): Promise<AssessResult> {
  return withPlan(s, opts, false, async (planned) => {
    const { plan } = planned;
    const nT = plan.tiles.length;
    const key = await planKey(s, plan);
    const problems: Problem[] = [];
    const seen = Array.from({ length: nT }, (): number[] => []);
    partials.forEach((p, i) => {
      if (p?.plan !== key || p.tiles !== nT) {
        problems.push({ path: `partials[${i}]`, message: `belongs to another plan (${p?.tiles} tiles, key ${String(p?.plan).slice(0, 12)}; this one: ${nT} tiles, key ${key.slice(0, 12)})` });
        return;
      }
      if (!(Number.isInteger(p.from) && Number.isInteger(p.to) && p.from >= 0 && p.from < p.to && p.to <= nT)) {
        problems.push({ path: `partials[${i}]`, message: `tile range ${p.from}..${p.to} is not within the plan's ${nT} tiles` });
        return;
      }
      for (let t = p.from; t < p.to; t++) seen[t]!.push(i);
    });
    if (!problems.length) {
      const missing = seen.flatMap((b, t) => (b.length === 0 ? [t] : []));
      const repeated = seen.flatMap((b, t) => (b.length > 1 ? [t] : []));
      if (missing.length) problems.push({ path: 'tiles', message: `tile(s) ${ranges(missing)} of ${nT} are in no batch` });
      if (repeated.length) {
        const by = [...new Set(repeated.map((t) => seen[t]!.join(',')))].map((b) => `partials[${b.split(',').join('], partials[')}]`);
        problems.push({ path: 'tiles', message: `tile(s) ${ranges(repeated)} are in more than one batch (${by.join('; ')})` });
      }
    }
    if (problems.length) {
      throw IbfError.fromProblems('E_USAGE', `the tile batches do not cover the plan's ${nT} tiles exactly once`, problems,
        'Pass every batch partial of the run once, each made with the scenario and tileCells of this step (see planAssessment().batches).');
    }
    const reducer = new Reducer(plan.zones.length + 1, plan.nBands);
    for (const p of partials) reducer.merge(p.state);
    await opts.onPlan?.(planned);
    const partial = Array.from({ length: reducer.nSlots }, (_, slot) => reducer.partial(slot));
    return buildResult(planned, { partials: partial, excludedCells: reducer.excludedCells }, opts);
  });
}
