/**
 * @module engine/reduce
 * The reduce step: unit partials from every tile (src/engine/tile.ts) summed into one partial per slot
 * (0 = totals, z + 1 = zone z). Sums are exact and rounded once (src/engine/exact-sum.ts) and maxima are
 * maxima, so the result is the same bits whatever order tiles arrive in and however the grid was tiled.
 */
import { STAT, STATS_PER_BAND, STATS_PER_ZONE, emptyPartial, type ImpactPartial } from '../kernels/types.js';
import { ExactSum } from './exact-sum.js';
import type { TileResult } from './tile.js';

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
          if (v > this.max[m]!) this.max[m] = v;
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
}
