/**
 * Mutations of real TIFF files for the GeoTIFF fuzz test: a small reader of the (Big)TIFF image
 * directories (both byte orders) that finds where each tag's count and values sit, and fast-check
 * arbitraries that flip bytes, truncate, move the first IFD, and rewrite tag counts, types and values
 * (sizes, band counts, strip / tile offsets and byte counts) to extreme values.
 */
import fc from 'fast-check';

/** One IFD entry and where its fields are in the file. */
export interface Entry {
  tag: number;
  type: number;
  count: number;
  /** Offset of the entry itself. */
  at: number;
  /** Offset of its count field, and its width (4 classic, 8 BigTIFF). */
  countAt: number;
  /** Where the values are: inline in the entry, or at the offset it holds. */
  valuesAt: number;
}

export interface TiffLayout {
  little: boolean;
  big: boolean;
  /** Offset of the field holding the first IFD's offset. */
  firstIfdField: number;
  entries: Entry[];
}

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };

/** Named tags the targeted mutations go after. */
export const TAGS = {
  ImageWidth: 256, ImageLength: 257, BitsPerSample: 258, Compression: 259, StripOffsets: 273, SamplesPerPixel: 277,
  RowsPerStrip: 278, StripByteCounts: 279, PlanarConfiguration: 284, Predictor: 317, TileWidth: 322, TileLength: 323,
  TileOffsets: 324, TileByteCounts: 325, SampleFormat: 339, ModelPixelScale: 33550, ModelTiepoint: 33922, GeoKeyDirectory: 34735,
  GdalMetadata: 42112, GdalNodata: 42113,
} as const;

/** The entries of every IFD of a well-formed (Big)TIFF (at most 8 IFDs). */
export function layout(bytes: Uint8Array): TiffLayout {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = bytes[0] === 0x49;
  const magic = dv.getUint16(2, little);
  const big = magic === 43;
  const u64 = (o: number) => Number(dv.getBigUint64(o, little));
  const firstIfdField = big ? 8 : 4;
  let ifd = big ? u64(8) : dv.getUint32(4, little);
  const entries: Entry[] = [];
  for (let k = 0; k < 8 && ifd > 0 && ifd < bytes.length; k++) {
    const n = big ? u64(ifd) : dv.getUint16(ifd, little);
    const first = ifd + (big ? 8 : 2);
    const size = big ? 20 : 12;
    for (let i = 0; i < n; i++) {
      const at = first + i * size;
      const tag = dv.getUint16(at, little);
      const type = dv.getUint16(at + 2, little);
      const count = big ? u64(at + 4) : dv.getUint32(at + 4, little);
      const valueField = at + (big ? 12 : 8);
      const inline = (TYPE_SIZE[type] ?? 1) * count <= (big ? 8 : 4);
      entries.push({ tag, type, count, at, countAt: at + 4, valuesAt: inline ? valueField : big ? u64(valueField) : dv.getUint32(valueField, little) });
    }
    const next = first + n * size;
    ifd = big ? u64(next) : dv.getUint32(next, little);
  }
  return { little, big, firstIfdField, entries };
}

/** How to damage a file; applied by {@link mutate}. Positions are fractions so one case fits any file. */
export type Mutation =
  | { kind: 'flip'; where: number; xor: number; headerOnly: boolean }
  | { kind: 'truncate'; where: number }
  | { kind: 'firstIfd'; value: Extreme }
  | { kind: 'count'; entry: number; value: Extreme }
  | { kind: 'type'; entry: number; type: number }
  | { kind: 'value'; tag: number; index: number; value: Extreme }
  | { kind: 'entryValue'; entry: number; index: number; value: Extreme };

/** A value relative to the file: a constant, or around its size (so offsets point just inside or past the end). */
export type Extreme = { c: number } | { sizePlus: number };

const EXTREMES = [0, 1, 2, 3, 7, 8, 255, 256, 4096, 32767, 32768, 65535, 65536, 1 << 24, 0x3fffffff, 0x7fffffff, 0x80000000, 0xffffffff];

