/**
 * @module kernels/simd-probe
 * Feature test for WebAssembly SIMD (v128), by validating the smallest module that uses it.
 */
// (module (func (result v128) (v128.const i32x4 0 0 0 0)))
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

let cached: boolean | undefined;

export function simdSupported(): boolean {
  if (cached === undefined) cached = WebAssembly.validate(SIMD_PROBE);
  return cached;
}
