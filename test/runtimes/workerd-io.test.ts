/**
 * GeoTIFF reading inside workerd (the Cloudflare Workers runtime), run locally by Miniflare: a worker loads
 * dist/src/io/geotiff.js and dist/src/io/http.js (needs `npm run build` first) and reads GDAL fixtures sent to
 * it, or fetched by range from a node:http server through httpByteSource.
 *
 * What it proves: DEFLATE, LZW, PackBits and uncompressed files (and our Predictor 2 / sparse fixes) decode in
 * workerd to the same bits as in Node; ZSTD and LERC files, whose geotiff decoders compile WebAssembly at run
 * time (workerd forbids it), are refused with an IbfError that names the compression and says how to
 * re-encode (`gdal_translate -co COMPRESS=DEFLATE`), while their headers still read.
 *
 * workerd does not resolve package names, so the test hands Miniflare the module list itself: dist/ files
 * by their relative imports, and `geotiff` as geotiff's own single-file build (dist-browser, CommonJS/UMD,
 * the same code a bundler would inline) behind a small ESM shim with the names dist/ imports, registered
 * where workerd looks for a bare specifier (next to the importing module).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRaster } from '../../src/io/geotiff.js';
import { ROOT, assertBuilt } from './case.js';

const FIXTURES = join(ROOT, 'test/fixtures/formats');
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));

const WORKER = `
import { readRaster, readRasterInfo } from '../../dist/src/io/geotiff.js';
import { httpByteSource } from '../../dist/src/io/http.js';

function b64(a) {
  const u8 = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < u8.length; i++) s += String.fromCharCode(u8[i]);
  return btoa(s);
}

async function answer(f) {
  try {
    const r = await f();
    return Response.json({ ok: true, width: r.grid.width, height: r.grid.height, nodata: String(r.nodata), types: r.bands.map((b) => b.constructor.name), bands: r.bands.map(b64) });
  } catch (e) {
    return Response.json({ ok: false, name: e.name, code: e.code, message: String(e.message), hint: e.hint });
  }
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const name = url.searchParams.get('name') ?? undefined;
    if (url.pathname === '/read') {
      const bytes = new Uint8Array(await request.arrayBuffer());
      if (url.searchParams.has('info')) {
        const info = await readRasterInfo(bytes, { name });
        return Response.json({ compression: info.compression, width: info.grid.width });
      }
      return answer(() => readRaster(bytes, { name }));
    }
    if (url.pathname === '/http') {
      const win = JSON.parse(url.searchParams.get('window'));
      return answer(async () => readRaster(await httpByteSource(url.searchParams.get('url'), { retryDelay: 1 }), { window: win }));
    }
    if (url.pathname === '/wasm') {
      try { new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); return new Response('compiles'); } catch (e) { return new Response(String(e)); }
    }
    return new Response('not found', { status: 404 });
  },
};
`;

/** Every dist/ module the entry reaches by relative imports (the worker's real module graph). */
function distModules(entries: string[]): { type: 'ESModule'; path: string; contents: string }[] {
  const seen = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(file, 'utf8');
    seen.set(file, text);
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g)) visit(resolve(dirname(file), m[1]!));
  };
  entries.forEach(visit);
  return [...seen].map(([path, contents]) => ({ type: 'ESModule' as const, path, contents }));
}

/** The names dist/src/io/geotiff.js imports from 'geotiff' (values, not types). */
function geotiffImports(): string[] {
  const text = readFileSync(join(ROOT, 'dist/src/io/geotiff.js'), 'utf8');
  const m = /import\s*\{([^}]*)\}\s*from\s*['"]geotiff['"]/.exec(text);
  if (!m) throw new Error("dist/src/io/geotiff.js does not import from 'geotiff' as expected");
  return m[1]!.split(',').map((s) => s.trim()).filter((s) => s && !s.startsWith('type '));
}

interface Answer {
  ok: boolean;
  width?: number;
  height?: number;
  nodata?: string;
  types?: string[];
  bands?: string[];
  code?: string;
  message?: string;
  hint?: string;
  name?: string;
}

