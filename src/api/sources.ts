/**
 * @module api/sources
 * The scenario IO of an API request or job: where its `source` strings may point.
 *
 * - `r2://<bucket>/<key>`: an object the partner uploaded (`PUT /v1/data/<key>`), read with ranged gets;
 *   the bucket must be the API's, and the key stays inside the partner's folder.
 * - `https://<allowed host>/...`: read whole (at most `maxUploadBytes`) through the SSRF-guarded fetch, so
 *   the manifest can hash it, as the CLI does.
 * - `data:<type>;base64,<...>` (or `data:,<text>`): a small inline raster, GeoJSON or CSV.
 * Anything else (a relative path, `file:`, another bucket) is refused with `E_SOURCE_DENIED`.
 */
import { IbfError } from '../errors.js';
import { sha256Hex } from '../engine/manifest.js';
import type { ManifestInput } from '../engine/result.js';
import type { ScenarioIO } from '../engine/scenario.js';
import type { ByteSource } from '../io/byte-source.js';
import { readStream } from '../io/byte-source.js';
import { checkSourceUrl, dataKey, guardedFetch } from './security.js';
import type { ApiDeps, ObjectStore } from './ports.js';

/** A ranged-read byte source over one stored object (`head`: its size, when the caller has it already). */
export async function objectByteSource(
  store: ObjectStore, key: string, name: string, knownHead?: { size: number } | null,
): Promise<ByteSource & { close(): Promise<void> }> {
  const head = knownHead ?? (await store.head(key));
  if (!head) {
    throw new IbfError('E_INPUT_NOT_FOUND', `${name} does not exist`, { hint: 'Upload it first with PUT /v1/data/{key}, then refer to it as r2://<bucket>/<key>.', details: { source: name } });
  }
  return {
    size: head.size,
    name,
    read: async (offset, length) => {
      const len = Math.max(0, Math.min(length, head.size - offset));
      if (len === 0) return new ArrayBuffer(0);
      const b = await store.get(key, { offset, length: len });
      if (!b) throw new IbfError('E_INPUT_NOT_FOUND', `${name} disappeared while it was read`, { details: { source: name } });
      return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? (b.buffer as ArrayBuffer) : (b.slice().buffer as ArrayBuffer);
    },
    close: async () => {},
  };
}

function decodeDataUrl(ref: string): Uint8Array {
  const m = /^data:([^,]*?),(.*)$/s.exec(ref);
  if (!m) throw new IbfError('E_SOURCE_DENIED', 'a data: URL must be data:[<type>][;base64],<data>');
  if (m[1]!.endsWith(';base64')) {
    try {
      const bin = atob(m[2]!);
      const out = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out;
    } catch (e) {
      throw new IbfError('E_INPUT_FORMAT', 'a data: URL is not valid base64', { cause: e });
    }
  }
  return new TextEncoder().encode(decodeURIComponent(m[2]!));
}

type Resolved = { kind: 'object'; key: string; name: string } | { kind: 'url'; url: string; name: string } | { kind: 'inline'; bytes: Uint8Array; name: string };

