/**
 * The API's route and security tests, runtime-neutral: the same cases run against the app in this
 * process (test/api/app.test.ts), against `ibf serve` over HTTP (test/api/node-server.test.ts) and
 * inside workerd (test/edge). A target gives a fetch for API paths and seeds the keys of
 * {@link testKeys} into its key store; its limits must be {@link CASE_LIMITS} and its bucket
 * {@link CASE_BUCKET}. Rasters are real GeoTIFFs written by our encoder (GDAL reads them; see
 * test/io/geotiff.test.ts), small enough to inline.
 */
import { describe, expect, it } from 'vitest';
import { hashKey } from '../../src/api/security.js';
import type { ApiKeyRecord, ApiLimits } from '../../src/api/ports.js';
import { writeGeoTiff } from '../../src/io/geotiff.js';

export const CASE_BUCKET = 'ibf-test';
export const CASE_LIMITS: ApiLimits = {
  maxBodyBytes: 256 * 1024,
  maxUploadBytes: 8 * 1024 * 1024,
  syncCellBands: 20_000,
  maxCellBands: 1_000_000,
  ratePerMinute: 600,
  stepTimeoutMs: 60_000,
};
export const ALLOWED_ORIGIN = 'https://partner.example.org';

export interface CaseTarget {
  /** `path` is an API path (`/v1/assess`); the target adds its origin. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

type KeyName = 'run' | 'read' | 'upload' | 'expired' | 'revoked' | 'limited' | 'web' | 'other';

/** Tokens and their stored records (hashes only), the same in every runtime. */
export async function testKeys(): Promise<{ tokens: Record<KeyName, string>; records: ApiKeyRecord[] }> {
  const specs: Array<[KeyName, Omit<ApiKeyRecord, 'id' | 'hash'>]> = [
    ['run', { partner: 'p1', scopes: ['read', 'run', 'upload'], origins: [] }],
    ['read', { partner: 'p1', scopes: ['read'], origins: [] }],
    ['upload', { partner: 'p1', scopes: ['upload'], origins: [] }],
    ['expired', { partner: 'p1', scopes: ['read', 'run'], origins: [], expiresAt: '2020-01-01T00:00:00Z' }],
    ['revoked', { partner: 'p1', scopes: ['read', 'run'], origins: [], revoked: true }],
    ['limited', { partner: 'p1', scopes: ['read'], origins: [], ratePerMinute: 3 }],
    ['web', { partner: 'p1', scopes: ['read'], origins: [ALLOWED_ORIGIN] }],
    ['other', { partner: 'p2', scopes: ['read', 'run', 'upload'], origins: [] }],
  ];
  const tokens = {} as Record<KeyName, string>;
  const records: ApiKeyRecord[] = [];
  for (const [name, spec] of specs) {
    const token = `ibf_test_${name}_0123456789abcdef`;
    tokens[name] = token;
    records.push({ id: `k-${name}`, hash: await hashKey(token), ...spec });
  }
  return { tokens, records };
}

// ---------------------------------------------------------------------------------------------------
// data: a flood depth map, an asset value map on the same grid (EPSG:4326, 0.01 deg), two zones

function grid(width: number, height: number) {
  return { width, height, transform: [30, 0.01, 0, -10, 0, -0.01] as [number, number, number, number, number, number], crs: 'EPSG:4326' };
}

/** Depth (m) rising west to east, with a nodata strip; value (EUR) varying by row. */
export function rasters(width = 64, height = 48): { hazard: Uint8Array<ArrayBuffer>; exposure: Uint8Array<ArrayBuffer> } {
  const n = width * height;
  const depth = new Float32Array(n);
  const value = new Float32Array(n);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const i = r * width + c;
      depth[i] = c === 5 ? -9999 : (c / width) * 3 + (r % 7) * 0.05;
      value[i] = 1000 + 37 * ((r * 13 + c * 7) % 50);
    }
  }
  const g = grid(width, height);
  return {
    hazard: new Uint8Array(writeGeoTiff({ grid: g, bands: [depth], nodata: -9999 })),
    exposure: new Uint8Array(writeGeoTiff({ grid: g, bands: [value], nodata: null })),
  };
}

