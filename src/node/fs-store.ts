/**
 * @module node/fs-store
 * The API's ports (api/ports.ts) on the filesystem, for `ibf serve`: objects as files (R2 on the edge),
 * job records as JSON files (D1), API keys in one JSON file (KV). One server process owns a data folder:
 * writes are atomic (temporary file + rename) and serialised per object / job inside the process, not
 * across processes.
 *
 * Layout of a data folder:
 *
 *     <dir>/objects/<key>              an object (an upload under data/<partner>/..., a job result under jobs/<id>/...)
 *     <dir>/objects/<key>.meta.json    its sidecar: { size, sha256, contentType } (bytes, lowercase hex)
 *     <dir>/jobs/<id>.json             a job record (JobRecord)
 *     <dir>/keys.json                  API keys (default place; hashes only, never a token)
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { IbfError } from '../errors.js';
import { fileByteSource, writeFileAtomic, type FileByteSource } from '../io/node.js';
import { hashKey, newToken } from '../api/security.js';
import { SCOPES, type ApiKeyRecord, type JobRecord, type JobStore, type KeyStore, type ObjectStore, type Scope } from '../api/ports.js';

const META = '.meta.json';

/** Runs `f` after every earlier call with the same `name` has settled (one queue per name, in this process). */
function serialiser(): <T>(name: string, f: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return (name, f) => {
    const run = (tails.get(name) ?? Promise.resolve()).then(f, f);
    const tail = run.catch(() => {});
    tails.set(name, tail);
    void tail.then(() => {
      if (tails.get(name) === tail) tails.delete(name);
    });
    return run;
  };
}

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

// ---------------------------------------------------------------------------------------------------
// objects

/**
 * The file of object `key` under `root` (absolute). Keys reach the store validated by the app
 * (api/security.ts checkObjectKey), but the store refuses on its own any key that could leave `root`:
 * empty, `.` or `..` segments, segments starting with a dot (temporary files, sidecars' hidden names),
 * backslashes, NUL, a name ending in `.meta.json` (the sidecars' suffix), or a path resolving outside.
 */
export function objectPath(root: string, key: string): string {
  const segments = key.split('/');
  const bad =
    key.length === 0 || key.length > 1024 || /[\\\0]/.test(key) || key.endsWith(META) ||
    segments.some((s) => s === '' || s.startsWith('.') || s.length > 255);
  const path = resolve(root, key);
  if (bad || !path.startsWith(root + sep)) {
    throw new IbfError('E_SOURCE_DENIED', `object key ${JSON.stringify(key.slice(0, 200))} is not allowed in this store`, {
      hint: 'Use path segments of letters, digits, ".", "_" and "-", each starting with a letter or digit, not ending in .meta.json.',
      details: { key: key.slice(0, 200) },
    });
  }
  return path;
}

interface Sidecar {
  size: number;
  sha256: string;
  contentType?: string;
}

/** File handles kept open for ranged reads (least recently used closed first). */
const MAX_OPEN_FILES = 64;
/** Heads (size, sha256) kept in memory. */
const MAX_HEADS = 4096;
/** Objects up to this size (bytes) are read whole once and kept in memory, up to SMALL_CACHE_BYTES in all. */
const SMALL_OBJECT = 256 * 1024;
const SMALL_CACHE_BYTES = 32 * 1024 * 1024;

/** Whole small objects by path, least recently used dropped first past `max` bytes in all. */
class ByteCache {
  private readonly entries = new Map<string, Uint8Array>();
  private bytes = 0;
  constructor(private readonly max: number) {}
  get(path: string): Uint8Array | undefined {
    const b = this.entries.get(path);
    if (b) {
      this.entries.delete(path);
      this.entries.set(path, b);
    }
    return b;
  }
  set(path: string, b: Uint8Array): void {
    this.delete(path);
    this.entries.set(path, b);
    this.bytes += b.byteLength;
    for (const [p, old] of this.entries) {
      if (this.bytes <= this.max) break;
      this.entries.delete(p);
      this.bytes -= old.byteLength;
    }
  }
  delete(path: string): void {
    const b = this.entries.get(path);
    if (b) {
      this.entries.delete(path);
      this.bytes -= b.byteLength;
    }
  }
}

