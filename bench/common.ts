/** What the benches share: a seeded generator and the Delft-FIAT synthetic struct_1 depth-damage curve. */
import { DamageFunction } from '../src/model/damage-function.js';

/** A seeded linear congruential generator in [0, 1): the same workload on every run and machine. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Delft-FIAT synthetic struct_1 (../shared/data/fiat-synthetic-grid/vulnerability_curves.csv), 21 knots, metres. */
export const FIAT_STRUCT_1 = DamageFunction.fromTable({
  unit: 'm',
  intensity: [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.25, 4.5, 4.75, 5],
  mdd: [0, 0, 0, 0, 0, 0.14, 0.25, 0.35, 0.43, 0.5, 0.57, 0.63, 0.68, 0.73, 0.78, 0.82, 0.86, 0.9, 0.93, 0.96, 0.96],
});
