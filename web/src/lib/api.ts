/**
 * @module web/lib/api
 * The few calls the dashboard and the widget make to the IBF API (docs/API.md), with its errors as
 * values: a problem+json answer becomes an {@link ApiError} carrying the server's code, detail and hint; a
 * request the browser could not complete (network down, or CORS refused: the page's origin is not allowed)
 * becomes status 0, code `E_NETWORK`. Base URL '' means this page's own origin (the app served with the API).
 */
import type { AssessResult } from '../../../src/engine/result.js';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

export interface ApiTarget {
  /** Base URL of the API ('' = this origin). */
  base: string;
  /** API key (Bearer token), or '' for public routes. */
  key: string;
}

export interface JobView {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  progress?: { tilesDone: number; tilesTotal: number };
  error?: { code: string; message: string };
  [k: string]: unknown;
}

export const urlOf = (t: ApiTarget, path: string) => `${t.base.replace(/\/+$/, '')}${path}`;

/** One API call; throws {@link ApiError}. */
export async function api<T>(t: ApiTarget, path: string, init: RequestInit & { signal?: AbortSignal } = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (t.key) headers.set('authorization', `Bearer ${t.key}`);
  let res: Response;
  try {
    res = await fetch(urlOf(t, path), { ...init, headers, mode: 'cors', credentials: 'omit' });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'E_NETWORK', `no answer from ${urlOf(t, path)}: ${(e as Error).message}`);
  }
  const type = res.headers.get('content-type') ?? '';
  if (!res.ok) {
    if (type.includes('json')) {
      const p = (await res.json().catch(() => ({}))) as { code?: string; detail?: string; title?: string; hint?: string; requestId?: string };
      throw new ApiError(res.status, p.code ?? `HTTP_${res.status}`, p.detail ?? p.title ?? `HTTP ${res.status}`, p.hint, p.requestId);
    }
    throw new ApiError(res.status, `HTTP_${res.status}`, `HTTP ${res.status} ${res.statusText}`.trim());
  }
  const body = (type.includes('json') ? await res.json() : await res.text()) as T;
  return { status: res.status, body, headers: res.headers };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((ok, fail) => {
    const t = setTimeout(ok, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), fail(signal.reason)), { once: true });
  });

/**
 * Waits for job `id` to finish (polling `GET /v1/jobs/:id`), then fetches its result. `onStatus` sees every
 * poll. A failed job throws its error as an {@link ApiError}.
 */
export async function jobResult(t: ApiTarget, id: string, opts: { signal?: AbortSignal; onStatus?: (j: JobView) => void; intervalMs?: number } = {}): Promise<AssessResult> {
  const path = `/v1/jobs/${encodeURIComponent(id)}`;
  for (let i = 0; ; i++) {
    const { body: job } = await api<JobView>(t, path, { signal: opts.signal });
    opts.onStatus?.(job);
    if (job.status === 'succeeded') return (await api<AssessResult>(t, `${path}/result`, { signal: opts.signal })).body;
    if (job.status === 'failed') throw new ApiError(422, job.error?.code ?? 'E_JOB_FAILED', job.error?.message ?? `job ${id} failed`);
    await sleep(Math.min(opts.intervalMs ?? 500, 250 * 2 ** Math.min(i, 3)), opts.signal);
  }
}

/**
 * After a status-0 failure: tells "the API refused this page's origin" (the API answers its public
 * `/healthz` to anyone) from "the API cannot be reached".
 */
export async function reachable(t: ApiTarget): Promise<boolean> {
  try {
    const res = await fetch(urlOf(t, '/healthz'), { mode: 'cors', credentials: 'omit' });
    return res.ok;
  } catch {
    return false;
  }
}
