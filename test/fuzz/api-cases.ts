/**
 * HTTP API abuse, runtime-neutral (only fetch, fast-check and vitest): generated malformed bodies,
 * wrong and odd content types, invalid UTF-8, oversized and chunked bodies, wrong methods, odd and
 * oversized Authorization headers, odd paths. Every answer must be a problem+json 4xx (never a 5xx,
 * never a stack), and the service must keep serving a real request afterwards.
 *
 * Runs against the app in process and `ibf serve` over HTTP (test/fuzz/api.test.ts). A target takes
 * the keys of test/api/cases.ts and its limits (CASE_LIMITS), so the same cases can run inside
 * workerd: `apiAbuseCases('workerd', () => ({ fetch: (p, i) => SELF.fetch('http://x' + p, i) }))`.
 * Stays under 400 keyed requests per target (CASE_LIMITS.ratePerMinute is 600).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CASE_LIMITS, dataUrl, expectProblem, rasters, scenario, testKeys, type CaseTarget } from '../api/cases.js';

const ROUTES = ['/v1/assess', '/v1/jobs', '/v1/zonal'] as const;
const TYPES = ['application/json', 'application/json; charset=utf-8', 'application/geo+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'image/tiff', 'APPLICATION/JSON'];

/** A body: bytes of random JSON, random bytes, truncated JSON, deep nesting, or invalid UTF-8. */
const bodyArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => new TextEncoder().encode(JSON.stringify(v) ?? 'null')),
  fc.uint8Array({ maxLength: 300 }),
  fc.jsonValue({ maxDepth: 3 }).chain((v) => {
    const s = JSON.stringify(v) ?? 'null';
    return fc.nat({ max: s.length }).map((n) => new TextEncoder().encode(s.slice(0, n)));
  }),
  fc.integer({ min: 1, max: 5000 }).map((d) => new TextEncoder().encode(`${'['.repeat(d)}${']'.repeat(d)}`)),
  fc.constantFrom(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), new Uint8Array([0xc3, 0x28])),
);

/** Statuses a bad request may get; 401/403/429 when the key is what is wrong. */
const CLIENT_ERRORS = [400, 401, 403, 404, 405, 413, 415, 422, 429];

