/**
 * @module kernels/coverage-wasm
 * The coverage kernel of build/ibf.{simd,scalar}.wasm (asm/coverage.ts) behind the same call as the
 * TypeScript twin ({@link rasterizeCoverage}). JS owns the memory: one {@link WasmKernel.reserve} per call
 * holds the rings, the scratch and the output (a dense window, or row spans); the result is copied out,
 * so no view into WASM memory escapes unless asked for. Both builds run the same scalar code (a prefix
 * sum along rows does not vectorise) and give the twin's bits.
 */
import { IbfError } from '../errors.js';
import {
  MODE_F32, MODE_F64, MODE_SPANS, RULE_CODES, SPAN_BYTES, checkCoverageInput, copySpans, coverageLayout, coverageStatusError,
  spanCapacity, trimWindow, type CoverageInput, type CoverageResult, type CoverageSpans,
} from './coverage.js';
import type { WasmKernel } from './wasm.js';

/** The coverage export of asm/index.ts (pointers are byte offsets into `memory`). */
export interface CoverageExports {
  memory: WebAssembly.Memory;
  coverage(
    xy: number, ringStarts: number, nRings: number, width: number, height: number, rule: number,
    order: number, active: number, rowStart: number, row: number, bits: number,
    out: number, mode: number, cap: number, bounds: number,
  ): number;
}

function exportsOf(kernel: WasmKernel): CoverageExports {
  const ex = kernel.exports as unknown as Partial<CoverageExports>;
  if (typeof ex.coverage !== 'function' || ex.coverage.length !== 15) {
    throw new IbfError('E_KERNEL', `the ${kernel.name} kernel build has no coverage export of this version`, {
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
  const f64 = opts.f64 === true;
  const run = callKernel(kernel, inp, f64 ? MODE_F64 : MODE_F32, 0);
  const { W, H, base, buf } = run;
  const out = f64 ? new Float64Array(buf, base + run.lay.out, W * H) : new Float32Array(buf, base + run.lay.out, W * H);
  return trimWindow(out, W, run.bounds);
}

/**
 * The same weights as {@link rasterizeCoverageWasm} (f32) as row spans in the input window's cells,
 * computed by the WASM kernel: same contract and bits as the twin's {@link rasterizeSpans}. WASM memory
 * holds the rings, O(vertices + width + height) scratch and the spans (16 bytes each), never a cell of
 * the window. With `view`, the result's arrays are views into WASM memory, valid until the kernel's
 * next call (for a caller that reads them at once); by default they are fresh arrays.
 */
export function rasterizeSpansWasm(kernel: WasmKernel, inp: CoverageInput, opts: { view?: boolean } = {}): CoverageSpans | null {
  checkCoverageInput(inp);
  const cap = spanCapacity(inp.xy, inp.ringStarts, inp.width, inp.height);
  const run = callKernel(kernel, inp, MODE_SPANS, cap);
  const n = run.bounds[4]!;
  const spans = new Int32Array(run.buf, run.base + run.lay.out, 4 * n);
  if (!opts.view) return copySpans(spans, n, run.bounds);
  const b = run.bounds;
  if (b[2]! <= b[0]! || b[3]! <= b[1]! || n === 0) return null;
  return { x0: b[0]!, y0: b[1]!, width: b[2]! - b[0]!, height: b[3]! - b[1]!, length: n, spans, weights: new Float32Array(run.buf, run.base + run.lay.out, 4 * n) };
}

/** One kernel call on checked input: lays the rings out, runs, checks the status. */
function callKernel(kernel: WasmKernel, inp: CoverageInput, mode: number, cap: number) {
  const ex = exportsOf(kernel);
  const { xy, ringStarts, width: W, height: H } = inp;
  const nRings = ringStarts.length - 1;
  const nV = ringStarts[nRings]!;
  const outBytes = mode === MODE_SPANS ? SPAN_BYTES * cap : (mode === MODE_F64 ? 8 : 4) * W * H;
  const lay = coverageLayout(nV, nRings, W, H, outBytes);
  const base = kernel.reserve(lay.bytes);
  let buf = ex.memory.buffer;
  new Float64Array(buf, base + lay.xy, 2 * nV).set(xy.subarray(0, 2 * nV));
  new Int32Array(buf, base + lay.ringStarts, nRings + 1).set(ringStarts);
  const status = ex.coverage(
    base + lay.xy, base + lay.ringStarts, nRings, W, H, RULE_CODES[inp.rule],
    base + lay.order, base + lay.active, base + lay.rowStart, base + lay.row, base + lay.bits,
    base + lay.out, mode, cap, base + lay.bounds,
  );
  if (status !== 0) throw coverageStatusError(status);
  buf = ex.memory.buffer;
  return { W, H, base, buf, lay, bounds: new Int32Array(buf, base + lay.bounds, 5) };
}
