/**
 * @module flow/store
 * Where runs keep their state: the run record (every task's state), the journal of events and logs,
 * task results, and the cache shared by runs. The interface is small and async so a folder (Node),
 * IndexedDB (browser) and R2 / D1 / KV (edge) can all implement it.
 *
 * Contract the runner relies on, and every implementation must keep:
 * - `commit` is atomic: after a crash, `loadRun` gives the record of the last commit that returned
 *   (or an earlier one), and `readEvents` / `readLogs` exactly the batches of the commits up to it.
 * - `putResult` is atomic per task and done before the commit that records the task Completed, so a
 *   Completed record always has its result.
 * - Values are returned as they were put; stores that serialize use the codec of flow/codec.ts.
 */
import type { Params } from './define.js';
import type { LogRecord } from './log.js';
import type { ErrorInfo, FlowEvent, RunStatus, TaskState } from './states.js';

export const RUN_FORMAT = 'e4drr-ibf/flow-run@1';

export interface TaskRecord {
  state: TaskState;
  /** Attempts started so far, over every session. */
  attempt: number;
  /** When the state was entered (ms since the epoch). */
  updatedAt: number;
  reason?: string;
  /** The last failure (kept while a retry succeeds, so the record says what happened). */
  error?: ErrorInfo;
  progress?: { fraction: number; message?: string };
  cacheKey?: string;
}

export interface RunRecord {
  format: typeof RUN_FORMAT;
  run: string;
  flow: string;
  /** sha256 of the planned flow (task ids, dependencies, versions, parameters): a resume must match it. */
  fingerprint: string;
  /** The run's parameters (what overrode the flow's). */
  params: Params;
  status: RunStatus;
  /** 1 for the first start, +1 per resume. */
  session: number;
  startedAt: number;
  updatedAt: number;
  finishedAt?: number;
  /** Sequence number the next event gets. */
  nextSeq: number;
  tasks: Record<string, TaskRecord>;
  /** Set once the outputs were committed (a resumed run does not publish again). */
  published?: { at: number; target: string; outputs: string[] };
}

export interface CacheEntry {
  key: string;
  /** Task id that stored it. */
  task: string;
  storedAt: number;
  /** Absent: valid forever. */
  expiresAt?: number;
  value: unknown;
}

export interface CommitBatch {
  record: RunRecord;
  /** Events since the previous commit. */
  events: FlowEvent[];
  /** Log records since the previous commit. */
  logs: LogRecord[];
}

export interface FlowStore {
  /** The record of the last commit of `run`, or undefined for a run id never committed. */
  loadRun(run: string): Promise<RunRecord | undefined>;
  /** Stores `batch.record` and appends its events and logs, all or nothing. */
  commit(run: string, batch: CommitBatch): Promise<void>;
  readEvents(run: string): Promise<FlowEvent[]>;
  readLogs(run: string): Promise<LogRecord[]>;
  putResult(run: string, task: string, value: unknown): Promise<void>;
  getResult(run: string, task: string): Promise<{ value: unknown } | undefined>;
  getCache(key: string): Promise<CacheEntry | undefined>;
  putCache(entry: CacheEntry): Promise<void>;
}

/** Run ids become folder and key names: letters, digits, `_`, `.`, `-`, up to 128, not starting with `.`. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

export interface MemoryStore extends FlowStore {
  /** Run ids committed so far. */
  runs(): string[];
}

/**
 * A store in memory (one process; gone with it). Records, events and logs are copied on the way out
 * (a committed batch belongs to the store: do not change it afterwards); results and cache values are
 * kept as they are, so tasks may pass values no JSON can hold (treat results as immutable).
 */
export function memoryStore(): MemoryStore {
  const runs = new Map<string, { record: RunRecord; events: FlowEvent[]; logs: LogRecord[]; results: Map<string, unknown> }>();
  const cache = new Map<string, CacheEntry>();
  const entry = (run: string) => {
    let e = runs.get(run);
    if (!e) runs.set(run, (e = { record: undefined as unknown as RunRecord, events: [], logs: [], results: new Map() }));
    return e;
  };
  return {
    runs: () => [...runs.keys()].filter((r) => runs.get(r)!.record !== undefined),
    async loadRun(run) {
      const r = runs.get(run)?.record;
      return r && structuredClone(r);
    },
    async commit(run, batch) {
      // the runner hands over fresh objects and never changes them after a commit: a shallow copy is enough
      const e = entry(run);
      e.record = { ...batch.record, tasks: { ...batch.record.tasks } };
      e.events.push(...batch.events);
      e.logs.push(...batch.logs);
    },
    readEvents: async (run) => structuredClone(runs.get(run)?.events ?? []),
    readLogs: async (run) => structuredClone(runs.get(run)?.logs ?? []),
    async putResult(run, task, value) {
      entry(run).results.set(task, value);
    },
    async getResult(run, task) {
      const results = runs.get(run)?.results;
      return results?.has(task) ? { value: results.get(task) } : undefined;
    },
    getCache: async (key) => cache.get(key),
    async putCache(e) {
      cache.set(e.key, e);
    },
  };
}
