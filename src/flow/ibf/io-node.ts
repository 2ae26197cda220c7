/**
 * @module flow/ibf/io-node
 * The IBF flow's environment in Node ({@link IbfFlowEnv}): paths relative to the flow file, folder walks
 * for wildcards (Node 20 has no `fs.glob`), downloads of http(s) sources into a work folder (hashed while
 * written, named by their content), GeoTIFF headers, member files stacked into one multi-band raster for the engine, and a worker
 * pool made once, on the first assessment large enough to need it.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { IbfError } from '../../errors.js';
import { readRaster, readRasterInfo, type RasterInfo } from '../../io/geotiff.js';
import { withoutCredentials } from '../../io/http.js';
import { fileByteSource, hashFile } from '../../io/node.js';
import type { ImpactKernel } from '../../kernels/types.js';
import { createNodePool } from '../../pool/node.js';
import type { Pool, PoolLogger } from '../../pool/pool.js';
import type { Glob } from './glob.js';
import { getDownload, inputsScenarioIO, stackMembers, type AssessInput, type FileFacts, type IbfFlowEnv } from './ingest.js';

/** Smallest job (cells x bands) the flow starts worker threads for (as `ibf assess`). */
export const FLOW_POOL_MIN_CELL_BANDS = 2 ** 22;

/** Largest stack of member files held in memory (bytes of float32 cells). */

/** Most folder entries a wildcard may visit (a `**` over a whole disk is a mistake, not a search). */
const MAX_WALK = 200_000;

export interface NodeEnvOptions {
  /** Folder of the flow file: relative paths start there. */
  dir: string;
  /** Where downloads go (default `<dir>/.ibf-flow/downloads`). */
  workDir?: string;
  kernel: ImpactKernel;
  /** Worker threads for large assessments (default 0: this thread). */
  workers?: number;
  minPoolCellBands?: number;
  logger?: PoolLogger;
  /** `manifest.createdAt` of results (default: SOURCE_DATE_EPOCH when set, else the time of each assessment). */
  createdAt?: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

export interface NodeEnv extends IbfFlowEnv {
  /** Closes the pool, if one was started. */
  close(): Promise<void>;
}

/** `manifest.createdAt` from SOURCE_DATE_EPOCH (seconds since 1970, the reproducible-builds convention), if set. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v.trim() === '') return undefined;
  const s = Number(v);
  if (!Number.isInteger(s) || s < 0) throw new IbfError('E_USAGE', `SOURCE_DATE_EPOCH "${v}" is not a whole number of seconds`, { hint: 'Set it to seconds since 1970 (date +%s), or unset it.' });
  return new Date(s * 1000).toISOString();
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** The files under `root` that `glob` matches, as the pattern writes them (`base` + `/`-joined rest). */
export async function walkGlob(root: string, glob: Glob): Promise<string[]> {
  const start = isAbsolute(glob.base) ? glob.base : resolve(root, glob.base || '.');
  const out: string[] = [];
  let visited = 0;
  const walk = async (dir: string, rel: string, depth: number) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // a folder that is not there matches nothing
    }
    for (const e of entries) {
      if (++visited > MAX_WALK) {
        throw new IbfError('E_LIMIT', `the pattern ${glob.pattern} visits more than ${MAX_WALK} folder entries`, { hint: 'Start the pattern with a fixed folder, or avoid ** near the top of the disk.' });
      }
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (depth > 0) await walk(join(dir, e.name), r, depth - 1);
      } else if (e.isFile() || e.isSymbolicLink()) {
        const candidate = glob.base + r;
        if (glob.regex.test(candidate)) out.push(candidate);
      }
    }
  };
  await walk(start, '', glob.depth);
  return out;
}