export function apiAbuseCases(label: string, target: () => CaseTarget, opts: { runs?: number } = {}): void {
  describe(`API abuse (${label}): problem+json 4xx, never a 5xx, and the service keeps serving`, () => {
    const t = () => target();
    const runs = opts.runs ?? 120;

    const stillServing = async (token: string) => {
      expect((await t().fetch('/healthz')).status).toBe(200);
      const data = rasters(8, 6);
      const ok = await t().fetch('/v1/assess', { method: 'POST', body: JSON.stringify(scenario(dataUrl(data.hazard), dataUrl(data.exposure))), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
      expect(ok.status).toBe(200);
      await ok.body?.cancel();
    };

    it('generated bodies and content types on every JSON route', async () => {
      const { tokens } = await testKeys();
      const seen: Record<number, number> = {};
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...ROUTES), fc.constantFrom(...TYPES), bodyArb, async (route, type, body) => {
          const headers: Record<string, string> = { authorization: `Bearer ${tokens.run}` };
          if (type) headers['content-type'] = type;
          const res = await t().fetch(route, { method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers });
          seen[res.status] = (seen[res.status] ?? 0) + 1;
          expect(CLIENT_ERRORS, `${route} ${type} ${res.status}`).toContain(res.status);
          const p = await expectProblem(res, res.status, expect.any(String) as unknown as string);
          expect(String(p.code)).toMatch(/^E_/);
        }),
        { seed: Number((globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.FUZZ_SEED ?? 20260801), numRuns: runs, endOnFailure: true },
      );
      await stillServing(tokens.run);
    }, 120_000);

    it('invalid UTF-8 and deep nesting: 400 E_INPUT_FORMAT naming JSON', async () => {
      const { tokens } = await testKeys();
      const bad = [
        new Uint8Array([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), // {"name":"\xc3(" : a broken 2-byte sequence
        new Uint8Array([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), // a UTF-16 surrogate encoded as UTF-8
        new Uint8Array([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), // a byte that is never UTF-8
      ];
      for (const body of bad) {
        const res = await t().fetch('/v1/assess', { method: 'POST', body, headers: { authorization: `Bearer ${tokens.run}`, 'content-type': 'application/json' } });
        expect((await expectProblem(res, 400, 'E_INPUT_FORMAT')).detail).toMatch(/not valid JSON/);
      }
      // 100 000 levels of nesting within the body limit: parsed (V8's JSON.parse does not recurse), refused as a scenario
      const deep = new TextEncoder().encode(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
      const res = await t().fetch('/v1/assess', { method: 'POST', body: deep, headers: { authorization: `Bearer ${tokens.run}`, 'content-type': 'application/json' } });
      expect([400, 422]).toContain(res.status);
      await expectProblem(res, res.status, res.status === 400 ? 'E_INPUT_FORMAT' : 'E_SCENARIO_INVALID');
    });

    it('a body over the limit sent as a stream (no Content-Length) is cut off at the limit: 413', async () => {
      const { tokens } = await testKeys();
      let sent = 0;
      const chunk = new Uint8Array(64 * 1024).fill(0x20);
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent > CASE_LIMITS.maxBodyBytes * 4) return c.close();
          sent += chunk.byteLength;
          c.enqueue(chunk);
        },
      });
      const res = await t().fetch('/v1/assess', { method: 'POST', body: stream, headers: { authorization: `Bearer ${tokens.run}`, 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
      await expectProblem(res, 413, 'E_LIMIT');
    });

    it('wrong methods and odd paths: 404 problem+json, never a 5xx', async () => {
      const { tokens } = await testKeys();
      const auth = { authorization: `Bearer ${tokens.run}` };
      for (const [method, path] of [['GET', '/v1/assess'], ['DELETE', '/v1/jobs'], ['PATCH', '/v1/zonal'], ['PUT', '/v1/assess'], ['POST', '/v1/curves'], ['DELETE', '/v1/data/x.tif'], ['GET', '/v1/jobs/%ZZ'], ['GET', '/v1/jobs/' + 'a'.repeat(5000)], ['GET', '/v1/curves/%00'], ['GET', '/v1//jobs'], ['GET', '/%2e%2e/%2e%2e/etc/passwd']] as const) {
        const res = await t().fetch(path, { method, headers: auth });
        expect(res.status, `${method} ${path}`).toBeLessThan(500);
        expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
        await expectProblem(res, res.status, expect.any(String) as unknown as string);
      }
    });

    it('a burst of 20 concurrent requests on a 3-per-minute key: at most 3 pass, the rest 429, other keys unaffected', async () => {
      const { tokens } = await testKeys();
      const answers = await Promise.all(Array.from({ length: 20 }, () => t().fetch('/v1/jobs/none', { headers: { authorization: `Bearer ${tokens.limited}` } })));
      const statuses = answers.map((r) => r.status);
      await Promise.all(answers.map((r) => r.body?.cancel()));
      expect(statuses.every((s) => s === 404 || s === 429), statuses.join(',')).toBe(true);
      expect(statuses.filter((s) => s === 404).length).toBeLessThanOrEqual(3);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(17);
      const other = await t().fetch('/v1/jobs/none', { headers: { authorization: `Bearer ${tokens.read}` } });
      expect(other.status).toBe(404);
      await other.body?.cancel();
    });

    it('odd Authorization headers: 401, never a 5xx', async () => {
      // one of 20 000 characters is over Node's 16 KiB of headers: Node answers 431 itself (empty body)
      const huge = await t().fetch('/v1/jobs/none', { headers: { authorization: `Bearer ${'a'.repeat(20_000)}` } });
      if (huge.status === 431) await huge.body?.cancel();
      else await expectProblem(huge, 401, 'E_AUTH');
      for (const h of ['Bearer', 'Bearer ', `Bearer ${'a'.repeat(600)}`, 'bearer ibf_x', 'Bearer ibf_\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9', 'Bearer a b c d e f', 'Basic Og==', 'Digest x', `Bearer ${'\t'.repeat(40)}x`]) {
        const res = await t().fetch('/v1/jobs/none', { headers: { authorization: h } });
        await expectProblem(res, 401, 'E_AUTH');
      }
    });
  });
}
