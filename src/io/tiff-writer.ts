/**
 * @module io/tiff-writer
 * A small, fast baseline-TIFF encoder for uncompressed rasters: classic TIFF (offsets < 4 GiB), strips,
 * band- or pixel-interleaved, any integer or float sample type. Geo tags are passed in as plain tags.
 *
 * It exists because geotiff 3.0.5's `writeArrayBuffer` reserves a fixed 1000-byte header (longer tags such as
 * `GDAL_METADATA` make it throw or corrupt the file), allocates a DataView per cell (~0.3 s per million
 * cells), and marks 3-band rasters as RGB. Here pixel bytes are copied with one `set()` per band.
 */
import { IbfError } from '../errors.js';
import type { BandArray } from '../model/raster.js';

/** TIFF field types this writer emits. */
export type TagType = 'SHORT' | 'LONG' | 'DOUBLE' | 'ASCII';

export interface TiffTag {
  tag: number;
  type: TagType;
  /** Numbers for SHORT/LONG/DOUBLE; a string for ASCII (stored as UTF-8 plus a NUL). */
  value: readonly number[] | string;
}

export interface TiffImage {
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
  /** One array per band, each `width * height` long, row-major; all of the same type. */
  bands: readonly BandArray[];
  /** Extra tags (geo keys, GDAL tags). Tags the encoder sets itself must not be repeated. */
  tags?: readonly TiffTag[];
  /** Byte order of the file; default true ("II"). */
  littleEndian?: boolean;
  /** Rows per strip; default: as many as fit in ~64 KiB of one band (at least 1). */
  rowsPerStrip?: number;
  /** `band` (PlanarConfiguration 2, default) or `pixel` (PlanarConfiguration 1). */
  interleave?: 'band' | 'pixel';
  /** Write tiles of `[width, height]` cells (multiples of 16) instead of strips; edge tiles are zero-padded. */
  tile?: readonly [number, number];
}

const TYPE_CODE: Record<TagType, number> = { ASCII: 2, SHORT: 3, LONG: 4, DOUBLE: 12 };
const TYPE_SIZE: Record<TagType, number> = { ASCII: 1, SHORT: 2, LONG: 4, DOUBLE: 8 };
const MAX_CLASSIC = 2 ** 32 - 1;

/** TIFF SampleFormat and bits of a typed array: [sampleFormat, bitsPerSample]. */
export function sampleFormatOf(a: BandArray): [1 | 2 | 3, 8 | 16 | 32 | 64] {
  const bits = (a.BYTES_PER_ELEMENT * 8) as 8 | 16 | 32 | 64;
  if (a instanceof Float32Array || a instanceof Float64Array) return [3, bits];
  if (a instanceof Int8Array || a instanceof Int16Array || a instanceof Int32Array) return [2, bits];
  return [1, bits];
}

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function setter(a: BandArray): (v: DataView, off: number, x: number, le: boolean) => void {
  if (a instanceof Float64Array) return (v, o, x, le) => v.setFloat64(o, x, le);
  if (a instanceof Float32Array) return (v, o, x, le) => v.setFloat32(o, x, le);
  if (a instanceof Int32Array) return (v, o, x, le) => v.setInt32(o, x, le);
  if (a instanceof Uint32Array) return (v, o, x, le) => v.setUint32(o, x, le);
  if (a instanceof Int16Array) return (v, o, x, le) => v.setInt16(o, x, le);
  if (a instanceof Uint16Array) return (v, o, x, le) => v.setUint16(o, x, le);
  if (a instanceof Int8Array) return (v, o, x) => v.setInt8(o, x);
  return (v, o, x) => v.setUint8(o, x);
}

/**
 * Encodes one uncompressed TIFF image. Layout: header, IFD, tag data, then pixel data (8-byte aligned).
 * Throws `E_LIMIT` when the file would exceed 4 GiB (classic TIFF) and `E_USAGE` on inconsistent input.
 */
