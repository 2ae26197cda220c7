/**
 * @module io/tiff-header
 * TIFF / GeoTIFF header logic that does not need the `geotiff` package: recognising what bytes are,
 * bounding reads by the file size, sanity-checking the first image directory before geotiff allocates
 * anything, and turning GeoKeys and georeferencing tags into an EPSG code and a GDAL geotransform
 * (same rules as GDAL's GTiff driver). Used by `io/geotiff`.
 */
import { IbfError } from '../errors.js';
import type { GeoTransform } from '../model/grid.js';
import type { ByteSource } from './byte-source.js';

/** Sample types as GDAL / numpy name them. `float16` cells decode to Float32Array. */
export type SampleType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float16' | 'float32' | 'float64';

const DEFAULT_HINT = 'Check the file with `gdalinfo`; re-export it as a (cloud-optimised) GeoTIFF, e.g. `gdal_translate -of COG in.tif out.tif`.';

/** An `E_TIFF_INVALID` error about source `name`. */
export function invalid(name: string, what: string, opts: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {}): IbfError {
  return new IbfError('E_TIFF_INVALID', `${name}: ${what}`, {
    hint: opts.hint ?? DEFAULT_HINT,
    cause: opts.cause,
    details: { source: name, ...opts.details },
  });
}

/** True for the errors an aborted `AbortSignal` raises (`AbortError`, `TimeoutError`). */
export function isAbort(e: unknown): e is Error {
  const n = (e as { name?: unknown } | null)?.name;
  return typeof e === 'object' && e !== null && (n === 'AbortError' || n === 'TimeoutError');
}

/** Turns any exception into `E_TIFF_INVALID` naming the source (IbfErrors and aborts pass through). */
export function wrap(e: unknown, name: string, doing: string): Error {
  if (e instanceof IbfError || isAbort(e)) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return invalid(name, `is corrupt or unsupported: cannot ${doing} (${msg})`, { cause: e });
}

/**
 * A {@link ByteSource} in the shape of geotiff's `BaseSource` (`fetch(slices)`, `fileSize`), bounded by the
 * file size: reads are cut at the end of the file, and a read that starts at or past it is a truncation error.
 */
export class SourceAdapter {
  constructor(
    readonly src: ByteSource,
    readonly name: string,
  ) {}

  get fileSize(): number | null {
    return this.src.size ?? null;
  }

  async fetch(slices: { offset: number; length: number }[]): Promise<ArrayBuffer[]> {
    return Promise.all(slices.map((s) => this.read(s.offset, s.length)));
  }

  async fetchSlice(slice: { offset: number; length: number }): Promise<{ offset: number; length: number; data: ArrayBuffer }> {
    return { ...slice, data: await this.read(slice.offset, slice.length) };
  }

  async close(): Promise<void> {}

  /** Bytes `[offset, offset+length)`, cut at the end of the file; reading at or past the end is an error. */
  async read(offset: number, length: number): Promise<ArrayBuffer> {
    const size = this.src.size;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw invalid(this.name, `points at an impossible byte range (offset ${offset}, length ${length}); the file is corrupt`);
    }
    if (size !== undefined && length > 0 && offset >= size) {
      throw invalid(this.name, `is truncated: it needs bytes from offset ${offset} but has only ${size} bytes`, {
        hint: 'The file was cut short (interrupted download or copy); fetch or export it again.',
        details: { offset, size },
      });
    }
    const len = size === undefined ? length : Math.min(length, size - offset);
    const got: unknown = await this.src.read(offset, len);
    // tolerate sources that hand back a view instead of an ArrayBuffer
    const data = ArrayBuffer.isView(got) ? (new Uint8Array(got.buffer, got.byteOffset, got.byteLength).slice().buffer as ArrayBuffer) : (got as ArrayBuffer);
    if (!(data instanceof ArrayBuffer)) throw invalid(this.name, `source returned ${Object.prototype.toString.call(got)} instead of an ArrayBuffer`, { hint: 'A ByteSource.read must resolve to an ArrayBuffer.' });
    if (size !== undefined && data.byteLength < len) {
      // the source promised `size` bytes: a short read means the file shrank or the source is faulty
      throw invalid(this.name, `is truncated: bytes ${offset}..${offset + len - 1} should exist (size ${size}) but the source returned only ${data.byteLength} of them`, {
        hint: 'The file changed or was cut short while being read; fetch or export it again.',
        details: { offset, length: len, got: data.byteLength, size },
      });
    }
    return data.byteLength > len ? data.slice(0, len) : data;
  }
}

