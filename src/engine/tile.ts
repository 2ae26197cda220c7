/**
 * @module engine/tile
 * `mapTile(plan, t)`: the map step of the engine, a pure function of the plan and the tile index, so it
 * runs on this thread, in a pool worker or in an edge step, and can be retried.
 *
 * A tile reads its own windows (exposure; hazard, fraction and classes resampled onto the tile with the
 * plan's method, reading only the source window the tile needs), then, unit by unit
 * (src/engine/tiling.ts), runs the fused kernel once for the unit's cells (slot 0: the totals) and once
 * per zone for the zone's cells in the unit with their coverage weights (slot z + 1). Every call starts
 * from zero, so a unit's sums do not depend on the tile around it; the reduce step adds them exactly.
 *
 * Aggregated nearest path (`hazard.aggregate`): with nearest resampling every exposure cell reads one
 * hazard cell, and the kernel's band sums only need the hazard value and sums over the cells that share
 * it (exposed / damage / affected = [x > 0] / mdr(x) f / [x >= t] times sum(w e); cells = sum(w);
 * intensity = x sum(w)). So within each unit (and each zone in it) exposure is summed per hazard cell
 * first, in row-major order, and the kernel runs over that table for every band: for an ensemble of 51
 * members on a coarser hazard grid, exposure and zones are read and summed once, not 51 times. Which
 * hazard cell an exposure cell reads is the resampler's own answer (`nearestIndex`), so it is gdalwarp's.
 * The kernel's `cells`, `intensity` and zone slots need float64 sums of weights that its float32 weight
 * input cannot carry, so they are filled in here.
 */
import { IbfError } from '../errors.js';
import { planResample, type CellWindow, type ResamplePlan } from '../geo/resample.js';
import { STAT, STATS_PER_BAND, STATS_PER_ZONE, ZONE_STAT, type ImpactInputs, type ImpactKernel, type ImpactPartial } from '../kernels/types.js';
import { DamageFunction } from '../model/damage-function.js';
import type { Grid } from '../model/grid.js';
import type { BandArray, Raster } from '../model/raster.js';
import { eadBands } from './derive/index.js';
import { nearestIndex } from './aggregate.js';
import type { AlignedLayer, AssessPlan, ZoneSpans } from './plan.js';
import { readLayerWindow, type LayerRef, type SourceCache } from './sources.js';
import { unitsOf } from './tiling.js';

/** What one tile gives the reduce step. */
export interface TileResult {
  tile: number;
  window: CellWindow;
  cells: number;
  /** Length of one record: nBands x 6 band slots, then 2 zone slots (src/kernels/types.ts order). */
  recordLength: number;
  /** Unit partials, one record each, in unit order and zone order within a unit. */
  records: Float64Array;
  /** Per record: 0 = totals, z + 1 = zone z. */
  slots: Int32Array;
  /** Cells left out because their class is nodata. */
  excludedCells: number;
  /** Per-cell damage per band on the tile window (exposure unit; NaN where hazard or exposure is nodata). */
  damage?: Float32Array[];
  /** Per-cell EAD on the tile window (exposure unit / year), for return-period bands. */
  ead?: Float32Array;
  /** Milliseconds spent reading (decoding), resampling, and in the kernel, in this tile. */
  ms: { read: number; resample: number; kernel: number };
}

export interface TileContext {
  kernel: ImpactKernel;
  cache: SourceCache;
  signal?: AbortSignal;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

type Typed = Int32Array | Float32Array | Float64Array | Uint8Array;

/**
 * Window and kernel input buffers kept across the tiles of one context (a worker keeps its own), so a
 * tile does not allocate (and the collector does not free) tens of MB each time: with two workers in one
 * process, that garbage cost more CPU on V8's shared GC threads than the second worker gained. Tiles that
 * overlap on one context (a worker runs up to two at once) each claim their own set.
 */
export class Scratch {
  private arrays = new Map<string, Typed>();
  busy = false;

