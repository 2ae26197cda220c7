/**
 * httpByteSource against a real HTTP server (node:http on 127.0.0.1, port 0) that behaves well or badly on
 * purpose: ranges honoured, ranges ignored (small and large files, with and without Content-Length), bodies
 * cut short, 500 / 429 before success, 404 / 403, a file that changes while read, a server that never answers.
 * Byte counts are taken on the server side, so "reads only the windows needed" is measured, not assumed.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { readRaster, readRasterInfo } from '../../src/io/geotiff.js';
import { httpByteSource } from '../../src/io/http.js';
import { openByteSource } from '../../src/io/node.js';
import { encodeTiff } from '../../src/io/tiff-writer.js';
import { cogCells, COG_WIDTH } from '../fixtures/formats/values.mjs';
import { ibfError } from '../helpers.js';

const COG = new Uint8Array(readFileSync(new URL('../fixtures/formats/cog-deflate.tif', import.meta.url)));
const SPAM = new Uint8Array(readFileSync('/work/shared/data/geoblaze-mapspam-rice/spam2005v2r0_physical-area_rice_total.tif'));
/** A 2048x2048 float32 tiled (256x256) uncompressed GeoTIFF, 16 MiB: cell value = row * 2048 + column. */
const BIG_SIDE = 2048;
const BIG = new Uint8Array(
  encodeTiff({
    width: BIG_SIDE,
    height: BIG_SIDE,
    bands: [Float32Array.from({ length: BIG_SIDE * BIG_SIDE }, (_, i) => i)],
    tile: [256, 256],
    tags: [
      { tag: 33550, type: 'DOUBLE', value: [1, 1, 0] },
      { tag: 33922, type: 'DOUBLE', value: [0, 0, 0, 0, 0, 0] },
    ],
  }),
);
const FILES: Record<string, Uint8Array> = { 'cog.tif': COG, 'spam.tif': SPAM, 'big.tif': BIG, 'empty.tif': new Uint8Array(0) };

/** What the server did, per test. */
const log = { requests: 0, bytes: 0 };
/** Per-path failure budget: how many more requests of that path fail before it behaves. */
const failures = new Map<string, number>();
let etagVersion = 1;

function send(res: ServerResponse, status: number, headers: Record<string, string | number>, body: Uint8Array, cut?: number): void {
  res.writeHead(status, headers);
  const out = cut === undefined ? body : body.subarray(0, cut);
  log.bytes += out.byteLength;
  if (cut === undefined) return void res.end(out);
  res.write(out, () => res.destroy()); // announced more than it sends: the client sees a truncated body
}

function serveRange(req: IncomingMessage, res: ServerResponse, data: Uint8Array, opts: { etag?: string; cut?: boolean; shortRange?: boolean } = {}): void {
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  const etag = opts.etag ?? '"v1"';
  if (!m) return send(res, 200, { 'content-length': data.byteLength, etag, 'accept-ranges': 'bytes' }, data);
  const start = Number(m[1]);
  if (start >= data.byteLength) return send(res, 416, { 'content-range': `bytes */${data.byteLength}` }, new Uint8Array(0));
  const end = Math.min(m[2] ? Number(m[2]) : data.byteLength - 1, data.byteLength - 1);
  const part = data.subarray(start, end + 1);
  if (opts.shortRange) {
    // consistent Content-Length, but fewer bytes than the Content-Range it claims
    const short = part.subarray(0, Math.max(1, part.byteLength >> 1));
    return send(res, 206, { 'content-range': `bytes ${start}-${end}/${data.byteLength}`, 'content-length': short.byteLength, etag }, short);
  }
  send(res, 206, { 'content-range': `bytes ${start}-${end}/${data.byteLength}`, 'content-length': part.byteLength, etag }, part, opts.cut ? part.byteLength >> 1 : undefined);
}