const SIGNATURES: [number[], string, string][] = [
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive', 'Unzip it and pass the .tif inside.'],
  [[0x1f, 0x8b], 'gzip-compressed', 'Decompress it first (gunzip).'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image', 'Pass a GeoTIFF; convert with `gdal_translate -of GTiff in.png out.tif` if it is georeferenced.'],
  [[0x89, 0x48, 0x44, 0x46], 'an HDF5 / NetCDF-4 file', 'Extract the variable to GeoTIFF, e.g. `gdal_translate NETCDF:"in.nc":var out.tif`.'],
  [[0x43, 0x44, 0x46], 'a NetCDF file', 'Extract the variable to GeoTIFF, e.g. `gdal_translate NETCDF:"in.nc":var out.tif`.'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document', 'Pass the GeoTIFF itself.'],
  [[0x3c], 'text (HTML or XML), perhaps an error page from a download', 'Check the URL or credentials that produced it.'],
  [[0x7b], 'text (JSON)', 'Pass the GeoTIFF itself, not a JSON description of it.'],
];

/** Null when `head` starts like a TIFF, else what the bytes look like and what to do. */
export function sniff(head: Uint8Array): { what: string; hint: string } | null {
  const le = head[0] === 0x49 && head[1] === 0x49;
  const be = head[0] === 0x4d && head[1] === 0x4d;
  if (head.length >= 4 && (le || be)) {
    const magic = le ? head[2]! | (head[3]! << 8) : (head[2]! << 8) | head[3]!;
    if (magic === 42 || magic === 43) return null;
  }
  let i = 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09 || head[i] === 0xef || head[i] === 0xbb || head[i] === 0xbf)) i++;
  for (const [sig, what, hint] of SIGNATURES) {
    const at = sig.length === 1 ? i : 0;
    if (sig.every((b, k) => head[at + k] === b)) return { what, hint };
  }
  const hex = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return { what: `not a TIFF file (it starts with bytes ${hex || 'nothing'})`, hint: 'Pass a GeoTIFF (.tif) file; a TIFF starts with "II*" or "MM*".' };
}

/** Bytes of each TIFF field type (1 BYTE .. 18 IFD8). */
const FIELD_SIZE = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8];
/** Largest tag value accepted (bytes); block tables of a 1M-tile COG are 8 MB. */
const MAX_TAG_BYTES = 2 ** 28;

/** What {@link scanIfds} learns about one image file directory (IFD) without parsing it with geotiff. */
export interface IfdSummary {
  /** Byte offset of the IFD. */
  offset: number;
  /** ImageWidth / ImageLength in cells (0 when the tag is missing or not inline). */
  width: number;
  height: number;
  /** NewSubfileType bits (1 = reduced-resolution image, i.e. an overview; 4 = transparency mask). */
  subfileType: number;
}

/** Most IFDs {@link scanIfds} follows (a COG with 20 overview levels and masks has ~40). */
export const MAX_IFDS = 64;

/**
 * Checks the image file directories before geotiff parses them: geotiff allocates an array for every tag's
 * claimed count before reading it, so a corrupt count could reserve gigabytes. Every out-of-line value must
 * lie inside the file (when its size is known) and be smaller than 256 MiB.
 *
 * The first IFD (the full-resolution image) must pass, else this throws `E_TIFF_INVALID`. The chain of
 * further IFDs (overviews, masks) is followed while each one passes, up to {@link MAX_IFDS}; a bad or
 * looping link ends the list instead of failing, since the full-resolution image is still readable.
 */
