/**
 * The HTTP publisher (src/flow/ibf/http-publisher.ts) against a real node:http server on 127.0.0.1:
 * retries with backoff until the server accepts, no retry of a refused request, Retry-After, timeouts,
 * cancellation, and the folder publisher chained after it (a failed upload leaves no files).
 */
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dirPublisher } from '../../../src/flow/index-node.js';
import { REQUESTS_OUTPUT } from '../../../src/flow/ibf/ibf-system.js';
import { chainPublishers, httpPublisher, httpRetryDelay, joinUrl, retryAfterMs, sendWithRetry, type HttpAttempt } from '../../../src/flow/ibf/http-publisher.js';
import { ibfError, tempDir } from '../../helpers.js';

interface Received {
  method: string;
  url: string;
  auth?: string;
  type?: string;
  body: string;
}

let server: Server | undefined;

/** A server whose `respond` decides each answer (by request number, 1-based). */
async function serve(respond: (n: number, req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, type: req.headers['content-type'], body });
      respond(received.length, req, res);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`, received };
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const fast = { retry: { count: 3, initialMs: 5, jitter: 0 } };

function outputs() {
  const a = { countryCodeISO3: 'MOZ', leadTime: '24-hour' };
  const b = { countryCodeISO3: 'MOZ', alertsPerLeadTime: [] };
  return {
    'ibf-system/001-a.json': JSON.stringify(a),
    'ibf-system/002-b.json': new TextEncoder().encode(JSON.stringify(b)),
    [REQUESTS_OUTPUT]: JSON.stringify([
      { method: 'POST', path: 'admin-area-dynamic-data/exposure', body: 'ibf-system/001-a.json' },
      { method: 'POST', path: 'event/alerts-per-lead-time', body: 'ibf-system/002-b.json' },
    ]),
    'result.json': '{}',
  };
}

async function publish(p: ReturnType<typeof httpPublisher> | ReturnType<typeof chainPublishers>, outs: Record<string, string | Uint8Array> = outputs()) {
  const s = await p.open('run-1');
  for (const [name, data] of Object.entries(outs)) await s.put(name, data);
  try {
    return await s.commit();
  } catch (e) {
    await s.abort();
    throw e;
  }
}

describe('httpPublisher', () => {
  it('a server that fails twice, then accepts: every request arrives once accepted, in order, with the token', async () => {
    // the first two requests get 503; from then on 201
    const { url, received } = await serve((n, _req, res) => {
      res.statusCode = n <= 2 ? 503 : 201;
      res.end(n <= 2 ? 'busy' : '');
    });
    const attempts: HttpAttempt[] = [];
    const p = httpPublisher({ endpoint: url, token: 's3cret', ...fast, onAttempt: (a) => attempts.push(a) });
    const receipt = await publish(p);
    expect(receipt).toEqual({ target: url, outputs: ['ibf-system/001-a.json', 'ibf-system/002-b.json'] });
    expect(received.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /api/admin-area-dynamic-data/exposure',
      'POST /api/admin-area-dynamic-data/exposure',
      'POST /api/admin-area-dynamic-data/exposure',
      'POST /api/event/alerts-per-lead-time',
    ]);
    expect(received.every((r) => r.auth === 'Bearer s3cret' && r.type === 'application/json')).toBe(true);
    expect(JSON.parse(received[3]!.body)).toEqual({ countryCodeISO3: 'MOZ', alertsPerLeadTime: [] });
    expect(attempts.map((a) => [a.attempt, a.status, a.retryInMs])).toEqual([[1, 503, 5], [2, 503, 10], [3, 201, undefined], [1, 201, undefined]]);
    expect(p.sent.map((s) => s.status)).toEqual([201, 201]);
    expect(JSON.stringify(attempts)).not.toContain('s3cret');
  });

  it('a refused request (400) is not retried; retries run out on a server that keeps failing', async () => {
    const { url, received } = await serve((_n, _req, res) => {
      res.statusCode = 400;
      res.end('{"message":"leadTime must be a valid enum value"}');
    });
    const e = await ibfError(publish(httpPublisher({ endpoint: url, ...fast })));
    expect(e.code).toBe('E_HTTP');
    expect(e.message).toContain('answered 400: {"message":"leadTime must be a valid enum value"}');
    expect(received).toHaveLength(1);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    const busy = await serve((_n, _req, res) => {
      res.statusCode = 502;
      res.end();
    });
    const e2 = await ibfError(publish(httpPublisher({ endpoint: busy.url, ...fast })));
    expect(e2.message).toContain('after 4 attempts');
    expect(busy.received).toHaveLength(4);
  });

  it('a connection refused is retried as well', async () => {
    const { url } = await serve((_n, _req, res) => res.end());
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const attempts: HttpAttempt[] = [];
    const e = await ibfError(sendWithRetry('POST', url, '{}', { retry: { count: 1, initialMs: 1, jitter: 0 }, onAttempt: (a) => attempts.push(a) }));
    expect(e.code).toBe('E_HTTP');
    expect(attempts).toHaveLength(2);
    expect(attempts[0]!.error).toBeTruthy();
  });

  it('Retry-After sets a longer delay; a slow answer times out and is retried', async () => {
    const { url } = await serve((n, _req, res) => {
      if (n === 1) {
        res.statusCode = 429;
        res.setHeader('retry-after', '0.05');
        res.end();
      } else if (n === 2) setTimeout(() => res.end(), 400);
      else res.end();
    });
    const attempts: HttpAttempt[] = [];
    const status = await sendWithRetry('POST', joinUrl(url, 'x'), '{}', { retry: { count: 3, initialMs: 1, jitter: 0 }, timeoutMs: 100, onAttempt: (a) => attempts.push(a) });
    expect(status).toBe(200);
    expect(attempts[0]).toMatchObject({ status: 429, retryInMs: 50 });
    expect(attempts[1]!.error).toContain('did not answer within 100 ms');
    expect(attempts).toHaveLength(3);
  });

  it('the signal cancels a request in flight and a wait between attempts', async () => {
    const { url } = await serve((n, _req, res) => {
      if (n === 1) {
        res.statusCode = 503;
        res.end();
      }
      // later requests never answer
    });
    const ac = new AbortController();
    const p = sendWithRetry('POST', url, '{}', { retry: { count: 5, initialMs: 10_000, jitter: 0 }, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect((await ibfError(p)).code).toBe('E_CANCELLED');
    const ac2 = new AbortController();
    const p2 = sendWithRetry('POST', url, '{}', { retry: { count: 0 }, signal: ac2.signal });
    setTimeout(() => ac2.abort(), 50);
    expect((await ibfError(p2)).code).toBe('E_CANCELLED');
  });

  it('chained after HTTP, the folder gets the outputs only when the upload succeeded', async () => {
    const { url } = await serve((_n, _req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const dir = tempDir();
    const failing = chainPublishers([httpPublisher({ endpoint: url, retry: { count: 1, initialMs: 1 } }), dirPublisher(dir)]);
    await ibfError(publish(failing));
    expect(readdirSync(dir)).toEqual([]);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    const ok = await serve((_n, _req, res) => res.end());
    const both = chainPublishers([httpPublisher({ endpoint: ok.url }), dirPublisher(dir)]);
    const receipt = await publish(both);
    expect(receipt.target).toBe(`${ok.url} + ${dir}`);
    expect(receipt.outputs).toContain('result.json');
    expect(existsSync(join(dir, 'ibf-system', '002-b.json'))).toBe(true);
    expect(ok.received).toHaveLength(2);
  });

  it('checks the endpoint, the request list, delays and Retry-After dates', async () => {
    expect(() => httpPublisher({ endpoint: 'ftp://x' })).toThrow(/not an http\(s\) URL/);
    const { url } = await serve((_n, _req, res) => res.end());
    const bad = { ...outputs(), [REQUESTS_OUTPUT]: JSON.stringify([{ method: 'POST', path: 'x', body: 'ibf-system/missing.json' }]) };
    expect((await ibfError(publish(httpPublisher({ endpoint: url }), bad))).code).toBe('E_FLOW_RESULT');
    expect(await publish(httpPublisher({ endpoint: url }), { 'result.json': '{}' })).toEqual({ target: url, outputs: [] });
    expect([1, 2, 3, 4].map((n) => httpRetryDelay({ initialMs: 100, maxMs: 500, jitter: 0 }, n, Math.random))).toEqual([100, 200, 400, 500]);
    expect(httpRetryDelay({ initialMs: 100, jitter: 0.5 }, 1, () => 0)).toBe(50);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(joinUrl('https://h/api', '/event/x')).toBe('https://h/api/event/x');
  });
});
