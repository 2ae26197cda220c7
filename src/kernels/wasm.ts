/**
 * @module kernels/wasm
 * WASM kernels behind the {@link ImpactKernel} interface. JS owns the memory: each call lays its inputs
 * out from `heapBase()` upwards (growing memory only when a call needs more than any before), runs the
 * kernel, and copies the results out, so no view into WASM memory escapes.
 */
import { IbfError } from '../errors.js';
import type { DamageFunction } from '../model/damage-function.js';
import { checkInputs, packCurve, packedCurveBytes, statusError } from './abi.js';
import {
  STATS_PER_BAND, STATS_PER_ZONE, emptyPartial,
  type ImpactInputs, type ImpactKernel, type ImpactPartial, type KernelName,
} from './types.js';

/** The raw exports of build/ibf.{simd,scalar}.wasm (asm/index.ts). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  simd(): number;
  mdr(curve: number, xs: number, n: number, out: number): number;
  impactZonal(
    haz: number, bandStride: number, nBands: number, n: number,
    exposure: number, zones: number, weights: number, classes: number,
    curves: number, nCurves: number,
    hazNodata: number, hazHasNodata: number, expNodata: number, expHasNodata: number,
    threshold: number, nZones: number,
    out: number, zoneOut: number, damage: number,
    fraction: number, fractionStride: number,
  ): number;
}

/** Largest linear memory a call may use (bytes); beyond it the caller must tile. */
export const MAX_WASM_BYTES = 2 ** 31;
const PAGE = 65536;

/** A bump layout of one call's buffers in WASM memory. */
class Layout {
  private top: number;
  constructor(base: number) {
    this.top = base;
  }
  take(bytes: number): number {
    const at = Math.ceil(this.top / 16) * 16;
    this.top = at + bytes;
    return at;
  }
  get end(): number {
    return this.top;
  }
}

/** A staged call: inputs already in WASM memory, ready to run (possibly many times, for benchmarks). */
export interface StagedImpact {
  readonly inputs: ImpactInputs;
  readonly args: Parameters<KernelExports['impactZonal']>;
  readonly nZones: number;
  readonly damagePtr: number;
}

export class WasmKernel implements ImpactKernel {
  readonly name: KernelName;
  readonly exports: KernelExports;

  constructor(instance: WebAssembly.Instance) {
    this.exports = instance.exports as unknown as KernelExports;
    this.name = this.exports.simd() ? 'wasm-simd' : 'wasm-scalar';
  }

  /** Instantiates a compiled kernel module (no imports needed). */
  static async fromModule(module: WebAssembly.Module): Promise<WasmKernel> {
    return new WasmKernel(await WebAssembly.instantiate(module, {}));
  }

  /**
   * Reserves `bytes` of WASM memory for one call of another kernel (resample, coverage) and returns
   * its 16-aligned start. Valid until the next call of any method; re-read `memory.buffer` after it,
   * since growing memory detaches earlier views.
   */
  reserve(bytes: number): number {
    const layout = new Layout(this.exports.heapBase());
    const at = layout.take(bytes);
    this.ensure(layout.end);
    return at;
  }

  private ensure(end: number): void {
    if (end > MAX_WASM_BYTES) {
      throw new IbfError('E_LIMIT', `one kernel call would need ${(end / 2 ** 20).toFixed(0)} MiB of WASM memory (limit ${MAX_WASM_BYTES / 2 ** 20} MiB)`, {
        hint: 'Process the raster in smaller tiles (fewer rows or bands per call).',
      });
    }
    const mem = this.exports.memory;
    const have = mem.buffer.byteLength;
    if (end > have) mem.grow(Math.ceil((end - have) / PAGE));
  }

  private packCurves(layout: Layout, curves: readonly DamageFunction[]): number {
    const table = layout.take(4 * curves.length);
    const ptrs = curves.map((c) => layout.take(packedCurveBytes(c)));
    this.ensure(layout.end);
    const buf = this.exports.memory.buffer;
    const t = new Uint32Array(buf, table, curves.length);
    curves.forEach((c, i) => {
      t[i] = ptrs[i]!;
      packCurve(c, buf, ptrs[i]!);
    });
    return table;
  }

  mdr(curve: DamageFunction, xs: Float32Array): Float64Array {
    const layout = new Layout(this.exports.heapBase());
    const c = layout.take(packedCurveBytes(curve));
    const x = layout.take(4 * xs.length);
    const out = layout.take(8 * xs.length);
    this.ensure(layout.end);
    packCurve(curve, this.exports.memory.buffer, c);
    new Float32Array(this.exports.memory.buffer, x, xs.length).set(xs);
    const status = this.exports.mdr(c, x, xs.length, out);
    if (status !== 0) throw statusError(status);
    return new Float64Array(this.exports.memory.buffer, out, xs.length).slice();
  }

