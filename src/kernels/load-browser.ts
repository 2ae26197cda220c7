/**
 * @module kernels/load-browser
 * Browser entry for the kernels: streams and compiles the WASM from a URL (served with
 * `application/wasm`), picking the SIMD build where the browser supports it.
 */
import { WasmKernel } from './wasm.js';
import { simdSupported } from './simd-probe.js';

export interface BrowserKernelUrls {
  simd: string | URL;
  scalar: string | URL;
}

export async function loadKernelFromUrl(urls: BrowserKernelUrls, fetchFn: typeof fetch = fetch): Promise<WasmKernel> {
  const url = simdSupported() ? urls.simd : urls.scalar;
  const module = await WebAssembly.compileStreaming(fetchFn(url));
  return WasmKernel.fromModule(module);
}
