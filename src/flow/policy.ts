/**
 * @module flow/policy
 * Per-task policy: retries with their delays, the retry condition, timeouts and caching. Delays are
 * a pure function of (policy, attempt, random source), so a schedule can be asserted exactly.
 */

/** Exponential backoff: attempt n waits `initialMs * factor^(n-1)`, capped at `maxMs`. */
export interface Backoff {
  /** Delay before the first retry (ms). */
  initialMs: number;
  /** Growth per retry (default 2). */
  factor?: number;
  /** Upper bound of a delay before jitter (ms; default: none). */
  maxMs?: number;
}

export interface RetryPolicy {
  /** Retries after the first attempt (0 = never retry). */
  count: number;
  /** Delay before retry 1, 2, ... (ms); the last one repeats when there are more retries than entries. */
  delays?: readonly number[];
  /** Exponential backoff instead of a list (used when `delays` is absent). Neither: retry at once. */
  backoff?: Backoff;
  /**
   * Spread of each delay, as a fraction: the delay becomes `d * (1 + jitter * (2r - 1))`, r from the
   * run's random source in [0, 1), rounded to whole ms. 0.1 spreads retries of many tasks over ±10%.
   */
  jitter?: number;
  /** Retry only errors whose `code` is listed (e.g. `["E_IO", "E_TASK_TIMEOUT", "ECONNRESET"]`); the JSON form of `when`. */
  codes?: readonly string[];
  /** Retry only when this says so (after `codes`). `attempt` is the attempt that just failed (1-based). */
  when?: (error: unknown, attempt: number) => boolean;
}

export interface CachePolicy {
  /** How long a stored result stays valid (ms); default: forever. */
  expiresMs?: number;
  /**
   * The cache key; default: sha256 of the task id, its version, its parameters and its inputs
   * (see {@link hashValue}). Give one when inputs are large and something smaller identifies them.
   */
  key?: (info: { task: string; version: string; params: Record<string, unknown>; inputs: Record<string, unknown> }) => string;
}

/** The policy part of a task (what families and registry types may preset). */
export interface TaskPolicy {
  /** Concurrency tags: a run limits how many tasks with one tag run at once (`{ download: 4 }`). */
  tags?: readonly string[];
  retry?: RetryPolicy;
  /** Per attempt (ms): the task's signal aborts with `E_TASK_TIMEOUT`, and the attempt fails at once. */
  timeoutMs?: number;
  /** Reuse a result stored for the same inputs, parameters and version (state Cached). */
  cache?: CachePolicy | boolean;
}

/**
 * The delay before retry number `retry` (1 = the first retry; ms). `random` gives [0, 1) and is only
 * drawn from when the policy has jitter.
 */
export function retryDelay(policy: RetryPolicy, retry: number, random: () => number): number {
  let base = 0;
  if (policy.delays && policy.delays.length > 0) {
    base = policy.delays[Math.min(retry, policy.delays.length) - 1]!;
  } else if (policy.backoff) {
    const { initialMs, factor = 2, maxMs = Infinity } = policy.backoff;
    base = Math.min(maxMs, initialMs * factor ** (retry - 1));
  }
  const jitter = policy.jitter ?? 0;
  if (jitter > 0 && base > 0) base = base * (1 + jitter * (2 * random() - 1));
  return Math.max(0, Math.round(base));
}

/** Whether a failed attempt should be retried under `policy` (retries left is checked by the caller). */
export function shouldRetry(policy: RetryPolicy, error: unknown, attempt: number): boolean {
  if (policy.codes) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !policy.codes.includes(code)) return false;
  }
  return policy.when ? policy.when(error, attempt) : true;
}
