/**
 * @module io/tiff-decode
 * Fixes for the block decoding of geotiff 3.0.5, as pure functions (no geotiff import): `io/geotiff`
 * runs geotiff's decompressors and then these, so every layout GDAL writes decodes to the values GDAL reads.
 *
 * - Horizontal differencing (Predictor 2) in the file's byte order and for 64-bit samples: geotiff undoes it
 *   on host-order words, which gives wrong values for big-endian files, and refuses 64-bit samples.
 * - LERC blocks with a validity mask (GDAL writes one when float cells are NaN): geotiff leaves the
 *   invalid cells at 0, GDAL reads them as NaN. {@link lercInvalidCells} reads the mask so they can be set.
 * - Names of TIFF compression codes for messages, and the ones geotiff cannot decode.
 */

/** TIFF Compression codes GDAL writes (and a few others), by name. */
export const COMPRESSION_NAMES: Readonly<Record<number, string>> = {
  1: 'none',
  2: 'CCITT RLE',
  3: 'CCITT Group 3',
  4: 'CCITT Group 4',
  5: 'LZW',
  6: 'old-style JPEG',
  7: 'JPEG',
  8: 'DEFLATE',
  32946: 'DEFLATE',
  32773: 'PackBits',
  34712: 'JPEG 2000',
  34887: 'LERC',
  34925: 'LZMA',
  50000: 'ZSTD',
  50001: 'WebP',
  50002: 'JPEG XL',
};

/** `"ZSTD"`, `"LZMA"`, ... or `"code 12345"` for codes without a name. */
export function compressionName(code: number): string {
  return COMPRESSION_NAMES[code] ?? `code ${code}`;
}

/** Compressions geotiff 3.0.5 decodes everywhere (pure JavaScript). */
export const PURE_JS_COMPRESSIONS: ReadonlySet<number> = new Set([1, 5, 8, 32946, 32773]);
/** Compressions whose geotiff decoder compiles WebAssembly when first used (ZSTD; LERC loads the ZSTD decoder too). */
export const WASM_COMPRESSIONS: ReadonlySet<number> = new Set([50000, 34887]);

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Layout of one decoded block, as the Predictor tag sees it. */
export interface PredictorLayout {
  /** Cells per row of the block (tile width, or image width for strips). */
  width: number;
  /** Rows of the block (tile height, or RowsPerStrip); rows past the end of the buffer are skipped. */
  height: number;
  /** Bits of one sample: 8, 16, 32 or 64. */
  bitsPerSample: number;
  /** Samples per cell stored in this block: the band count when pixel-interleaved, else 1. */
  samples: number;
  /** Byte order of the file. */
  littleEndian: boolean;
}

/**
 * Undoes TIFF horizontal differencing (Predictor 2) in place, the way libtiff does: each sample is the sum
 * of itself and the same sample of the previous cell in the row, modulo 2^bits, on words in the file's byte
 * order. Float samples are treated as integer words of their size, as libtiff does. Throws a plain Error for
 * sample sizes other than 8/16/32/64 bits.
 */
export function undoHorizontalDifferencing(block: ArrayBuffer, layout: PredictorLayout): void {
  const { width, samples, littleEndian } = layout;
  const bytes = layout.bitsPerSample / 8;
  if (![1, 2, 4, 8].includes(bytes)) throw new Error(`Predictor 2 needs 8, 16, 32 or 64-bit samples, not ${layout.bitsPerSample}`);
  const rowWords = width * samples;
  const rowBytes = rowWords * bytes;
  const rows = Math.min(layout.height, Math.floor(block.byteLength / rowBytes));
  const native = littleEndian === HOST_LE;
  if (bytes === 1 || (native && bytes <= 4)) {
    const Words = bytes === 1 ? Uint8Array : bytes === 2 ? Uint16Array : Uint32Array;
    for (let r = 0; r < rows; r++) {
      const row = new Words(block, r * rowBytes, rowWords);
      for (let i = samples; i < rowWords; i++) row[i] = row[i]! + row[i - samples]!; // typed-array store wraps
    }
    return;
  }
  const view = new DataView(block);
  for (let r = 0; r < rows; r++) {
    const base = r * rowBytes;
    for (let i = samples; i < rowWords; i++) {
      const at = base + i * bytes;
      const prev = at - samples * bytes;
      if (bytes === 2) view.setUint16(at, view.getUint16(at, littleEndian) + view.getUint16(prev, littleEndian), littleEndian);
      else if (bytes === 4) view.setUint32(at, (view.getUint32(at, littleEndian) + view.getUint32(prev, littleEndian)) >>> 0, littleEndian);
      else view.setBigUint64(at, BigInt.asUintN(64, view.getBigUint64(at, littleEndian) + view.getBigUint64(prev, littleEndian)), littleEndian);
    }
  }
}

/**
 * Which cells of a LERC2 blob are invalid (masked), as GDAL's LERC codec writes them for NaN float cells:
 * null when every cell is valid (or the blob is not LERC2), else one byte per cell, 1 = invalid.
 * Reads only the blob header and its run-length-encoded mask. Throws a plain Error on a corrupt mask.
 */
export function lercInvalidCells(blob: ArrayBuffer): Uint8Array | null {
  if (blob.byteLength < 6 + 4) return null;
  const id = String.fromCharCode(...new Uint8Array(blob, 0, 6));
  if (!id.startsWith('Lerc2')) return null;
  const v = new DataView(blob);
  let p = 6;
  const version = v.getInt32(p, true);
  p += 4;
  if (version >= 3) p += 4; // checksum
  const height = v.getUint32(p, true);
  const width = v.getUint32(p + 4, true);
  p += 8;
  if (version >= 4) p += 4; // numDims
  const numValid = v.getUint32(p, true);
  p += 40; // numValid, microBlockSize, blobSize, imageType, maxZError, zMin, zMax
  const cells = width * height;
  if (numValid === cells) return null;
  const invalid = new Uint8Array(cells);
  if (numValid === 0) return invalid.fill(1);
  const maskBytes = v.getUint32(p, true);
  p += 4;
  if (maskBytes === 0) return null;
  // run-length encoded bitset: int16 count > 0 copies count bytes, < 0 repeats the next byte -count times;
  // -32768 ends it. Bit 7 of byte 0 is cell 0; a set bit means valid.
  const bits = new Uint8Array(Math.ceil(cells / 8));
  const end = p + maskBytes;
  let out = 0;
  let cnt = v.getInt16(p, true);
  p += 2;
  while (cnt !== -32768) {
    if (cnt > 0) {
      if (p + cnt > end || out + cnt > bits.length) throw new Error('LERC mask overruns its block');
      bits.set(new Uint8Array(blob, p, cnt), out);
      out += cnt;
      p += cnt;
    } else {
      if (p >= end || out - cnt > bits.length) throw new Error('LERC mask overruns its block');
      bits.fill(v.getUint8(p), out, out - cnt);
      out -= cnt;
      p += 1;
    }
    if (p + 2 > end) throw new Error('LERC mask has no end marker');
    cnt = v.getInt16(p, true);
    p += 2;
  }
  if (out < bits.length) throw new Error('LERC mask is shorter than the block');
  for (let k = 0; k < cells; k++) invalid[k] = (bits[k >> 3]! << (k & 7)) & 0x80 ? 0 : 1;
  return invalid;
}
