/**
 * @module flow/ibf/http-publisher
 * Publishing by HTTP: the run's outputs are staged in memory, and at commit the requests listed in each
 * output named `ibf-system/requests.json` (or `<folder>/ibf-system/requests.json`; a list of
 * `{ method, path, body: <output name> }`, see ibf-system.ts) are sent in order to `endpoint` + path,
 * each body as `application/json`, with retries:
 *
 * - retried: network errors, a timeout of the attempt, and the statuses 408, 425, 429 and 5xx;
 *   a `Retry-After` header (seconds or a date) sets the delay when it is longer, capped at `maxMs`;
 * - not retried: other 4xx (the request itself is wrong: retrying cannot help), which fail the commit;
 * - delays: `initialMs * factor^(n-1)` capped at `maxMs`, spread by `jitter` (as flow/policy.ts);
 * - the `signal` aborts a request in flight and any wait between attempts (`E_CANCELLED`).
 *
 * Nothing is sent before the run succeeded (the runner commits only then). HTTP has no transaction: a
 * commit that fails half-way leaves the earlier requests delivered; the run ends Failed, and resuming it
 * (same run id) sends every request again. The IBF-system stores uploads per country, disaster type,
 * indicator, lead time and date, so a repeated upload replaces the same data.
 *
 * Runtime-neutral (`fetch`); the endpoint and the token come from the caller, never from this module.
 */
import { IbfError } from '../../errors.js';
import { outputNameProblem, type Publisher, type PublishReceipt, type Staging } from '../publish.js';
import { REQUESTS_OUTPUT } from './ibf-system.js';

export interface HttpRetry {
  /** Retries after the first attempt (default 4). */
  count?: number;
  /** Delay before the first retry, ms (default 500). */
  initialMs?: number;
  /** Growth per retry (default 2). */
  factor?: number;
  /** Longest delay, ms (default 30 000). */
  maxMs?: number;
  /** Spread of each delay as a fraction, 0..1 (default 0.1). */
  jitter?: number;
}

export interface HttpOptions {
  /** Base URL the request paths are relative to, e.g. `https://ibf.example.org/api/`. */
  endpoint: string;
  /** Sent as `Authorization: Bearer <token>` when given. */
  token?: string;
  /** More headers for every request. */
  headers?: Record<string, string>;
  retry?: HttpRetry;
  /** Per attempt, ms (default 60 000). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Waits between attempts (tests pass a fake clock); must reject when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** [0, 1) for the jitter; default Math.random. */
  random?: () => number;
  /** Every attempt's outcome, for logs and progress (never carries the token). */
  onAttempt?: (a: HttpAttempt) => void;
}

export interface HttpAttempt {
  method: string;
  url: string;
  attempt: number;
  /** HTTP status, or undefined when no response came. */
  status?: number;
  error?: string;
  /** Delay before the next attempt (ms), when one follows. */
  retryInMs?: number;
}

const RETRY_STATUS = new Set([408, 425, 429]);

/** Whether a response status is worth retrying. */
export function retryableStatus(status: number): boolean {
  return RETRY_STATUS.has(status) || status >= 500;
}

/** The delay before retry `n` (1-based), ms. */
export function httpRetryDelay(retry: HttpRetry, n: number, random: () => number): number {
  const initial = retry.initialMs ?? 500;
  const factor = retry.factor ?? 2;
  const max = retry.maxMs ?? 30_000;
  const jitter = retry.jitter ?? 0.1;
  const base = Math.min(max, initial * factor ** (n - 1));
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
}

/** A `Retry-After` header in ms (seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const s = Number(header.trim());
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(header);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Waits `ms`, rejecting with the signal's reason when it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The URL without user name and password, for messages. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/** Joins the base URL and a relative path (`https://h/api` + `event/x` = `https://h/api/event/x`). */
export function joinUrl(endpoint: string, path: string): string {
  const base = endpoint.endsWith('/') ? endpoint : `${endpoint}/`;
  return new URL(path.replace(/^\/+/, ''), base).toString();
}

