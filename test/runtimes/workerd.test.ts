/**
 * Proves the kernels load and compute identically in workerd (the Cloudflare Workers runtime), run
 * locally by Miniflare: a worker imports build/ibf.simd.wasm as a CompiledWasm module plus the dist/
 * ESM files, loads it through load-edge.ts, runs the fixed case of case.ts, and the results must equal
 * the ReferenceKernel in Node bit for bit. It also shows why load-edge.ts exists: the same worker is
 * refused when it compiles the same .wasm bytes at run time. Needs `npm run build` first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { EMANUEL_USA_120, ROOT, assertBuilt, bitDiffs, decodeResult, expectedResult, wireCase, type WireResult } from './case.js';


// The entry is a string; Miniflare follows its static imports from `scriptPath` (a file that need not
// exist) and packs each file by `modulesRules`, so the module list is dist/'s real import graph.
const WORKER = `
import simdModule from '../../build/ibf.simd.wasm';
import { loadKernelFromModule } from '../../dist/src/kernels/load-edge.js';
import { DamageFunction } from '../../dist/src/model/damage-function.js';
import { runCase } from './runner.mjs';

async function attempt(f) {
  try { await f(); return 'ok'; } catch (e) { return String(e); }
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === '/run') return Response.json(runCase(await request.json(), await loadKernelFromModule(simdModule), DamageFunction));
    if (pathname === '/compile-bytes') {
      const bytes = await request.arrayBuffer();
      return Response.json({
        importedIsModule: simdModule instanceof WebAssembly.Module,
        validates: WebAssembly.validate(bytes),
        compile: await attempt(() => WebAssembly.compile(bytes)),
        newModule: await attempt(() => new WebAssembly.Module(bytes)),
        instantiate: await attempt(() => WebAssembly.instantiate(bytes, {})),
        importedRuns: (await loadKernelFromModule(simdModule)).name,
      });
    }
    return new Response('not found', { status: 404 });
  },
};
`;

const DISALLOWED = /^CompileError: WebAssembly\.\w+\(\): Wasm code generation disallowed by embedder$/;

describe('kernels in workerd (Miniflare)', () => {
  let mf: Miniflare | undefined;

  beforeAll(async () => {
    assertBuilt();
    mf = new Miniflare({
      script: WORKER,
      scriptPath: fileURLToPath(new URL('./worker.virtual.mjs', import.meta.url)),
      modules: true,
      modulesRoot: ROOT,
      modulesRules: [
        { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
        { type: 'CompiledWasm', include: ['**/*.wasm'] },
      ],
      compatibilityDate: '2026-04-01',
      host: '127.0.0.1',
      port: 0,
      cf: false,
    });
    await mf.ready;
  }, 60_000);

  afterAll(async () => {
    await mf?.dispose();
  }, 30_000);

  const post = (path: string, body: string | Uint8Array) =>
    mf!.dispatchFetch(`http://localhost${path}`, { method: 'POST', body, signal: AbortSignal.timeout(20_000) });

  it('imports the SIMD kernel as a CompiledWasm module and matches the ReferenceKernel bit for bit', async () => {
    const res = await post('/run', JSON.stringify(wireCase()));
    expect(res.status).toBe(200);
    const wire = (await res.json()) as WireResult;
    expect(wire.kernel).toBe('wasm-simd');
    expect(wire.userAgent).toBe('Cloudflare-Workers');
    const got = decodeResult(wire);
    expect(got.mdr[0]![18]).toBe(EMANUEL_USA_120);
    expect(bitDiffs(got, expectedResult())).toEqual([]);
  }, 30_000);

  it('refuses to compile the same .wasm bytes at run time, while the imported module works', async () => {
    const bytes = new Uint8Array(await readFile(`${ROOT}build/ibf.simd.wasm`));
    const res = await post('/compile-bytes', bytes);
    expect(res.status).toBe(200);
    const r = (await res.json()) as Record<string, unknown>;
    expect(r.importedIsModule).toBe(true);
    expect(r.validates).toBe(true); // the bytes are a good module: only code generation is refused
    expect(r.compile).toMatch(DISALLOWED);
    expect(r.newModule).toMatch(DISALLOWED);
    expect(r.instantiate).toMatch(DISALLOWED);
    expect(r.importedRuns).toBe('wasm-simd');
  }, 30_000);
});
