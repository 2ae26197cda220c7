/**
 * @module io/http
 * A {@link ByteSource} over an http(s) URL that reads only the byte ranges asked for (`Range` requests),
 * so a window of a cloud-optimised GeoTIFF costs a few small requests. Uses only `fetch` (web standard):
 * runs in Node, browsers and Cloudflare Workers; pass `fetch` to add auth, caching or a test double.
 *
 * Opening probes the first bytes with a ranged GET: a `206` with `Content-Range` gives the size and proves
 * range support (the probed bytes are kept: a COG's header is usually inside them). A server that ignores
 * `Range` (answers `200` with the whole body) is read once in full when the body is at most `maxFullRead`
 * bytes, else refused. Transient failures (network errors, timeouts, 408/425/429/5xx) are retried with
 * exponential backoff; every response is checked against the range asked for, so a read is never silently short.
 */
import { IbfError } from '../errors.js';
import { readStream, type ByteSource } from './byte-source.js';

/** A URL as it may be written into a manifest or a message: no user name or password. */
export function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

export interface HttpByteSourceOptions {
  /** The `fetch` to use (default: the global one), e.g. one that signs requests. */
  fetch?: typeof fetch;
  /** Extra request headers (e.g. `Authorization`), sent with every request. */
  headers?: Record<string, string>;
  /**
   * Largest body (bytes) read in full from a server that ignores `Range`. Default 64 MiB. Larger files on
   * such a server are refused with `E_LIMIT`.
   */
  maxFullRead?: number;
  /** Retries of a request after a transient failure (network error, timeout, 408, 425, 429, 5xx). Default 3. */
  retries?: number;
  /** First backoff before a retry, in ms; doubles each retry (with jitter), at most 5 s. Default 200. */
  retryDelay?: number;
  /** Time for one request (headers and body), in ms, before it counts as a transient failure. Default 30000. */
  timeout?: number;
  /** Bytes fetched (and kept) by the probe at open. Default 16 KiB (GDAL reads as much when it opens a file). */
  probeBytes?: number;
  /** Most requests in flight at once. Default 6. */
  concurrency?: number;
  /** Aborts every request of this source (opening and reads); the abort reason is thrown as is. */
  signal?: AbortSignal;
  /** Name for messages. Default: the URL without credentials or query string. */
  name?: string;
}

/** An http(s) {@link ByteSource}; `size` is known once opened. */
export interface HttpByteSource extends ByteSource {
  size: number;
  name: string;
  /** The URL as given. */
  readonly url: string;
  /** False when the server ignored `Range` and the whole file was read into memory at open. */
  readonly rangeRequests: boolean;
  /** Requests made so far and response body bytes received (probe included). */
  readonly stats: { requests: number; bytes: number };
  /** Drops the bytes kept in memory (probe, or the whole file). Reads after it still work, over the network. */
  close(): Promise<void>;
}

const MiB = 1024 * 1024;

/** `https://host/path?query` as `https://host/path?…` without user:password, for messages. */
function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
}

class Transient extends Error {}

/** Reads a body, refusing (and cancelling) past `cap` bytes: `null` when it is longer than `cap`. */
async function readBody(res: Response, cap: number): Promise<Uint8Array | null> {
  if (!res.body) return new Uint8Array(0);
  return readStream(res.body, cap);
}

function parseContentRange(v: string | null): { start: number; end: number; total: number | null } | null {
  const m = v ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(v) : null;
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Seconds or an HTTP date in `Retry-After`, as ms (at most 30 s), or null. */
function retryAfter(res: Response): number | null {
  const v = res.headers.get('retry-after');
  if (!v) return null;
  const s = Number(v);
  const ms = Number.isFinite(s) ? s * 1000 : Date.parse(v) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), 30_000) : null;
}

/**
 * Opens `url` for ranged reads: probes it (size, range support), then serves `read(offset, length)` with
 * `Range` requests, from the probed bytes when they cover the range.
 *
 * Errors (all `IbfError` naming the URL, with a hint): `E_INPUT_NOT_FOUND` for 404/410, access denied
 * (401/403), other HTTP errors, unreachable servers and failures that persist after the retries, short or
 * inconsistent responses, and a file that changes while it is read (ETag); `E_LIMIT` for a server without
 * range support whose file is larger than `maxFullRead`; `E_USAGE` for a URL that is not http(s).
 * An abort through `opts.signal` rejects with the signal's reason.
 */
