/**
 * @module api/ports
 * What the HTTP API needs from its platform, as interfaces: object storage (R2 on Cloudflare, a folder on
 * Node), job records (D1 / files), API keys (KV / a file), a rate limiter (a Durable Object / memory) and
 * a job runner (a Cloudflare Workflow / in-process). The app (api/app.ts) sees only these, so one Hono
 * app serves both runtimes; edge/ and src/node/serve.ts plug in the implementations.
 */
import type { ImpactKernel } from '../kernels/types.js';
import type { Problem } from '../errors.js';

/** Stored objects (rasters, results). Keys are validated by api/keys.ts before they reach a store. */
export interface ObjectStore {
  /** Size of the object (and the sha256 given when it was put), or null when it does not exist. */
  head(key: string): Promise<{ size: number; sha256?: string } | null>;
  /** The bytes `[offset, offset + length)` (a ranged get), or the whole object; null when missing. */
  get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array | null>;
  put(key: string, body: Uint8Array, meta?: { contentType?: string; sha256?: string }): Promise<void>;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface JobRecord {
  id: string;
  /** The partner (tenant) whose key created it; only that partner's keys may read it. */
  partner: string;
  /** Key id that created it (for logs). */
  keyId: string;
  status: JobStatus;
  /** ISO 8601 times. */
  createdAt: string;
  updatedAt: string;
  name?: string;
  /** Target cells x hazard bands of the assessment, when planned. */
  cellBands?: number;
  progress?: { tilesDone: number; tilesTotal: number };
  /** Object key of result.json, once succeeded. */
  resultKey?: string;
  /** Why it failed (a problem+json body without status). */
  error?: { code: string; detail: string; hint?: string; problems?: Problem[] };
}

export interface JobStore {
  create(job: JobRecord): Promise<void>;
  get(id: string): Promise<JobRecord | null>;
  /** Merges `patch` into the record (and sets updatedAt); no-op when missing. */
  update(id: string, patch: Partial<Omit<JobRecord, 'id' | 'partner' | 'keyId' | 'createdAt'>>): Promise<void>;
}

export type Scope = 'read' | 'run' | 'upload';
export const SCOPES: readonly Scope[] = ['read', 'run', 'upload'];

/** An API key as stored: never the key itself, only its sha256. */
export interface ApiKeyRecord {
  id: string;
  /** sha256 of the whole bearer token, lowercase hex. */
  hash: string;
  partner: string;
  scopes: Scope[];
  /** Origins allowed to call with this key from a browser (`https://example.org`), or `*`. */
  origins: string[];
  revoked?: boolean;
  /** ISO 8601; after it the key is refused. */
  expiresAt?: string;
  /** Requests per minute (token bucket size and refill); default: the API's. */
  ratePerMinute?: number;
}

export interface KeyStore {
  byHash(hash: string): Promise<ApiKeyRecord | null>;
  /** Whether any key allows `origin` (answers CORS preflights, which carry no key). */
  originAllowed(origin: string): Promise<boolean>;
}

export interface RateLimiter {
  /** Takes one token from `bucket`'s bucket (`perMinute` tokens, refilled evenly). */
  take(bucket: string, perMinute: number): Promise<{ ok: boolean; retryAfterSeconds: number }>;
}

/** Starts a job that `POST /v1/jobs` (or an oversized `POST /v1/assess`) accepted. */
export interface JobRunner {
  /** Must return quickly: the run goes on in a Workflow, a waitUntil or a background promise. */
  start(job: JobRecord, scenario: Record<string, unknown>): Promise<void>;
}

export interface ApiLimits {
  /** JSON bodies (assess, jobs, zonal), bytes. */
  maxBodyBytes: number;
  /** PUT /v1/data bodies, bytes. */
  maxUploadBytes: number;
  /** Cells x bands `POST /v1/assess` answers in the request; more becomes a job (202). */
  syncCellBands: number;
  /** Cells x bands refused outright (413). */
  maxCellBands: number;
  /** Requests per minute per key (default for keys without their own). */
  ratePerMinute: number;
  /** Time budget of one request's or one Workflow step's compute, ms. */
  stepTimeoutMs: number;
}

export interface ApiConfig {
  /** The bucket name scenarios use in `r2://<bucket>/<key>`. */
  bucket: string;
  limits: ApiLimits;
  /** Hosts URL sources may use (`data.example.org`, or `*.example.org`). */
  allowHosts: string[];
  /** Development only: allow loopback / private addresses for URL sources (a local test server). */
  allowPrivateAddresses?: boolean;
  /** Tile size and tiles per Workflow step for jobs. */
  tileCells?: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  maxBodyBytes: 1 << 20,
  maxUploadBytes: 100 << 20,
  syncCellBands: 4_000_000,
  maxCellBands: 4_000_000_000,
  ratePerMinute: 600,
  stepTimeoutMs: 25_000,
};

/** One JSON line per request (and per job event). */
export type LogLine = Record<string, unknown> & { level: 'debug' | 'info' | 'warn' | 'error'; msg: string };

export interface ApiDeps {
  store: ObjectStore;
  jobs: JobStore;
  keys: KeyStore;
  limiter: RateLimiter;
  runner: JobRunner;
  /** The kernel (loaded once per isolate / process). */
  kernel: () => Promise<ImpactKernel>;
  config: ApiConfig;
  log: (line: LogLine) => void;
  /** fetch for URL sources (tests inject a local one); default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Clock and ids (tests make them deterministic). */
  now?: () => Date;
  newId?: () => string;
}