export const extremeArb: fc.Arbitrary<Extreme> = fc.oneof(
  fc.constantFrom(...EXTREMES).map((c) => ({ c })),
  fc.integer({ min: 0, max: 0xffffffff }).map((c) => ({ c })),
  fc.integer({ min: -16, max: 16 }).map((sizePlus) => ({ sizePlus })),
);

const TAG_LIST = Object.values(TAGS);

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), where: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), xor: fc.integer({ min: 1, max: 255 }), headerOnly: fc.boolean() }),
  fc.record({ kind: fc.constant('truncate' as const), where: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }),
  fc.record({ kind: fc.constant('firstIfd' as const), value: extremeArb }),
  fc.record({ kind: fc.constant('count' as const), entry: fc.nat(), value: extremeArb }),
  fc.record({ kind: fc.constant('type' as const), entry: fc.nat(), type: fc.integer({ min: 0, max: 20 }) }),
  // weighted: the tags that size allocations and point at bytes
  fc.record({ kind: fc.constant('value' as const), tag: fc.constantFrom(...TAG_LIST), index: fc.nat(), value: extremeArb }),
  fc.record({ kind: fc.constant('value' as const), tag: fc.constantFrom(256, 257, 277, 278, 322, 323, 273, 279, 324, 325, 258), index: fc.nat(), value: extremeArb }),
  fc.record({ kind: fc.constant('entryValue' as const), entry: fc.nat(), index: fc.nat(), value: extremeArb }),
);

function resolve(v: Extreme, size: number): number {
  return 'c' in v ? v.c : Math.max(0, size + v.sizePlus);
}

/** Writes `value` as an unsigned integer of `width` bytes (cut to that width). */
function put(dv: DataView, at: number, width: number, value: number, little: boolean): void {
  if (at < 0 || at + width > dv.byteLength) return;
  if (width === 1) dv.setUint8(at, value & 0xff);
  else if (width === 2) dv.setUint16(at, value & 0xffff, little);
  else if (width === 4) dv.setUint32(at, value >>> 0, little);
  else dv.setBigUint64(at, BigInt(Math.max(0, Math.floor(value))), little);
}

function writeElement(dv: DataView, lay: TiffLayout, e: Entry, index: number, value: number): void {
  const w = TYPE_SIZE[e.type] ?? 4;
  const i = e.count > 0 ? index % e.count : 0;
  put(dv, e.valuesAt + i * w, Math.min(w, 8), value, lay.little);
}

/** A damaged copy of `bytes` (the input is not modified). */
export function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = bytes.slice();
  const lay = layout(bytes);
  const headerEnd = Math.min(out.length, Math.max(64, ...lay.entries.map((e) => e.at + (lay.big ? 20 : 12))));
  for (const m of mutations) {
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const size = out.length;
    const entry = (k: number) => (lay.entries.length ? lay.entries[k % lay.entries.length]! : undefined);
    switch (m.kind) {
      case 'flip': {
        const span = m.headerOnly ? headerEnd : size;
        const at = Math.floor(m.where * span);
        if (at < size) out[at]! ^= m.xor;
        break;
      }
      case 'truncate':
        out = out.slice(0, Math.floor(m.where * size));
        break;
      case 'firstIfd':
        put(dv, lay.firstIfdField, lay.big ? 8 : 4, resolve(m.value, size), lay.little);
        break;
      case 'count': {
        const e = entry(m.entry);
        if (e) put(dv, e.countAt, lay.big ? 8 : 4, resolve(m.value, size), lay.little);
        break;
      }
      case 'type': {
        const e = entry(m.entry);
        if (e) put(dv, e.at + 2, 2, m.type, lay.little);
        break;
      }
      case 'value': {
        const e = lay.entries.find((x) => x.tag === m.tag);
        if (e) writeElement(dv, lay, e, m.index, resolve(m.value, size));
        break;
      }
      case 'entryValue': {
        const e = entry(m.entry);
        if (e) writeElement(dv, lay, e, m.index, resolve(m.value, size));
        break;
      }
    }
  }
  return out;
}
