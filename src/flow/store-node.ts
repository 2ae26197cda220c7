/**
 * @module flow/store-node
 * A run store in a folder (Node). Every file is written whole to a temporary name in its folder,
 * flushed, and renamed over its final name, so a process killed at any instant (SIGKILL, power cut
 * with `durable`) leaves each file either as it was or as it became, never torn:
 *
 *     <root>/runs/<run>/run.json                  { journal: n, record }: the run record (the commit point)
 *     <root>/runs/<run>/journal/000000001.json    { events, logs } of commit 1, ... up to n
 *     <root>/runs/<run>/results/<task>.json       a task's result (task id URI-encoded: forecast%2Fassess.json)
 *     <root>/cache/<sha256 of key>.json           { key, task, storedAt, expiresAt, value }
 *
 * A commit writes journal file n + 1, then run.json saying `journal: n + 1`; a kill between the two
 * leaves a journal file no run.json counts, which readers ignore and the next commit replaces. Values
 * are JSON through the codec of flow/codec.ts (typed arrays as base64, NaN and -0 kept).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { IbfError } from '../errors.js';
import { decodeValue, encodeValue, sha256Hex, type Json } from './codec.js';
import type { LogRecord } from './log.js';
import type { FlowEvent } from './states.js';
import { RUN_ID_PATTERN, type CacheEntry, type FlowStore, type RunRecord } from './store.js';

export interface DirStoreOptions {
  /** fsync each file and its folder before and after the rename (default true), so a power cut cannot lose a commit either. */
  durable?: boolean;
}

export interface DirStore extends FlowStore {
  readonly root: string;
  /** Run ids with a run.json, sorted. */
  runs(): Promise<string[]>;
}

const JOURNAL_DIGITS = 9;

/** Writes `data` to `path` atomically (temporary file in the same folder, then rename). */
export async function writeAtomic(path: string, data: string | Uint8Array, durable = true): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    if (durable) await syncDir(dir);
  } catch (cause) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new IbfError('E_IO', `cannot write ${path}: ${(cause as Error).message}`, {
      cause,
      hint: 'Check free disk space and permissions of the flow store folder.',
      details: { path, code: (cause as NodeJS.ErrnoException).code },
    });
  }
}

async function syncDir(dir: string): Promise<void> {
  // persists the rename itself; not every platform lets a folder be opened (Windows): then the file's own sync is all there is
  try {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    /* best effort */
  }
}

/** Removes temporary files a killed process left in a run's folders (they never became part of the run). */
async function removeTemporaries(dir: string): Promise<void> {
  for (const sub of ['', 'journal', 'results']) {
    let names: string[] = [];
    try {
      names = await readdir(join(dir, sub));
    } catch {
      continue;
    }
    for (const n of names) if (n.startsWith('.') && n.endsWith('.tmp')) await rm(join(dir, sub, n), { force: true }).catch(() => {});
  }
}

async function readJson(path: string): Promise<Json | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IbfError('E_IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e, hint: 'Check permissions of the flow store folder.' });
  }
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new IbfError('E_FLOW_STATE', `flow store file ${path} is not valid JSON`, {
      cause: e,
      hint: 'The file was changed outside the flow runner; restore it or start a new run id.',
    });
  }
}

/** A store in the folder `root` (created when missing). */
export function dirStore(root: string, options: DirStoreOptions = {}): DirStore {
  const durable = options.durable ?? true;
  const runDir = (run: string) => {
    if (!RUN_ID_PATTERN.test(run)) throw new IbfError('E_USAGE', `run id "${run}" is not usable as a folder name`, { hint: 'Use letters, digits, "_", ".", "-".' });
    return join(root, 'runs', run);
  };
  const journalPath = (run: string, n: number) => join(runDir(run), 'journal', `${String(n).padStart(JOURNAL_DIGITS, '0')}.json`);
  const resultPath = (run: string, task: string) => join(runDir(run), 'results', `${encodeURIComponent(task)}.json`);
  const cachePath = (key: string) => join(root, 'cache', `${sha256Hex(new TextEncoder().encode(key))}.json`);
  // journal length per run, as run.json last said
  const journals = new Map<string, number>();
  // one commit at a time per run
  const queues = new Map<string, Promise<unknown>>();

  const readHead = async (run: string): Promise<{ journal: number; record: RunRecord } | undefined> => {
    const head = await readJson(join(runDir(run), 'run.json'));
    if (head === undefined) return undefined;
    const h = head as { journal?: unknown; record?: Json };
    if (typeof h.journal !== 'number' || h.record === undefined) {
      throw new IbfError('E_FLOW_STATE', `flow store file ${join(runDir(run), 'run.json')} is not a run record`);
    }
    return { journal: h.journal, record: decodeValue(h.record) as RunRecord };
  };

  const journalLength = async (run: string): Promise<number> => {
    if (!journals.has(run)) journals.set(run, (await readHead(run))?.journal ?? 0);
    return journals.get(run)!;
  };

  const readJournal = async <K extends 'events' | 'logs'>(run: string, key: K): Promise<Array<K extends 'events' ? FlowEvent : LogRecord>> => {
    const n = (await readHead(run))?.journal ?? 0;
    const out: Array<K extends 'events' ? FlowEvent : LogRecord> = [];
    for (let i = 1; i <= n; i++) {
      const part = await readJson(journalPath(run, i));
      if (part === undefined) throw new IbfError('E_FLOW_STATE', `journal file ${journalPath(run, i)} is missing (run.json counts ${n})`);
      out.push(...((decodeValue(part) as Record<K, Array<K extends 'events' ? FlowEvent : LogRecord>>)[key] ?? []));
    }
    return out;
  };

  return {
    root,
    async runs() {
      let names: string[];
      try {
        names = await readdir(join(root, 'runs'));
      } catch {
        return [];
      }
      const out: string[] = [];
      for (const n of names.sort()) if (RUN_ID_PATTERN.test(n) && (await readJson(join(root, 'runs', n, 'run.json'))) !== undefined) out.push(n);
      return out;
    },
    async loadRun(run) {
      await removeTemporaries(runDir(run));
      const head = await readHead(run);
      journals.set(run, head?.journal ?? 0);
      return head?.record;
    },
    commit(run, batch) {
      const prev = queues.get(run) ?? Promise.resolve();
      const next = prev.catch(() => {}).then(async () => {
        const n = (await journalLength(run)) + 1;
        await writeAtomic(journalPath(run, n), JSON.stringify(encodeValue({ events: batch.events, logs: batch.logs })), durable);
        await writeAtomic(join(runDir(run), 'run.json'), JSON.stringify({ journal: n, record: encodeValue(batch.record) }), durable);
        journals.set(run, n);
      });
      queues.set(run, next);
      return next;
    },
    readEvents: (run) => readJournal(run, 'events'),
    readLogs: (run) => readJournal(run, 'logs'),
    async putResult(run, task, value) {
      await writeAtomic(resultPath(run, task), JSON.stringify({ value: encodeValue(value) }), durable);
    },
    async getResult(run, task) {
      const json = await readJson(resultPath(run, task));
      if (json === undefined) return undefined;
      return { value: decodeValue((json as { value: Json }).value) };
    },
    async getCache(key) {
      const json = await readJson(cachePath(key));
      if (json === undefined) return undefined;
      const entry = decodeValue(json) as CacheEntry;
      return entry.key === key ? entry : undefined;
    },
    async putCache(entry) {
      await writeAtomic(cachePath(entry.key), JSON.stringify(encodeValue(entry)), durable);
    },
  };
}