/** `n` bytes at `offset` of an open file (fewer at its end). */
async function readAt(fh: fsp.FileHandle, offset: number, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let done = 0;
  while (done < n) {
    const { bytesRead } = await fh.read(out, done, n - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === n ? out : out.slice(0, done);
}

interface OpenFile {
  opened: Promise<{ fh: fsp.FileHandle; size: number } | null>;
  users: number;
  evicted: boolean;
}

/**
 * Open read-only file handles by path, shared by concurrent readers (positional reads), at most `max`
 * (least recently used evicted). An evicted handle is closed once its last reader is done. Missing
 * files are not remembered.
 */
class HandleCache {
  private readonly files = new Map<string, OpenFile>();
  constructor(private readonly max: number) {}

  /** Runs `f` on the open file at `path` (size in bytes as opened); null when there is no such file. */
  async use<T>(path: string, f: (fh: fsp.FileHandle, size: number) => Promise<T>): Promise<T | null> {
    let e = this.files.get(path);
    if (e) this.files.delete(path); // re-inserted below: most recently used last
    else {
      e = { opened: openForReading(path), users: 0, evicted: false };
      if (this.files.size >= this.max) this.evict(this.files.keys().next().value!);
    }
    this.files.set(path, e);
    e.users++;
    try {
      const h = await e.opened.catch((err: unknown) => {
        if (this.files.get(path) === e) this.files.delete(path);
        throw err;
      });
      if (!h) {
        if (this.files.get(path) === e) this.files.delete(path);
        return null;
      }
      return await f(h.fh, h.size);
    } finally {
      e.users--;
      if (e.evicted && e.users === 0) void this.close(e);
    }
  }

  evict(path: string): void {
    const e = this.files.get(path);
    if (!e) return;
    this.files.delete(path);
    e.evicted = true;
    if (e.users === 0) void this.close(e);
  }

  async closeAll(): Promise<void> {
    const all = [...this.files.keys()];
    for (const p of all) this.evict(p);
  }

  private async close(e: OpenFile): Promise<void> {
    const h = await e.opened.catch(() => null);
    await h?.fh.close().catch(() => {});
  }
}

async function openForReading(path: string): Promise<{ fh: fsp.FileHandle; size: number } | null> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR' || errno(e) === 'EISDIR') return null;
    throw e;
  }
  const st = await fh.stat().catch(async (e: unknown) => {
    await fh.close();
    throw e;
  });
  if (!st.isFile()) {
    await fh.close();
    return null;
  }
  return { fh, size: st.size };
}

/** An {@link ObjectStore} over `<dir>/objects`, with `keys()` and `close()`. */
export interface FsObjectStore extends ObjectStore {
  readonly root: string;
  /** Closes the file handles kept open for ranged reads (the store stays usable: it opens them again). */
  close(): Promise<void>;
  /** Every object key (sorted), for tests and tools. */
  keys(): Promise<string[]>;
}

/**
 * Objects as files under `<dir>/objects/<key>`. `put` writes atomically (temporary file, fsync, rename)
 * and keeps the sha256 (hex) and size (bytes) in a sidecar `<file>.meta.json`; the sidecar is removed
 * before the object is replaced and written after it, so `head` never pairs an object with another's
 * hash (a sidecar whose size disagrees with the file is ignored). `get` with a range reads only those
 * bytes through a file handle. A key that is both a file and a folder prefix of another key
 * (`a` and `a/b`) is refused with `E_SOURCE_DENIED`.
 */