function handler(req: IncomingMessage, res: ServerResponse): void {
  log.requests++;
  const [, mode, file] = (req.url ?? '').split('/');
  const data = FILES[file ?? ''];
  const budget = failures.get(req.url ?? '') ?? 0;
  if (budget > 0) failures.set(req.url!, budget - 1);
  if (!data) return send(res, 404, { 'content-type': 'text/plain' }, new TextEncoder().encode('not found'));
  switch (mode) {
    case 'ranges': return serveRange(req, res, data);
    case 'no-ranges': return send(res, 200, { 'content-length': data.byteLength }, data);
    case 'no-ranges-chunked': {
      res.writeHead(200, { 'content-type': 'image/tiff' });
      for (let at = 0; at < data.byteLength; at += 65536) res.write(data.subarray(at, at + 65536));
      log.bytes += data.byteLength;
      return void res.end();
    }
    case 'flaky': // 500 while the budget lasts
      if (budget > 0) return send(res, 500, { 'content-type': 'text/plain' }, new TextEncoder().encode('boom'));
      return serveRange(req, res, data);
    case 'rate-limited':
      if (budget > 0) return send(res, 429, { 'retry-after': '0' }, new Uint8Array(0));
      return serveRange(req, res, data);
    case 'truncated': // bodies cut in half while the budget lasts (Content-Length promises more)
      return serveRange(req, res, data, { cut: budget > 0 });
    case 'short-range':
      return serveRange(req, res, data, { shortRange: !(req.headers.range ?? '').startsWith('bytes=0-') });
    case 'changing': // a new ETag on every request after the probe
      return serveRange(req, res, data, { etag: `"v${etagVersion++}"` });
    case 'forbidden': return send(res, 403, {}, new Uint8Array(0));
    case 'silent': return; // never answers
    default: return send(res, 400, {}, new Uint8Array(0));
  }
}

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
});

function reset(): void {
  log.requests = 0;
  log.bytes = 0;
  failures.clear();
}


const FAST = { retryDelay: 1 };

describe('a server that honours Range', () => {
  it('a window of a tiled 16 MiB GeoTIFF fetches under 2% of it, and the cells are right', async () => {
    reset();
    const src = await httpByteSource(`${base}/ranges/big.tif`);
    expect(src.size).toBe(BIG.byteLength);
    expect(src.rangeRequests).toBe(true);
    const r = await readRaster(src, { window: [600, 300, 700, 400] });
    expect(r.bands[0]![0]).toBe(300 * BIG_SIDE + 600);
    expect(r.bands[0]![99 * 100 + 99]).toBe(399 * BIG_SIDE + 699);
    expect(log.bytes).toBeLessThan(0.02 * BIG.byteLength);
    expect(log.bytes).toBe(src.stats.bytes);
    expect(log.requests).toBeLessThanOrEqual(6); // probe, block tables, 1 tile (the window lies in one 256x256 tile)
  });

  it('the GDAL COG: header from the probe, then only the tiles of the window; values equal a local read', async () => {
    reset();
    const src = await httpByteSource(`${base}/ranges/cog.tif`, { probeBytes: 4096 });
    const info = await readRasterInfo(src);
    expect(info.overviews).toEqual([{ width: 256, height: 128 }, { width: 128, height: 64 }]);
    const afterOpen = log.requests;
    expect(afterOpen).toBe(1); // the COG header (all IFDs) fits in the 4 KiB probe
    const win = [130, 10, 250, 120] as const; // inside one 128x128 tile
    const r = await readRaster(src, { window: win });
    const want = cogCells();
    for (let y = win[1]; y < win[3]; y++) {
      for (let x = win[0]; x < win[2]; x++) expect(r.bands[0]![(y - win[1]) * (win[2] - win[0]) + x - win[0]]).toBe(want[y * COG_WIDTH + x]);
    }
    expect(log.bytes).toBeLessThan(COG.byteLength / 4);
  });

  it('MapSPAM (3.5 MB, 2160 LZW strips): 10 rows cost a few percent of the file', async () => {
    reset();
    const src = await httpByteSource(`${base}/ranges/spam.tif`);
    const r = await readRaster(src, { window: [3000, 1000, 3100, 1010] });
    expect(r.grid.width).toBe(100);
    expect(log.bytes).toBeLessThan(SPAM.byteLength / 20);
  });

  it('reads are exact at the end of the file and empty past it', async () => {
    reset();
    const src = await httpByteSource(`${base}/ranges/cog.tif`, { probeBytes: 100 });
    const tail = new Uint8Array(await src.read(COG.byteLength - 10, 100));
    expect(Array.from(tail)).toEqual(Array.from(COG.subarray(COG.byteLength - 10)));
    expect((await src.read(COG.byteLength + 5, 10)).byteLength).toBe(0);
    expect(Array.from(new Uint8Array(await src.read(50, 100)))).toEqual(Array.from(COG.subarray(50, 150)));
  });

  it('an empty file opens with size 0 and reads as an empty GeoTIFF error', async () => {
    const src = await httpByteSource(`${base}/ranges/empty.tif`);
    expect(src.size).toBe(0);
    const e = await ibfError(readRaster(src));
    expect(e.code).toBe('E_TIFF_INVALID');
    expect(e.message).toMatch(/empty/);
  });
});