export async function httpByteSource(url: string | URL, opts: HttpByteSourceOptions = {}): Promise<HttpByteSource> {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new IbfError('E_USAGE', `${String(url)} is not a valid URL`, { hint: 'Pass an absolute http(s) URL, e.g. https://example.org/hazard.tif.', cause: e });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new IbfError('E_USAGE', `${redact(u)} is not an http(s) URL`, { hint: 'Pass an http(s) URL; read local files with fileByteSource (io/node).' });
  }
  const name = opts.name ?? redact(u);
  // fetch refuses URLs with credentials: send them as HTTP Basic authorization instead
  const auth: Record<string, string> = {};
  if (u.username || u.password) {
    const basic = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
    auth.authorization = `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(basic)))}`;
    u.username = '';
    u.password = '';
  }
  const href = u.href;
  const doFetch = opts.fetch ?? globalThis.fetch;
  const maxFullRead = opts.maxFullRead ?? 64 * MiB;
  const retries = Math.max(0, Math.floor(opts.retries ?? 3));
  const retryDelay = Math.max(0, opts.retryDelay ?? 200);
  const timeout = opts.timeout ?? 30_000;
  const probeBytes = Math.max(1, Math.floor(opts.probeBytes ?? 16 * 1024));
  const signal = opts.signal;
  const stats = { requests: 0, bytes: 0 };

  // concurrency limit
  const limit = Math.max(1, Math.floor(opts.concurrency ?? 6));
  let active = 0;
  const queue: (() => void)[] = [];
  const acquire = async () => {
    if (active >= limit) await new Promise<void>((ok) => queue.push(ok));
    active++;
  };
  const release = () => {
    active--;
    queue.shift()?.();
  };

  const fail = (what: string, hint: string, details: Record<string, unknown> = {}, cause?: unknown) =>
    new IbfError('E_INPUT_NOT_FOUND', `${name} ${what}`, { hint, details: { url: name, ...details }, cause });
  const noRanges = (size: number | null) =>
    new IbfError('E_LIMIT', `${name}: the server ignores HTTP Range requests and the file${size === null ? ' is larger than' : ` has ${size} bytes, more than`} the ${maxFullRead}-byte limit for reading it whole`, {
      hint: 'Serve it from a server with range support (object stores such as S3, R2, GCS and most web servers have it), download it first and read the local file, or raise the maxFullRead option.',
      details: { url: name, size, maxFullRead },
    });

  /** One request with retries; `handle` turns a response into a result or throws Transient to retry. */
  async function request<T>(headers: Record<string, string>, handle: (res: Response) => Promise<T>): Promise<T> {
    let last: unknown;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw signal.reason;
      let wait: number | null = null;
      await acquire();
      const ctl = new AbortController();
      const onAbort = () => ctl.abort(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => ctl.abort(new Transient(`no complete answer within ${timeout} ms`)), timeout);
      try {
        stats.requests++;
        // identity: a range of a compressed representation would not be the file's bytes (browsers ignore it)
        const res = await doFetch(href, { headers: { ...auth, ...opts.headers, 'accept-encoding': 'identity', ...headers }, signal: ctl.signal, redirect: 'follow' });
        if (res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500) {
          wait = retryAfter(res);
          await res.body?.cancel().catch(() => {});
          throw new Transient(`HTTP ${res.status} ${res.statusText}`.trim());
        }
        return await handle(res);
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        const reason = ctl.signal.aborted ? ctl.signal.reason : e;
        if (reason instanceof IbfError) throw reason;
        last = reason;
        if (!(reason instanceof Transient) && !(reason instanceof TypeError) && !(reason instanceof Error && /terminated|socket|ECONN|network|fetch failed/i.test(reason.message))) {
          throw fail(`cannot be read (${reason instanceof Error ? reason.message : String(reason)})`, 'Check the URL and the network.', {}, reason);
        }
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        release();
      }
      if (attempt >= retries) break;
      const backoff = Math.min(retryDelay * 2 ** attempt, 5000) * (0.75 + Math.random() * 0.5);
      await sleep(wait ?? backoff, signal);
    }
    const msg = last instanceof Error ? (last.cause instanceof Error ? `${last.message}: ${last.cause.message}` : last.message) : String(last);
    throw fail(`cannot be read: ${msg} (${retries + 1} attempt${retries ? 's' : ''})`, 'The server or the network failed repeatedly; try again later, or raise the retries option.', { attempts: retries + 1 }, last);
  }

  function httpError(res: Response): IbfError {
    const s = res.status;
    if (s === 404 || s === 410) return fail(`does not exist (HTTP ${s})`, 'Check the URL (paths and object keys are case-sensitive).', { status: s });
    if (s === 401 || s === 403) return fail(`cannot be read: access denied (HTTP ${s})`, 'Pass credentials in the headers option, or a fresh pre-signed URL (they expire).', { status: s });
    return fail(`cannot be read (HTTP ${s}${res.statusText ? ` ${res.statusText}` : ''})`, 'Check the URL and that the server serves the file.', { status: s });
  }

  // probe: the first bytes, the size, and whether ranges are honoured
  let etag: string | null = null;
  let full: Uint8Array | null = null;
  let head: Uint8Array = new Uint8Array(0);
  let size = 0;
  /** Takes a whole-file 200 answer (the server ignored Range) if it fits under maxFullRead. */
  const takeWhole = async (res: Response): Promise<Uint8Array> => {
    const declared = res.headers.get('content-length');
    const len = declared === null ? null : Number(declared);
    if (len !== null && len > maxFullRead) {
      await res.body?.cancel().catch(() => {});
      throw noRanges(len);
    }
    const body = await readBody(res, maxFullRead);
    if (body === null) throw noRanges(null);
    stats.bytes += body.byteLength;
    if (len !== null && body.byteLength !== len) throw new Transient(`body ended after ${body.byteLength} of ${len} bytes`);
    return body;
  };
  await request({ range: `bytes=0-${probeBytes - 1}` }, async (res) => {
    if (res.status === 206) {
      const cr = parseContentRange(res.headers.get('content-range'));
      if (!cr || cr.start !== 0 || cr.end < cr.start) {
        await res.body?.cancel().catch(() => {});
        throw fail(`cannot be read: the server answered a range request with Content-Range ${JSON.stringify(res.headers.get('content-range'))}`, 'The server mishandles Range requests; download the file first and read the local copy.');
      }
      const want = cr.end + 1;
      const body = await readBody(res, want);
      if (body === null) throw fail(`cannot be read: the server sent more bytes than its Content-Range says`, 'The server mishandles Range requests; download the file first.');
      stats.bytes += body.byteLength;
      if (body.byteLength !== want) throw new Transient(`short answer: ${body.byteLength} of ${want} bytes`);
      if (cr.total === null) throw fail('cannot be read: the server does not tell the file size (Content-Range total "*")', 'Serve the file from a server that reports its size, or download it first.');
      head = body;
      size = cr.total;
      etag = res.headers.get('etag');
      return;
    }
    if (res.status === 200) {
      full = await takeWhole(res);
      size = full.byteLength;
      return;
    }
    if (res.status === 416) {
      const cr = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
      await res.body?.cancel().catch(() => {});
      if (cr && Number(cr[1]) === 0) return; // an empty file: size 0
      throw fail('cannot be read: the server refused the range request (HTTP 416)', 'Check the URL; download the file first if the server mishandles ranges.', { status: 416 });
    }
    await res.body?.cancel().catch(() => {});
    throw httpError(res);
  });

  const slice = (src: Uint8Array, start: number, end: number) => src.slice(start, end).buffer as ArrayBuffer;

  async function read(offset: number, length: number): Promise<ArrayBuffer> {
    const start = Math.max(0, Math.floor(offset));
    const end = Math.min(size, start + Math.max(0, Math.floor(length)));
    if (end <= start) return new ArrayBuffer(0);
    if (full) return slice(full, start, end);
    if (end <= head.byteLength) return slice(head, start, end);
    return request({ range: `bytes=${start}-${end - 1}` }, async (res) => {
      if (res.status === 200) {
        // the server stopped honouring Range (e.g. a cache in between): take the whole file if it is small
        const body = await takeWhole(res);
        if (body.byteLength !== size) throw fail(`changed while being read (its size went from ${size} to ${body.byteLength} bytes)`, 'Read it again once it is no longer being written.');
        full = body;
        head = new Uint8Array(0);
        return slice(body, start, end);
      }
      if (res.status !== 206) {
        await res.body?.cancel().catch(() => {});
        if (res.status === 412 || res.status === 416) throw fail(`changed while being read (HTTP ${res.status} for bytes ${start}-${end - 1})`, 'Read it again once it is no longer being written.', { status: res.status });
        throw httpError(res);
      }
      const tag = res.headers.get('etag');
      if (etag !== null && tag !== null && tag !== etag) {
        await res.body?.cancel().catch(() => {});
        throw fail(`changed while being read (ETag ${etag} became ${tag})`, 'Read it again once it is no longer being written.', { etag, now: tag });
      }
      const cr = parseContentRange(res.headers.get('content-range'));
      if (!cr || cr.start !== start || cr.end < end - 1 || (cr.total !== null && cr.total !== size)) {
        await res.body?.cancel().catch(() => {});
        if (cr && cr.total !== null && cr.total !== size) throw fail(`changed while being read (its size went from ${size} to ${cr.total} bytes)`, 'Read it again once it is no longer being written.');
        throw new Transient(`the answer covers ${res.headers.get('content-range') ?? 'no Content-Range'}, not bytes ${start}-${end - 1}`);
      }
      const body = await readBody(res, cr.end - cr.start + 1);
      stats.bytes += body?.byteLength ?? 0;
      if (body === null || body.byteLength < end - start) throw new Transient(`short answer: ${body?.byteLength ?? 'more than expected'} bytes for a ${end - start}-byte range`);
      return slice(body, 0, end - start);
    });
  }

  return {
    url: String(url),
    name,
    size,
    rangeRequests: full === null,
    stats,
    read,
    close: async () => {
      head = new Uint8Array(0);
      full = null;
    },
  };
}