  get<T extends Typed>(name: string, Ctor: new (n: number) => T, n: number): T {
    if (this.busy === false) throw new Error('scratch buffers used outside a tile');
    const a = this.arrays.get(name);
    if (a && a.length >= n && a.constructor === Ctor) return a.subarray(0, n) as T;
    const b = new Ctor(n);
    this.arrays.set(name, b);
    return b;
  }
}

const scratchMemo = new WeakMap<SourceCache, Scratch[]>();
/** Sets kept per context: one per tile in flight at once (beyond that, a set is dropped when released). */
const MAX_SCRATCH_SETS = 4;

/** The context's scratch buffers, claimed for one tile (fresh ones when another tile holds them). */
function claimScratch(cache: SourceCache): Scratch {
  let sets = scratchMemo.get(cache);
  if (!sets) scratchMemo.set(cache, (sets = []));
  let sc = sets.find((x) => !x.busy);
  if (!sc) {
    sc = new Scratch();
    if (sets.length < MAX_SCRATCH_SETS) sets.push(sc);
  }
  sc.busy = true;
  return sc;
}

const memos = new WeakMap<SourceCache, Map<string, unknown>>();

/** `make()` once per context and key (a worker keeps resampling plans and curves across tiles). */
function memo<T>(cache: SourceCache, key: string, make: () => T): T {
  let m = memos.get(cache);
  if (!m) memos.set(cache, (m = new Map()));
  if (!m.has(key)) {
    if (m.size > 64) m.clear();
    m.set(key, make());
  }
  return m.get(key) as T;
}

export function resamplePlanFor(layer: AlignedLayer, target: Grid, cache: SourceCache): ResamplePlan {
  return memo(cache, `plan:${JSON.stringify([layer.grid, target, layer.method])}`, () => planResample(layer.grid, target, { method: layer.method as 'nearest' | 'bilinear' }));
}

function curvesOf(plan: AssessPlan, cache: SourceCache): DamageFunction[] {
  return memo(cache, `curves:${JSON.stringify(plan.curves)}`, () => plan.curves.map((s) => new DamageFunction(s)));
}

/** Reused window arrays for a float layer (`key` names the set), or undefined for a native one. */
function windowArrays(layer: LayerRef, cells: number, buffers: Scratch | undefined, key: string): BandArray[] | undefined {
  if (!buffers || layer.as === 'native') return undefined;
  return layer.bands.map((_, b) => (layer.as === 'float32' ? buffers.get(`${key}:${b}`, Float32Array, cells) : buffers.get(`${key}:${b}`, Float64Array, cells)));
}

/**
 * `layer` on the tile window `T` of the target grid, as float32 bands with NaN nodata when resampled.
 * Read into `buffers` (named `key`) when the layer is on the target grid already.
 */
export async function aligned(layer: AlignedLayer, target: Grid, T: CellWindow, ctx: TileContext, ms: TileResult['ms'], buffers?: Scratch, key = 'aligned'): Promise<Raster> {
  let t0 = now();
  if (layer.method === 'none') {
    const r = await readLayerWindow(layer, T, ctx.cache, windowArrays(layer, (T[2] - T[0]) * (T[3] - T[1]), buffers, key));
    ms.read += now() - t0;
    return r;
  }
  const rp = resamplePlanFor(layer, target, ctx.cache);
  const sw = rp.sourceWindow(T);
  const n = (T[2] - T[0]) * (T[3] - T[1]);
  if (!sw) return { grid: target, bands: layer.bands.map(() => new Float32Array(n).fill(NaN)), nodata: NaN };
  const part = await readLayerWindow(layer, sw, ctx.cache);
  ms.read += now() - t0;
  t0 = now();
  const r = rp.run({ ...part, grid: { ...part.grid, crs: layer.grid.crs } }, { srcWindow: sw, targetWindow: T, kernel: ctx.kernel, maxCells: Infinity });
  ms.resample += now() - t0;
  return r;
}

/** Float32 bands with nodata cells as NaN (the kernel reads NaN as "no value"). */
function float32WithNaN(r: Raster): Float32Array[] {
  const nd = r.nodata;
  return r.bands.map((b) => {
    const out = b instanceof Float32Array ? b : Float32Array.from(b);
    if (nd !== null && nd === nd) {
      const ndf = Math.fround(nd);
      for (let i = 0; i < out.length; i++) if (out[i] === ndf) out[i] = NaN;
    }
    return out;
  });
}

/** Curve index per tile cell from the class layer; excluded (class nodata) cells marked 1. */
function classIndexOf(plan: AssessPlan, r: Raster): { index: Uint8Array; excluded: Uint8Array; count: number } {
  const c = plan.classes!;
  const band = r.bands[0]!;
  const n = band.length;
  const index = new Uint8Array(n);
  const excluded = new Uint8Array(n);
  const byValue = new Map(c.curveOf);
  const nd = r.nodata;
  const unknown = new Set<number>();
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = band[i]!;
    if (v !== v || (nd !== null && (v === nd || v === Math.fround(nd)))) {
      excluded[i] = 1;
      count++;
      continue;
    }
    const k = byValue.get(v) ?? c.defaultCurve;
    if (k < 0) {
      if (unknown.size < 20) unknown.add(v);
      continue;
    }
    index[i] = k;
  }
  if (unknown.size) {
    throw new IbfError('E_SCENARIO_INVALID', `${c.name}: class values with no curve: ${[...unknown].sort((a, b) => a - b).join(', ')}`, {
      hint: 'Add a curve for each class value under vulnerability.curves, or a "default" curve.',
    });
  }
  return { index, excluded, count };
}

