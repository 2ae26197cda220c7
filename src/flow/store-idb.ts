/**
 * @module flow/store-idb
 * A run store in IndexedDB (browser; any runtime that has an `IDBFactory`). One database, five object
 * stores, values as the JSON of the codec of flow/codec.ts (typed arrays, NaN, -0, Date ... kept):
 *
 *     runs      key run                 { journal: n, record }   the commit point
 *     events    key [run, n]            the events of commit n   (only commits that had any)
 *     logs      key [run, n]            the log records of commit n
 *     results   key [run, task]         { value }
 *     cache     key cache key           { key, task, storedAt, expiresAt, value }
 *
 * A commit is one readwrite transaction over runs, events and logs: it reads the journal length n,
 * writes batch n + 1 and the record saying `journal: n + 1`, and resolves when the transaction is
 * complete (durability "strict" where the browser knows it), so a closed tab or a crash leaves the run
 * as of the last commit that returned, or earlier, never half a commit. Cache expiry is the runner's
 * (it compares `expiresAt` with its clock), as with the other stores.
 */
import { IbfError } from '../errors.js';
import { decodeValue, encodeValue, type Json } from './codec.js';
import type { LogRecord } from './log.js';
import type { FlowEvent } from './states.js';
import type { CacheEntry, FlowStore, RunRecord } from './store.js';

export interface IndexedDbStoreOptions {
  /** The factory to use (default `globalThis.indexedDB`), e.g. a polyfill or another realm's. */
  indexedDB?: IDBFactory;
  /** The key range class that goes with `indexedDB` (default `globalThis.IDBKeyRange`). */
  IDBKeyRange?: typeof IDBKeyRange;
}

export interface IndexedDbStore extends FlowStore {
  readonly dbName: string;
  /** Run ids with a committed record, sorted. */
  runs(): Promise<string[]>;
  /** Closes the connection; the next call opens it again. */
  close(): void;
}

const VERSION = 1;
const STORES = ['runs', 'events', 'logs', 'results', 'cache'] as const;
type StoreName = (typeof STORES)[number];

interface Head {
  journal: number;
  record: Json;
}

function ioError(what: string, dbName: string, cause: unknown): IbfError {
  const msg = cause instanceof Error || (cause && typeof cause === 'object' && 'message' in cause) ? (cause as { message: string }).message : String(cause);
  return new IbfError('E_IO', `IndexedDB "${dbName}": ${what} failed: ${msg}`, {
    cause,
    hint: 'Check that the page may use IndexedDB (not blocked, private mode allows it) and that the origin has storage quota left.',
    details: { db: dbName },
  });
}

const promised = <T>(req: IDBRequest<T>): Promise<T> =>
  new Promise((ok, fail) => {
    req.onsuccess = () => ok(req.result);
    req.onerror = () => fail(req.error);
  });

