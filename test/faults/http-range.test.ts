/**
 * Range reads under injected faults: a node:http server on 127.0.0.1 serves a real COG
 * (test/fixtures/formats/cog-deflate.tif, GDAL, DEFLATE, 256x256 tiles) and, per request, follows a
 * fault schedule: 500, a connection dropped mid-body, a short but self-consistent 206, a 206 of
 * another range, a stall past the client's timeout, a slow answer, the whole file (Range ignored).
 * httpByteSource + readRaster must give the clean raster bit for bit, or an IbfError after its
 * retries; never other bits (a silently partial raster).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { readRaster } from '../../src/io/geotiff.js';
import { httpByteSource } from '../../src/io/http.js';
import { REPO, ibfError } from '../helpers.js';

const COG = new Uint8Array(readFileSync(join(REPO, 'test', 'fixtures', 'formats', 'cog-deflate.tif')));
const WINDOW = [130, 10, 250, 120] as const;

type Fault = 'ok' | 'e500' | 'drop' | 'short' | 'other' | 'stall' | 'slow' | 'whole';

let server: Server;
let url = '';
/** Fault of the n-th request (0-based) of the current case. */
let schedule: (n: number, range: string) => Fault = () => 'ok';
let requests: Array<{ range: string; fault: Fault; t: number }> = [];
const stalled = new Set<ServerResponse>();

function answer(res: ServerResponse, fault: Fault, range: string | undefined): void {
  const m = /^bytes=(\d+)-(\d+)$/.exec(range ?? '');
  const start = m ? Number(m[1]) : 0;
  const end = m ? Math.min(Number(m[2]), COG.length - 1) : COG.length - 1;
  const part = COG.subarray(start, end + 1);
  const partial = (from: number, bytes: Uint8Array): void =>
    void res.writeHead(206, { 'content-range': `bytes ${from}-${from + bytes.length - 1}/${COG.length}`, 'content-length': bytes.length, etag: '"v1"' }).end(bytes);
  switch (fault) {
    case 'e500':
      return void res.writeHead(500).end('boom');
    case 'drop':
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${COG.length}`, 'content-length': part.length, etag: '"v1"' });
      res.write(part.subarray(0, Math.floor(part.length / 2)));
      return void setImmediate(() => res.socket?.destroy());
    case 'short':
      return partial(start, part.subarray(0, Math.max(1, Math.floor(part.length / 2))));
    case 'other':
      return partial(start + 1 < COG.length ? start + 1 : 0, COG.subarray(start + 1, end + 2));
    case 'stall':
      stalled.add(res);
      return;
    case 'slow':
      return void setTimeout(() => partial(start, part), 30);
    case 'whole':
      return void res.writeHead(200, { 'content-length': COG.length }).end(COG);
    default:
      return m ? partial(start, part) : void res.writeHead(200, { 'content-length': COG.length }).end(COG);
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const range = req.headers.range ?? '';
    const fault = schedule(requests.length, range);
    requests.push({ range, fault, t: performance.now() });
    answer(res, fault, req.headers.range);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cog.tif`;
});
afterAll(async () => {
  for (const r of stalled) r.socket?.destroy();
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
});

const clean = await readRaster(COG, { window: WINDOW });
const bits = (r: { bands: ArrayLike<number>[] }) => Buffer.from(new Float64Array(Array.from(r.bands[0]!)).buffer).toString('base64');
const CLEAN = bits(clean);
const OPTS = { retries: 3, retryDelay: 1, timeout: 400, probeBytes: 4096 };
const PROBE = 'bytes=0-4095';

async function readVia(opts = OPTS): Promise<string> {
  const src = await httpByteSource(url, opts);
  return bits(await readRaster(src, { window: WINDOW }));
}

describe('range reads under injected faults', () => {
  it('every fault kind twice per range, then success: retried with backoff, the clean raster bit for bit', async () => {
    const faults: Fault[] = ['e500', 'drop', 'short', 'other', 'stall'];
    for (const f of faults) {
      requests = [];
      const seen = new Map<string, number>();
      schedule = (_, range) => {
        // a 206 shorter than asked is allowed at the probe (RFC 9110); one of another range there is a broken server, not retried
        if (range === PROBE && (f === 'short' || f === 'other')) return 'ok';
        const k = seen.get(range) ?? 0;
        seen.set(range, k + 1);
        return k < 2 ? f : 'ok';
      };
      // a generous timeout (1 s) so a loaded machine does not turn a good answer into one more retry
      expect(await readVia({ ...OPTS, timeout: 1000, retryDelay: f === 'stall' ? 1 : 40 }), f).toBe(CLEAN);
      // each range was asked at least three times (two faults, then the answer; more only if a good answer
      // was slower than the timeout); the retries waited (backoff 40 ms, then 80 ms, x0.75..1.25 jitter)
      for (const [range, n] of seen) expect(n, `${f} ${range}`).toBeGreaterThanOrEqual(3);
      if (f !== 'stall') {
        const first = [...seen.keys()][0]!;
        const t = requests.filter((r) => r.range === first).map((r) => r.t);
        expect(t[1]! - t[0]!, f).toBeGreaterThanOrEqual(25);
        expect(t[2]! - t[1]!, f).toBeGreaterThanOrEqual(55);
      }
    }
  }, 60_000);

  it('a fault that persists: a clear IbfError after retries + 1 attempts, never a raster', async () => {
    for (const f of ['e500', 'drop', 'short', 'other'] as const) {
      requests = [];
      schedule = (n) => (n === 0 ? 'ok' : f); // the probe passes, every tile read fails
      const e = await ibfError(readVia());
      expect(e.code, f).toBe('E_INPUT_NOT_FOUND');
      expect(e.message, f).toMatch(/cannot be read: .*\(4 attempts\)/);
      expect(e.details).toMatchObject({ attempts: 4 });
      expect(e.hint).toMatch(/try again later|raise the retries/);
    }
  }, 60_000);

  it('random fault schedules: the clean raster bit for bit, or an IbfError; never other bits', async () => {
    const outcomes: Record<string, number> = {};
    const faultArb = fc.constantFrom<Fault>('ok', 'ok', 'ok', 'e500', 'drop', 'short', 'other', 'slow', 'whole', 'stall');
    await fc.assert(
      fc.asyncProperty(fc.array(faultArb, { maxLength: 24 }), async (plan) => {
        requests = [];
        schedule = (n) => plan[n] ?? 'ok';
        let got: string;
        try {
          got = await readVia({ ...OPTS, timeout: 200 });
        } catch (e) {
          expect(e).toBeInstanceOf(IbfError);
          outcomes[(e as IbfError).code] = (outcomes[(e as IbfError).code] ?? 0) + 1;
          return;
        }
        expect(got).toBe(CLEAN);
        outcomes.ok = (outcomes.ok ?? 0) + 1;
      }),
      { seed: Number(process.env.FUZZ_SEED ?? 20260801), numRuns: Number(process.env.FUZZ_RUNS ?? 40), endOnFailure: true },
    );
    expect(outcomes.ok).toBeGreaterThan(0);
  }, 120_000);
});