/** The Node environment of a flow in folder `opts.dir`. */
export function nodeFlowEnv(opts: NodeEnvOptions): NodeEnv {
  const workDir = opts.workDir ?? join(opts.dir, '.ibf-flow', 'downloads');
  const doFetch = opts.fetch ?? fetch;
  const facts = new Map<string, Promise<FileFacts | null>>();
  let pool: Pool | undefined;

  const localFacts = async (ref: string): Promise<FileFacts | null> => {
    const location = resolve(opts.dir, ref);
    let st;
    try {
      st = await stat(location);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw new IbfError('E_IO', `cannot read ${ref}: ${(e as Error).message}`, { cause: e });
    }
    if (!st.isFile()) throw new IbfError('E_INPUT_NOT_FOUND', `${ref} is not a file`, { hint: 'Point the source at a file (or a pattern of files).' });
    return { location, name: ref, ...(await hashFile(location)) };
  };

  const download = async (url: string, signal: AbortSignal): Promise<FileFacts | null> => {
    const name = withoutCredentials(url);
    const res = await getDownload(doFetch, url, signal);
    if (!res) return null;
    if (!res.body) throw new IbfError('E_HTTP', `GET ${name} answered ${res.status} without a body`, { details: { url: name, status: res.status } });
    await mkdir(workDir, { recursive: true });
    const base = basename(new URL(name).pathname) || 'download';
    const tmp = join(workDir, `.${createHash('sha256').update(name).digest('hex').slice(0, 16)}-${process.pid}-${base}.part`);
    const h = createHash('sha256');
    let bytes = 0;
    const fh = await open(tmp, 'w');
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        h.update(chunk);
        bytes += chunk.byteLength;
        await fh.write(chunk);
      }
    } catch (e) {
      await fh.close();
      await rm(tmp, { force: true });
      if (signal.aborted) throw signal.reason;
      throw new IbfError('E_HTTP', `GET ${name} broke off after ${bytes} bytes: ${(e as Error).message}`, { cause: e });
    }
    await fh.close();
    // content-addressed: a URL that serves new data tomorrow never overwrites what a stored run read today
    const sha256 = h.digest('hex');
    const location = join(workDir, `${sha256.slice(0, 16)}-${base}`);
    await rename(tmp, location);
    return { location, name, bytes, sha256 };
  };

  const fetchFile = (ref: string, signal: AbortSignal): Promise<FileFacts | null> => {
    const key = isUrl(ref) ? ref : resolve(opts.dir, ref);
    let p = facts.get(key);
    if (!p) {
      p = isUrl(ref) ? download(ref, signal) : localFacts(ref);
      facts.set(key, p);
      // a failure is not remembered: the task's retry tries again
      p.catch(() => facts.delete(key));
    }
    return p;
  };

  const rasterInfo = async (file: FileFacts): Promise<RasterInfo> => {
    const src = await fileByteSource(file.location);
    try {
      return await readRasterInfo(src, { name: file.name });
    } finally {
      await src.close();
    }
  };

  /** The member files of one lead time as one multi-band GeoTIFF in memory (members in order). */
  const stack = async (input: Extract<AssessInput, { kind: 'stack' }>, signal: AbortSignal): Promise<Uint8Array> =>
    stackMembers(input, await rasterInfo(input.files[0]!), async (f) => {
      const src = await fileByteSource(f.location);
      try {
        return await readRaster(src, { bands: [input.band - 1], name: f.name });
      } finally {
        await src.close();
      }
    }, signal);

  return {
    kernel: opts.kernel,
    createdAt: opts.createdAt ?? sourceDateEpoch(),
    listFiles: (glob) => walkGlob(opts.dir, glob),
    fetchFile,
    readText: (file) => readFile(file.location, 'utf8'),
    rasterInfo,
    scenarioIO: (inputs, signal) =>
      inputsScenarioIO(inputs, signal, {
        fileSource: (f) => ({ kind: 'path', path: f.location }),
        readText: (f) => readFile(f.location, 'utf8'),
        stack,
        missingHint: 'Paths in the flow are relative to the flow file; curve CSVs must exist when the flow is validated.',
        openPath: fileByteSource,
      }),
    pool(cellBands) {
      if ((opts.workers ?? 0) <= 0 || cellBands < (opts.minPoolCellBands ?? FLOW_POOL_MIN_CELL_BANDS)) return undefined;
      pool ??= createNodePool({ size: opts.workers, kernel: opts.kernel.name, logger: opts.logger });
      return pool;
    },
    async close() {
      const p = pool;
      pool = undefined;
      await p?.close();
    },
  };
}
