/**
 * @module io/node
 * Node-only file access for the I/O layer: read a path into bytes, open a file (or an http(s) URL) as a
 * ranged {@link ByteSource}, write outputs atomically, and stream a large GeoTIFF to disk ({@link fileTiffSink}). The only `src/io` module that imports `node:fs`,
 * so browser and Cloudflare Workers builds never pull it in.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IbfError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { httpByteSource, type HttpByteSourceOptions } from './http.js';
import type { TiffSink } from './tiff-stream.js';

/** A {@link ByteSource} over an open file; call `close()` when done (reads after it fail). */
export interface FileByteSource extends ByteSource {
  size: number;
  name: string;
  close(): Promise<void>;
}

const READ_HINT = 'Check the path (relative paths are resolved from the current directory) and that the file is readable.';

function notFound(path: string, e: unknown): IbfError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT' ? 'does not exist'
    : code === 'EISDIR' ? 'is a directory, not a file'
    : code === 'ENOTDIR' ? 'does not exist (a parent is not a directory)'
    : code === 'EACCES' || code === 'EPERM' ? 'cannot be read (permission denied)'
    : `cannot be read (${code ?? (e instanceof Error ? e.message : String(e))})`;
  return new IbfError('E_INPUT_NOT_FOUND', `${path} ${why}`, {
    hint: code === 'EISDIR' ? 'Pass the path of a file inside the directory.' : READ_HINT,
    details: { path, code },
    cause: e,
  });
}

async function statFile(path: string) {
  let st;
  try {
    st = await fsp.stat(path);
  } catch (e) {
    throw notFound(path, e);
  }
  if (st.isDirectory()) throw notFound(path, Object.assign(new Error('EISDIR'), { code: 'EISDIR' }));
  return st;
}

/**
 * Reads a whole file into a plain Uint8Array (not a Buffer, whose `slice` returns views instead of copies).
 * Throws `E_INPUT_NOT_FOUND` (with the path and a hint) for missing files and directories.
 */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  await statFile(path);
  try {
    const buf = await fsp.readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw notFound(path, e);
  }
}

/**
 * Opens a file for ranged reads (positional reads on one file handle; safe to issue concurrently).
 * `size` is taken when the file is opened. Throws `E_INPUT_NOT_FOUND` like {@link readFileBytes}.
 */
export async function fileByteSource(path: string): Promise<FileByteSource> {
  await statFile(path);
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (e) {
    throw notFound(path, e);
  }
  const size = (await fh.stat()).size;
  return {
    size,
    name: path,
    async read(offset: number, length: number): Promise<ArrayBuffer> {
      const n = Math.max(0, Math.min(length, size - offset));
      const buf = new Uint8Array(n);
      let done = 0;
      while (done < n) {
        const { bytesRead } = await fh.read(buf, done, n - done, offset + done);
        if (bytesRead === 0) break; // file shrank since it was opened
        done += bytesRead;
      }
      return done === n ? buf.buffer : buf.slice(0, done).buffer;
    },
    close: () => fh.close(),
  };
}

/**
 * Opens where an input lives for ranged reads: an `http(s)://` URL through {@link httpByteSource} (options
 * apply to it), a `file://` URL or a path through {@link fileByteSource}. Call `close()` when done.
 * Throws `E_INPUT_NOT_FOUND` (missing file, 404, unreachable server) and the other errors of those two.
 */
export async function openByteSource(location: string, opts: HttpByteSourceOptions = {}): Promise<ByteSource & { size: number; name: string; close(): Promise<void> }> {
  if (/^https?:\/\//i.test(location)) return httpByteSource(location, opts);
  return fileByteSource(/^file:\/\//i.test(location) ? fileURLToPath(location) : location);
}

/** An `E_IO` error for a failed write of `path`, with a hint from the system error code. */
function outputError(path: string, e: unknown): IbfError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const hint =
    code === 'ENOENT' ? `Create the directory ${dirname(path)} first.`
    : code === 'EISDIR' ? 'The output path is a directory; pass a file name.'
    : code === 'EACCES' || code === 'EPERM' ? 'Choose an output directory you can write to.'
    : code === 'ENOSPC' ? 'Free disk space or write elsewhere.'
    : 'Check the output path and free disk space.';
  return new IbfError('E_IO', `cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`, { hint, details: { path, code }, cause: e });
}

/**
 * Writes `bytes` to `path` atomically: into a temporary file in the same directory, flushed, then renamed
 * over `path`. A failed or interrupted run leaves the old file (or none), never a partial one.
 * Throws `E_IO` with the path and a hint; the temporary file is removed on failure.
 */
export async function writeFileAtomic(path: string, bytes: ArrayBuffer | ArrayBufferView | string): Promise<void> {
  const data =
    typeof bytes === 'string' ? new TextEncoder().encode(bytes)
    : bytes instanceof ArrayBuffer ? new Uint8Array(bytes)
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(tmp, 'wx');
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fsp.rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => {});
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw outputError(path, e);
  }
}

/** A {@link TiffSink} over a file: positional writes into a temporary file, renamed over `path` on close. */
export interface FileTiffSink extends TiffSink {
  /** The final path (the file appears there on `close()`). */
  readonly path: string;
  /** Flushes the temporary file and renames it over `path`. */
  close(): Promise<void>;
  /** Closes and removes the temporary file; `path` is left as it was. */
  abort(): Promise<void>;
}


/**
 * Opens a sink for `createTiledGeoTiff` (io/tiff-stream) that writes a file of any size without holding it:
 * positional writes on one file handle, into a temporary file in the same directory. The writer's `close()`
 * flushes it and renames it over `path`, so, as with {@link writeFileAtomic}, a failed or interrupted run
 * leaves the old file (or none), never a partial one; its `abort()` removes the temporary file.
 * Throws (and writes reject with) `E_IO` naming the path, with a hint.
 */
export async function fileTiffSink(path: string): Promise<FileTiffSink> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(tmp, 'wx');
  } catch (e) {
    throw outputError(path, e);
  }
  let done = false;
  const discard = async () => {
    await fh.close().catch(() => {});
    await fsp.rm(tmp, { force: true }).catch(() => {});
  };
  return {
    path,
    async write(bytes, position) {
      if (done) throw new IbfError('E_USAGE', `cannot write ${path}: the file sink is closed`, { hint: 'Write every tile before closing the writer.' });
      try {
        for (let at = 0; at < bytes.byteLength; ) {
          const { bytesWritten } = await fh.write(bytes, at, bytes.byteLength - at, position + at);
          if (bytesWritten <= 0) throw new Error(`wrote no bytes at offset ${position + at}`);
          at += bytesWritten;
        }
      } catch (e) {
        throw outputError(path, e);
      }
    },
    async close() {
      if (done) return;
      done = true;
      try {
        await fh.sync();
        await fh.close();
        await fsp.rename(tmp, path);
      } catch (e) {
        await discard();
        throw outputError(path, e);
      }
    },
    async abort() {
      done = true;
      await discard();
    },
  };
}

/** sha256 (hex) and size of a file, read in 8 MiB pieces (never whole). */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const src = await fileByteSource(path);
  try {
    const h = createHash('sha256');
    const step = 8 * 2 ** 20;
    for (let at = 0; at < src.size; at += step) h.update(new Uint8Array(await src.read(at, Math.min(step, src.size - at))));
    return { sha256: h.digest('hex'), bytes: src.size };
  } finally {
    await src.close();
  }
}
