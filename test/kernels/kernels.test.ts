import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { runKernelConformance } from './conformance.js';
import { loadKernel, wasmPath } from '../../src/kernels/load-node.js';
import { ReferenceKernel } from '../../src/kernels/reference.js';

runKernelConformance({ name: 'TypeScript twin', make: async () => new ReferenceKernel() });
runKernelConformance({ name: 'WASM scalar', make: () => loadKernel('wasm-scalar') });
runKernelConformance({ name: 'WASM SIMD', make: () => loadKernel('wasm-simd') });

describe('kernel binaries', () => {
  // The binary surface (STYLE.md 16): exported names and a size budget per build.
  for (const flavour of ['simd', 'scalar'] as const) {
    it(`${flavour} build exports the ABI, imports nothing, and stays under 16 KiB`, async () => {
      const bytes = readFileSync(wasmPath(flavour));
      const mod = await WebAssembly.compile(bytes);
      expect(WebAssembly.Module.imports(mod)).toEqual([]);
      expect(WebAssembly.Module.exports(mod).map((e) => e.name).sort()).toEqual(['BLOCK', 'coverage', 'heapBase', 'impactZonal', 'mdr', 'memory', 'resample', 'simd']);
      expect(bytes.length).toBeLessThan(16384);
    });
  }

  it('auto picks SIMD on a SIMD host and the ts kernel needs no WASM', async () => {
    expect((await loadKernel()).name).toBe('wasm-simd');
    expect((await loadKernel('ts')).name).toBe('ts');
  });
});