/** Two zones splitting the small grid (lon 30..30.64, lat -10..-10.48) west / east, not on cell edges. */
export const ZONES = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { id: 'W', name: 'West' }, geometry: { type: 'Polygon', coordinates: [[[30.0, -10.0], [30.305, -10.0], [30.305, -10.48], [30.0, -10.48], [30.0, -10.0]]] } },
    { type: 'Feature', properties: { id: 'E', name: 'East' }, geometry: { type: 'Polygon', coordinates: [[[30.305, -10.0], [30.64, -10.0], [30.64, -10.48], [30.305, -10.48], [30.305, -10.0]]] } },
  ],
};

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export const dataUrl = (bytes: Uint8Array, type = 'image/tiff') => `data:${type};base64,${base64(bytes)}`;

export function scenario(hazard: string, exposure: string, zones: string = dataUrl(new TextEncoder().encode(JSON.stringify(ZONES)), 'application/geo+json')) {
  return {
    name: 'api case',
    hazard: { source: hazard, unit: 'm' },
    exposure: { source: exposure, unit: 'EUR' },
    vulnerability: 'jrc-flood-europe-residential',
    zones: { source: zones, idProperty: 'id', nameProperty: 'name' },
  };
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
const auth = (token: string, headers: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...headers });

/** Expects a problem+json answer with `status` and `code`; returns its body. */
export async function expectProblem(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  expect({ status: res.status, text: text.slice(0, 300) }).toMatchObject({ status });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  expect(typeof body.detail).toBe('string');
  expect(typeof body.requestId).toBe('string');
  expect(text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/); // never a stack trace
  return body;
}

/** The numbers of a result that must agree between two runs of one scenario. */
export const numbers = (r: { totals: unknown; zones: unknown[] }) => JSON.stringify({ totals: r.totals, zones: r.zones });

