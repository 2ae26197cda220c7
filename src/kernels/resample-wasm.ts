/**
 * @module kernels/resample-wasm
 * The resampling kernel of build/ibf.{simd,scalar}.wasm (asm/resample.ts) behind {@link ResampleKernel}.
 * JS owns the memory: {@link WasmKernel.reserve} holds, from one base, the source bands (copied once per
 * {@link WasmResampleKernel.open}, plus 16 bytes of padding the SIMD loads may touch), then per strip the
 * segments and the output strip, which is copied out into the caller's arrays; no view into WASM memory
 * escapes. Same bits as the TypeScript twin (src/kernels/resample.ts).
 */
import { IbfError } from '../errors.js';
import {
  METHOD_CODES, SEG_FIELDS, checkResampleSource, checkResampleStrip, resampleStatusError,
  type ResampleCall, type ResampleKernel, type ResampleSource, type ResampleStrip,
} from './resample.js';
import type { KernelName } from './types.js';
import type { WasmKernel } from './wasm.js';

/** The resample export of asm/index.ts (pointers are byte offsets into `memory`). */
export interface ResampleExports {
  memory: WebAssembly.Memory;
  resample(
    src: number, width: number, height: number, nBands: number, nodata: number, hasNodata: number,
    cols: number, segs: number, rows: number, col0: number, col1: number, nRows: number,
    offX: number, offY: number, method: number, scaleX: number, scaleY: number,
    out: number, outStride: number,
  ): number;
}

const align = (n: number) => Math.ceil(n / 16) * 16;
/** Readable bytes after the source bands (asm/resample.ts loads two floats at a time). */
const SOURCE_PADDING = 16;

export class WasmResampleKernel implements ResampleKernel {
  readonly name: KernelName;
  private readonly ex: ResampleExports;
  /** Stage counter: a strip function only runs while its stage is the latest one. */
  private stage = 0;

  constructor(readonly kernel: WasmKernel) {
    const ex = kernel.exports as unknown as Partial<ResampleExports>;
    if (typeof ex.resample !== 'function') {
      throw new IbfError('E_KERNEL', `the ${kernel.name} kernel build has no resample export`, {
        hint: 'Rebuild the kernels (npm run build:asm) so that build/ibf.*.wasm match this version.',
      });
    }
    this.ex = ex as ResampleExports;
    this.name = kernel.name;
  }

  open(source: ResampleSource): (strip: ResampleStrip) => void {
    checkResampleSource(source);
    const { width: W, height: H, bands } = source;
    const bandCells = W * H;
    const srcBytes = align(4 * bandCells * bands.length + SOURCE_PADDING);
    let base = this.kernel.reserve(srcBytes);
    let reserved = srcBytes;
    const src = new Float32Array(this.ex.memory.buffer, base, bandCells * bands.length + SOURCE_PADDING / 4);
    bands.forEach((b, i) => src.set(b.subarray(0, bandCells), i * bandCells));
    src.fill(0, bandCells * bands.length);
    const stage = ++this.stage;
    const nd = source.nodata;
    return (strip: ResampleStrip) => {
      if (stage !== this.stage) {
        throw new IbfError('E_KERNEL', 'resample kernel: this source is no longer staged (the kernel was opened again)', {
          hint: 'Run every strip of one source before opening the next one on the same kernel.',
        });
      }
      const nRows = checkResampleStrip(source, strip);
      const { cols, segs, rows } = strip.segments;
      const nSeg = rows[nRows]!;
      const width = strip.col1 - strip.col0;
      const cells = width * nRows;
      const colsAt = srcBytes;
      const segsAt = colsAt + align(4 * nSeg);
      const rowsAt = segsAt + align(8 * SEG_FIELDS * nSeg);
      const outAt = rowsAt + align(4 * (nRows + 1));
      const end = outAt + 4 * cells * bands.length;
      if (end > reserved) {
        // growing keeps the staged source where it is (same base, memory contents survive growth)
        base = this.kernel.reserve(end);
        reserved = end;
      }
      const buf = this.ex.memory.buffer;
      new Int32Array(buf, base + colsAt, nSeg).set(cols.subarray(0, nSeg));
      new Float64Array(buf, base + segsAt, SEG_FIELDS * nSeg).set(segs.subarray(0, SEG_FIELDS * nSeg));
      new Int32Array(buf, base + rowsAt, nRows + 1).set(rows.subarray(0, nRows + 1));
      const [sx, sy] = strip.scale ?? [1, 1];
      const status = this.ex.resample(
        base, W, H, bands.length, nd === null ? 0 : Math.fround(nd), nd === null ? 0 : 1,
        base + colsAt, base + segsAt, base + rowsAt, strip.col0, strip.col1, nRows,
        strip.offX ?? 0, strip.offY ?? 0, METHOD_CODES[strip.method], sx, sy,
        base + outAt, cells,
      );
      if (status !== 0) throw resampleStatusError(status);
      const res = new Float32Array(this.ex.memory.buffer, base + outAt, cells * bands.length);
      strip.out.forEach((o, b) => o.set(res.subarray(b * cells, (b + 1) * cells)));
    };
  }

  resample(call: ResampleCall): void {
    this.open(call)(call);
  }
}
