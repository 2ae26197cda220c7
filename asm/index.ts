/**
 * e4drr-ibf compute kernels. JS owns memory: it grows `memory`, lays out inputs from `heapBase()`
 * upwards, calls a kernel with pointers and reads results; kernels allocate nothing and return a
 * status code (0 = ok) that src/kernels/abi.ts maps to messages.
 */
import { mdrBlock } from './curve';
export { impactZonal, BLOCK } from './impact';
export { coverage } from './coverage';
export { resample } from './resample';

/** First byte JS may use; everything below holds the kernels' static scratch. */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 when this build uses SIMD (v128), 0 for the scalar build. */
export function simd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

/** Mean damage ratio of curve `c` at n f32 intensities into f64 `out`. Status 0. */
export function mdr(c: usize, xs: usize, n: i32, out: usize): i32 {
  if (n < 0) return 1;
  mdrBlock(c, xs, n, out);
  return 0;
}