/** The route, security and bad-input cases of issue #6, against `target()`. */
export function apiCases(label: string, target: () => CaseTarget, opts: { jobTimeoutMs?: number } = {}): void {
  describe(`API routes (${label})`, () => {
    const data = rasters();
    let keys: Awaited<ReturnType<typeof testKeys>>['tokens'];
    const t = () => target();
    const inline = () => scenario(dataUrl(data.hazard), dataUrl(data.exposure));

    it('health, OpenAPI document, curve catalog', async () => {
      keys = (await testKeys()).tokens;
      const h = await t().fetch('/healthz');
      expect(h.status).toBe(200);
      expect(await h.json()).toMatchObject({ ok: true });
      const doc = (await (await t().fetch('/v1/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths).sort()).toEqual(['/healthz', '/v1/assess', '/v1/curves', '/v1/curves/{id}', '/v1/data/{key}', '/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/result', '/v1/zonal']);
      const list = (await (await t().fetch('/v1/curves?hazard=flood')).json()) as { curves: Array<{ id: string; hazard: string }> };
      expect(list.curves.map((c) => c.id)).toContain('jrc-flood-europe-residential');
      expect(list.curves.every((c) => c.hazard === 'flood')).toBe(true);
      const one = (await (await t().fetch('/v1/curves/jrc-flood-europe-residential')).json()) as { unit: string; curve: { intensity: number[]; mdd: number[] } };
      expect(one.unit).toBe('m');
      expect(one.curve.intensity.length).toBe(one.curve.mdd.length);
      await expectProblem(await t().fetch('/v1/curves/no-such-curve'), 404, 'E_NOT_FOUND');
      await expectProblem(await t().fetch('/v1/no-such-route'), 404, 'E_NOT_FOUND');
    });

    it('upload to the store, assess from r2:// = assess from inline data, bit for bit', async () => {
      for (const [name, bytes] of [['hazard', data.hazard], ['exposure', data.exposure]] as const) {
        const res = await t().fetch(`/v1/data/case/${name}.tif`, { method: 'PUT', body: bytes, headers: auth(keys.upload, { 'content-type': 'image/tiff' }) });
        expect(res.status).toBe(201);
        const body = (await res.json()) as { source: string; bytes: number; sha256: string };
        expect(body).toMatchObject({ source: `r2://${CASE_BUCKET}/case/${name}.tif`, bytes: bytes.byteLength, width: 64, height: 48 });
        expect(body.sha256).toMatch(/^[0-9a-f]{64}$/);
      }
      const fromStore = await t().fetch('/v1/assess', json(scenario(`r2://${CASE_BUCKET}/case/hazard.tif`, `r2://${CASE_BUCKET}/case/exposure.tif`), auth(keys.run)));
      expect(fromStore.status).toBe(200);
      const a = (await fromStore.json()) as { schema: string; totals: { damage: number[] }; zones: Array<{ id: string }>; manifest: { inputs: Array<{ role: string; sha256: string }> } };
      expect(a.schema).toBe('e4drr-ibf/result@1');
      expect(a.zones.map((z) => z.id)).toEqual(['W', 'E']);
      expect(a.totals.damage[0]).toBeGreaterThan(0);
      const b = (await (await t().fetch('/v1/assess', json(inline(), auth(keys.run)))).json()) as typeof a;
      expect(numbers(b as never)).toBe(numbers(a as never));
      // the manifest hashes the same bytes whichever way they came
      const hashes = (r: typeof a) => r.manifest.inputs.filter((i) => i.role !== 'zones').map((i) => `${i.role}:${i.sha256}`).sort();
      expect(hashes(b)).toEqual(hashes(a));
      // another partner cannot read p1's uploads: to p2 they do not exist (planning lists both)
      const p = await expectProblem(await t().fetch('/v1/assess', json(scenario(`r2://${CASE_BUCKET}/case/hazard.tif`, `r2://${CASE_BUCKET}/case/exposure.tif`), auth(keys.other))), 422, 'E_SCENARIO_INVALID');
      expect(p.problems).toEqual([
        { path: 'hazard', message: expect.stringMatching(/case\/hazard\.tif does not exist/) },
        { path: 'exposure', message: expect.stringMatching(/case\/exposure\.tif does not exist/) },
      ]);
    });

    it('a job runs to the same numbers as the synchronous answer; only its partner sees it', async () => {
      const sync = (await (await t().fetch('/v1/assess', json(inline(), auth(keys.run)))).json()) as { totals: unknown; zones: unknown[] };
      const res = await t().fetch('/v1/jobs', json(inline(), auth(keys.run)));
      expect(res.status).toBe(202);
      const job = (await res.json()) as { id: string; status: string; links: { self: string; result: string } };
      expect(res.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
      const deadline = Date.now() + (opts.jobTimeoutMs ?? 30_000);
      let status = job.status;
      while (status !== 'succeeded' && status !== 'failed' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        status = ((await (await t().fetch(job.links.self, { headers: auth(keys.read) })).json()) as { status: string }).status;
      }
      expect(status).toBe('succeeded');
      const result = (await (await t().fetch(job.links.result, { headers: auth(keys.read) })).json()) as typeof sync;
      expect(numbers(result)).toBe(numbers(sync));
      await expectProblem(await t().fetch(job.links.self, { headers: auth(keys.other) }), 404, 'E_NOT_FOUND');
      await expectProblem(await t().fetch('/v1/jobs/does-not-exist', { headers: auth(keys.read) }), 404, 'E_NOT_FOUND');
    });

    it('an assessment over the request budget becomes a job (202); over the limit, 413', async () => {
      const mid = rasters(160, 150); // 24 000 cells > syncCellBands
      const res = await t().fetch('/v1/assess', json(scenario(dataUrl(mid.hazard), dataUrl(mid.exposure)), auth(keys.run)));
      expect(res.status).toBe(202);
      expect(((await res.json()) as { cellBands: number }).cellBands).toBe(24_000);
      const big = rasters(1100, 1000); // 1.1 M cells > maxCellBands
      for (const [name, bytes] of [['hazard', big.hazard], ['exposure', big.exposure]] as const) {
        expect((await t().fetch(`/v1/data/big/${name}.tif`, { method: 'PUT', body: bytes, headers: auth(keys.upload, { 'content-type': 'image/tiff' }) })).status).toBe(201);
      }
      const p = await expectProblem(await t().fetch('/v1/assess', json(scenario(`r2://${CASE_BUCKET}/big/hazard.tif`, `r2://${CASE_BUCKET}/big/exposure.tif`), auth(keys.run))), 413, 'E_LIMIT');
      expect(p.detail).toMatch(/1100000 cells x bands/);
    });

    it('zonal statistics over inline zones', async () => {
      const res = await t().fetch('/v1/zonal', json({ raster: dataUrl(data.exposure), zones: ZONES, rule: 'centre' }, auth(keys.run)));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { zones: Array<{ id: string; count: number; sum: number }> };
      // centre rule: the west zone holds columns 0..30 (centres < 30.305), the east one 31..63, all 48 rows
      expect(body.zones.map((z) => [z.id, z.count])).toEqual([['W', 31 * 48], ['E', 33 * 48]]);
      let west = 0;
      for (let r = 0; r < 48; r++) for (let c = 0; c < 31; c++) west += 1000 + 37 * ((r * 13 + c * 7) % 50);
      expect(body.zones[0]!.sum).toBe(west);
    });

    it('bad bodies: malformed JSON 400, unknown field 422, wrong type 415, too large 413', async () => {
      await expectProblem(await t().fetch('/v1/assess', { method: 'POST', body: '{"name": ', headers: auth(keys.run, { 'content-type': 'application/json' }) }), 400, 'E_INPUT_FORMAT');
      const p = await expectProblem(await t().fetch('/v1/assess', json({ ...inline(), colour: 'red' }, auth(keys.run))), 422, 'E_SCENARIO_INVALID');
      expect(JSON.stringify(p.problems)).toMatch(/colour/);
      await expectProblem(await t().fetch('/v1/assess', { method: 'POST', body: JSON.stringify(inline()), headers: auth(keys.run, { 'content-type': 'text/plain' }) }), 415, 'E_MEDIA_TYPE');
      await expectProblem(await t().fetch('/v1/assess', json({ ...inline(), name: 'x'.repeat(CASE_LIMITS.maxBodyBytes) }, auth(keys.run))), 413, 'E_LIMIT');
      // zones given as a source whose text is not JSON: the zones' own error, not a crash
      const z = await expectProblem(await t().fetch('/v1/zonal', json({ raster: dataUrl(data.exposure), zones: 'data:application/geo+json,{"type": ' }, auth(keys.run))), 422, 'E_ZONES_INVALID');
      expect(z.detail).toMatch(/is not valid JSON/);
      await expectProblem(await t().fetch('/v1/data/x.tif', { method: 'PUT', body: 'not a tiff', headers: auth(keys.upload, { 'content-type': 'text/plain' }) }), 415, 'E_MEDIA_TYPE');
      await expectProblem(await t().fetch('/v1/data/x.tif', { method: 'PUT', body: new TextEncoder().encode('not a tiff at all'), headers: auth(keys.upload, { 'content-type': 'image/tiff' }) }), 422, 'E_TIFF_INVALID');
    });

    it('sources that are not allowed: other schemes, other buckets, private and credentialed URLs, traversal', async () => {
      const h = dataUrl(data.hazard);
      for (const bad of ['file:///etc/passwd', '../hazard.tif', `r2://other-bucket/case/exposure.tif`, 'http://127.0.0.1:8080/x.tif', 'https://169.254.169.254/latest/meta-data', 'https://[::ffff:10.0.0.1]/x.tif', 'https://user:pw@data.example.org/x.tif', 'https://not-allowed.example.com/x.tif', `r2://${CASE_BUCKET}/../p2/case/exposure.tif`]) {
        const p = await expectProblem(await t().fetch('/v1/assess', json(scenario(h, bad), auth(keys.run))), 422, 'E_SOURCE_DENIED');
        expect(p.detail).not.toMatch(/pw@/);
      }
      await expectProblem(await t().fetch('/v1/data/a/..%2F..%2Fb.tif', { method: 'PUT', body: data.hazard, headers: auth(keys.upload, { 'content-type': 'image/tiff' }) }), 422, 'E_SOURCE_DENIED');
      await expectProblem(await t().fetch('/v1/data/.hidden.tif', { method: 'PUT', body: data.hazard, headers: auth(keys.upload, { 'content-type': 'image/tiff' }) }), 422, 'E_SOURCE_DENIED');
    });

    it('keys: missing, wrong, expired, revoked 401; scope escalation 403', async () => {
      const body = () => json(inline());
      await expectProblem(await t().fetch('/v1/assess', body()), 401, 'E_AUTH');
      await expectProblem(await t().fetch('/v1/assess', { ...body(), headers: auth('ibf_wrong_key_000000', { 'content-type': 'application/json' }) }), 401, 'E_AUTH');
      await expectProblem(await t().fetch('/v1/assess', { ...body(), headers: { authorization: 'Basic abc', 'content-type': 'application/json' } }), 401, 'E_AUTH');
      expect((await expectProblem(await t().fetch('/v1/assess', { ...body(), headers: auth(keys.expired, { 'content-type': 'application/json' }) }), 401, 'E_AUTH')).detail).toMatch(/expired/);
      expect((await expectProblem(await t().fetch('/v1/assess', { ...body(), headers: auth(keys.revoked, { 'content-type': 'application/json' }) }), 401, 'E_AUTH')).detail).toMatch(/revoked/);
      await expectProblem(await t().fetch('/v1/jobs', { ...body(), headers: auth(keys.read, { 'content-type': 'application/json' }) }), 403, 'E_FORBIDDEN');
      await expectProblem(await t().fetch('/v1/data/x.tif', { method: 'PUT', body: data.hazard, headers: auth(keys.read, { 'content-type': 'image/tiff' }) }), 403, 'E_FORBIDDEN');
      await expectProblem(await t().fetch('/v1/assess', { ...body(), headers: auth(keys.upload, { 'content-type': 'application/json' }) }), 403, 'E_FORBIDDEN');
    });

    it('CORS per key: the key\'s origin is answered, another origin gets a 403', async () => {
      const pre = await t().fetch('/v1/jobs/x', { method: 'OPTIONS', headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
      expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/);
      await expectProblem(await t().fetch('/v1/jobs/x', { method: 'OPTIONS', headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'GET' } }), 403, 'E_FORBIDDEN');
      const ok = await t().fetch('/v1/jobs/none', { headers: auth(keys.web, { origin: ALLOWED_ORIGIN }) });
      await expectProblem(ok, 404, 'E_NOT_FOUND'); // authorised, the job just does not exist
      expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
      const denied = await t().fetch('/v1/jobs/none', { headers: auth(keys.web, { origin: 'https://evil.example.net' }) });
      expect((await expectProblem(denied, 403, 'E_FORBIDDEN')).detail).toMatch(/evil\.example\.net/);
      // a key without origins is for servers: a browser page cannot use it
      await expectProblem(await t().fetch('/v1/jobs/none', { headers: auth(keys.read, { origin: ALLOWED_ORIGIN }) }), 403, 'E_FORBIDDEN');
    });

    it('rate limit per key: 429 with Retry-After, other keys unaffected, the service keeps serving', async () => {
      const statuses: number[] = [];
      let limited: Response | undefined;
      for (let i = 0; i < 5; i++) {
        const res = await t().fetch('/v1/jobs/none', { headers: auth(keys.limited) });
        statuses.push(res.status);
        if (res.status === 429) limited ??= res;
        else await res.body?.cancel();
      }
      expect(statuses).toEqual([404, 404, 404, 429, 429]);
      await expectProblem(limited!, 429, 'E_RATE_LIMITED');
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const other = await t().fetch('/v1/jobs/none', { headers: auth(keys.read) });
      expect(other.status).toBe(404);
      await other.body?.cancel();
      expect((await t().fetch('/healthz')).status).toBe(200);
    });
  });
}
