/**
 * @module node/fs-store
 * The API's object store (api/ports.ts `ObjectStore`, R2 on the edge) on the filesystem, for `ibf
 * serve`; job records are in node/fs-jobs.ts, API keys in node/key-file.ts. One server process owns a
 * data folder: writes are atomic (temporary file + rename) and serialised per object inside the
 * process, not across processes.
 *
 * Layout of a data folder:
 *
 *     <dir>/objects/<key>              an object (an upload under data/<partner>/..., a job result under jobs/<id>/...)
 *     <dir>/objects/<key>.meta.json    its sidecar: { size, sha256, contentType } (bytes, lowercase hex)
 *     <dir>/jobs/<id>.json             a job record (JobRecord; node/fs-jobs.ts)
 *     <dir>/keys.json                  API keys (default place; hashes only, never a token; node/key-file.ts)
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { IbfError } from '../errors.js';
import { fileByteSource, writeFileAtomic, type FileByteSource } from '../io/node.js';
import type { ObjectStore } from '../api/ports.js';
import { errno, serialiser } from './fs-common.js';

const META = '.meta.json';

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