export function fsObjectStore(dir: string): FsObjectStore {
  const root = resolve(dir, 'objects');
  const lock = serialiser();
  const readSidecar = async (path: string, size: number): Promise<Sidecar | null> => {
    try {
      const m = JSON.parse(await fsp.readFile(path + META, 'utf8')) as Sidecar;
      return m && m.size === size && typeof m.sha256 === 'string' ? m : null;
    } catch {
      return null;
    }
  };
  const statFile = async (path: string) => {
    try {
      const st = await fsp.stat(path);
      return st.isFile() ? st : null;
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return null;
      throw e;
    }
  };
  const conflict = (key: string, cause: unknown) =>
    new IbfError('E_SOURCE_DENIED', `object key ${JSON.stringify(key.slice(0, 200))} clashes with another object (one is a folder prefix of the other)`, {
      hint: 'Choose a key that is not a folder of an existing key, nor has an existing key as a folder.', details: { key: key.slice(0, 200) }, cause,
    });
  // Objects change only through put() of this process, which evicts them here: so open file handles and
  // heads, and small objects whole, can be kept (opening, stat-ing and closing a file per ranged read was a
  // third of the CPU time of a small POST /v1/assess).
  const handles = new HandleCache(MAX_OPEN_FILES);
  const heads = new Map<string, { size: number; sha256: string }>();
  const small = new ByteCache(SMALL_CACHE_BYTES);
  /** Bumped by put(): a read that began before it does not fill the byte cache with the old bytes. */
  const epochs = new Map<string, number>();
  const evict = (path: string) => {
    handles.evict(path);
    heads.delete(path);
    small.delete(path);
    epochs.set(path, (epochs.get(path) ?? 0) + 1);
  };
  return {
    root,
    async head(key) {
      const path = objectPath(root, key);
      const known = heads.get(path);
      if (known) return { ...known };
      const st = await statFile(path);
      if (!st) return null;
      const meta = await readSidecar(path, st.size);
      if (!meta) return { size: st.size };
      if (heads.size >= MAX_HEADS) heads.delete(heads.keys().next().value!);
      heads.set(path, { size: st.size, sha256: meta.sha256 });
      return { size: st.size, sha256: meta.sha256 };
    },
    async get(key, range) {
      const path = objectPath(root, key);
      const part = (all: Uint8Array) => {
        const offset = range ? Math.max(0, Math.min(range.offset, all.byteLength)) : 0;
        return all.slice(offset, range ? offset + Math.max(0, range.length) : all.byteLength); // a copy: callers may transfer it
      };
      const whole = small.get(path);
      if (whole) return part(whole);
      const epoch = epochs.get(path) ?? 0;
      return handles.use(path, async (fh, size) => {
        if (size <= SMALL_OBJECT) {
          const all = await readAt(fh, 0, size);
          if ((epochs.get(path) ?? 0) === epoch) small.set(path, all);
          return part(all);
        }
        const offset = range ? Math.max(0, Math.min(range.offset, size)) : 0;
        return readAt(fh, offset, range ? Math.max(0, Math.min(range.length, size - offset)) : size);
      });
    },
    async put(key, body, meta) {
      const path = objectPath(root, key);
      await lock(path, async () => {
        try {
          await fsp.mkdir(dirname(path), { recursive: true });
        } catch (e) {
          if (errno(e) === 'EEXIST' || errno(e) === 'ENOTDIR') throw conflict(key, e);
          throw e;
        }
        const existing = await fsp.stat(path).catch(() => null);
        if (existing?.isDirectory()) throw conflict(key, null);
        const sha256 = meta?.sha256 ?? createHash('sha256').update(body).digest('hex');
        await fsp.rm(path + META, { force: true });
        await writeFileAtomic(path, body);
        evict(path); // readers that opened the old file before the rename are dropped from the caches
        const sidecar: Sidecar = { size: body.byteLength, sha256, ...(meta?.contentType ? { contentType: meta.contentType } : {}) };
        await writeFileAtomic(path + META, `${JSON.stringify(sidecar)}\n`);
        evict(path);
      });
    },
    close: () => handles.closeAll(),
    async keys() {
      const out: string[] = [];
      const walk = async (d: string, prefix: string): Promise<void> => {
        let entries;
        try {
          entries = await fsp.readdir(d, { withFileTypes: true });
        } catch (e) {
          if (errno(e) === 'ENOENT') return;
          throw e;
        }
        for (const e of entries) {
          if (e.name.startsWith('.')) continue;
          if (e.isDirectory()) await walk(join(d, e.name), `${prefix}${e.name}/`);
          else if (e.isFile() && !e.name.endsWith(META)) out.push(prefix + e.name);
        }
      };
      await walk(root, '');
      return out.sort();
    },
  };
}