describe('openByteSource (io/node): one entry for paths and URLs', () => {
  it('http(s) URLs go through httpByteSource, paths and file:// URLs through fileByteSource', async () => {
    const path = new URL('../fixtures/formats/cog-deflate.tif', import.meta.url);
    for (const location of [`${base}/ranges/cog.tif`, path.pathname, path.href]) {
      const src = await openByteSource(location, { probeBytes: 64 });
      expect(src.size).toBe(COG.byteLength);
      expect((await readRasterInfo(src)).overviews).toHaveLength(2);
      await src.close();
    }
    expect((await ibfError(openByteSource(`${base}/ranges/missing.tif`))).code).toBe('E_INPUT_NOT_FOUND');
    expect((await ibfError(openByteSource('/nonexistent/x.tif'))).code).toBe('E_INPUT_NOT_FOUND');
  });
});

describe('a server that ignores Range', () => {
  it('small file: read once in full (Content-Length or chunked), then served from memory', async () => {
    for (const mode of ['no-ranges', 'no-ranges-chunked']) {
      reset();
      const src = await httpByteSource(`${base}/${mode}/cog.tif`);
      expect(src.rangeRequests).toBe(false);
      expect(src.size).toBe(COG.byteLength);
      const r = await readRaster(src, { window: [0, 0, 64, 64] });
      expect(r.bands[0]!.length).toBe(64 * 64);
      expect(log.requests).toBe(1);
    }
  });

  it('file larger than maxFullRead: refused with E_LIMIT saying to use range support or download first', async () => {
    for (const mode of ['no-ranges', 'no-ranges-chunked']) {
      reset();
      const e = await ibfError(httpByteSource(`${base}/${mode}/big.tif`, { maxFullRead: 1024 * 1024 }));
      expect(e.code).toBe('E_LIMIT');
      expect(e.message).toMatch(/ignores HTTP Range requests/);
      expect(e.message).toMatch(mode === 'no-ranges' ? /has 16777\d+ bytes, more than the 1048576-byte limit/ : /larger than the 1048576-byte limit/);
      expect(e.hint).toMatch(/range support.*download it first.*maxFullRead/);
    }
  });
});

