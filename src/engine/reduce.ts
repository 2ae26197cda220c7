/**
 * @module engine/reduce
 * The reduce step: unit partials from every tile (src/engine/tile.ts) summed into one partial per slot
 * (0 = totals, z + 1 = zone z). Sums are exact and rounded once (src/engine/exact-sum.ts) and maxima are
 * maxima, so the result is the same bits whatever order tiles arrive in and however the grid was tiled.
 *
 * A reducer's state is plain JSON ({@link ReducerState}): reducers of disjoint sets of tiles, run in other
 * processes (src/engine/steps.ts), merge into the bits one reducer over every tile gives.
 */
import { IbfError } from '../errors.js';
import { STAT, STATS_PER_BAND, STATS_PER_ZONE, emptyPartial, type ImpactPartial } from '../kernels/types.js';
import { ExactSum } from './exact-sum.js';
import type { TileResult } from './tile.js';

/** A float64 as JSON keeps it: finite numbers as numbers, -0 and the non-finite values as strings. */
export type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

/** `x` as a {@link JsonNumber} (JSON.stringify writes NaN and ±Infinity as null and -0 as 0). */
export function toJsonNumber(x: number): JsonNumber {
  if (Number.isFinite(x)) return Object.is(x, -0) ? '-0' : x;
  return x !== x ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

/** The float64 a {@link JsonNumber} stands for; undefined for anything else. */
export function fromJsonNumber(x: unknown): number | undefined {
  if (typeof x === 'number') return Number.isFinite(x) ? x : undefined;
  return typeof x === 'string' && x in SPECIAL ? SPECIAL[x] : undefined;
}

/** A {@link Reducer} as plain JSON (see {@link Reducer.state}). */
export interface ReducerState {
  nSlots: number;
  nBands: number;
  /**
   * The sums that have something in them: `[index, components, non-finite sum?]` with index =
   * slot x record length + stat (src/kernels/types.ts order), components as {@link ExactSumState}'s parts.
   */
  sums: Array<[number, JsonNumber[]] | [number, JsonNumber[], JsonNumber]>;
  /**
   * Maximum intensity where one was seen: `[slot x nBands + band, value]`; -Infinity elsewhere. Sparse,
   * so that the state of a few tiles of a national job is as small as the zones those tiles touch.
   */
  maxAt: Array<[number, JsonNumber]>;
  /** The dense form (every slot x band) that earlier states carried instead of `maxAt`; still merged. */
  max?: JsonNumber[];
  /** Cells without a class (class raster nodata). */
  excludedCells: number;
}

/** `m` after seeing `v`: the larger, +0 over -0 (so the result does not depend on the order), NaN never. */
function maxOf(m: number, v: number): number {
  return v > m || (v === 0 && m === 0 && Object.is(m, -0)) ? v : m;
}

export class Reducer {
  private readonly sums: (ExactSum | undefined)[];
  private readonly max: Float64Array;
  private readonly recordLength: number;
  excludedCells = 0;

  constructor(
    readonly nSlots: number,
    readonly nBands: number,
  ) {
    this.recordLength = nBands * STATS_PER_BAND + STATS_PER_ZONE;
    this.sums = new Array(nSlots * this.recordLength);
    this.max = new Float64Array(nSlots * nBands).fill(-Infinity);
  }

  add(r: TileResult): void {
    const L = this.recordLength;
    if (r.recordLength !== L) throw new RangeError(`tile ${r.tile}: records of ${r.recordLength} values, expected ${L}`);
    const nb = this.nBands;
    for (let k = 0; k < r.slots.length; k++) {
      const slot = r.slots[k]!;
      if (!(slot >= 0 && slot < this.nSlots)) throw new RangeError(`tile ${r.tile}: slot ${slot} out of range`);
      const base = k * L;
      for (let i = 0; i < L; i++) {
        const v = r.records[base + i]!;
        if (i < nb * STATS_PER_BAND && i % STATS_PER_BAND === STAT.max) {
          const m = slot * nb + (i - STAT.max) / STATS_PER_BAND;
          this.max[m] = maxOf(this.max[m]!, v);
          continue;
        }
        if (v === 0) continue;
        const j = slot * L + i;
        (this.sums[j] ??= new ExactSum()).add(v);
      }
    }
    this.excludedCells += r.excludedCells;
  }

  /** The summed partial of `slot` (single zone), rounded. */
  partial(slot: number): ImpactPartial {
    const nb = this.nBands;
    const L = this.recordLength;
    const p = emptyPartial(1, nb);
    for (let i = 0; i < nb * STATS_PER_BAND; i++) {
      p.stats[i] = i % STATS_PER_BAND === STAT.max ? this.max[slot * nb + (i - STAT.max) / STATS_PER_BAND]! : (this.sums[slot * L + i]?.value() ?? 0);
    }
    for (let i = 0; i < STATS_PER_ZONE; i++) p.zoneStats[i] = this.sums[slot * L + nb * STATS_PER_BAND + i]?.value() ?? 0;
    return p;
  }

  /** Everything this reducer holds, as JSON that {@link merge} adds back exactly. */
  state(): ReducerState {
    const sums: ReducerState['sums'] = [];
    this.sums.forEach((s, j) => {
      if (!s) return;
      const { parts, special } = s.state();
      const enc = parts.map(toJsonNumber);
      sums.push(special === null ? [j, enc] : [j, enc, toJsonNumber(special)]);
    });
    const maxAt: ReducerState['maxAt'] = [];
    // -Infinity is where every maximum starts, so leaving it out loses nothing
    this.max.forEach((v, m) => {
      if (v !== -Infinity) maxAt.push([m, toJsonNumber(v)]);
    });
    return { nSlots: this.nSlots, nBands: this.nBands, sums, maxAt, excludedCells: this.excludedCells };
  }

  /**
   * Adds another reducer's state (exactly: reducers of disjoint tile sets merged in any order give the
   * bits of one reducer over all of them). Throws `E_USAGE` for a state of another shape, before
   * changing anything.
   */
  merge(state: ReducerState): void {
    const bad = (what: string): never => {
      throw new IbfError('E_USAGE', `reducer state: ${what}`, { hint: 'Merge only states made by Reducer.state() for the same plan (same zones and bands).' });
    };
    if (state?.nSlots !== this.nSlots || state.nBands !== this.nBands) bad(`${state?.nSlots} slots x ${state?.nBands} bands, expected ${this.nSlots} x ${this.nBands}`);
    if (!Array.isArray(state.maxAt) && !Array.isArray(state.max)) bad('neither maxAt nor max is a list');
    if (!Array.isArray(state.maxAt) && state.max!.length !== this.max.length) bad(`max has ${state.max!.length} values, expected ${this.max.length}`);
    if (!(Number.isInteger(state.excludedCells) && state.excludedCells >= 0)) bad(`excludedCells is ${String(state.excludedCells)}`);
    const num = (x: unknown, where: string): number => fromJsonNumber(x) ?? bad(`${where} is ${JSON.stringify(x)}, not a number`);
    const max: Array<[number, number]> = Array.isArray(state.maxAt)
      ? state.maxAt.map((e, k) => {
          if (!Array.isArray(e) || !Number.isInteger(e[0]) || e[0] < 0 || e[0] >= this.max.length) bad(`maxAt[${k}] is not [index, value] with an index below ${this.max.length}`);
          return [e[0], num(e[1], `maxAt[${k}][1]`)];
        })
      : state.max!.map((x, i) => [i, num(x, `max[${i}]`)]);
    if (!Array.isArray(state.sums)) bad('sums is not a list');
    const sums = state.sums.map((e, k) => {
      if (!Array.isArray(e) || !Number.isInteger(e[0]) || e[0] < 0 || e[0] >= this.sums.length || !Array.isArray(e[1])) bad(`sums[${k}] is not [index, components, special?]`);
      const parts = e[1].map((x, i) => num(x, `sums[${k}][1][${i}]`));
      if (parts.some((x) => !Number.isFinite(x))) bad(`sums[${k}] has a non-finite component`);
      return { j: e[0], parts, special: e.length > 2 ? num(e[2], `sums[${k}][2]`) : null };
    });
    for (const { j, parts, special } of sums) (this.sums[j] ??= new ExactSum()).addState({ parts, special });
    for (const [m, v] of max) this.max[m] = maxOf(this.max[m]!, v);
    this.excludedCells += state.excludedCells;
  }
}
