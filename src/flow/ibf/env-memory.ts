/**
 * @module flow/ibf/env-memory
 * A runtime-neutral environment of the IBF flow ({@link IbfFlowEnv}): the flow's files are held in
 * memory (bytes or Blobs, e.g. browser uploads), keyed by their path as the flow writes it
 * (`fc/2019-03-14/24-hour.tif`); http(s) sources are downloaded with the given `fetch` and kept in
 * memory. No `node:` imports, no worker pool (tiles run on this thread), so it runs in Node, browsers
 * and workers alike. Member files of a lead time are stacked into one multi-band GeoTIFF in memory, as
 * the Node environment (io-node.ts) does, so both publish the same bytes.
 */
import { IbfError } from '../../errors.js';
import { sha256Hex } from '../../engine/manifest.js';
import { readRaster, readRasterInfo, type RasterInfo } from '../../io/geotiff.js';
import { withoutCredentials } from '../../io/http.js';
import type { ImpactKernel } from '../../kernels/types.js';
import { getDownload, inputsScenarioIO, stackMembers, type AssessInput, type FileFacts, type IbfFlowEnv } from './ingest.js';

/** Largest stack of member files held in memory (bytes of float32 cells), as in Node. */

export interface MemoryEnvOptions {
  /** The flow's files by path (relative, `/`-separated, as the flow names them). */
  files: Record<string, Blob | Uint8Array>;
  kernel: ImpactKernel;
  /** For http(s) sources; default: the global fetch. */
  fetch?: typeof fetch;
  /** `manifest.createdAt` of results (default: the time of each assessment). */
  createdAt?: string;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** A key as the flow writes paths: `/`-separated, without a leading `./`. */
const normalise = (p: string) => p.replace(/\\/g, '/').replace(/^(?:\.\/)+/, '');


const bytesOf = async (data: Blob | Uint8Array): Promise<Uint8Array> => (data instanceof Uint8Array ? data : new Uint8Array(await data.arrayBuffer()));

/** The IBF flow's environment over files held in memory. */
export function memoryIbfFlowEnv(opts: MemoryEnvOptions): IbfFlowEnv {
  const files = new Map<string, Blob | Uint8Array>();
  for (const [k, v] of Object.entries(opts.files)) files.set(normalise(k), v);
  const downloads = new Map<string, Uint8Array>();
  const facts = new Map<string, Promise<FileFacts | null>>();
  const doFetch = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));

  const dataOf = (file: FileFacts): Blob | Uint8Array => {
    const d = isUrl(file.location) ? downloads.get(file.location) : files.get(file.location);
    if (!d) throw new IbfError('E_INPUT_NOT_FOUND', `${file.name} is not among the files in memory`, { hint: 'Give every file the flow names in `files` (a resumed run needs its downloads again: run it with the same environment).' });
    return d;
  };

  const localFacts = async (ref: string): Promise<FileFacts | null> => {
    const key = normalise(ref);
    const data = files.get(key);
    if (!data) return null;
    const bytes = await bytesOf(data);
    return { location: key, name: ref, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
  };

  const download = async (url: string, signal: AbortSignal): Promise<FileFacts | null> => {
    const name = withoutCredentials(url);
    const res = await getDownload(doFetch, url, signal);
    if (!res) return null;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      throw new IbfError('E_HTTP', `GET ${name} broke off: ${(e as Error).message}`, { cause: e });
    }
    downloads.set(url, bytes);
    return { location: url, name, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
  };

  const fetchFile = (ref: string, signal: AbortSignal): Promise<FileFacts | null> => {
    const key = isUrl(ref) ? ref : normalise(ref);
    let p = facts.get(key);
    if (!p) {
      p = isUrl(ref) ? download(ref, signal) : localFacts(ref);
      facts.set(key, p);
      // a failure is not remembered: the task's retry tries again
      p.catch(() => facts.delete(key));
    }
    return p;
  };

  const rasterInfo = (file: FileFacts): Promise<RasterInfo> => readRasterInfo(dataOf(file), { name: file.name });

  const readText = async (file: FileFacts): Promise<string> => new TextDecoder('utf-8', { ignoreBOM: true }).decode(await bytesOf(dataOf(file)));

  /** The member files of one lead time as one multi-band GeoTIFF (ingest.ts stackMembers). */
  const stack = async (input: Extract<AssessInput, { kind: 'stack' }>, signal: AbortSignal): Promise<Uint8Array> =>
    stackMembers(input, await rasterInfo(input.files[0]!), (f) => readRaster(dataOf(f), { bands: [input.band - 1], name: f.name }), signal);

  return {
    kernel: opts.kernel,
    ...(opts.createdAt !== undefined ? { createdAt: opts.createdAt } : {}),
    async listFiles(glob) {
      const out: string[] = [];
      for (const k of files.keys()) if (glob.regex.test(k)) out.push(k);
      return out;
    },
    fetchFile,
    readText,
    rasterInfo,
    scenarioIO: (inputs, signal) =>
      inputsScenarioIO(inputs, signal, {
        fileSource: (f) => ({ kind: 'bytes', bytes: dataOf(f) }),
        readText,
        stack,
        missingHint: 'Curve CSVs must be among the files when the flow is validated.',
      }),
  };
}
