/**
 * @module flow/codec
 * Task results as JSON that decodes to the same value: typed arrays, ArrayBuffer, NaN, ±Infinity, -0,
 * undefined, bigint, Date, Map and Set are written as tagged objects (`{ "$type": "Float32Array",
 * "base64": "..." }`), and a plain object that has a `$type` key of its own is wrapped, so no data can
 * pass for a tag. Anything else (functions, symbols, class instances, cycles) is refused with
 * `E_FLOW_RESULT` naming where it was, instead of being stored as something that reads back different.
 *
 * Typed arrays are stored as their bytes in the platform's order (little-endian on every host this
 * package runs on). Cache keys hash the canonical form: the encoding with object keys sorted.
 */
import { IbfError } from '../errors.js';

/** JSON as it is written. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const TYPED = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
} as const;
type TypedName = keyof typeof TYPED;

function typedName(v: ArrayBufferView): TypedName | undefined {
  const name = v.constructor?.name as TypedName;
  return name in TYPED && TYPED[name] === v.constructor ? name : undefined;
}

/** Sets an own property, `__proto__` included (plain assignment would set the prototype instead). */
function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

function refuse(path: string, what: string): never {
  throw new IbfError('E_FLOW_RESULT', `cannot store ${what} at ${path || '(the value itself)'}`, { details: { path } });
}

/** The JSON form of `value` (see the module header); throws `E_FLOW_RESULT` for values it cannot keep. */
export function encodeValue(value: unknown): Json {
  const seen = new Set<object>();
  const enc = (v: unknown, path: string): Json => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        if (Number.isNaN(v)) return { $type: 'number', value: 'NaN' };
        if (v === Infinity) return { $type: 'number', value: 'Infinity' };
        if (v === -Infinity) return { $type: 'number', value: '-Infinity' };
        if (Object.is(v, -0)) return { $type: 'number', value: '-0' };
        return v;
      case 'undefined':
        return { $type: 'undefined' };
      case 'bigint':
        return { $type: 'bigint', value: v.toString() };
      case 'function':
        return refuse(path, 'a function');
      case 'symbol':
        return refuse(path, 'a symbol');
    }
    if (v === null) return null;
    const o = v as object;
    if (seen.has(o)) refuse(path, 'a circular reference');
    seen.add(o);
    try {
      if (Array.isArray(o)) return o.map((x, i) => enc(x, `${path}[${i}]`));
      if (o instanceof ArrayBuffer) return { $type: 'ArrayBuffer', base64: toBase64(new Uint8Array(o)) };
      if (ArrayBuffer.isView(o)) {
        const name = o instanceof DataView ? 'DataView' : typedName(o);
        if (!name) refuse(path, `a ${o.constructor?.name ?? 'typed array'}`);
        return { $type: name, base64: toBase64(new Uint8Array(o.buffer, o.byteOffset, o.byteLength)) };
      }
      if (o instanceof Date) return { $type: 'Date', value: Number.isNaN(o.getTime()) ? null : o.toISOString() };
      if (o instanceof Map) return { $type: 'Map', entries: [...o].map(([k, x], i) => [enc(k, `${path}<key ${i}>`), enc(x, `${path}<value ${i}>`)]) };
      if (o instanceof Set) return { $type: 'Set', values: [...o].map((x, i) => enc(x, `${path}<${i}>`)) };
      const proto = Object.getPrototypeOf(o);
      if (proto !== Object.prototype && proto !== null) refuse(path, `an instance of ${o.constructor?.name ?? 'a class'}`);
      const out: Record<string, Json> = {};
      for (const [k, x] of Object.entries(o)) setOwn(out, k, enc(x, path ? `${path}.${k}` : k));
      return Object.hasOwn(out, '$type') ? { $type: 'object', value: out } : out;
    } finally {
      seen.delete(o);
    }
  };
  return enc(value, '');
}

/** The value {@link encodeValue} encoded. */
export function decodeValue(json: Json): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return json.map(decodeValue);
  const type = json.$type;
  if (type === undefined) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(json)) setOwn(out, k, decodeValue(x));
    return out;
  }
  switch (type) {
    case 'number':
      return json.value === '-0' ? -0 : Number(json.value);
    case 'undefined':
      return undefined;
    case 'bigint':
      return BigInt(json.value as string);
    case 'Date':
      return new Date(json.value === null ? NaN : (json.value as string));
    case 'Map':
      return new Map((json.entries as Json[][]).map(([k, x]) => [decodeValue(k!), decodeValue(x!)]));
    case 'Set':
      return new Set((json.values as Json[]).map(decodeValue));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(json.value as Record<string, Json>)) setOwn(out, k, decodeValue(x));
      return out;
    }
    case 'ArrayBuffer':
      return fromBase64(json.base64 as string).buffer;
    case 'DataView':
      return new DataView(fromBase64(json.base64 as string).buffer);
    default: {
      const Ctor = TYPED[type as TypedName];
      if (!Ctor) throw new IbfError('E_FLOW_STATE', `stored value has an unknown type tag "${String(type)}"`);
      return new Ctor(fromBase64(json.base64 as string).buffer);
    }
  }
}

/** JSON text with object keys sorted, for hashing. */
export function canonicalJson(json: Json): string {
  if (json === null || typeof json !== 'object') return JSON.stringify(json);
  if (Array.isArray(json)) return `[${json.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(json).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(json[k]!)}`).join(',')}}`;
}

/** sha256 (hex) of the canonical encoding of `value`: equal values hash equally, whatever their key order. */
export function hashValue(value: unknown): string {
  return sha256Hex(new TextEncoder().encode(canonicalJson(encodeValue(value))));
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;

export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  const n = bytes.length;
  for (let i = 0; i < n; i += 3) {
    const a = bytes[i];
    const b = i + 1 < n ? bytes[i + 1]! : 0;
    const c = i + 2 < n ? bytes[i + 2]! : 0;
    chunk += B64[a >> 2]! + B64[((a & 3) << 4) | (b >> 4)]! + (i + 1 < n ? B64[((b & 15) << 2) | (c >> 6)]! : '=') + (i + 2 < n ? B64[c & 63]! : '=');
    // keep strings short while building: concatenating one huge string is quadratic in some engines
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  return parts.join('');
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < clean.length; i++) {
    const code = clean.charCodeAt(i);
    const v = code < 128 ? B64_INDEX[code]! : -1;
    if (v < 0) throw new IbfError('E_FLOW_STATE', `stored binary data is not base64 (character ${i})`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

// SHA-256 (FIPS 180-4), synchronous: hashing stays off the I/O queue, so virtual-time tests stay exact,
// and no runtime's crypto object is needed.
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

export function sha256Hex(data: Uint8Array): string {
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const len = data.length;
  const padded = new Uint8Array((((len + 8) >> 6) + 1) << 6);
  padded.set(data);
  padded[len] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(len / 0x20000000), false);
  view.setUint32(padded.length - 4, (len << 3) >>> 0, false);
  const w = new Uint32Array(64);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4, false);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15];
      const b = w[i - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[i] + w[i]) >>> 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  return Array.from(h, (x) => x.toString(16).padStart(8, '0')).join('');
}
