/**
 * @module edge/kernel
 * The SIMD kernel, imported as a compiled module (workerd forbids compiling WASM at run time) and
 * instantiated once per isolate; every request and Workflow step of the isolate shares it.
 */
import simdModule from '../build/ibf.simd.wasm';
import { loadKernelFromModule } from '../src/kernels/load-edge.js';
import type { ImpactKernel } from '../src/kernels/types.js';

let kernel: Promise<ImpactKernel> | undefined;

export function edgeKernel(): Promise<ImpactKernel> {
  kernel ??= loadKernelFromModule(simdModule).catch((e: unknown) => {
    kernel = undefined;
    throw e;
  });
  return kernel;
}