/** First span index of `z` on a row >= `row` (spans are sorted by row). */
function firstSpan(spans: Int32Array, row: number): number {
  let lo = 0;
  let hi = spans.length >> 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[4 * mid]! < row) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Per-tile scratch: cell offsets (`at`), weights (`w`), and runs of cells along rows (`runAt`, `runLen`). */
interface Scratchpad {
  at: Int32Array;
  w: Float32Array;
  runAt: Int32Array;
  runLen: Int32Array;
}

/**
 * The zone's cells in unit `U` as runs along rows (row-major): run i is `runLen[i]` cells from tile offset
 * `runAt[i]`; `w` gets every cell's weight. Returns [cells, runs].
 */
function zoneRuns(z: ZoneSpans, U: CellWindow, T: CellWindow, scratch: Scratchpad): [number, number] {
  const s = z.spans;
  const f = new Float32Array(s.buffer, s.byteOffset, s.length);
  const tw = T[2] - T[0];
  let m = 0;
  let k = 0;
  for (let i = firstSpan(s, U[1]); 4 * i < s.length; i++) {
    const row = s[4 * i]!;
    if (row >= U[3]) break;
    const c0 = Math.max(U[0], s[4 * i + 1]!);
    const c1 = Math.min(U[2], s[4 * i + 2]!);
    if (c1 <= c0) continue;
    scratch.runAt[k] = (row - T[1]) * tw + (c0 - T[0]);
    scratch.runLen[k] = c1 - c0;
    k++;
    scratch.w.fill(f[4 * i + 3]!, m, m + (c1 - c0));
    m += c1 - c0;
  }
  return [m, k];
}

/** The zone's cells in unit `U`, row-major, one by one: {@link zoneRuns} expanded into offsets in `at`. */
function zoneCells(z: ZoneSpans, U: CellWindow, T: CellWindow, scratch: Scratchpad): number {
  const [m, n] = zoneRuns(z, U, T, scratch);
  for (let r = 0, k = 0; r < n; r++) {
    const a = scratch.runAt[r]!;
    for (let c = 0; c < scratch.runLen[r]!; c++) scratch.at[k++] = a + c;
  }
  return m;
}

function intersects(b: CellWindow | null, U: CellWindow): boolean {
  return b !== null && b[0] < U[2] && b[2] > U[0] && b[1] < U[3] && b[3] > U[1];
}

/** Runs tile `t` of `plan`. See the module header. */
export async function mapTile(plan: AssessPlan, t: number, ctx: TileContext): Promise<TileResult> {
  const buffers = claimScratch(ctx.cache);
  try {
    return await mapTileWith(plan, t, ctx, buffers);
  } finally {
    buffers.busy = false;
  }
}

