/**
 * @module api/memory
 * In-memory ports (api/ports.ts): an object store, job records, keys and a token-bucket rate limiter.
 * `ibf serve` uses the limiter and, with a folder store, the rest for tests and single-process servers;
 * they are also the reference behaviour the Cloudflare adapters (edge/) are tested against.
 */
import type { ApiKeyRecord, JobRecord, JobStore, KeyStore, ObjectStore, RateLimiter } from './ports.js';

export function memoryObjectStore(): ObjectStore & { keys(): string[] } {
  const objects = new Map<string, { body: Uint8Array; sha256?: string }>();
  return {
    async head(key) {
      const o = objects.get(key);
      return o ? { size: o.body.byteLength, ...(o.sha256 ? { sha256: o.sha256 } : {}) } : null;
    },
    async get(key, range) {
      const o = objects.get(key);
      if (!o) return null;
      return range ? o.body.slice(range.offset, range.offset + range.length) : o.body.slice();
    },
    async put(key, body, meta) {
      objects.set(key, { body: body.slice(), ...(meta?.sha256 ? { sha256: meta.sha256 } : {}) });
    },
    keys: () => [...objects.keys()].sort(),
  };
}

export function memoryJobStore(now: () => Date = () => new Date()): JobStore {
  const jobs = new Map<string, JobRecord>();
  return {
    async create(job) {
      if (jobs.has(job.id)) throw new Error(`job ${job.id} exists`);
      jobs.set(job.id, structuredClone(job));
    },
    async get(id) {
      const j = jobs.get(id);
      return j ? structuredClone(j) : null;
    },
    async update(id, patch) {
      const j = jobs.get(id);
      if (j) jobs.set(id, { ...j, ...structuredClone(patch), updatedAt: now().toISOString() });
    },
  };
}

export function memoryKeyStore(keys: readonly ApiKeyRecord[]): KeyStore {
  const byHash = new Map(keys.map((k) => [k.hash, k]));
  return {
    async byHash(hash) {
      return byHash.get(hash) ?? null;
    },
    async originAllowed(origin) {
      return keys.some((k) => !k.revoked && (k.origins.includes(origin) || k.origins.includes('*')));
    },
  };
}

/** A token bucket's state: tokens left at time `at` (ms). */
export interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One request against a token bucket of `perMinute` tokens refilled continuously (a burst of
 * `perMinute` passes, then one request every 60/perMinute s). Pure: the Durable Object limiter on the
 * edge and the in-memory one here share it.
 */
export function takeToken(b: Bucket | undefined, t: number, perMinute: number): { bucket: Bucket; ok: boolean; retryAfterSeconds: number } {
  const rate = perMinute / 60_000;
  const tokens = b ? Math.min(perMinute, b.tokens + Math.max(0, t - b.at) * rate) : perMinute;
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, at: t }, ok: true, retryAfterSeconds: 0 };
  return { bucket: { tokens, at: t }, ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / rate / 1000)) };
}

/** Token buckets per key in memory (one process). `now` in ms. */
export function memoryRateLimiter(now: () => number = () => Date.now()): RateLimiter {
  const buckets = new Map<string, Bucket>();
  return {
    async take(name, perMinute) {
      const r = takeToken(buckets.get(name), now(), perMinute);
      buckets.delete(name); // re-insert: the Map's order is least recently used first
      buckets.set(name, r.bucket);
      if (buckets.size > 100_000) buckets.delete(buckets.keys().next().value!);
      return { ok: r.ok, retryAfterSeconds: r.retryAfterSeconds };
    },
  };
}