/**
 * The pool workers' path opener for API sources: `object:<key>` (api/sources.ts) opened as the file of
 * `key` under `objectsRoot`; any other path is refused (a scenario sent over HTTP never names a file).
 */
export function objectPathOpener(objectsRoot: string): (path: string) => Promise<FileByteSource> {
  return async (path) => {
    if (!path.startsWith('object:')) throw new IbfError('E_SOURCE_DENIED', `not an object path: ${path.slice(0, 200)}`);
    const key = path.slice('object:'.length);
    const src = await fileByteSource(objectPath(objectsRoot, key)).catch((e: unknown) => {
      throw new IbfError('E_INPUT_NOT_FOUND', `object ${key} does not exist`, { cause: e, details: { source: key } });
    });
    return Object.assign(src, { name: key });
  };
}

// ---------------------------------------------------------------------------------------------------
// jobs

const JOB_ID = /^[\w-]{1,64}$/;

/** A {@link JobStore} with `list()` and `recover()` (jobs a stopped server left unfinished). */
export interface FsJobStore extends JobStore {
  list(): Promise<JobRecord[]>;
  /**
   * Marks every job still `queued` or `running` as failed (`E_CANCELLED`): a new server process calls it
   * at start, since jobs run inside the process that accepted them. Returns their ids.
   */
  recover(): Promise<string[]>;
}

/**
 * Job records as one JSON file each, `<dir>/jobs/<id>.json`, written atomically. Updates of one job are
 * applied in the order they are called (read, merge, write, one at a time), so a late progress write
 * never overwrites the final status. Ids must match `[\w-]{1,64}`.
 */
export function fsJobStore(dir: string, now: () => Date = () => new Date()): FsJobStore {
  const root = resolve(dir, 'jobs');
  const lock = serialiser();
  const pathOf = (id: string) => {
    if (!JOB_ID.test(id)) throw new IbfError('E_NOT_FOUND', `job ${JSON.stringify(id.slice(0, 64))} does not exist`);
    return join(root, `${id}.json`);
  };
  const read = async (path: string): Promise<JobRecord | null> => {
    try {
      return JSON.parse(await fsp.readFile(path, 'utf8')) as JobRecord;
    } catch (e) {
      if (errno(e) === 'ENOENT') return null;
      throw e;
    }
  };
  const write = (path: string, job: JobRecord) => writeFileAtomic(path, `${JSON.stringify(job, null, 2)}\n`);
  const store: FsJobStore = {
    async create(job) {
      const path = pathOf(job.id);
      await lock(path, async () => {
        await fsp.mkdir(root, { recursive: true });
        if (await read(path)) throw new Error(`job ${job.id} exists`);
        await write(path, job);
      });
    },
    async get(id) {
      if (!JOB_ID.test(id)) return null;
      return read(pathOf(id));
    },
    async update(id, patch) {
      const path = pathOf(id);
      await lock(path, async () => {
        const j = await read(path);
        if (j) await write(path, { ...j, ...structuredClone(patch), updatedAt: now().toISOString() });
      });
    },
    async list() {
      let names: string[];
      try {
        names = await fsp.readdir(root);
      } catch (e) {
        if (errno(e) === 'ENOENT') return [];
        throw e;
      }
      const jobs = await Promise.all(names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => read(join(root, n)).catch(() => null)));
      return jobs.filter((j): j is JobRecord => j !== null).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },
    async recover() {
      const stale = (await store.list()).filter((j) => j.status === 'queued' || j.status === 'running');
      for (const j of stale) {
        await store.update(j.id, {
          status: 'failed',
          error: { code: 'E_CANCELLED', detail: 'the server stopped before the job finished', hint: 'Submit the scenario again (POST /v1/jobs).' },
        });
      }
      return stale.map((j) => j.id);
    },
  };
  return store;
}

// ---------------------------------------------------------------------------------------------------
// keys

/** A key as kept in a keys file: the {@link ApiKeyRecord} and when it was created / revoked (ISO 8601). */
export interface KeyFileRecord extends ApiKeyRecord {
  createdAt?: string;
  revokedAt?: string;
}