async function mapTileWith(plan: AssessPlan, t: number, ctx: TileContext, buffers: Scratch): Promise<TileResult> {
  const T = plan.tiles[t];
  if (!T) throw new IbfError('E_USAGE', `tile ${t} does not exist (the plan has ${plan.tiles.length})`);
  ctx.signal?.throwIfAborted();
  const ms = { read: 0, resample: 0, kernel: 0 };
  const { grid, nBands } = plan;
  const tw = T[2] - T[0];
  const th = T[3] - T[1];
  const n = tw * th;
  const curves = curvesOf(plan, ctx.cache);

  // exposure (float64, NaN where nodata or where the class is nodata)
  let t0 = now();
  const er = await readLayerWindow(plan.exposure, T, ctx.cache, windowArrays(plan.exposure, n, buffers, 'exposure-window'));
  ms.read += now() - t0;
  const exposure = er.bands[0] instanceof Float64Array ? er.bands[0] : Float64Array.from(er.bands[0]!);
  if (er.nodata !== null) for (let i = 0; i < n; i++) if (exposure[i] === er.nodata) exposure[i] = NaN;
  let classes: Uint8Array | undefined;
  let excludedCells = 0;
  if (plan.classes) {
    const c = classIndexOf(plan, await aligned(plan.classes, grid, T, ctx, ms));
    classes = c.index;
    excludedCells = c.count;
    for (let i = 0; i < n; i++) if (c.excluded[i]) exposure[i] = NaN;
  }

  const recordLength = nBands * STATS_PER_BAND + STATS_PER_ZONE;
  const records: number[][] = [];
  const slots: number[] = [];
  const push = (slot: number, p: ImpactPartial) => {
    const r = new Array<number>(recordLength);
    for (let i = 0; i < nBands * STATS_PER_BAND; i++) r[i] = p.stats[i]!;
    r[nBands * STATS_PER_BAND + ZONE_STAT.exposure] = p.zoneStats[ZONE_STAT.exposure]!;
    r[nBands * STATS_PER_BAND + ZONE_STAT.cells] = p.zoneStats[ZONE_STAT.cells]!;
    records.push(r);
    slots.push(slot);
  };
  const units = unitsOf(T, grid.width, grid.height);
  const maxUnit = units.reduce((m, U) => Math.max(m, (U[2] - U[0]) * (U[3] - U[1])), 0);
  const scratch: Scratchpad = {
    at: buffers.get('at', Int32Array, maxUnit), w: buffers.get('w', Float32Array, maxUnit),
    runAt: buffers.get('runAt', Int32Array, maxUnit), runLen: buffers.get('runLen', Int32Array, maxUnit),
  };
  // runs of zone cells along rows (the per-cell path gathers whole runs)
  const runs = { ...scratch, n: 0 };
  const unitCells = (U: CellWindow): number => {
    let m = 0;
    for (let r = U[1]; r < U[3]; r++) for (let c = U[0]; c < U[2]; c++) scratch.at[m++] = (r - T[1]) * tw + (c - T[0]);
    return m;
  };
  let damage: Float32Array[] | undefined = plan.cellOutputs.damage || plan.cellOutputs.ead ? Array.from({ length: nBands }, () => new Float32Array(n)) : undefined;

  if (plan.hazard.aggregate) {
    await aggregatedTile(plan, T, ctx, ms, exposure, curves, units, unitCells, scratch, push, damage);
  } else {
    const hr = await aligned(plan.hazard, grid, T, ctx, ms, buffers, 'hazard-window');
    const hz = hr.bands.map((b) => (b instanceof Float32Array ? b : Float32Array.from(b)));
    const fr = plan.fraction ? float32WithNaN(await aligned(plan.fraction, grid, T, ctx, ms, buffers, 'fraction-window')) : undefined;
    // one set of kernel input buffers per tile, reused by every unit and zone (views of the first m cells)
    const cap = scratch.at.length;
    const bufHazard = buffers.get('hazard', Float32Array, cap * nBands);
    const bufExposure = buffers.get('exposure', Float64Array, cap);
    const bufClasses = classes ? buffers.get('classes', Uint8Array, cap) : undefined;
    const bufFraction = fr ? buffers.get('fraction', Float32Array, cap * fr.length) : undefined;
    /** Copies the cells of unit `U` (row-major) out of a tile-sized array into `dst` at `at`: whole rows at a time. */
    const copyRows = <A extends Float32Array | Float64Array | Uint8Array>(dst: A, at: number, src: A, U: CellWindow) => {
      const uw = U[2] - U[0];
      for (let r = U[1], k = at; r < U[3]; r++, k += uw) {
        const from = (r - T[1]) * tw + (U[0] - T[0]);
        dst.set(src.subarray(from, from + uw) as never, k);
      }
    };
    /** Kernel inputs for `m` cells: the unit `U` whole, or the zone runs in `runs`; rows and runs copied whole. */
    const gather = (m: number, U: CellWindow | null, weights: Float32Array | undefined, wantDamage: boolean): ImpactInputs => {
      const hazard = bufHazard.subarray(0, m * nBands);
      const exp = bufExposure.subarray(0, m);
      const pick = <A extends Float32Array | Float64Array | Uint8Array>(dst: A, o: number, src: A) => {
        if (U) copyRows(dst, o, src, U);
        else {
          for (let r = 0, k = o; r < runs.n; r++) {
            const a = runs.runAt[r]!;
            const len = runs.runLen[r]!;
            dst.set(src.subarray(a, a + len) as never, k);
            k += len;
          }
        }
      };
      for (let b = 0; b < nBands; b++) pick(hazard, b * m, hz[b]!);
      pick(exp, 0, exposure);
      let cls: Uint8Array | undefined;
      if (classes) {
        cls = bufClasses!.subarray(0, m);
        pick(cls, 0, classes);
      }
      let fraction: Float32Array | undefined;
      if (fr) {
        fraction = bufFraction!.subarray(0, m * fr.length);
        fr.forEach((band, b) => pick(fraction!, b * m, band));
      }
      return {
        cells: m, nBands, hazard, exposure: exp, hazardNodata: hr.nodata, exposureNodata: null, classes: cls, curves, threshold: plan.threshold,
        ...(weights ? { weights } : {}), ...(fraction ? { fraction, fractionStride: fr!.length === 1 ? 0 : m } : {}), damage: wantDamage,
      };
    };
    for (const U of units) {
      ctx.signal?.throwIfAborted();
      const uw = U[2] - U[0];
      const m = uw * (U[3] - U[1]);
      const inp = gather(m, U, undefined, Boolean(damage));
      t0 = now();
      const p = ctx.kernel.impactZonal(inp);
      ms.kernel += now() - t0;
      push(0, p);
      if (damage && p.damage) {
        for (let b = 0; b < nBands; b++) {
          const d = damage[b]!;
          for (let r = U[1], k = b * m; r < U[3]; r++, k += uw) d.set(p.damage.subarray(k, k + uw), (r - T[1]) * tw + (U[0] - T[0]));
        }
      }
      plan.zones.forEach((z, zi) => {
        if (!intersects(z.box, U)) return;
        const [mz, nRuns] = zoneRuns(z, U, T, runs);
        if (mz === 0) return;
        runs.n = nRuns;
        const zin = gather(mz, null, scratch.w.subarray(0, mz), false);
        const t1 = now();
        const zp = ctx.kernel.impactZonal(zin);
        ms.kernel += now() - t1;
        push(zi + 1, zp);
      });
    }
  }

  let ead: Float32Array | undefined;
  const e = plan.cellOutputs.ead;
  if (e && damage) ead = eadBands(damage, { returnPeriods: e.returnPeriods, method: e.method, out: new Float32Array(n) }) as Float32Array;
  if (!plan.cellOutputs.damage) damage = undefined;
  const flat = new Float64Array(records.length * recordLength);
  records.forEach((r, i) => flat.set(r, i * recordLength));
  return {
    tile: t, window: T, cells: n, recordLength, records: flat, slots: Int32Array.from(slots), excludedCells,
    ...(damage ? { damage } : {}), ...(ead ? { ead } : {}), ms,
  };
}

