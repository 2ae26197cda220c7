/**
 * @module pool/worker-browser
 * Web Worker entry of the pool (module worker, started by `browserWorkerFactory`): serves the pool
 * protocol on `self` and streams its own WASM kernel once from the URLs in the pool's init.
 * Only wires; the work is in worker-core.ts.
 */
import { IbfError } from '../errors.js';
import { loadKernelFromUrl } from '../kernels/load-browser.js';
import { ReferenceKernel } from '../kernels/reference.js';
import { exposePoolWorker } from './worker-core.js';

const scope = globalThis as unknown as { close(): void } & Parameters<typeof exposePoolWorker>[0];

exposePoolWorker(scope, {
  async loadKernel(init) {
    if (init.kernel === 'ts') return new ReferenceKernel();
    if (!init.wasm) {
      throw new IbfError('E_USAGE', 'a browser pool worker needs the URLs of the kernel builds', {
        hint: "Pass wasm: { simd, scalar } (URLs of build/ibf.simd.wasm and build/ibf.scalar.wasm) to browserWorkerFactory.",
      });
    }
    const { simd, scalar } = init.wasm;
    if (init.kernel === 'wasm-scalar') return loadKernelFromUrl({ simd: scalar, scalar });
    if (init.kernel === 'wasm-simd') return loadKernelFromUrl({ simd, scalar: simd });
    return loadKernelFromUrl({ simd, scalar });
  },
  exit: () => scope.close(),
});
