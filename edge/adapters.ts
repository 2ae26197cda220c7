/**
 * @module edge/adapters
 * The API's ports (src/api/ports.ts) over Cloudflare bindings: R2 for objects (ranged gets, the sha256
 * of an upload in its custom metadata), D1 for job records, KV for API keys, and a Workflow as the job
 * runner. The rate limiter is the Durable Object of edge/rate-limiter.ts.
 */
import { IbfError } from '../src/errors.js';
import { scenarioKeyOf } from '../src/api/jobs.js';
import type { ApiKeyRecord, JobRecord, JobRunner, JobStore, KeyStore, LogLine, ObjectStore } from '../src/api/ports.js';
import { sha256Hex } from '../src/engine/manifest.js';
import type { AssessParams } from './workflow.js';

/** Objects in an R2 bucket; `get` with a range is one ranged read. */
export function r2ObjectStore(bucket: R2Bucket): ObjectStore {
  // an R2 call that throws (the platform, not a missing object) is E_IO, so jobs record it as storage
  // trouble (and Workflow steps retry it) instead of an internal error
  const r2 = async <T>(op: string, key: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (e) {
      throw new IbfError('E_IO', `R2 ${op} of ${key} failed (${e instanceof Error ? e.message : String(e)})`, { hint: 'R2 may be briefly unavailable; try again.', cause: e });
    }
  };
  return {
    async head(key) {
      const o = await r2('head', key, () => bucket.head(key));
      if (!o) return null;
      const sha256 = o.customMetadata?.sha256;
      return { size: o.size, ...(sha256 ? { sha256 } : {}) };
    },
    async get(key, range) {
      return r2('get', key, async () => {
        const o = await bucket.get(key, range ? { range: { offset: range.offset, length: range.length } } : undefined);
        return o ? new Uint8Array(await o.arrayBuffer()) : null;
      });
    },
    async put(key, body, meta) {
      await r2('put', key, () =>
        bucket.put(key, body, {
          ...(meta?.contentType ? { httpMetadata: { contentType: meta.contentType } } : {}),
          ...(meta?.sha256 ? { customMetadata: { sha256: meta.sha256 } } : {}),
        }),
      );
    },
  };
}

interface JobRow {
  id: string;
  partner: string;
  key_id: string;
  status: JobRecord['status'];
  created_at: string;
  updated_at: string;
  name: string | null;
  cell_bands: number | null;
  tiles_done: number | null;
  tiles_total: number | null;
  result_key: string | null;
  error: string | null;
}

function jobOf(r: JobRow): JobRecord {
  return {
    id: r.id, partner: r.partner, keyId: r.key_id, status: r.status, createdAt: r.created_at, updatedAt: r.updated_at,
    ...(r.name !== null ? { name: r.name } : {}),
    ...(r.cell_bands !== null ? { cellBands: r.cell_bands } : {}),
    ...(r.tiles_total !== null ? { progress: { tilesDone: r.tiles_done ?? 0, tilesTotal: r.tiles_total } } : {}),
    ...(r.result_key !== null ? { resultKey: r.result_key } : {}),
    ...(r.error !== null ? { error: JSON.parse(r.error) as JobRecord['error'] } : {}),
  };
}

/** Job records in D1 (table `jobs`, edge/migrations/0001_jobs.sql), plus a progress counter for parallel steps. */
export function d1JobStore(db: D1Database, now: () => Date = () => new Date()): JobStore & { addTilesDone(id: string, tiles: number): Promise<void> } {
  return {
    async create(j) {
      await db
        .prepare('INSERT INTO jobs (id, partner, key_id, status, created_at, updated_at, name, cell_bands, tiles_done, tiles_total, result_key, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)')
        .bind(j.id, j.partner, j.keyId, j.status, j.createdAt, j.updatedAt, j.name ?? null, j.cellBands ?? null, j.progress?.tilesDone ?? null, j.progress?.tilesTotal ?? null, j.resultKey ?? null, j.error ? JSON.stringify(j.error) : null)
        .run();
    },
    async get(id) {
      const r = await db.prepare('SELECT * FROM jobs WHERE id = ?1').bind(id).first<JobRow>();
      return r ? jobOf(r) : null;
    },
    async update(id, patch) {
      const set: string[] = [];
      const values: unknown[] = [];
      const col = (name: string, v: unknown) => {
        values.push(v);
        set.push(`${name} = ?${values.length}`);
      };
      if (patch.status !== undefined) col('status', patch.status);
      if (patch.name !== undefined) col('name', patch.name);
      if (patch.cellBands !== undefined) col('cell_bands', patch.cellBands);
      if (patch.progress !== undefined) {
        col('tiles_done', patch.progress.tilesDone);
        col('tiles_total', patch.progress.tilesTotal);
      }
      if (patch.resultKey !== undefined) col('result_key', patch.resultKey);
      if (patch.error !== undefined) col('error', JSON.stringify(patch.error));
      col('updated_at', patch.updatedAt ?? now().toISOString());
      values.push(id);
      await db.prepare(`UPDATE jobs SET ${set.join(', ')} WHERE id = ?${values.length}`).bind(...values).run();
    },
    /** Adds `tiles` to the tiles done (never past the total): batch steps finish in any order. */
    async addTilesDone(id, tiles) {
      await db
        .prepare('UPDATE jobs SET tiles_done = MIN(COALESCE(tiles_total, 0), COALESCE(tiles_done, 0) + ?1), updated_at = ?2 WHERE id = ?3')
        .bind(tiles, now().toISOString(), id)
        .run();
    },
  };
}