  /**
   * Copies inputs into WASM memory (band strides of hazard and a per-band fraction compacted to `cells`)
   * and returns the call to run.
   */
  stage(inp: ImpactInputs, into?: ImpactPartial): StagedImpact {
    const { stride, nZones, fractionStride } = checkInputs(inp);
    const n = inp.cells;
    const nBands = inp.nBands;
    const layout = new Layout(this.exports.heapBase());
    const curves = this.packCurves(layout, inp.curves);
    const haz = layout.take(4 * n * nBands);
    // The fraction follows the hazard: the SIMD loop reads f32 pairs, so an odd band's last pair reads 4
    // bytes past it (masked out), which must stay inside memory.
    const fBands = !inp.fraction ? 0 : fractionStride === 0 ? 1 : nBands;
    const fraction = fBands ? layout.take(4 * n * fBands) : 0;
    const exp = layout.take(8 * n);
    const zones = inp.zones ? layout.take(4 * n) : 0;
    const weights = inp.weights ? layout.take(4 * n) : 0;
    const classes = inp.classes ? layout.take(n) : 0;
    const out = layout.take(8 * nZones * nBands * STATS_PER_BAND);
    const zoneOut = layout.take(8 * nZones * STATS_PER_ZONE);
    const damage = inp.damage ? layout.take(4 * n * nBands) : 0;
    this.ensure(layout.end);
    const buf = this.exports.memory.buffer;
    const h = new Float32Array(buf, haz, n * nBands);
    if (stride === n) h.set(inp.hazard.subarray(0, n * nBands));
    else for (let b = 0; b < nBands; b++) h.set(inp.hazard.subarray(b * stride, b * stride + n), b * n);
    if (inp.fraction) {
      const f = new Float32Array(buf, fraction, n * fBands);
      for (let b = 0; b < fBands; b++) f.set(inp.fraction.subarray(b * fractionStride, b * fractionStride + n), b * n);
    }
    new Float64Array(buf, exp, n).set(inp.exposure.subarray(0, n));
    if (inp.zones) new Uint32Array(buf, zones, n).set(inp.zones.subarray(0, n));
    if (inp.weights) new Float32Array(buf, weights, n).set(inp.weights.subarray(0, n));
    if (inp.classes) new Uint8Array(buf, classes, n).set(inp.classes.subarray(0, n));
    const start = into ?? emptyPartial(nZones, nBands);
    new Float64Array(buf, out, start.stats.length).set(start.stats);
    new Float64Array(buf, zoneOut, start.zoneStats.length).set(start.zoneStats);
    const hn = inp.hazardNodata;
    const en = inp.exposureNodata;
    return {
      inputs: inp,
      nZones,
      damagePtr: damage,
      args: [
        haz, n, nBands, n, exp, zones, weights, classes, curves, inp.curves.length,
        hn == null ? 0 : Math.fround(hn), hn == null ? 0 : 1, en ?? 0, en == null ? 0 : 1,
        inp.threshold, nZones, out, zoneOut, damage,
        fraction, fBands > 1 ? n : 0,
      ],
    };
  }

  /** Runs a staged call; returns the raw status (0 = ok). */
  run(staged: StagedImpact): number {
    return this.exports.impactZonal(...staged.args);
  }

  impactZonal(inp: ImpactInputs, into?: ImpactPartial): ImpactPartial {
    const staged = this.stage(inp, into);
    const status = this.run(staged);
    if (status !== 0) throw statusError(status);
    const { nZones } = staged;
    const nBands = inp.nBands;
    const buf = this.exports.memory.buffer;
    const acc = into ?? emptyPartial(nZones, nBands);
    acc.stats.set(new Float64Array(buf, staged.args[16], acc.stats.length));
    acc.zoneStats.set(new Float64Array(buf, staged.args[17], acc.zoneStats.length));
    if (inp.damage) {
      const n = inp.cells;
      const stride = inp.bandStride ?? n;
      const src = new Float32Array(buf, staged.damagePtr, n * nBands);
      const dmg = new Float32Array((nBands - 1) * stride + n);
      if (stride === n) dmg.set(src);
      else for (let b = 0; b < nBands; b++) dmg.set(src.subarray(b * n, (b + 1) * n), b * stride);
      acc.damage = dmg;
    }
    return acc;
  }
}