const cancelled = (signal: AbortSignal) =>
  signal.reason instanceof IbfError ? signal.reason : new IbfError('E_CANCELLED', 'publishing was cancelled', { cause: signal.reason });

/**
 * Sends one request with retries (see the module header); resolves with the status of the response
 * that ended it (2xx or 3xx). Throws `E_HTTP` (refused, or retries exhausted) or `E_CANCELLED`.
 */
export async function sendWithRetry(method: string, url: string, body: string | Uint8Array, opts: Omit<HttpOptions, 'endpoint'>): Promise<number> {
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? abortableSleep;
  const random = opts.random ?? Math.random;
  const retry = opts.retry ?? {};
  const count = retry.count ?? 4;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const where = `${method} ${shown(url)}`;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw cancelled(opts.signal);
    const controller = new AbortController();
    const onAbort = () => controller.abort(opts.signal!.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new IbfError('E_HTTP', `${where} did not answer within ${timeoutMs} ms`)), timeoutMs);
    let status: number | undefined;
    let error: string | undefined;
    let waitHint: number | undefined;
    let text = '';
    try {
      const res = await doFetch(url, { method, headers, body: typeof body === 'string' ? body : new Uint8Array(body), signal: controller.signal });
      status = res.status;
      text = await res.text().catch(() => '');
      waitHint = retryAfterMs(res.headers.get('retry-after'));
    } catch (e) {
      if (opts.signal?.aborted) throw cancelled(opts.signal);
      error = controller.signal.aborted && controller.signal.reason instanceof IbfError ? controller.signal.reason.message : (e as Error).message;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code) error += ` (${cause.code})`;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
    if (status !== undefined && status < 400) {
      opts.onAttempt?.({ method, url: shown(url), attempt, status });
      return status;
    }
    const snippet = text.trim().slice(0, 300);
    const what = status !== undefined ? `answered ${status}${snippet ? `: ${snippet}` : ''}` : `failed: ${error}`;
    if (status !== undefined && !retryableStatus(status)) {
      opts.onAttempt?.({ method, url: shown(url), attempt, status });
      throw new IbfError('E_HTTP', `${where} ${what}`, {
        hint: status === 401 || status === 403 ? 'Check the token (publish.ibfSystem.tokenEnv names the variable holding it) and its rights.' : 'The server refused the request itself; check the payload and the endpoint path.',
        details: { url: shown(url), status, attempts: attempt },
      });
    }
    if (attempt > count) {
      opts.onAttempt?.({ method, url: shown(url), attempt, ...(status !== undefined ? { status } : { error }) });
      throw new IbfError('E_HTTP', `${where} ${what}, after ${attempt} attempt${attempt === 1 ? '' : 's'}`, { details: { url: shown(url), status, attempts: attempt } });
    }
    const delay = Math.min(retry.maxMs ?? 30_000, Math.max(httpRetryDelay(retry, attempt, random), waitHint ?? 0));
    opts.onAttempt?.({ method, url: shown(url), attempt, ...(status !== undefined ? { status } : { error }), retryInMs: delay });
    try {
      await sleep(delay, opts.signal);
    } catch {
      throw cancelled(opts.signal ?? AbortSignal.abort());
    }
  }
}

/** The request list of {@link REQUESTS_OUTPUT}, checked. */
function parseRequests(text: string, staged: ReadonlyMap<string, string | Uint8Array>, name: string): Array<{ method: string; path: string; body: string }> {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (e) {
    throw new IbfError('E_FLOW_RESULT', `${name} is not JSON: ${(e as Error).message}`);
  }
  const bad = (why: string) => new IbfError('E_FLOW_RESULT', `${name} ${why}`, { hint: 'List the requests as [{ "method": "POST", "path": "event/...", "body": "<output name>" }].' });
  if (!Array.isArray(list)) throw bad('is not a list');
  return list.map((r, i) => {
    const { method, path, body } = (r ?? {}) as Record<string, unknown>;
    if (method !== 'POST' && method !== 'PUT') throw bad(`[${i}].method must be "POST" or "PUT"`);
    if (typeof path !== 'string' || path === '' || /^[a-z]+:/i.test(path)) throw bad(`[${i}].path must be a path relative to the endpoint`);
    if (typeof body !== 'string' || !staged.has(body)) throw bad(`[${i}].body must name a staged output (got ${JSON.stringify(body)})`);
    return { method, path, body };
  });
}

