/**
 * @module edge/env
 * The Worker's bindings (wrangler.toml) and how its variables become the API's configuration.
 */
import { DEFAULT_LIMITS, type ApiConfig } from '../src/api/ports.js';
import type { RateLimiter } from './rate-limiter.js';
import type { AssessParams } from './workflow.js';

export interface Env {
  /** Rasters (uploads under `data/<partner>/`) and job results (`jobs/<id>/result.json`). */
  DATA: R2Bucket;
  /** Job records (edge/migrations). */
  DB: D1Database;
  /** API keys: `key:<sha256 of the token>` -> ApiKeyRecord JSON; `origin:<origin>` -> marker for CORS preflights. */
  KEYS: KVNamespace;
  /** Token buckets, one object per key (idFromName). */
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** The job runner: one instance per job. */
  ASSESS: Workflow<AssessParams>;
  /** Bucket name scenarios use in `r2://<bucket>/<key>`. */
  BUCKET_NAME?: string;
  /** Comma-separated hosts URL sources may use (`data.example.org`, `*.example.org`). */
  ALLOW_HOSTS?: string;
  /** "true": URL sources may be loopback / private (local development only). */
  ALLOW_PRIVATE_ADDRESSES?: string;
  /** Cells per tile of jobs (rounded up to whole 1024 x 128 units). */
  TILE_CELLS?: string;
  /** Tiles per Workflow step. */
  BATCH_TILES?: string;
  /** Most tile batches (Workflow steps) per job; more tiles go several to a batch. */
  MAX_BATCHES?: string;
  /** Limits (numbers as strings), defaults in src/api/ports.ts DEFAULT_LIMITS. */
  MAX_BODY_BYTES?: string;
  MAX_UPLOAD_BYTES?: string;
  SYNC_CELL_BANDS?: string;
  MAX_CELL_BANDS?: string;
  RATE_PER_MINUTE?: string;
  STEP_TIMEOUT_MS?: string;
  /** JSON list of `{ "partner": "...", "key": "<R2 key of a scenario JSON>" }` the Cron Trigger runs as jobs. */
  FORECAST_SCENARIOS?: string;
  /** Log level kept: debug, info (default), warn, error. */
  LOG_LEVEL?: string;
}

function num(v: string | undefined, fallback: number, name: string): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`wrangler.toml [vars] ${name} = ${JSON.stringify(v)} is not a positive number`);
  return n;
}

/** The API configuration from the Worker's variables. */
export function configOf(env: Env): ApiConfig & { batchTiles: number; maxBatches: number } {
  return {
    bucket: env.BUCKET_NAME || 'ibf-data',
    allowHosts: (env.ALLOW_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean),
    allowPrivateAddresses: env.ALLOW_PRIVATE_ADDRESSES === 'true',
    tileCells: env.TILE_CELLS ? num(env.TILE_CELLS, 0, 'TILE_CELLS') : undefined,
    batchTiles: Math.floor(num(env.BATCH_TILES, 1, 'BATCH_TILES')),
    // steps of one job are its batches plus 4 (plan, publish, delete partials, a failure record):
    // 1 000 keeps a job inside the free plan's 1 024 steps; the paid plan allows 10 000
    maxBatches: Math.floor(num(env.MAX_BATCHES, 1000, 'MAX_BATCHES')),
    limits: {
      maxBodyBytes: num(env.MAX_BODY_BYTES, DEFAULT_LIMITS.maxBodyBytes, 'MAX_BODY_BYTES'),
      maxUploadBytes: num(env.MAX_UPLOAD_BYTES, DEFAULT_LIMITS.maxUploadBytes, 'MAX_UPLOAD_BYTES'),
      syncCellBands: num(env.SYNC_CELL_BANDS, DEFAULT_LIMITS.syncCellBands, 'SYNC_CELL_BANDS'),
      maxCellBands: num(env.MAX_CELL_BANDS, DEFAULT_LIMITS.maxCellBands, 'MAX_CELL_BANDS'),
      ratePerMinute: num(env.RATE_PER_MINUTE, DEFAULT_LIMITS.ratePerMinute, 'RATE_PER_MINUTE'),
      stepTimeoutMs: num(env.STEP_TIMEOUT_MS, DEFAULT_LIMITS.stepTimeoutMs, 'STEP_TIMEOUT_MS'),
    },
  };
}
