/**
 * @module kernels/load-node
 * Node entry for the kernels: reads build/ibf.{simd,scalar}.wasm from the package and compiles it.
 */
import { readFile } from 'node:fs/promises';
import { IbfError } from '../errors.js';
import { packageRoot } from '../node/paths.js';
import { ReferenceKernel } from './reference.js';
import { WasmKernel } from './wasm.js';
import { simdSupported } from './simd-probe.js';
import type { ImpactKernel, KernelName } from './types.js';

/** Path of a kernel build inside the package (dist/src/kernels -> build/, or src/kernels -> build/). */
export function wasmPath(flavour: 'simd' | 'scalar'): string {
  return `${packageRoot()}/build/ibf.${flavour}.wasm`;
}

const modules = new Map<string, Promise<WebAssembly.Module>>();

async function compile(flavour: 'simd' | 'scalar'): Promise<WebAssembly.Module> {
  const path = wasmPath(flavour);
  let p = modules.get(path);
  if (!p) {
    p = readFile(path).then(
      (bytes) => WebAssembly.compile(bytes),
      (cause: unknown) => {
        throw new IbfError('E_INPUT_NOT_FOUND', `kernel ${path} is missing`, {
          cause,
          hint: 'Build the kernels first: npm run build:asm',
        });
      },
    );
    modules.set(path, p);
    p.catch(() => modules.delete(path));
  }
  return p;
}

/**
 * A kernel for Node: `auto` (default) is WASM SIMD where the host supports it, else WASM scalar.
 * Each call returns a new instance (own memory), so threads and concurrent jobs never share one.
 */
export async function loadKernel(kind: KernelName | 'auto' = 'auto'): Promise<ImpactKernel> {
  if (kind === 'ts') return new ReferenceKernel();
  const flavour = kind === 'wasm-scalar' || (kind === 'auto' && !simdSupported()) ? 'scalar' : 'simd';
  if (flavour === 'simd' && !simdSupported()) {
    throw new IbfError('E_KERNEL', 'this host has no WebAssembly SIMD', { hint: 'Use --kernel wasm-scalar or auto.' });
  }
  return WasmKernel.fromModule(await compile(flavour));
}