/** The aggregated nearest path over the units of tile `T` (see the module header). */
async function aggregatedTile(
  plan: AssessPlan,
  T: CellWindow,
  ctx: TileContext,
  ms: TileResult['ms'],
  exposure: Float64Array,
  curves: DamageFunction[],
  units: CellWindow[],
  unitCells: (U: CellWindow) => number,
  scratch: Scratchpad,
  push: (slot: number, p: ImpactPartial) => void,
  damage: Float32Array[] | undefined,
): Promise<void> {
  const { nBands, grid } = plan;
  const h = plan.hazard;
  if (h.method !== 'nearest') throw new IbfError('E_USAGE', `the aggregated path needs nearest resampling, got ${h.method}`);
  const rp = resamplePlanFor(h, grid, ctx.cache);
  const n = exposure.length;
  const sw = rp.sourceWindow(T);
  let t0 = now();
  const hs = sw ? await readLayerWindow(h, sw, ctx.cache) : null;
  const fs = sw && plan.fraction ? await readLayerWindow(plan.fraction, sw, ctx.cache) : null;
  ms.read += now() - t0;
  t0 = now();
  // per tile cell: the hazard cell (index in window sw) nearest resampling reads, or -1
  const index = sw ? nearestIndex(rp, sw, ctx.kernel, T) : new Int32Array(n).fill(-1);
  ms.resample += now() - t0;
  const nSrc = sw ? (sw[2] - sw[0]) * (sw[3] - sw[1]) : 0;
  const bands = hs ? hs.bands.map((b) => (b instanceof Float32Array ? b : Float32Array.from(b))) : [];
  const fbands = fs ? float32WithNaN(fs) : undefined;
  const hazNd = hs?.nodata ?? null;
  const hasHazNd = hazNd !== null;
  const hazNdF = Math.fround(hazNd ?? 0);
  const valid = (x: number) => x === x && !(hasHazNd && x === hazNdF);
  const frac = (b: number, s: number): number => {
    const f = fbands![fbands!.length === 1 ? 0 : b]![s]!;
    return f === f ? f : 0;
  };

  // group table of one record; groupOf[h] = group of hazard cell h (nSrc: no hazard), -1 = none yet
  const groupOf = new Int32Array(nSrc + 1).fill(-1);
  const slot = new Int32Array(scratch.at.length);
  const se = new Float64Array(scratch.at.length);
  const swt = new Float64Array(scratch.at.length);
  const record = (m: number, weights: Float32Array | null): ImpactPartial | null => {
    let G = 0;
    for (let k = 0; k < m; k++) {
      const i = scratch.at[k]!;
      const e = exposure[i]!;
      if (e !== e) continue;
      const w = weights ? weights[k]! : 1;
      const j = index[i]!;
      const hcell = j < 0 ? nSrc : j;
      let g = groupOf[hcell]!;
      if (g < 0) {
        g = G++;
        groupOf[hcell] = g;
        slot[g] = hcell;
        se[g] = 0;
        swt[g] = 0;
      }
      se[g] = se[g]! + w * e;
      swt[g] = swt[g]! + w;
    }
    for (let g = 0; g < G; g++) groupOf[slot[g]!] = -1;
    if (G === 0) return null;
    const hazard = new Float32Array(G * nBands);
    for (let b = 0; b < nBands; b++) {
      const band = bands[b];
      for (let g = 0; g < G; g++) hazard[b * G + g] = slot[g] === nSrc ? NaN : band![slot[g]!]!;
    }
    let fraction: Float32Array | undefined;
    if (fbands) {
      fraction = new Float32Array(G * fbands.length);
      for (let b = 0; b < fbands.length; b++) for (let g = 0; g < G; g++) fraction[b * G + g] = slot[g] === nSrc ? 0 : fbands[b]![slot[g]!]!;
    }
    const t1 = now();
    const p = ctx.kernel.impactZonal({
      cells: G, nBands, hazard, exposure: se.slice(0, G), hazardNodata: hazNd, curves: [curves[0]!], threshold: plan.threshold,
      ...(fraction ? { fraction, fractionStride: fbands!.length === 1 ? 0 : G } : {}),
    });
    ms.kernel += now() - t1;
    // slots that need float64 weight sums
    const st = p.stats;
    for (let b = 0; b < nBands; b++) {
      let cells = 0;
      let intensity = 0;
      for (let g = 0; g < G; g++) {
        if (slot[g] === nSrc) continue;
        const x = hazard[b * G + g]!;
        if (!valid(x)) continue;
        cells += swt[g]!;
        intensity += swt[g]! * x;
      }
      st[b * STATS_PER_BAND + STAT.cells] = cells;
      st[b * STATS_PER_BAND + STAT.intensity] = intensity;
    }
    let ze = 0;
    let zc = 0;
    for (let g = 0; g < G; g++) {
      ze += se[g]!;
      zc += swt[g]!;
    }
    p.zoneStats[ZONE_STAT.exposure] = ze;
    p.zoneStats[ZONE_STAT.cells] = zc;
    return p;
  };

  for (const U of units) {
    ctx.signal?.throwIfAborted();
    const p = record(unitCells(U), null);
    if (p) push(0, p);
    plan.zones.forEach((z, zi) => {
      if (!intersects(z.box, U)) return;
      const mz = zoneCells(z, U, T, scratch);
      const zp = mz ? record(mz, scratch.w) : null;
      if (zp) push(zi + 1, zp);
    });
  }

  // per-cell damage, expanded from mdr per hazard cell: e x mdr(x_h) (x f_h), stored as float32 as the kernel does
  if (damage) {
    for (let b = 0; b < nBands; b++) {
      ctx.signal?.throwIfAborted();
      const band = bands[b];
      const mdr = band ? ctx.kernel.mdr(curves[0]!, band) : new Float64Array(0);
      const out = damage[b]!;
      for (let i = 0; i < n; i++) {
        const j = index[i]!;
        const x = j < 0 ? NaN : band![j]!;
        if (!valid(x)) {
          out[i] = NaN;
          continue;
        }
        const d = exposure[i]! * mdr[j]!;
        out[i] = fbands ? d * frac(b, j) : d;
      }
    }
  }
}
