import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { runKernelConformance } from './conformance.js';
import { loadKernel, wasmPath } from '../../src/kernels/load-node.js';
import { ReferenceKernel } from '../../src/kernels/reference.js';
import { NO_ZONE, type ImpactInputs } from '../../src/kernels/types.js';
import { createNodePool } from '../../src/pool/node.js';
import { TRANSFER, toImpactWire } from '../../src/pool/protocol.js';
import { CURVES } from './conformance.js';

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

describe('hazard fraction over the pool wire', () => {
  // Needs dist/ (workers run dist/src/pool/worker-node.js): `npm run build` first.
  const inputs = (): ImpactInputs => {
    const n = 3001;
    return {
      cells: n, nBands: 2, nZones: 3, curves: [CURVES.fiatStruct1], threshold: 0.5, damage: true,
      hazard: new Float32Array(2 * n).map((_, i) => (i % 31 === 0 ? NaN : (i % 53) / 10)),
      exposure: new Float64Array(n).map((_, i) => 100 + (i % 17)),
      zones: new Uint32Array(n).map((_, i) => (i % 29 === 0 ? NO_ZONE : (i >> 5) % 3)),
      fraction: new Float32Array(2 * n).map((_, i) => (i % 7 === 0 ? NaN : (i % 9) / 8)),
    };
  };

  it('travels with impactZonal (worker and inline), is transferred, and gives the twin bit for bit', async () => {
    const want = new ReferenceKernel().impactZonal(inputs());
    const wire = toImpactWire(inputs());
    expect(TRANSFER.impactZonal.args(wire)).toContain(wire.fraction!.buffer);
    for (const size of [0, 1]) {
      const pool = createNodePool({ size, kernel: 'wasm-simd' });
      try {
        const w = toImpactWire(inputs());
        const got = await pool.run('impactZonal', w);
        expect(w.fraction!.buffer.byteLength).toBe(0); // moved to the worker
        for (const [a, b] of [[got.stats, want.stats], [got.zoneStats, want.zoneStats], [got.damage!, want.damage!]] as const) {
          expect(a.length).toBe(b.length);
          expect(Array.from(a).every((v, i) => Object.is(v, b[i]))).toBe(true);
        }
      } finally {
        await pool.close();
      }
    }
  });
});
