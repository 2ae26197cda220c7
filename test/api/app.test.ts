/**
 * The API cases (test/api/cases.ts) against the Hono app in this process, over the in-memory ports and
 * the real WASM kernel; plus what only this level can see: the JSON log line of every request.
 */
import { describe, expect, it } from 'vitest';
import { createApi, inProcessRunner, memoryJobStore, memoryKeyStore, memoryObjectStore, memoryRateLimiter, type ApiDeps, type LogLine } from '../../src/api/index.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import { ALLOWED_ORIGIN, CASE_BUCKET, CASE_LIMITS, apiCases, testKeys } from './cases.js';

const logs: LogLine[] = [];
const { records } = await testKeys();
const kernel = loadKernel();
const base = { store: memoryObjectStore(), jobs: memoryJobStore(), kernel: () => kernel, log: (l: LogLine) => logs.push(l), config: { bucket: CASE_BUCKET, limits: CASE_LIMITS, allowHosts: ['data.example.org'] } };
const runner = inProcessRunner(base);
const deps: ApiDeps = { ...base, keys: memoryKeyStore(records), limiter: memoryRateLimiter(), runner };
const app = createApi(deps);

apiCases('in process', () => ({ fetch: async (path, init) => app.request(path, init) }));

describe('API logs (in process)', () => {
  it('one JSON-able line per request with its id, status and key', async () => {
    logs.length = 0;
    const res = await app.request('/v1/jobs/none', { headers: { authorization: `Bearer ${(await testKeys()).tokens.web}`, origin: ALLOWED_ORIGIN } });
    expect(res.status).toBe(404);
    const line = logs.find((l) => l.msg === 'request')!;
    expect(line).toMatchObject({ level: 'warn', method: 'GET', path: '/v1/jobs/none', status: 404, keyId: 'k-web', partner: 'p1', origin: ALLOWED_ORIGIN, requestId: res.headers.get('x-request-id') });
    expect(JSON.parse(JSON.stringify(line))).toEqual(line);
    await runner.idle();
  });
});
