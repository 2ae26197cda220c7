/**
 * @module io/tiff-writer
 * A small, fast baseline-TIFF encoder for uncompressed rasters: classic TIFF (offsets < 4 GiB), strips,
 * band- or pixel-interleaved, any integer or float sample type. Geo tags are passed in as plain tags.
 *
 * It exists because geotiff 3.0.5's `writeArrayBuffer` reserves a fixed 1000-byte header (longer tags such as
 * `GDAL_METADATA` make it throw or corrupt the file), allocates a DataView per cell (~0.3 s per million
 * cells), and marks 3-band rasters as RGB. Here pixel bytes are copied with one `set()` per band.
 *
 * The image file directory (IFD) encoding ({@link layoutIfd}, {@link writeIfd}, classic and BigTIFF) and the
 * image-structure tags ({@link imageTags}) are shared with the streaming writer of `io/tiff-stream`.
 */
import { IbfError } from '../errors.js';
import type { BandArray } from '../model/raster.js';

/** TIFF field types this writer emits (`LONG8`: BigTIFF only). */
export type TagType = 'SHORT' | 'LONG' | 'DOUBLE' | 'ASCII' | 'LONG8';

export interface TiffTag {
  tag: number;
  type: TagType;
  /** Numbers for SHORT/LONG/LONG8/DOUBLE; a string for ASCII (stored as UTF-8 plus a NUL). */
  value: ArrayLike<number> | string;
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

const TYPE_CODE: Record<TagType, number> = { ASCII: 2, SHORT: 3, LONG: 4, DOUBLE: 12, LONG8: 16 };
const TYPE_SIZE: Record<TagType, number> = { ASCII: 1, SHORT: 2, LONG: 4, DOUBLE: 8, LONG8: 8 };
/** Largest offset a classic TIFF can hold (bytes). */
export const MAX_CLASSIC = 2 ** 32 - 1;

/** An IFD laid out at a file offset: its tags (sorted) and where each out-of-line value goes. */
export interface IfdLayout {
  /** File offset of the IFD (even). */
  at: number;
  bigTiff: boolean;
  /** The tags, sorted by tag number as TIFF requires. */
  tags: TiffTag[];
  /** UTF-8 bytes (with the NUL) of ASCII tags, null for numeric ones. */
  payloads: (Uint8Array | null)[];
  /** TIFF count of each tag. */
  counts: number[];
  /** File offset of each tag's out-of-line value, or -1 when it fits in the entry. */
  valueOffsets: number[];
  /** File offset just past the IFD and its values. */
  end: number;
}

/**
 * Lays out one IFD at file offset `at`: entry count, entries, next-IFD link, then the values that do not
 * fit in their entry (4 bytes classic, 8 BigTIFF), each at an even offset. Only the value lengths are
 * fixed here; the values themselves are read by {@link writeIfd}, so block tables may be filled in between.
 */
export function layoutIfd(tags: readonly TiffTag[], at: number, bigTiff = false): IfdLayout {
  const sorted = [...tags].sort((a, b) => a.tag - b.tag);
  const enc = new TextEncoder();
  const payloads = sorted.map((t) => (typeof t.value === 'string' ? enc.encode(t.value.endsWith('\0') ? t.value : `${t.value}\0`) : null));
  const counts = sorted.map((t, i) => (payloads[i] ? payloads[i]!.length : (t.value as ArrayLike<number>).length));
  const inline = bigTiff ? 8 : 4;
  let cursor = at + (bigTiff ? 8 + 20 * sorted.length + 8 : 2 + 12 * sorted.length + 4);
  const valueOffsets = sorted.map((t, i) => {
    const size = counts[i]! * TYPE_SIZE[t.type];
    if (size <= inline) return -1;
    cursor += cursor & 1; // word alignment
    const where = cursor;
    cursor += size;
    return where;
  });
  return { at, bigTiff, tags: sorted, payloads, counts, valueOffsets, end: cursor };
}

/**
 * Writes a laid-out IFD into `bytes`, which holds the file from offset `base` on (`base` 0: the whole file).
 * `next` is the offset of the next IFD (0: none).
 */
export function writeIfd(ifd: IfdLayout, bytes: Uint8Array, base = 0, littleEndian = true, next = 0): void {
  const le = littleEndian;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const big = ifd.bigTiff;
  const start = ifd.at - base;
  const entries = start + (big ? 8 : 2);
  const entrySize = big ? 20 : 12;
  if (big) view.setBigUint64(start, BigInt(ifd.tags.length), le);
  else view.setUint16(start, ifd.tags.length, le);
  ifd.tags.forEach((t, i) => {
    const e = entries + entrySize * i;
    view.setUint16(e, t.tag, le);
    view.setUint16(e + 2, TYPE_CODE[t.type], le);
    const outOfLine = ifd.valueOffsets[i]! >= 0;
    if (big) view.setBigUint64(e + 4, BigInt(ifd.counts[i]!), le);
    else view.setUint32(e + 4, ifd.counts[i]!, le);
    const field = e + (big ? 12 : 8);
    if (outOfLine) {
      if (big) view.setBigUint64(field, BigInt(ifd.valueOffsets[i]!), le);
      else view.setUint32(field, ifd.valueOffsets[i]!, le);
    }
    const at = outOfLine ? ifd.valueOffsets[i]! - base : field;
    const payload = ifd.payloads[i];
    if (payload) {
      bytes.set(payload, at);
      return;
    }
    const values = t.value as ArrayLike<number>;
    for (let k = 0; k < values.length; k++) {
      const v = values[k]!;
      if (t.type === 'SHORT') view.setUint16(at + 2 * k, v, le);
      else if (t.type === 'LONG') view.setUint32(at + 4 * k, v, le);
      else if (t.type === 'LONG8') view.setBigUint64(at + 8 * k, BigInt(v), le);
      else view.setFloat64(at + 8 * k, v, le);
    }
  });
  const link = entries + entrySize * ifd.tags.length;
  if (big) view.setBigUint64(link, BigInt(next), le);
  else view.setUint32(link, next, le);
}

/** The TIFF header: byte order, magic (42, or 43 for BigTIFF) and the offset of the first IFD. */
export function tiffHeader(firstIfd: number, bigTiff = false, littleEndian = true): Uint8Array {
  const out = new Uint8Array(bigTiff ? 16 : 8);
  const view = new DataView(out.buffer);
  out[0] = out[1] = littleEndian ? 0x49 : 0x4d;
  view.setUint16(2, bigTiff ? 43 : 42, littleEndian);
  if (bigTiff) {
    view.setUint16(4, 8, littleEndian); // bytes per offset
    view.setBigUint64(8, BigInt(firstIfd), littleEndian);
  } else {
    view.setUint32(4, firstIfd, littleEndian);
  }
  return out;
}

/**
 * The tags that describe the image structure: size, sample type, one grey (BlackIsZero) sample per band,
 * PlanarConfiguration 2 (band-separate) when `planar` and several bands, ExtraSamples for bands past the
 * first, compression (and predictor, when not 1).
 */
export function imageTags(o: {
  width: number;
  height: number;
  bands: number;
  bitsPerSample: number;
  sampleFormat: number;
  planar: boolean;
  compression?: number;
  predictor?: number;
}): TiffTag[] {
  const n = o.bands;
  return [
    { tag: 256, type: 'LONG', value: [o.width] },
    { tag: 257, type: 'LONG', value: [o.height] },
    { tag: 258, type: 'SHORT', value: new Array(n).fill(o.bitsPerSample) },
    { tag: 259, type: 'SHORT', value: [o.compression ?? 1] },
    { tag: 262, type: 'SHORT', value: [1] }, // BlackIsZero: values, not colours
    { tag: 277, type: 'SHORT', value: [n] },
    { tag: 284, type: 'SHORT', value: [o.planar && n > 1 ? 2 : 1] },
    ...(o.predictor !== undefined && o.predictor !== 1 ? [{ tag: 317, type: 'SHORT' as const, value: [o.predictor] }] : []),
    ...(n > 1 ? [{ tag: 338, type: 'SHORT' as const, value: new Array<number>(n - 1).fill(0) }] : []),
    { tag: 339, type: 'SHORT', value: new Array(n).fill(o.sampleFormat) },
  ];
}

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
    ...imageTags({ width, height, bands: n, bitsPerSample: bits, sampleFormat, planar: interleave === 'band' }),
    ...layout,
  ];
  const own = new Set(tags.map((t) => t.tag));
  for (const t of img.tags ?? []) {
    if (own.has(t.tag)) throw new IbfError('E_USAGE', `TIFF tag ${t.tag} is set by the encoder and cannot be passed in`);
    own.add(t.tag);
    tags.push(t);
  }
  const ifd = layoutIfd(tags, 8);
  const dataStart = Math.ceil(ifd.end / 8) * 8;
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
  bytes.set(tiffHeader(ifd.at, false, le));
  writeIfd(ifd, bytes, 0, le);

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