export interface HttpPublisher extends Publisher {
  /** Requests sent by the last commit, in order (status of each). */
  readonly sent: ReadonlyArray<{ method: string; path: string; status: number }>;
}

/** A publisher that sends the staged IBF-system requests (see the module header). */
export function httpPublisher(opts: HttpOptions): HttpPublisher {
  try {
    const u = new URL(opts.endpoint);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new IbfError('E_USAGE', `the publish endpoint "${opts.endpoint}" is not an http(s) URL`, { hint: 'Give the base URL of the API, e.g. https://ibf.example.org/api/.' });
  }
  const target = shown(opts.endpoint);
  let sent: Array<{ method: string; path: string; status: number }> = [];
  return {
    target,
    get sent() {
      return sent;
    },
    async open(): Promise<Staging> {
      const staged = new Map<string, string | Uint8Array>();
      let closed = false;
      return {
        async put(name, data) {
          if (closed) throw new IbfError('E_USAGE', 'this staging is already committed or aborted');
          const bad = outputNameProblem(name);
          if (bad) throw new IbfError('E_FLOW_RESULT', `output name "${name}" ${bad}`);
          if (name.startsWith('ibf-system/') || name.includes('/ibf-system/')) staged.set(name, typeof data === 'string' ? data : data.slice());
        },
        async commit(): Promise<PublishReceipt> {
          if (closed) throw new IbfError('E_USAGE', 'this staging is already committed or aborted');
          closed = true;
          sent = [];
          const manifests = [...staged.keys()].filter((n) => n === REQUESTS_OUTPUT || n.endsWith(`/${REQUESTS_OUTPUT}`)).sort();
          const delivered: string[] = [];
          for (const m of manifests) {
            const text = staged.get(m)!;
            const requests = parseRequests(typeof text === 'string' ? text : new TextDecoder().decode(text), staged, m);
            for (const r of requests) {
              const status = await sendWithRetry(r.method, joinUrl(opts.endpoint, r.path), staged.get(r.body)!, opts);
              sent.push({ method: r.method, path: r.path, status });
              delivered.push(r.body);
            }
          }
          return { target, outputs: delivered.sort() };
        },
        async abort() {
          closed = true;
          staged.clear();
        },
      };
    },
  };
}

/**
 * Several publishers as one: every output goes to each, and commit commits them in the order given,
 * stopping at the first failure (the later ones are aborted). Put the one most likely to fail first:
 * HTTP, then the folder, so a failed upload leaves no files behind either.
 */
export function chainPublishers(publishers: readonly Publisher[]): Publisher {
  if (publishers.length === 1) return publishers[0]!;
  const target = publishers.map((p) => p.target).join(' + ');
  return {
    target,
    async open(run) {
      const stages: Staging[] = [];
      try {
        for (const p of publishers) stages.push(await p.open(run));
      } catch (e) {
        await Promise.allSettled(stages.map((s) => s.abort()));
        throw e;
      }
      return {
        async put(name, data) {
          for (const s of stages) await s.put(name, data);
        },
        async commit() {
          const outputs = new Set<string>();
          for (let i = 0; i < stages.length; i++) {
            try {
              for (const o of (await stages[i]!.commit()).outputs) outputs.add(o);
            } catch (e) {
              await Promise.allSettled(stages.slice(i + 1).map((s) => s.abort()));
              throw e;
            }
          }
          return { target, outputs: [...outputs].sort() };
        },
        async abort() {
          await Promise.allSettled(stages.map((s) => s.abort()));
        },
      };
    },
  };
}