/** Where a scenario source string points, checked. */
export function resolveSource(ref: string, deps: Pick<ApiDeps, 'config'>, partner: string): Resolved {
  const { config } = deps;
  if (ref.startsWith('r2://')) {
    const rest = ref.slice(5);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    if (bucket !== config.bucket) {
      throw new IbfError('E_SOURCE_DENIED', `${ref}: bucket ${JSON.stringify(bucket)} is not this API's (${config.bucket})`, { details: { source: ref } });
    }
    return { kind: 'object', key: dataKey(partner, rest.slice(slash + 1)), name: ref };
  }
  if (ref.startsWith('data:')) return { kind: 'inline', bytes: decodeDataUrl(ref), name: `inline ${ref.slice(0, ref.indexOf(',') + 1)}...` };
  if (/^https?:\/\//i.test(ref)) return { kind: 'url', url: checkSourceUrl(ref, config).href, name: ref.replace(/\?.*$/, '') };
  throw new IbfError('E_SOURCE_DENIED', `source ${JSON.stringify(ref.slice(0, 200))} is neither r2://${config.bucket}/<key>, an allowed https URL, nor a data: URL`, {
    details: { source: ref.slice(0, 200) },
  });
}

/** The ScenarioIO of requests and jobs of `partner`. */
export function apiScenarioIO(deps: Pick<ApiDeps, 'config' | 'store' | 'fetch'>, partner: string, signal?: AbortSignal): ScenarioIO {
  const inputs = new Map<string, Promise<ManifestInput>>();
  // one head per object and request: the manifest and the tiles' opener both need it (a subrequest on Workers)
  const heads = new Map<string, Promise<{ size: number; sha256?: string } | null>>();
  const headOf = (key: string) => {
    let h = heads.get(key);
    if (!h) heads.set(key, (h = deps.store.head(key)));
    return h;
  };
  const fetcher = guardedFetch(deps.config, deps.fetch ?? globalThis.fetch);
  const cap = deps.config.limits.maxUploadBytes;
  const urlBytes = new Map<string, Promise<Uint8Array>>();
  const readUrl = (url: string, name: string) => {
    let p = urlBytes.get(url);
    if (!p) {
      p = (async () => {
        const res = await fetcher(url, { signal, headers: { 'accept-encoding': 'identity' } });
        if (!res.ok) {
          await res.body?.cancel().catch(() => {});
          throw new IbfError('E_INPUT_NOT_FOUND', `${name} answered HTTP ${res.status}`, { details: { source: name, status: res.status } });
        }
        const b = res.body ? await readStream(res.body, cap) : new Uint8Array(0);
        if (!b) throw new IbfError('E_LIMIT', `${name} is larger than ${cap} bytes`, { hint: 'Upload it with PUT /v1/data/{key} and refer to it as r2://<bucket>/<key> (read in ranges).', details: { source: name, maxBytes: cap } });
        return b;
      })();
      urlBytes.set(url, p);
    }
    return p;
  };
  const record = (role: string, path: string, make: () => Promise<{ sha256: string; bytes: number }>) => {
    if (!inputs.has(path)) inputs.set(path, make().then((h) => ({ role, path, ...h })));
    return inputs.get(path)!;
  };
  const bytesOf = async (role: string, ref: string): Promise<Uint8Array> => {
    const r = resolveSource(ref, deps, partner);
    let bytes: Uint8Array;
    if (r.kind === 'inline') bytes = r.bytes;
    else if (r.kind === 'url') bytes = await readUrl(r.url, r.name);
    else {
      const b = await deps.store.get(r.key);
      if (!b) throw new IbfError('E_INPUT_NOT_FOUND', `${ref} does not exist`, { hint: 'Upload it first with PUT /v1/data/{key}.', details: { source: ref } });
      bytes = b;
    }
    await record(role, r.kind === 'inline' ? `${role} (inline)` : r.name, async () => ({ sha256: await sha256Hex(bytes), bytes: bytes.byteLength }));
    return bytes;
  };
  return {
    async raster(role, ref) {
      const r = resolveSource(ref, deps, partner);
      if (r.kind === 'object') {
        const head = await headOf(r.key);
        if (!head) throw new IbfError('E_INPUT_NOT_FOUND', `${ref} does not exist`, { hint: 'Upload it first with PUT /v1/data/{key}.', details: { source: ref } });
        // uploads carry their sha256 (api/app.ts stores it beside the object); hash it otherwise
        await record(role, ref, async () => ({ sha256: head.sha256 ?? (await sha256Hex((await deps.store.get(r.key))!)), bytes: head.size }));
        return { source: { kind: 'path', path: `object:${r.key}` }, name: ref };
      }
      return { source: { kind: 'bytes', bytes: await bytesOf(role, ref) }, name: r.name };
    },
    async text(role, ref) {
      return new TextDecoder().decode(await bytesOf(role, ref));
    },
    async inputs() {
      return Promise.all(inputs.values());
    },
    openPath: async (path) => {
      if (!path.startsWith('object:')) throw new IbfError('E_SOURCE_DENIED', `not an object path: ${path}`);
      const key = path.slice('object:'.length);
      return objectByteSource(deps.store, key, key.replace(/^data\/[^/]+\//, `r2://${deps.config.bucket}/`), await headOf(key));
    },
  };
}
