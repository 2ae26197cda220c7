/**
 * @module kernels/coverage-wasm
 * The coverage kernel of build/ibf.{simd,scalar}.wasm (asm/coverage.ts) behind the same call as the
 * TypeScript twin ({@link rasterizeCoverage}). JS owns the memory: one {@link WasmKernel.reserve} per call
 * holds the rings, the scratch and the output window; the result is copied out, so no view into WASM
 * memory escapes. Both builds run the same scalar code (a prefix sum along rows does not vectorise) and
 * give the twin's bits.
 */
import { IbfError } from '../errors.js';
import {
  RULE_CODES, checkCoverageInput, coverageLayout, coverageStatusError, trimWindow,
  type CoverageInput, type CoverageResult,
} from './coverage.js';
import type { WasmKernel } from './wasm.js';

/** The coverage export of asm/index.ts (pointers are byte offsets into `memory`). */
export interface CoverageExports {
  memory: WebAssembly.Memory;
  coverage(
    xy: number, ringStarts: number, nRings: number, width: number, height: number, rule: number,
    order: number, active: number, rowStart: number, row: number,
    out: number, out64: number, bounds: number,
  ): number;
}

function exportsOf(kernel: WasmKernel): CoverageExports {
  const ex = kernel.exports as unknown as Partial<CoverageExports>;
  if (typeof ex.coverage !== 'function') {
    throw new IbfError('E_KERNEL', `the ${kernel.name} kernel build has no coverage export`, {
      hint: 'Rebuild the kernels (npm run build:asm) so that build/ibf.*.wasm match this version.',
    });
  }
  return ex as CoverageExports;
}

/**
 * Coverage weights of one zone's rings on a window, computed by the WASM kernel. Same contract and
 * same bits as {@link rasterizeCoverage}. Inputs are not modified; the result is a fresh array.
 * Errors: `E_KERNEL` (bad input, non-finite vertex), `E_LIMIT` (window too large for WASM memory).
 */
export function rasterizeCoverageWasm(kernel: WasmKernel, inp: CoverageInput, opts?: { f64?: false }): CoverageResult<Float32Array> | null;
export function rasterizeCoverageWasm(kernel: WasmKernel, inp: CoverageInput, opts: { f64: true }): CoverageResult<Float64Array> | null;
export function rasterizeCoverageWasm(kernel: WasmKernel, inp: CoverageInput, opts: { f64?: boolean } = {}): CoverageResult | null {
  checkCoverageInput(inp);
  const ex = exportsOf(kernel);
  const { xy, ringStarts, width: W, height: H } = inp;
  const nRings = ringStarts.length - 1;
  const nV = ringStarts[nRings]!;
  const f64 = opts.f64 === true;
  const lay = coverageLayout(nV, nRings, W, H, f64);
  const base = kernel.reserve(lay.bytes);
  let buf = ex.memory.buffer;
  new Float64Array(buf, base + lay.xy, 2 * nV).set(xy.subarray(0, 2 * nV));
  new Int32Array(buf, base + lay.ringStarts, nRings + 1).set(ringStarts);
  const status = ex.coverage(
    base + lay.xy, base + lay.ringStarts, nRings, W, H, RULE_CODES[inp.rule],
    base + lay.order, base + lay.active, base + lay.rowStart, base + lay.row,
    base + lay.out, f64 ? 1 : 0, base + lay.bounds,
  );
  if (status !== 0) throw coverageStatusError(status);
  buf = ex.memory.buffer;
  const bounds = new Int32Array(buf, base + lay.bounds, 4);
  const out = f64 ? new Float64Array(buf, base + lay.out, W * H) : new Float32Array(buf, base + lay.out, W * H);
  return trimWindow(out, W, bounds);
}
