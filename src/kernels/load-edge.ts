/**
 * @module kernels/load-edge
 * workerd (Cloudflare Workers) entry for the kernels. workerd forbids compiling WASM from bytes at run
 * time, so the worker imports the `.wasm` statically (a `CompiledWasm` module rule) and passes the
 * resulting `WebAssembly.Module` here.
 */
import { WasmKernel } from './wasm.js';

export function loadKernelFromModule(module: WebAssembly.Module): Promise<WasmKernel> {
  return WasmKernel.fromModule(module);
}
