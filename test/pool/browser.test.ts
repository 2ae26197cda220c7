/**
 * The pool in a real browser: headless Chromium (system binary, playwright-core) loads the built
 * dist/src/pool/browser.js, starts module Web Workers (dist/src/pool/worker-browser.js) that stream their
 * own SIMD kernel, and runs the fixed case of test/runtimes/case.ts; the partials must equal the
 * ReferenceKernel in Node bit for bit. Also: inputs are detached after a run, a worker that closes itself
 * mid-task is timed out, replaced and the task retried, and a kernel IbfError arrives with its code.
 *
 * dist/ is served as built; the only change is the bare `comlink` specifier, pointed at comlink's ESM
 * file (what a bundler does; workers have no import maps). Needs `npm run build` first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { ROOT, assertBuilt, decodeResult, expectedResult, wireCase, type WireResult } from '../runtimes/case.js';
import { SKIP_NO_CHROMIUM as SKIP, openPage, within, type BrowserPage } from '../runtimes/chromium.js';

const COMLINK = '/node_modules/comlink/dist/esm/comlink.mjs';

const PAGE = `<!doctype html><meta charset="utf-8"><title>ibf pool</title><link rel="icon" href="data:,">
<script type="module">
const fromB64 = (b64, Ctor) => { const s = atob(b64); const u8 = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) u8[i] = s.charCodeAt(i); return new Ctor(u8.buffer); };
const toB64 = (a) => { const u8 = new Uint8Array(a.buffer, a.byteOffset, a.byteLength); let s = ''; for (let i = 0; i < u8.length; i++) s += String.fromCharCode(u8[i]); return btoa(s); };
const decode = (w) => ({ ...w, hazard: fromB64(w.hazard, Float32Array), exposure: fromB64(w.exposure, Float64Array),
  zones: fromB64(w.zones, Uint32Array), weights: fromB64(w.weights, Float32Array), classes: fromB64(w.classes, Uint8Array),
  ...(w.fraction ? { fraction: fromB64(w.fraction, Float32Array) } : {}) });
const encode = (p) => ({ stats: toB64(p.stats), zoneStats: toB64(p.zoneStats), damage: toB64(p.damage) });
window.ibfPool = async (impact) => {
  const { createBrowserPool } = await import('/dist/src/pool/browser.js');
  const wasm = { simd: '/build/ibf.simd.wasm', scalar: '/build/ibf.scalar.wasm' };
  const pool = createBrowserPool({ size: 2, wasm, timeoutMs: 1000, maxRetries: 1, diagnostics: true });
  try {
    const kernels = await pool.warmup();
    const first = decode(impact);
    const parts = await Promise.all([pool.run('impactZonal', first), ...[1, 2, 3].map(() => pool.run('impactZonal', () => decode(impact)))]);
    const detached = [first.hazard.buffer.byteLength, first.exposure.buffer.byteLength];
    const bad = decode(impact);
    bad.zones[3] = 9;
    const err = await pool.run('impactZonal', bad).then(() => null, (e) => ({ name: e.name, code: e.code, message: e.message, hint: e.hint }));
    // exit closes the worker without any event: the timeout finds it, then the retry does the same.
    const exit = await pool.run('exit', { code: 0 }).then(() => null, (e) => ({ code: e.code, message: e.message }));
    const after = encode(await pool.run('impactZonal', decode(impact)));
    return { kernels, parts: parts.map(encode), detached, err, exit, after, stats: pool.stats() };
  } finally {
    await pool.close();
  }
};
</script>`;

describe.skipIf(!!SKIP)('worker pool in headless Chromium (Web Workers)', () => {
  let b: BrowserPage;

  beforeAll(async () => {
    assertBuilt();
    // dist/ as built, with the bare `comlink` specifier pointed at comlink's ESM file (workers have no import maps)
    b = await openPage(PAGE, {
      extra: { [COMLINK]: resolve(ROOT, '.' + COMLINK) },
      rewrite: (js) => js.replace(/from\s+(['"])comlink\1/g, `from '${COMLINK}'`),
    });
  }, 60_000);

  afterAll(async () => {
    await b?.close();
  }, 30_000);

  it('runs impactZonal in module workers bit for bit, transfers, retries a vanished worker, keeps IbfError codes', async () => {
    type Enc = WireResult['impact'];
    const got = await within(
      b.page.evaluate(`window.ibfPool(${JSON.stringify(wireCase().impact)})`) as Promise<{
        kernels: string[]; parts: Enc[]; detached: number[]; after: Enc;
        err: { name: string; code: string; message: string; hint: string } | null;
        exit: { code: string; message: string } | null;
        stats: { spawned: number; replaced: number; retries: number };
      }>,
      25_000,
      'the page',
    );
    expect(b.pageErrors).toEqual([]);
    expect(got.kernels).toEqual(['wasm-simd', 'wasm-simd']);
    expect(b.served).toContain('/dist/src/pool/worker-browser.js');
    const want = expectedResult();
    for (const enc of [...got.parts, got.after]) {
      const r = decodeResult({ kernel: '', userAgent: '', mdr: [], impact: enc });
      expect([...r.stats].every((v, i) => Object.is(v, want.stats[i])) && r.stats.length === want.stats.length).toBe(true);
      expect([...r.zoneStats].every((v, i) => Object.is(v, want.zoneStats[i]))).toBe(true);
      expect([...r.damage].every((v, i) => Object.is(v, want.damage[i])) && r.damage.length === want.damage.length).toBe(true);
    }
    expect(got.detached).toEqual([0, 0]);
    expect(got.err).toMatchObject({ name: 'IbfError', code: 'E_KERNEL', message: 'impact kernel failed: a zone index is >= the number of zones' });
    expect(got.exit?.message).toMatch(/task 'exit' failed 2 times .*gave no answer within 1000 ms/);
    expect(got.stats).toMatchObject({ replaced: 2, retries: 1 });
    expect(got.stats.spawned).toBeGreaterThanOrEqual(3);
  }, 40_000);
});

if (SKIP) it.skip(`worker pool in headless Chromium: skipped because ${SKIP}`, () => {});
