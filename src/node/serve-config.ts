/**
 * @module node/serve-config
 * The settings of `ibf serve` that flags and `IBF_*` variables give, and their defaults. Apart from
 * node/serve.ts so the CLI reads them without importing the HTTP stack.
 */
import { IbfError } from '../errors.js';
import { DEFAULT_LIMITS, type ApiLimits } from '../api/ports.js';

/** Settings of the API that flags and `IBF_*` variables may set; each overrides the default. */
export interface ServeConfig {
  /** Bucket name scenarios use in `r2://<bucket>/<key>` (default `ibf-data`, as on Workers). */
  bucket?: string;
  /** Hosts URL sources may use (`data.example.org`, `*.example.org`). Default none. */
  allowHosts?: string[];
  /** Development only: URL sources may be loopback / private addresses (and http). */
  allowPrivateAddresses?: boolean;
  /** Cells per tile of the engine (results do not depend on it). */
  tileCells?: number;
  limits?: Partial<ApiLimits>;
}

export const DEFAULT_PORT = 8787;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_BUCKET = 'ibf-data';

const ENV_LIMITS: Record<string, keyof ApiLimits> = {
  IBF_MAX_BODY_BYTES: 'maxBodyBytes',
  IBF_MAX_UPLOAD_BYTES: 'maxUploadBytes',
  IBF_SYNC_CELL_BANDS: 'syncCellBands',
  IBF_MAX_CELL_BANDS: 'maxCellBands',
  IBF_RATE_PER_MINUTE: 'ratePerMinute',
  IBF_STEP_TIMEOUT_MS: 'stepTimeoutMs',
};

/** The environment variables {@link configFromEnv} reads, with what they mean (for help texts and docs). */
export const SERVE_ENV: Record<string, string> = {
  IBF_ALLOW_HOSTS: 'comma list of hosts URL sources may use (data.example.org, *.example.org)',
  IBF_ALLOW_PRIVATE: '1 = URL sources may be loopback/private addresses and http (development only)',
  IBF_BUCKET: `bucket name of r2://<bucket>/<key> sources (default ${DEFAULT_BUCKET})`,
  IBF_MAX_BODY_BYTES: `largest JSON body, bytes (default ${DEFAULT_LIMITS.maxBodyBytes})`,
  IBF_MAX_UPLOAD_BYTES: `largest PUT /v1/data upload, bytes (default ${DEFAULT_LIMITS.maxUploadBytes})`,
  IBF_SYNC_CELL_BANDS: `cells x bands POST /v1/assess answers at once; more becomes a job (default ${DEFAULT_LIMITS.syncCellBands})`,
  IBF_MAX_CELL_BANDS: `cells x bands refused outright with 413 (default ${DEFAULT_LIMITS.maxCellBands})`,
  IBF_RATE_PER_MINUTE: `requests per minute per key without its own rate (default ${DEFAULT_LIMITS.ratePerMinute})`,
  IBF_STEP_TIMEOUT_MS: `time budget of one synchronous assessment, ms (default ${DEFAULT_LIMITS.stepTimeoutMs})`,
  IBF_TILE_CELLS: 'cells per engine tile (default: the engine\'s)',
};

/** The {@link ServeConfig} of `IBF_*` variables (see {@link SERVE_ENV}); throws `E_USAGE` naming a bad one. */
export function configFromEnv(env: Record<string, string | undefined> = process.env): ServeConfig {
  const out: ServeConfig = {};
  const bad = (name: string, what: string) => new IbfError('E_USAGE', `${name}=${JSON.stringify(env[name])} must be ${what}`, { hint: `Fix or unset ${name}.` });
  const whole = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v.trim() === '') return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw bad(name, 'a whole number > 0');
    return n;
  };
  if (env.IBF_ALLOW_HOSTS !== undefined) out.allowHosts = listOption(env.IBF_ALLOW_HOSTS);
  if (env.IBF_ALLOW_PRIVATE !== undefined && env.IBF_ALLOW_PRIVATE !== '') {
    if (!['0', '1'].includes(env.IBF_ALLOW_PRIVATE)) throw bad('IBF_ALLOW_PRIVATE', '1 (development) or 0');
    out.allowPrivateAddresses = env.IBF_ALLOW_PRIVATE === '1';
  }
  if (env.IBF_BUCKET) {
    if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(env.IBF_BUCKET)) throw bad('IBF_BUCKET', 'a bucket name (lowercase letters, digits, "-")');
    out.bucket = env.IBF_BUCKET;
  }
  const tile = whole('IBF_TILE_CELLS');
  if (tile !== undefined) out.tileCells = tile;
  for (const [name, field] of Object.entries(ENV_LIMITS)) {
    const n = whole(name);
    if (n !== undefined) (out.limits ??= {})[field] = n;
  }
  return out;
}

/** `a, b,,c` -> `['a', 'b', 'c']` */
export function listOption(v: string): string[] {
  return v.split(',').map((x) => x.trim()).filter(Boolean);
}

/** `b` over `a`, limits merged field by field. */
export function mergeConfig(a: ServeConfig, b: ServeConfig): ServeConfig {
  return { ...a, ...b, ...(a.limits || b.limits ? { limits: { ...a.limits, ...b.limits } } : {}) };
}
