/**
 * Budgets and bookkeeping of the fuzz tests (test/fuzz/*.test.ts).
 *
 * In `npm test` every property runs a fixed number of seeded cases (reproducible: the same seed gives
 * the same cases), capped in time so the suite stays bounded on a loaded machine. `npm run fuzz`
 * (scripts/fuzz.mjs) sets the environment for a longer run:
 *
 * - `FUZZ_SEED`: the seed (default 20260801); a failure prints the seed and path to replay it.
 * - `FUZZ_RUNS`: cases per property (default: each property's own, 60-400).
 * - `FUZZ_SECONDS`: seconds per property instead of a case count (runs until the time is up).
 * - `FUZZ_CASE_MS`: the time bound of one case (default 10 000 ms): a case slower than that fails.
 * - `FUZZ_REPORT`: a folder; each property writes `<name>.json` there (cases, seconds, outcomes).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Parameters as FcParameters } from 'fast-check';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20260801);
const RUNS = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : undefined;
const SECONDS = process.env.FUZZ_SECONDS ? Number(process.env.FUZZ_SECONDS) : undefined;
/** Time bound of one case, ms: generous, because the machine may be busy with other work. */
export const CASE_MS = Number(process.env.FUZZ_CASE_MS ?? 10_000);
/** True when a long run was asked for (`npm run fuzz`). */
export const LONG = RUNS !== undefined || SECONDS !== undefined;

/**
 * fast-check parameters for one property: `runs` seeded cases in the suite (or FUZZ_RUNS), or
 * FUZZ_SECONDS of cases; in the suite also a cap of `capMs` so a slow machine cannot stretch it.
 */
export function fuzzParams<T>(runs: number, capMs = 15_000): FcParameters<T> {
  if (SECONDS !== undefined) return { seed: FUZZ_SEED, numRuns: 1e9, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false, endOnFailure: true };
  return { seed: FUZZ_SEED, numRuns: RUNS ?? runs, interruptAfterTimeLimit: RUNS !== undefined ? 1e9 : capMs, markInterruptAsFailure: false, endOnFailure: true };
}

/** The vitest timeout of a test that runs one property. */
export function testTimeout(capMs = 15_000): number {
  if (SECONDS !== undefined) return SECONDS * 1000 + 60_000;
  if (RUNS !== undefined) return 3_600_000;
  return capMs + 30_000;
}

/** What a property saw: cases, time, and how each case ended (result or error code). */
export class FuzzStats {
  cases = 0;
  readonly outcomes: Record<string, number> = {};
  maxCaseMs = 0;
  private readonly t0 = performance.now();

  constructor(readonly name: string) {}

  /** Counts one case that ended in `outcome` after `ms`. */
  add(outcome: string, ms: number): void {
    this.cases++;
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
    if (ms > this.maxCaseMs) this.maxCaseMs = ms;
  }

  /** Writes the summary to FUZZ_REPORT/<name>.json when that is set. */
  report(): void {
    const dir = process.env.FUZZ_REPORT;
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    const body = {
      name: this.name, seed: FUZZ_SEED, cases: this.cases, seconds: Math.round(performance.now() - this.t0) / 1000,
      maxCaseMs: Math.round(this.maxCaseMs), outcomes: this.outcomes,
    };
    writeFileSync(join(dir, `${this.name}.json`), `${JSON.stringify(body, null, 2)}\n`);
  }
}

/** Resolves with `p`, or rejects when it takes longer than `ms` (a hang is a failure, not a wait). */
export function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result or error within ${ms} ms (a hang)`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** With FUZZ_TRACE=<file>, appends each case before it runs (the last line names a case that hung). */
export function trace(what: unknown): void {
  const file = process.env.FUZZ_TRACE;
  if (file) appendFileSync(file, `${JSON.stringify(what)}\n`);
}