/** A store in the IndexedDB database `dbName` (created when missing). */
export function indexedDbStore(dbName: string, opts: IndexedDbStoreOptions = {}): IndexedDbStore {
  let db: Promise<IDBDatabase> | undefined;

  const factory = (): IDBFactory => {
    const f = opts.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!f) throw new IbfError('E_USAGE', 'IndexedDB is not available here', { hint: 'Use memoryStore() or dirStore() outside a browser, or pass opts.indexedDB.' });
    return f;
  };

  const open = (): Promise<IDBDatabase> => {
    if (db) return db;
    const p = new Promise<IDBDatabase>((ok, fail) => {
      const req = factory().open(dbName, VERSION);
      req.onupgradeneeded = () => {
        const d = req.result;
        for (const s of STORES) if (!d.objectStoreNames.contains(s)) d.createObjectStore(s);
      };
      req.onsuccess = () => {
        const d = req.result;
        // another connection wants a new version or to delete the database: let it, and reopen on the next call
        d.onversionchange = () => {
          d.close();
          if (db === p) db = undefined;
        };
        d.onclose = () => {
          if (db === p) db = undefined;
        };
        ok(d);
      };
      req.onerror = () => fail(ioError('opening', dbName, req.error));
      req.onblocked = () => fail(ioError('opening', dbName, new Error('blocked by another connection that does not close')));
    });
    db = p;
    p.catch(() => {
      if (db === p) db = undefined;
    });
    return p;
  };

  /**
   * Runs `body` in one transaction over `names` and resolves with what it returned once the
   * transaction completed (for readwrite: once it is committed).
   */
  const transact = async <T>(what: string, names: StoreName[], mode: IDBTransactionMode, body: (t: IDBTransaction) => Promise<T> | T): Promise<T> => {
    const d = await open();
    let t: IDBTransaction;
    try {
      t = mode === 'readwrite' ? d.transaction(names, mode, { durability: 'strict' }) : d.transaction(names, mode);
    } catch (e) {
      throw ioError(what, dbName, e);
    }
    const done = new Promise<void>((ok, fail) => {
      t.oncomplete = () => ok();
      t.onabort = () => fail(ioError(what, dbName, t.error ?? new Error('transaction aborted')));
    });
    let out: T;
    try {
      out = await body(t);
    } catch (e) {
      try {
        t.abort();
      } catch {
        /* already finished */
      }
      await done.catch(() => {});
      throw e instanceof IbfError ? e : ioError(what, dbName, e);
    }
    await done;
    return out;
  };

  const journalRange = (run: string) => (opts.IDBKeyRange ?? globalThis.IDBKeyRange).bound([run, 0], [run, Infinity]);

  const readJournal = async <X>(run: string, name: 'events' | 'logs'): Promise<X[]> => {
    const parts = await transact(`reading the ${name} of run ${run}`, ['runs', name], 'readonly', async (t) => {
      const head = (await promised(t.objectStore('runs').get(run))) as Head | undefined;
      if (!head) return [];
      const keys = (await promised(t.objectStore(name).getAllKeys(journalRange(run)))) as Array<[string, number]>;
      const values = (await promised(t.objectStore(name).getAll(journalRange(run)))) as Json[];
      // only batches the record counts (a commit is atomic, so there are no others; kept for safety)
      return values.filter((_v, i) => keys[i]![1] <= head.journal);
    });
    return parts.flatMap((p) => decodeValue(p) as X[]);
  };

  return {
    dbName,
    close() {
      const p = db;
      db = undefined;
      void p?.then((d) => d.close(), () => {});
    },
    async runs() {
      const keys = await transact('listing runs', ['runs'], 'readonly', (t) => promised(t.objectStore('runs').getAllKeys()));
      return (keys as string[]).filter((k) => typeof k === 'string').sort();
    },
    async loadRun(run) {
      const head = await transact(`loading run ${run}`, ['runs'], 'readonly', (t) => promised(t.objectStore('runs').get(run)));
      if (head === undefined) return undefined;
      const h = head as Partial<Head>;
      if (typeof h.journal !== 'number' || h.record === undefined) {
        throw new IbfError('E_FLOW_STATE', `IndexedDB "${dbName}": the entry of run ${run} is not a run record`);
      }
      return decodeValue(h.record) as RunRecord;
    },
    async commit(run, batch) {
      const record = encodeValue(batch.record);
      const events = batch.events.length ? encodeValue(batch.events) : undefined;
      const logs = batch.logs.length ? encodeValue(batch.logs) : undefined;
      await transact(`committing run ${run}`, ['runs', 'events', 'logs'], 'readwrite', async (t) => {
        const runs = t.objectStore('runs');
        const head = (await promised(runs.get(run))) as Head | undefined;
        const n = (head?.journal ?? 0) + 1;
        if (events !== undefined) t.objectStore('events').put(events, [run, n]);
        if (logs !== undefined) t.objectStore('logs').put(logs, [run, n]);
        runs.put({ journal: n, record } satisfies Head, run);
      });
    },
    readEvents: (run) => readJournal<FlowEvent>(run, 'events'),
    readLogs: (run) => readJournal<LogRecord>(run, 'logs'),
    async putResult(run, task, value) {
      const v = { value: encodeValue(value) };
      await transact(`storing the result of ${run}/${task}`, ['results'], 'readwrite', (t) => void t.objectStore('results').put(v, [run, task]));
    },
    async getResult(run, task) {
      const json = await transact(`reading the result of ${run}/${task}`, ['results'], 'readonly', (t) => promised(t.objectStore('results').get([run, task])));
      if (json === undefined) return undefined;
      return { value: decodeValue((json as { value: Json }).value) };
    },
    async getCache(key) {
      const json = await transact('reading the cache', ['cache'], 'readonly', (t) => promised(t.objectStore('cache').get(key)));
      if (json === undefined) return undefined;
      const entry = decodeValue(json as Json) as CacheEntry;
      return entry.key === key ? entry : undefined;
    },
    async putCache(entry) {
      const json = encodeValue(entry);
      await transact('writing the cache', ['cache'], 'readwrite', (t) => void t.objectStore('cache').put(json, entry.key));
    },
  };
}