/** KV records of API keys (see docs/API.md "Cloudflare Workers" for how to seed one). */
export const kvKeyName = (hash: string): string => `key:${hash}`;
export const kvOriginName = (origin: string): string => `origin:${origin}`;

/**
 * API keys in KV: `key:<sha256>` holds the ApiKeyRecord as JSON, and `origin:<origin>` (or `origin:*`)
 * marks an origin some key allows, so a CORS preflight (which carries no key) is answered with one read.
 */
export function kvKeyStore(kv: KVNamespace): KeyStore {
  return {
    async byHash(hash) {
      return kv.get<ApiKeyRecord>(kvKeyName(hash), 'json');
    },
    async originAllowed(origin) {
      const [one, any] = await Promise.all([kv.get(kvOriginName(origin)), kv.get(kvOriginName('*'))]);
      return one !== null || any !== null;
    },
  };
}

/** Writes a key record and its origin markers (tests, and the seeding recipe of docs/API.md). */
export async function putKey(kv: KVNamespace, key: ApiKeyRecord): Promise<void> {
  await kv.put(kvKeyName(key.hash), JSON.stringify(key));
  if (!key.revoked) await Promise.all(key.origins.map((o) => kv.put(kvOriginName(o), key.id)));
}

/**
 * Jobs run as instances of the AssessWorkflow, the job id as the instance id. The binding is looked up
 * per job (`env.ASSESS` at call time), so a binding replaced after start-up (test introspection) is used.
 *
 * The scenario document goes to R2 (`jobs/<id>/scenario.json`) before the instance starts, and the
 * params carry only its key and sha256: a Workflow's event payload is capped at 1 MiB (2^20 bytes,
 * Cloudflare's Workflows limits page), and `POST /v1/jobs` takes documents up to `maxBodyBytes`
 * (1 MiB by default) plus the job record. The stored bytes are `JSON.stringify(doc)`, so their sha256
 * is the manifest's `scenarioSha256`, as `runJob` computes it on Node.
 */
/** Attempts at creating a job's Workflow instance, and the wait before the second (doubling after). */
export const START_ATTEMPTS = 3;
export const START_RETRY_MS = 500;

export function workflowRunner(env: { ASSESS: Workflow<AssessParams>; DATA: R2Bucket }, retryMs = START_RETRY_MS): JobRunner {
  return {
    async start(job, scenario) {
      const stored = await storeScenario(r2ObjectStore(env.DATA), job.id, scenario);
      // the binding can fail for a moment; the cron has no client to retry for it, so retry here. A
      // create that failed after the instance was made must not count as a failure: the job runs.
      for (let attempt = 1; ; attempt++) {
        try {
          await env.ASSESS.create({ id: job.id, params: { job, ...stored } });
          return;
        } catch (e) {
          if (await env.ASSESS.get(job.id).then(() => true, () => false)) return;
          if (attempt >= START_ATTEMPTS) throw e;
          await new Promise((r) => setTimeout(r, retryMs * 2 ** (attempt - 1)));
        }
      }
    },
  };
}

/** Writes job `jobId`'s scenario document to its key; an R2 failure is `E_IO` (r2ObjectStore). */
async function storeScenario(store: ObjectStore, jobId: string, doc: Record<string, unknown>): Promise<{ scenarioKey: string; scenarioSha256: string }> {
  const bytes = new TextEncoder().encode(JSON.stringify(doc));
  const scenarioKey = scenarioKeyOf(jobId);
  const scenarioSha256 = await sha256Hex(bytes);
  await store.put(scenarioKey, bytes, { contentType: 'application/json', sha256: scenarioSha256 });
  return { scenarioKey, scenarioSha256 };
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

/** One JSON line per call on the console (Workers Logs / `wrangler tail` pick them up). */
export function jsonLog(level: string | undefined): (line: LogLine) => void {
  const min = LEVELS[(level ?? 'info') as keyof typeof LEVELS] ?? LEVELS.info;
  return (line) => {
    if (LEVELS[line.level] < min) return;
    console.log(JSON.stringify({ time: new Date().toISOString(), ...line }));
  };
}