const PARTNER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Checks a keys file's document; every problem at once (`E_INPUT_FORMAT`). */
export function parseKeyFile(doc: unknown, name: string): KeyFileRecord[] {
  const problems: { path: string; message: string }[] = [];
  if (!Array.isArray(doc)) {
    throw new IbfError('E_INPUT_FORMAT', `${name} must be a JSON array of key records`, { hint: 'Create it with `ibf keys create`.' });
  }
  const ids = new Set<string>();
  doc.forEach((k: Partial<KeyFileRecord>, i) => {
    const at = (f: string, message: string) => problems.push({ path: `[${i}].${f}`, message });
    if (!k || typeof k !== 'object') return at('', 'must be an object');
    if (typeof k.id !== 'string' || !k.id) at('id', 'must be a non-empty string');
    else if (ids.has(k.id)) at('id', `duplicate id ${k.id}`);
    else ids.add(k.id);
    if (typeof k.hash !== 'string' || !HEX64.test(k.hash)) at('hash', 'must be the sha256 of the token, 64 lowercase hex digits');
    if (typeof k.partner !== 'string' || !PARTNER.test(k.partner)) at('partner', 'must be letters, digits, ".", "_", "-" (starting with a letter or digit), at most 64');
    if (!Array.isArray(k.scopes) || !k.scopes.every((s) => (SCOPES as readonly string[]).includes(s))) at('scopes', `must be a list of ${SCOPES.join(', ')}`);
    if (!Array.isArray(k.origins) || !k.origins.every((o) => typeof o === 'string')) at('origins', 'must be a list of origins (or "*")');
    if (k.expiresAt !== undefined && !Number.isFinite(Date.parse(k.expiresAt))) at('expiresAt', 'must be an ISO 8601 time');
    if (k.ratePerMinute !== undefined && !(Number.isInteger(k.ratePerMinute) && k.ratePerMinute > 0)) at('ratePerMinute', 'must be a whole number > 0');
    if (k.revoked !== undefined && typeof k.revoked !== 'boolean') at('revoked', 'must be true or false');
  });
  if (problems.length) throw IbfError.fromProblems('E_INPUT_FORMAT', `${name} is not a valid keys file`, problems);
  return doc as KeyFileRecord[];
}

/** The keys in `path`; `[]` when the file does not exist. Throws `E_INPUT_FORMAT` when it is not a keys file. */
export async function readKeyFile(path: string): Promise<KeyFileRecord[]> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    if (errno(e) === 'ENOENT') return [];
    throw new IbfError('E_INPUT_NOT_FOUND', `${path} cannot be read (${errno(e) ?? String(e)})`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new IbfError('E_INPUT_FORMAT', `${path} is not valid JSON: ${(cause as Error).message}`, { cause, hint: 'Fix the file, or move it away and create keys again with `ibf keys create`.' });
  }
  return parseKeyFile(doc, path);
}

