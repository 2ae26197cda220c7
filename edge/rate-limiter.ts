/**
 * @module edge/rate-limiter
 * A token bucket per API key as a Durable Object (one object per key, `idFromName`): every request of a
 * key, from any Worker anywhere, takes its token from the same object, which handles its calls one at a
 * time. The bucket arithmetic is `takeToken` (src/api/memory.ts), shared with the in-memory limiter;
 * the bucket is kept in memory and written to the object's storage, so it survives eviction.
 */
import { DurableObject } from 'cloudflare:workers';
import { takeToken, type Bucket } from '../src/api/memory.js';
import type { RateLimiter as RateLimiterPort } from '../src/api/ports.js';
import type { Env } from './env.js';

export class RateLimiter extends DurableObject<Env> {
  private bucket: Bucket | undefined;
  private loaded = false;

  /** Takes one token of a bucket of `perMinute` tokens refilled evenly. */
  async take(perMinute: number): Promise<{ ok: boolean; retryAfterSeconds: number }> {
    if (!this.loaded) {
      this.bucket = await this.ctx.storage.get<Bucket>('bucket');
      this.loaded = true;
    }
    const r = takeToken(this.bucket, Date.now(), perMinute);
    this.bucket = r.bucket;
    // not awaited: the output gate holds the answer until the write is durable
    void this.ctx.storage.put('bucket', r.bucket);
    return { ok: r.ok, retryAfterSeconds: r.retryAfterSeconds };
  }
}

/** The API's RateLimiter port over the Durable Object namespace. */
export function durableRateLimiter(ns: DurableObjectNamespace<RateLimiter>): RateLimiterPort {
  return {
    take: (bucket, perMinute) => ns.get(ns.idFromName(bucket)).take(perMinute),
  };
}