describe('failures: retried when transient, never a silently short read', () => {
  it('500 twice, then success', async () => {
    reset();
    failures.set('/flaky/cog.tif', 2);
    const src = await httpByteSource(`${base}/flaky/cog.tif`, FAST);
    expect(src.size).toBe(COG.byteLength);
    expect(log.requests).toBe(3);
  });

  it('429 with Retry-After, then success', async () => {
    reset();
    failures.set('/rate-limited/cog.tif', 1);
    const src = await httpByteSource(`${base}/rate-limited/cog.tif`, FAST);
    expect(src.size).toBe(COG.byteLength);
  });

  it('500 every time: E_INPUT_NOT_FOUND after retries + 1 attempts, with the status', async () => {
    reset();
    failures.set('/flaky/cog.tif', 100);
    const e = await ibfError(httpByteSource(`${base}/flaky/cog.tif`, { ...FAST, retries: 2 }));
    expect(e.code).toBe('E_INPUT_NOT_FOUND');
    expect(e.message).toMatch(/cog\.tif cannot be read: HTTP 500.*\(3 attempts\)/);
    expect(log.requests).toBe(3);
  });

  it('a body cut short is retried; one that stays short is an error, not a short read', async () => {
    reset();
    const ok = await httpByteSource(`${base}/truncated/cog.tif`, { ...FAST, probeBytes: 64 });
    failures.set('/truncated/cog.tif', 1);
    const bytes = new Uint8Array(await ok.read(1000, 5000));
    expect(Array.from(bytes)).toEqual(Array.from(COG.subarray(1000, 6000)));
    failures.set('/truncated/cog.tif', 100);
    const e = await ibfError(ok.read(1000, 5000));
    expect(e.code).toBe('E_INPUT_NOT_FOUND');
    expect(e.message).toMatch(/cannot be read: .*\(4 attempts\)/);
  });

  it('a 206 whose body is shorter than its Content-Range is never returned', async () => {
    reset();
    const src = await httpByteSource(`${base}/short-range/cog.tif`, { ...FAST, probeBytes: 64, retries: 1 });
    const e = await ibfError(src.read(1000, 5000));
    expect(e.message).toMatch(/short answer: 2500 bytes for a 5000-byte range \(2 attempts\)/);
    // and through readRaster it surfaces as the same error, not as a corrupt TIFF
    const e2 = await ibfError(readRaster(src));
    expect(e2.code).toBe('E_INPUT_NOT_FOUND');
  });

  it('404 -> E_INPUT_NOT_FOUND at once (no retry); 403 says how to pass credentials', async () => {
    reset();
    const e = await ibfError(httpByteSource(`${base}/ranges/nothing.tif?X-Amz-Signature=secret`, FAST));
    expect(e.code).toBe('E_INPUT_NOT_FOUND');
    expect(e.message).toBe(`${base}/ranges/nothing.tif?… does not exist (HTTP 404)`); // query string (signatures) not shown
    expect(log.requests).toBe(1);
    const f = await ibfError(httpByteSource(`${base}/forbidden/cog.tif`, FAST));
    expect(f.message).toMatch(/access denied \(HTTP 403\)/);
    expect(f.hint).toMatch(/headers option|pre-signed/);
  });

  it('a file that changes between requests (new ETag) is refused', async () => {
    const src = await httpByteSource(`${base}/changing/cog.tif`, { probeBytes: 64 });
    const e = await ibfError(src.read(1000, 100));
    expect(e.message).toMatch(/changed while being read \(ETag "v\d+" became "v\d+"\)/);
  });

  it('a server that never answers: timeout, retried, then an error; an abort rejects at once with its reason', async () => {
    const e = await ibfError(httpByteSource(`${base}/silent/cog.tif`, { timeout: 100, retries: 1, retryDelay: 1 }));
    expect(e.message).toMatch(/no complete answer within 100 ms \(2 attempts\)/);
    const ctl = new AbortController();
    const p = httpByteSource(`${base}/silent/cog.tif`, { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 50);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('unreachable host and non-http URLs', async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const e = await ibfError(httpByteSource(`http://127.0.0.1:${port}/x.tif`, { retries: 1, retryDelay: 1 }));
    expect(e.code).toBe('E_INPUT_NOT_FOUND');
    expect(e.message).toMatch(/cannot be read: fetch failed.*\(2 attempts\)/);
    expect((await ibfError(httpByteSource('file:///etc/passwd'))).code).toBe('E_USAGE');
    expect((await ibfError(httpByteSource('not a url'))).code).toBe('E_USAGE');
  });
});