/** Writes a keys file atomically (creating its folder). */
export async function writeKeyFile(path: string, keys: readonly KeyFileRecord[]): Promise<void> {
  await fsp.mkdir(dirname(resolve(path)), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(keys, null, 2)}\n`);
}

function checkOrigin(o: string): string {
  if (o === '*') return o;
  let u: URL | undefined;
  try {
    u = new URL(o);
  } catch {
    u = undefined;
  }
  if (!u || !/^https?:$/.test(u.protocol) || u.origin !== o) {
    throw new IbfError('E_USAGE', `--origin ${JSON.stringify(o)} is not an origin`, { hint: 'Give scheme, host and port only, e.g. https://partner.example.org (no path, no trailing slash), or *.' });
  }
  return o;
}

export interface NewKey {
  partner: string;
  scopes: Scope[];
  origins?: string[];
  /** ISO 8601 (or anything Date.parse reads); stored as ISO 8601 UTC. */
  expiresAt?: string;
  ratePerMinute?: number;
}

/**
 * Appends a new key to the keys file `path` and returns its record and token. The token is returned
 * here only: the file keeps its sha256 (`hash`). Throws `E_USAGE` for a bad partner, scope, origin,
 * expiry or rate.
 */
export async function createKey(path: string, k: NewKey, now: () => Date = () => new Date()): Promise<{ record: KeyFileRecord; token: string }> {
  const usage = (m: string, hint?: string) => new IbfError('E_USAGE', m, { hint: hint ?? 'Run `ibf --help` for the options of ibf keys.' });
  if (!PARTNER.test(k.partner)) throw usage(`--partner ${JSON.stringify(k.partner)} is not a partner name`, 'Use letters, digits, ".", "_" and "-", starting with a letter or digit (at most 64): it names the partner\'s data folder.');
  if (k.scopes.length === 0 || !k.scopes.every((s) => (SCOPES as readonly string[]).includes(s))) throw usage(`--scopes must be a comma list of ${SCOPES.join(', ')}, not ${JSON.stringify(k.scopes.join(','))}`);
  const origins = (k.origins ?? []).map(checkOrigin);
  let expiresAt: string | undefined;
  if (k.expiresAt !== undefined) {
    const t = Date.parse(k.expiresAt);
    if (!Number.isFinite(t)) throw usage(`--expires ${JSON.stringify(k.expiresAt)} is not a time`, 'Give an ISO 8601 time, e.g. 2027-01-01T00:00:00Z.');
    expiresAt = new Date(t).toISOString();
  }
  if (k.ratePerMinute !== undefined && !(Number.isInteger(k.ratePerMinute) && k.ratePerMinute > 0)) throw usage('--rate must be a whole number of requests per minute > 0');
    const keys = await readKeyFile(path);
  const token = newToken();
  const record: KeyFileRecord = {
    id: `key_${randomBytes(6).toString('hex')}`,
    hash: await hashKey(token),
    partner: k.partner,
    scopes: [...new Set(k.scopes)],
    origins,
    ...(expiresAt ? { expiresAt } : {}),
    ...(k.ratePerMinute !== undefined ? { ratePerMinute: k.ratePerMinute } : {}),
    createdAt: now().toISOString(),
  };
  await writeKeyFile(path, [...keys, record]);
  return { record, token };
}

/** Marks key `id` revoked in `path` (kept, for the record). Throws `E_NOT_FOUND` when there is no such key. */
export async function revokeKey(path: string, id: string, now: () => Date = () => new Date()): Promise<KeyFileRecord> {
  const keys = await readKeyFile(path);
  const k = keys.find((x) => x.id === id);
  if (!k) throw new IbfError('E_NOT_FOUND', `no key ${JSON.stringify(id)} in ${path}`, { hint: '`ibf keys list` shows the ids.' });
  if (!k.revoked) {
    k.revoked = true;
    k.revokedAt = now().toISOString();
    await writeKeyFile(path, keys);
  }
  return k;
}

/**
 * A {@link KeyStore} over a keys file (a JSON array of {@link KeyFileRecord}: hashes only). The file is
 * read again whenever its modification time, size or inode changes (a `stat` per lookup), so `ibf keys
 * create` / `revoke` take effect without a restart. A missing file means no keys; a file that turns
 * invalid keeps the last good keys and reports through `onError`.
 */
export function fileKeyStore(path: string, opts: { onError?: (e: IbfError) => void } = {}): KeyStore {
  let stamp = '';
  let keys: KeyFileRecord[] = [];
  let byHash = new Map<string, KeyFileRecord>();
  let loading: Promise<void> | null = null;
  const refresh = async (): Promise<void> => {
    const st = await fsp.stat(path).catch((e: unknown) => {
      if (errno(e) === 'ENOENT') return null;
      throw e;
    });
    const s = st ? `${st.mtimeMs}:${st.size}:${st.ino}` : 'none';
    if (s === stamp) return;
    try {
      keys = st ? await readKeyFile(path) : [];
      byHash = new Map(keys.map((k) => [k.hash, k]));
    } catch (e) {
      if (!(e instanceof IbfError)) throw e;
      opts.onError?.(e);
    }
    stamp = s;
  };
  const fresh = async () => {
    loading ??= refresh().finally(() => (loading = null));
    await loading;
  };
  return {
    async byHash(hash) {
      await fresh();
      return byHash.get(hash) ?? null;
    },
    async originAllowed(origin) {
      await fresh();
      const t = Date.now();
      return keys.some((k) => !k.revoked && !(k.expiresAt && Date.parse(k.expiresAt) <= t) && (k.origins.includes(origin) || k.origins.includes('*')));
    },
  };
}