export async function scanIfds(adapter: SourceAdapter, head: Uint8Array, name: string): Promise<IfdSummary[]> {
  const le = head[0] === 0x49;
  const hv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const big = hv.getUint16(2, le) === 43;
  if (head.length < (big ? 16 : 8)) throw invalid(name, `is truncated: only ${head.length} bytes, shorter than a TIFF header`);
  const first = big ? Number(hv.getBigUint64(8, le)) : hv.getUint32(4, le);
  const out: (IfdSummary & { next: number })[] = [await checkIfd(adapter, first, le, big, name)];
  const seen = new Set([first]);
  let next = out[0]!.next;
  while (next !== 0 && out.length < MAX_IFDS && !seen.has(next)) {
    seen.add(next);
    try {
      const s = await checkIfd(adapter, next, le, big, name);
      out.push(s);
      next = s.next;
    } catch {
      break;
    }
  }
  return out.map(({ next: _, ...s }) => s);
}

async function checkIfd(adapter: SourceAdapter, ifd: number, le: boolean, big: boolean, name: string): Promise<IfdSummary & { next: number }> {
  const countBytes = big ? 8 : 2;
  const entrySize = big ? 20 : 12;
  const inline = big ? 8 : 4;
  const nextBytes = big ? 8 : 4;
  const cv = new DataView(await adapter.read(ifd, countBytes));
  if (cv.byteLength < countBytes) throw invalid(name, `is truncated inside an image directory (offset ${ifd})`);
  const n = big ? Number(cv.getBigUint64(0, le)) : cv.getUint16(0, le);
  if (n < 1 || n > 4096) throw invalid(name, `has an image directory with ${n} entries; the file is corrupt`);
  const ev = new DataView(await adapter.read(ifd + countBytes, n * entrySize + nextBytes));
  if (ev.byteLength < n * entrySize) throw invalid(name, `is truncated inside an image directory (offset ${ifd}, ${n} entries)`);
  const size = adapter.src.size;
  const summary = { offset: ifd, width: 0, height: 0, subfileType: 0, next: 0 };
  for (let i = 0; i < n; i++) {
    const e = i * entrySize;
    const tag = ev.getUint16(e, le);
    const type = ev.getUint16(e + 2, le);
    const count = big ? Number(ev.getBigUint64(e + 4, le)) : ev.getUint32(e + 4, le);
    const bytes = (FIELD_SIZE[type] ?? 0) * count;
    if (bytes <= inline) {
      if ((tag === 256 || tag === 257 || tag === 254) && count === 1 && (type === 3 || type === 4)) {
        const v = type === 3 ? ev.getUint16(e + (big ? 12 : 8), le) : ev.getUint32(e + (big ? 12 : 8), le);
        if (tag === 256) summary.width = v;
        else if (tag === 257) summary.height = v;
        else summary.subfileType = v;
      }
      continue;
    }
    const offset = big ? Number(ev.getBigUint64(e + 12, le)) : ev.getUint32(e + 8, le);
    if (bytes > MAX_TAG_BYTES || (size !== undefined && offset + bytes > size)) {
      throw invalid(name, `is corrupt or truncated: TIFF tag ${tag} claims ${bytes} bytes at offset ${offset}${size === undefined ? '' : `, but the file has ${size} bytes`}`, {
        details: { tag, offset, bytes, size },
      });
    }
  }
  if (ev.byteLength >= n * entrySize + nextBytes) {
    const at = n * entrySize;
    summary.next = big ? Number(ev.getBigUint64(at, le)) : ev.getUint32(at, le);
  }
  return summary;
}