export function encodeTiff(img: TiffImage): ArrayBuffer {
  const { width, height, bands } = img;
  const le = img.littleEndian ?? true;
  const interleave = img.interleave ?? 'band';
  const n = bands.length;
  const first = bands[0];
  if (!first || !Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new IbfError('E_USAGE', `cannot write a ${width}x${height} TIFF with ${n} bands`, {
      hint: 'Pass a positive width and height and at least one band.',
    });
  }
  if (n > 65535) throw new IbfError('E_LIMIT', `cannot write ${n} bands to one TIFF (max 65535)`);
  const cells = width * height;
  bands.forEach((b, i) => {
    if (b.length !== cells || b.constructor !== first.constructor) {
      throw new IbfError('E_USAGE', `band ${i} is a ${b.constructor.name} of ${b.length} cells; expected ${first.constructor.name} of ${width}x${height} = ${cells}`, {
        hint: 'All bands of one GeoTIFF must have the same type and grid.',
      });
    }
  });
  const bps = first.BYTES_PER_ELEMENT;
  const [sampleFormat, bits] = sampleFormatOf(first);
  const spp = interleave === 'pixel' ? n : 1; // samples per stored cell
  const planes = interleave === 'band' ? n : 1;
  const tile = img.tile;
  if (tile && !(tile.every((t) => Number.isInteger(t) && t > 0 && t % 16 === 0))) {
    throw new IbfError('E_USAGE', `tile size ${tile.join('x')} is invalid; TIFF tiles are multiples of 16 cells`);
  }
  const bw = tile ? tile[0] : width;
  const bh = tile ? tile[1] : Math.min(height, Math.max(1, Math.floor(img.rowsPerStrip ?? 65536 / (width * bps * spp))));
  const across = Math.ceil(width / bw);
  const down = Math.ceil(height / bh);
  const nBlocks = across * down * planes;
  // block bytes: tiles are always full (padded); the last strip is short
  const blockBytes = (i: number) => bw * (tile ? bh : Math.min(bh, height - Math.floor((i % (across * down)) / across) * bh)) * bps * spp;
  let dataBytes = 0;
  for (let i = 0; i < nBlocks; i++) dataBytes += blockBytes(i);

  // placeholder block tags, filled once the data offset is known
  const blockOffsets = new Array<number>(nBlocks).fill(0);
  const blockCounts = new Array<number>(nBlocks).fill(0);
  const layout: TiffTag[] = tile
    ? [
        { tag: 322, type: 'LONG', value: [bw] },
        { tag: 323, type: 'LONG', value: [bh] },
        { tag: 324, type: 'LONG', value: blockOffsets },
        { tag: 325, type: 'LONG', value: blockCounts },
      ]
    : [
        { tag: 273, type: 'LONG', value: blockOffsets },
        { tag: 278, type: 'LONG', value: [bh] },
        { tag: 279, type: 'LONG', value: blockCounts },
      ];
  const tags: TiffTag[] = [
    { tag: 256, type: 'LONG', value: [width] },
    { tag: 257, type: 'LONG', value: [height] },
    { tag: 258, type: 'SHORT', value: new Array(n).fill(bits) },
    { tag: 259, type: 'SHORT', value: [1] },
    { tag: 262, type: 'SHORT', value: [1] }, // BlackIsZero: values, not colours
    { tag: 277, type: 'SHORT', value: [n] },
    { tag: 284, type: 'SHORT', value: [interleave === 'band' && n > 1 ? 2 : 1] },
    ...(n > 1 ? [{ tag: 338, type: 'SHORT' as const, value: new Array<number>(n - 1).fill(0) }] : []),
    { tag: 339, type: 'SHORT', value: new Array(n).fill(sampleFormat) },
    ...layout,
  ];
  const own = new Set(tags.map((t) => t.tag));
  for (const t of img.tags ?? []) {
    if (own.has(t.tag)) throw new IbfError('E_USAGE', `TIFF tag ${t.tag} is set by the encoder and cannot be passed in`);
    own.add(t.tag);
    tags.push(t);
  }
  tags.sort((a, b) => a.tag - b.tag);

  const enc = new TextEncoder();
  const payloads = tags.map((t) => (typeof t.value === 'string' ? enc.encode(t.value.endsWith('\0') ? t.value : `${t.value}\0`) : null));
  const counts = tags.map((t, i) => (payloads[i] ? payloads[i]!.length : (t.value as readonly number[]).length));
  const ifdStart = 8;
  let cursor = ifdStart + 2 + 12 * tags.length + 4;
  const valueOffsets = tags.map((t, i) => {
    const size = counts[i]! * TYPE_SIZE[t.type];
    if (size <= 4) return -1;
    cursor += cursor & 1; // word alignment
    const at = cursor;
    cursor += size;
    return at;
  });
  const dataStart = Math.ceil(cursor / 8) * 8;
  const total = dataStart + dataBytes;
  if (total > MAX_CLASSIC) {
    throw new IbfError('E_LIMIT', `a GeoTIFF of ${width}x${height}x${n} ${first.constructor.name} cells needs ${total} bytes, more than classic TIFF allows (4 GiB)`, {
      hint: 'Write fewer bands per file or split the grid into tiles.',
    });
  }
  for (let i = 0, at = dataStart; i < nBlocks; i++) {
    blockOffsets[i] = at;
    blockCounts[i] = blockBytes(i);
    at += blockCounts[i]!;
  }

  const out = new ArrayBuffer(total);
  const view = new DataView(out);
  const bytes = new Uint8Array(out);
  bytes[0] = bytes[1] = le ? 0x49 : 0x4d;
  view.setUint16(2, 42, le);
  view.setUint32(4, ifdStart, le);
  view.setUint16(ifdStart, tags.length, le);
  tags.forEach((t, i) => {
    const e = ifdStart + 2 + 12 * i;
    view.setUint16(e, t.tag, le);
    view.setUint16(e + 2, TYPE_CODE[t.type], le);
    view.setUint32(e + 4, counts[i]!, le);
    const at = valueOffsets[i]! >= 0 ? valueOffsets[i]! : e + 8;
    if (valueOffsets[i]! >= 0) view.setUint32(e + 8, at, le);
    const payload = payloads[i];
    if (payload) {
      bytes.set(payload, at);
      return;
    }
    const values = t.value as readonly number[];
    for (let k = 0; k < values.length; k++) {
      const v = values[k]!;
      if (t.type === 'SHORT') view.setUint16(at + 2 * k, v, le);
      else if (t.type === 'LONG') view.setUint32(at + 4 * k, v, le);
      else view.setFloat64(at + 8 * k, v, le);
    }
  });
  view.setUint32(ifdStart + 2 + 12 * tags.length, 0, le); // no next IFD

  const fast = (le === HOST_LE || bps === 1) && spp === 1;
  const set = setter(first);
  if (fast && !tile) {
    // strips of one band are contiguous: one copy per band
    bands.forEach((b, p) => bytes.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), blockOffsets[p * down]!));
    return out;
  }
  for (let p = 0; p < planes; p++) {
    for (let by = 0; by < down; by++) {
      for (let bx = 0; bx < across; bx++) {
        const i = p * across * down + by * across + bx;
        const cols = Math.min(bw, width - bx * bw);
        const rows = Math.min(bh, height - by * bh);
        for (let r = 0; r < rows; r++) {
          const src = (by * bh + r) * width + bx * bw; // first cell of this block row in the band
          const dst = blockOffsets[i]! + r * bw * bps * spp;
          if (fast) {
            const b = bands[p]!;
            bytes.set(new Uint8Array(b.buffer, b.byteOffset + src * bps, cols * bps), dst);
          } else {
            for (let c = 0; c < cols; c++) {
              for (let k = 0; k < spp; k++) set(view, dst + (c * spp + k) * bps, bands[spp > 1 ? k : p]![src + c]!, le);
            }
          }
        }
      }
    }
  }
  return out;
}
