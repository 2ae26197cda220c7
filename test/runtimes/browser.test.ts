/**
 * Proves the kernels load and compute identically in a real browser: headless Chromium (system binary,
 * driven by playwright-core) fetches dist/ and build/ from a local static server, loads the SIMD kernel
 * through load-browser.ts (WebAssembly.compileStreaming, so the .wasm must come as application/wasm),
 * runs the fixed case of case.ts, and the results must equal the ReferenceKernel in Node bit for bit.
 * Needs `npm run build` first (dist/, build/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EMANUEL_USA_120, assertBuilt, bitDiffs, decodeResult, expectedResult, wireCase, type WireResult } from './case.js';
import { SKIP_NO_CHROMIUM as SKIP, openPage, within, type BrowserPage } from './chromium.js';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const PAGE = `<!doctype html><meta charset="utf-8"><title>ibf kernels</title><link rel="icon" href="data:,">
<script type="module">
window.ibfRun = async (wire) => {
  const { loadKernelFromUrl } = await import('/dist/src/kernels/load-browser.js');
  const { DamageFunction } = await import('/dist/src/model/damage-function.js');
  const { runCase } = await import('/runner.mjs');
  const kernel = await loadKernelFromUrl({ simd: '/build/ibf.simd.wasm', scalar: '/build/ibf.scalar.wasm' });
  return runCase(wire, kernel, DamageFunction);
};
</script>`;

describe.skipIf(!!SKIP)('kernels in headless Chromium', () => {
  let b: BrowserPage;

  beforeAll(async () => {
    assertBuilt();
    b = await openPage(PAGE, { extra: { '/runner.mjs': join(HERE, 'runner.mjs') } });
  }, 60_000);

  afterAll(async () => {
    await b?.close();
  }, 30_000);

  it('loads the SIMD kernel by streaming compile and matches the ReferenceKernel bit for bit', async () => {
    const wire = await within(b.page.evaluate(`window.ibfRun(${JSON.stringify(wireCase())})`) as Promise<WireResult>, 20_000, 'the page');
    expect(b.pageErrors).toEqual([]);
    expect(wire.kernel).toBe('wasm-simd');
    expect(wire.userAgent).toMatch(/HeadlessChrome|Chrome/);
    expect(b.served).toContain('/build/ibf.simd.wasm');
    expect(b.served).not.toContain('/build/ibf.scalar.wasm');
    const got = decodeResult(wire);
    expect(got.mdr[0]![18]).toBe(EMANUEL_USA_120);
    expect(bitDiffs(got, expectedResult())).toEqual([]);
  }, 30_000);
});

if (SKIP) it.skip(`kernels in headless Chromium: skipped because ${SKIP}`, () => {});