describe('GeoTIFF reading in workerd (Miniflare)', () => {
  let mf: Miniflare | undefined;
  let server: Server | undefined;
  let base = '';
  const served = { bytes: 0 };

  beforeAll(async () => {
    assertBuilt();
    const entry = join(ROOT, 'test/runtimes/workerd-io.virtual.mjs');
    const umd = 'node_modules/geotiff/dist-browser/geotiff.js';
    const names = geotiffImports();
    const modules = [
      { type: 'ESModule' as const, path: entry, contents: WORKER },
      ...distModules([join(ROOT, 'dist/src/io/geotiff.js'), join(ROOT, 'dist/src/io/http.js')]),
      // workerd resolves the bare 'geotiff' next to its importer: dist/src/io/geotiff (no extension)
      { type: 'ESModule' as const, path: join(ROOT, 'dist/src/io/geotiff'), contents: `import G from '../../../${umd}';\nexport const { ${names.join(', ')} } = G;\nexport default G;\n` },
      { type: 'CommonJS' as const, path: join(ROOT, umd), contents: readFileSync(join(ROOT, umd), 'utf8') },
    ];
    expect(modules.map((m) => relative(ROOT, m.path))).toContain('dist/src/io/tiff-decode.js');
    mf = new Miniflare({
      modules,
      modulesRoot: ROOT,
      compatibilityDate: '2026-04-01',
      host: '127.0.0.1',
      port: 0,
      cf: false,
      // the worker's fetch() goes out through Node, to the local range server below
      outboundService: (req: Request) => fetch(req.url, { headers: Object.fromEntries(req.headers as unknown as Iterable<[string, string]>) }) as never,
    });
    await mf.ready;
    const cog = fixture('cog-deflate.tif');
    server = createServer((req, res) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (!m) return void res.writeHead(200, { 'content-length': cog.byteLength }).end(cog);
      const end = Math.min(Number(m[2]), cog.byteLength - 1);
      const part = cog.subarray(Number(m[1]), end + 1);
      served.bytes += part.byteLength;
      res.writeHead(206, { 'content-range': `bytes ${m[1]}-${end}/${cog.byteLength}`, 'content-length': part.byteLength }).end(part);
    });
    await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    await mf?.dispose();
    server?.closeAllConnections();
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
  }, 30_000);

  const read = async (name: string, info = false): Promise<Answer> => {
    const res = await mf!.dispatchFetch(`http://localhost/read?name=${name}${info ? '&info' : ''}`, { method: 'POST', body: fixture(name), signal: AbortSignal.timeout(20_000) });
    expect(res.status).toBe(200);
    return (await res.json()) as Answer;
  };

  /** Bands as raw bytes (base64), as the worker encodes them. */
  const wire = (bands: ArrayBufferView[]) => bands.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64'));

  it('workerd refuses to compile WebAssembly from bytes (why ZSTD and LERC cannot decode there)', async () => {
    const res = await mf!.dispatchFetch('http://localhost/wasm');
    expect(await res.text()).toMatch(/Wasm code generation disallowed by embedder/);
  });

  for (const name of [
    'f32-deflate-pred3-tile.tif',
    'f32-lzw-strip.tif',
    'f32-lzw-pred2-strip-be.tif',
    'f32-packbits-tile.tif',
    'f32-none-strip.tif',
    'float64-deflate-pred2-tile.tif',
    'multi-int16-pixel-deflate-pred2-tile.tif',
    'sparse-f32-tile.tif',
    'scaled-int16.tif',
    'cog-deflate.tif',
  ]) {
    it(`${name} decodes in workerd to the same bits as in Node`, async () => {
      const got = await read(name);
      expect(got.message).toBeUndefined();
      expect(got.ok).toBe(true);
      const want = await readRaster(fixture(name), { name });
      expect([got.width, got.height]).toEqual([want.grid.width, want.grid.height]);
      expect(got.types).toEqual(want.bands.map((b) => b.constructor.name));
      expect(got.nodata).toBe(String(want.nodata));
      expect(got.bands).toEqual(wire(want.bands));
    }, 30_000);
  }

  for (const [name, compression, code] of [
    ['f32-zstd-pred3-tile.tif', 'ZSTD', 50000],
    ['int32-zstd-pred2-tile.tif', 'ZSTD', 50000],
    ['f32-lerc-deflate-tile.tif', 'LERC', 34887],
    ['f32-lerc-tile.tif', 'LERC', 34887],
  ] as const) {
    it(`${name}: ${compression} is refused with a clear IbfError naming it and how to re-encode; the header still reads`, async () => {
      const got = await read(name);
      expect(got.ok).toBe(false);
      expect(got.name).toBe('IbfError');
      expect(got.code).toBe('E_TIFF_INVALID');
      expect(got.message).toBe(`${name}: is compressed with ${compression} (TIFF compression ${code}), whose decoder compiles WebAssembly at run time, which this runtime forbids (Cloudflare Workers do); these decode here: uncompressed, LZW, DEFLATE, PackBits`);
      expect(got.hint).toMatch(/Re-encode it with DEFLATE or LZW.*gdal_translate -co COMPRESS=DEFLATE/);
      const info = (await read(name, true)) as unknown as { compression: number; width: number };
      expect(info.compression).toBe(code);
    }, 30_000);
  }

  it('httpByteSource inside workerd reads a COG window by range requests, same bits as in Node', async () => {
    served.bytes = 0;
    const win = [130, 10, 250, 120];
    const res = await mf!.dispatchFetch(`http://localhost/http?url=${encodeURIComponent(`${base}/cog.tif`)}&window=${JSON.stringify(win)}`, { signal: AbortSignal.timeout(20_000) });
    const got = (await res.json()) as Answer;
    expect(got.message).toBeUndefined();
    const want = await readRaster(fixture('cog-deflate.tif'), { window: win as unknown as [number, number, number, number] });
    expect(got.bands).toEqual(wire(want.bands));
    expect(served.bytes).toBeGreaterThan(0);
    expect(served.bytes).toBeLessThan(fixture('cog-deflate.tif').byteLength / 2);
  }, 30_000);
});
