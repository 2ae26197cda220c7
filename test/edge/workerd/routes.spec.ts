/**
 * The runtime-neutral API cases (test/api/cases.ts) inside workerd: the Worker of wrangler.toml with
 * local R2, D1, KV, the rate-limiting Durable Object and jobs run by the AssessWorkflow.
 */
import { SELF, env } from 'cloudflare:test';
import { apiCases, testKeys } from '../../api/cases.js';
import { apiAbuseCases } from '../../fuzz/api-cases.js';
import { putKey } from '../../../edge/adapters.js';

for (const record of (await testKeys()).records) await putKey(env.KEYS, record);

apiCases('workerd', () => ({ fetch: (path, init) => SELF.fetch(`https://api.example.org${path}`, init) }), { jobTimeoutMs: 60_000 });
apiAbuseCases('workerd', () => ({ fetch: (path, init) => SELF.fetch(`https://api.example.org${path}`, init) }));
