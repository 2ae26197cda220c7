/**
 * @module engine/exact-sum
 * Exact summation of float64 values (Shewchuk's non-overlapping expansions, the algorithm behind
 * Python's `math.fsum`), rounded once at the end, half to even.
 *
 * Why: the engine sums per-unit partials (src/engine/tiling.ts) that arrive from tiles of any size, in
 * any order, from any number of workers. A float64 running sum would depend on that order; an exact sum
 * does not, so the published numbers are the same bits for every tile size and pool size.
 *
 * Cost: each add walks the expansion, which for sums of values of one sign and similar magnitude stays at
 * one to three components. Non-finite values are summed apart (IEEE rules) and win over the finite sum.
 */

/** An {@link ExactSum} as plain data (see {@link ExactSum.state}). */
export interface ExactSumState {
  parts: number[];
  special: number | null;
}

/** One exact sum. */
export class ExactSum {
  private parts: number[] = [];
  private special = 0;
  private hasSpecial = false;

  add(x: number): void {
    if (!Number.isFinite(x)) {
      this.special += x;
      this.hasSpecial = true;
      return;
    }
    const p = this.parts;
    let i = 0;
    for (let k = 0; k < p.length; k++) {
      let y = p[k]!;
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) p[i++] = lo;
      x = hi;
    }
    if (!Number.isFinite(x)) {
      // the finite parts overflowed: the exact sum is beyond float64, as the running sum would be
      this.special += x;
      this.hasSpecial = true;
      p.length = 0;
      return;
    }
    p.length = i;
    p.push(x);
  }

  /** Adds every component of `other` (exact, so merging sums in any order gives the same value). */
  addSum(other: ExactSum): void {
    this.addState(other.state());
  }

  /**
   * The sum as plain data, to move it to another process: its components (finite, non-overlapping, in
   * increasing magnitude; their exact sum is the sum) and the IEEE sum of the non-finite values added
   * (null when none was). {@link addState} of it adds exactly this sum.
   */
  state(): ExactSumState {
    return { parts: [...this.parts], special: this.hasSpecial ? this.special : null };
  }

  /** Adds a sum exported by {@link state} (exact: merging states in any order gives the same value). */
  addState(s: ExactSumState): void {
    for (const x of s.parts) this.add(x);
    if (s.special !== null) {
      this.special += s.special;
      this.hasSpecial = true;
    }
  }

  /** The exact sum rounded to the nearest float64 (ties to even), as math.fsum. */
  value(): number {
    if (this.hasSpecial) return this.special;
    const p = this.parts;
    let n = p.length;
    if (n === 0) return 0;
    let hi = p[--n]!;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = p[--n]!;
      hi = x + y;
      const yr = hi - x;
      lo = y - yr;
      if (lo !== 0) break;
    }
    // half-way cases: the rest of the expansion decides the direction
    if (n > 0 && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
    return hi;
  }
}

/** `fsum`: the correctly rounded sum of `xs`. */
export function exactSum(xs: Iterable<number>): number {
  const s = new ExactSum();
  for (const x of xs) s.add(x);
  return s.value();
}
