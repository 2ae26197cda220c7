/**
 * @module io/byte-source
 * Random-access byte sources: the one shape every reader of large binary inputs (GeoTIFF, COG) asks for.
 * A source answers ranged reads, so a window of a cloud-optimised GeoTIFF costs a few small reads whether
 * the bytes sit in memory, in a `Blob`, in a local file (see `io/node`) or in an R2 object (ranged `get`).
 * This module uses only web-standard types: it runs in Node, browsers and Cloudflare Workers.
 */

/**
 * Random access to the bytes of one file or object.
 *
 * `read(offset, length)` resolves to the bytes `[offset, offset + length)`; near the end it may return
 * fewer bytes (never more). Offsets and lengths are in bytes. Reads may be issued concurrently.
 */
export interface ByteSource {
  /** Total size in bytes, when known. Readers use it to detect truncated files before decoding. */
  size?: number;
  read(offset: number, length: number): Promise<ArrayBuffer>;
  /** Name for messages (file path, object key). */
  name?: string;
}

/** Anything {@link toByteSource} accepts. Uint8Array views (and Node Buffers) are read in place, not copied. */
export type ByteInput = ArrayBuffer | Uint8Array | Blob | ByteSource;

/** True for objects that implement {@link ByteSource}. */
export function isByteSource(x: unknown): x is ByteSource {
  return typeof x === 'object' && x !== null && typeof (x as ByteSource).read === 'function' && !isBlob(x);
}

function isBlob(x: unknown): x is Blob {
  return typeof Blob !== 'undefined' && x instanceof Blob;
}

/**
 * Wraps bytes, a `Blob`/`File` or an existing source as a {@link ByteSource}.
 * Reads from memory copy only the requested range; the input is never detached or modified.
 */
export function toByteSource(input: ByteInput, name?: string): ByteSource {
  if (input instanceof ArrayBuffer) return viewSource(new Uint8Array(input), name);
  if (input instanceof Uint8Array) return viewSource(input, name);
  if (isBlob(input)) {
    const blob = input;
    const fileName = (blob as Blob & { name?: unknown }).name;
    return {
      size: blob.size,
      name: name ?? (typeof fileName === 'string' && fileName ? fileName : undefined),
      read: (offset, length) => blob.slice(offset, Math.min(offset + length, blob.size)).arrayBuffer(),
    };
  }
  if (isByteSource(input)) return name && !input.name ? { ...bind(input), name } : input;
  throw new TypeError('expected an ArrayBuffer, Uint8Array, Blob or ByteSource');
}

function bind(src: ByteSource): ByteSource {
  return { size: src.size, name: src.name, read: (o, l) => src.read(o, l) };
}

function viewSource(view: Uint8Array, name?: string): ByteSource {
  return {
    size: view.byteLength,
    name,
    read: async (offset, length) => {
      const start = Math.min(Math.max(0, offset), view.byteLength);
      const end = Math.min(start + Math.max(0, length), view.byteLength);
      // Uint8Array#slice copies into a fresh ArrayBuffer. Called explicitly because Node's Buffer#slice
      // returns a view on the same (often pooled) memory instead of a copy.
      return Uint8Array.prototype.slice.call(view, start, end).buffer as ArrayBuffer;
    },
  };
}

/**
 * Reads a byte stream to its end into one array; with `cap`, refuses (and cancels) past `cap` bytes and
 * gives null. One chunk comes back as it is (no copy).
 */
export async function readStream(stream: ReadableStream<Uint8Array>, cap = Infinity): Promise<Uint8Array | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > cap) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