/** GDAL sample type of a TIFF SampleFormat + BitsPerSample, or null when unsupported. */
export function sampleType(format: number, bits: number): SampleType | null {
  if (format === 1 || format === 4) return bits <= 8 ? 'uint8' : bits <= 16 ? 'uint16' : bits <= 32 ? 'uint32' : null;
  if (format === 2) return bits === 8 ? 'int8' : bits === 16 ? 'int16' : bits === 32 ? 'int32' : null;
  if (format === 3) return bits === 16 ? 'float16' : bits === 32 ? 'float32' : bits === 64 ? 'float64' : null;
  return null;
}

/** A tag value as a number array (typed arrays and scalars included), or null. */
export function numbers(v: unknown): number[] | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<number>, Number);
  return null;
}

export function text(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** GeoKey values stored inline (TIFFTagLocation 0) by key id. */
export function geoKeys(dir: number[] | null): Map<number, number> {
  const keys = new Map<number, number>();
  if (!dir || dir.length < 4) return keys;
  const n = Math.min(dir[3]!, Math.floor((dir.length - 4) / 4));
  for (let i = 0; i < n; i++) {
    const [id, loc, , value] = dir.slice(4 + 4 * i, 8 + 4 * i);
    if (loc === 0 && id !== undefined && value !== undefined) keys.set(id, value);
  }
  return keys;
}

export const GT_MODEL_TYPE = 1024;
export const GT_RASTER_TYPE = 1025;
export const GEOGRAPHIC_TYPE = 2048;
export const PROJECTED_CS_TYPE = 3072;
export const USER_DEFINED = 32767;

/** `EPSG:nnnn` from the GeoKeys, or null for user-defined / missing CRSs. */
export function crsFromGeoKeys(keys: Map<number, number>): string | null {
  const model = keys.get(GT_MODEL_TYPE);
  const projected = keys.get(PROJECTED_CS_TYPE);
  const geographic = keys.get(GEOGRAPHIC_TYPE);
  const valid = (c: number | undefined): c is number => c !== undefined && c > 0 && c < USER_DEFINED;
  if (model === 2) return valid(geographic) ? `EPSG:${geographic}` : null;
  if (projected !== undefined) return valid(projected) ? `EPSG:${projected}` : null; // 32767: user-defined
  if (model === 1) return null; // projected without a code
  return valid(geographic) ? `EPSG:${geographic}` : null;
}

/** GDAL's geotransform from the georeferencing tags, or null when there are none. */
export function geoTransform(
  scale: number[] | null,
  tie: number[] | null,
  matrix: number[] | null,
  pixelIsPoint: boolean,
  name: string,
): GeoTransform | null {
  if (scale && scale.length >= 2 && scale[0] !== 0 && scale[1] !== 0 && tie && tie.length >= 6) {
    const [sx, sy] = scale as [number, number];
    const [i, j, , x, y] = tie as [number, number, number, number, number];
    const gt: [number, number, number, number, number, number] = [x - i * sx, sx, 0, y + j * sy, 0, -sy];
    if (pixelIsPoint) {
      gt[0] -= gt[1] * 0.5;
      gt[3] -= gt[5] * 0.5;
    }
    return gt;
  }
  if (matrix && matrix.length >= 16) {
    const m = matrix;
    const gt: [number, number, number, number, number, number] = [m[3]!, m[0]!, m[1]!, m[7]!, m[4]!, m[5]!];
    if (pixelIsPoint) {
      gt[0] -= gt[1] * 0.5 + gt[2] * 0.5;
      gt[3] -= gt[4] * 0.5 + gt[5] * 0.5;
    }
    return gt;
  }
  if (tie && tie.length >= 12) {
    throw invalid(name, `is georeferenced by ${Math.floor(tie.length / 6)} ground control points, not by a geotransform`, {
      hint: 'Warp it onto a regular grid first, e.g. `gdalwarp -t_srs EPSG:4326 in.tif out.tif`.',
    });
  }
  return null;
}

/** The code of an `EPSG:nnnn` string, or null. */
export function epsgCode(crs: string): number | null {
  const m = /^EPSG:(\d{1,5})$/i.exec(crs.trim());
  const code = m ? Number(m[1]) : NaN;
  return code > 0 && code < USER_DEFINED ? code : null;
}
