/**
 * The pure block fixes of io/tiff-decode, on hand-made blocks (the GDAL fixtures in formats.test.ts prove
 * them on real files): horizontal differencing in either byte order and for 64-bit words, and the LERC2
 * validity mask.
 */
import { describe, expect, it } from 'vitest';
import { compressionName, lercInvalidCells, undoHorizontalDifferencing } from '../../src/io/tiff-decode.js';

/** Differences a row the way libtiff's encoder does (per sample, modulo 2^bits), in the given byte order. */
function differenced(values: bigint[], bits: 16 | 32 | 64, samples: number, le: boolean): ArrayBuffer {
  const bytes = bits / 8;
  const v = new DataView(new ArrayBuffer(values.length * bytes));
  const mask = (1n << BigInt(bits)) - 1n;
  values.forEach((x, i) => {
    const d = (i < samples ? x : x - values[i - samples]!) & mask;
    if (bits === 16) v.setUint16(i * 2, Number(d), le);
    else if (bits === 32) v.setUint32(i * 4, Number(d), le);
    else v.setBigUint64(i * 8, d, le);
  });
  return v.buffer;
}

function words(buf: ArrayBuffer, bits: 16 | 32 | 64, le: boolean): bigint[] {
  const v = new DataView(buf);
  const n = buf.byteLength / (bits / 8);
  return Array.from({ length: n }, (_, i) => (bits === 16 ? BigInt(v.getUint16(i * 2, le)) : bits === 32 ? BigInt(v.getUint32(i * 4, le)) : v.getBigUint64(i * 8, le)));
}

describe('undoHorizontalDifferencing (Predictor 2)', () => {
  const row = (bits: number) => [0n, 1n, (1n << BigInt(bits)) - 1n, 5n, 1n << BigInt(bits - 1), 7n, 3n, 2n]; // wraps both ways
  for (const bits of [16, 32, 64] as const) {
    for (const le of [true, false]) {
      for (const samples of [1, 2]) {
        it(`${bits}-bit, ${le ? 'little' : 'big'}-endian, ${samples} sample(s) per cell, two rows`, () => {
          const values = [...row(bits), ...row(bits).reverse()];
          const width = 8 / samples;
          const a = differenced(values.slice(0, 8), bits, samples, le);
          const b = differenced(values.slice(8), bits, samples, le);
          const block = new Uint8Array(a.byteLength * 2);
          block.set(new Uint8Array(a));
          block.set(new Uint8Array(b), a.byteLength);
          undoHorizontalDifferencing(block.buffer, { width, height: 2, bitsPerSample: bits, samples, littleEndian: le });
          expect(words(block.buffer, bits, le)).toEqual(values);
        });
      }
    }
  }

  it('stops at the end of a short last strip and refuses odd sample sizes', () => {
    const buf = differenced([1n, 2n, 3n], 16, 1, true);
    undoHorizontalDifferencing(buf, { width: 3, height: 10, bitsPerSample: 16, samples: 1, littleEndian: true });
    expect(words(buf, 16, true)).toEqual([1n, 2n, 3n]);
    expect(() => undoHorizontalDifferencing(new ArrayBuffer(6), { width: 4, height: 1, bitsPerSample: 12, samples: 1, littleEndian: true })).toThrow(/8, 16, 32 or 64/);
  });
});

/** A LERC2 (version 3) header for a width x height blob with `numValid` valid cells, then the mask bytes. */
function lerc(width: number, height: number, numValid: number, mask: number[]): ArrayBuffer {
  const head = 6 + 4 + 4 + 8 + 40;
  const v = new DataView(new ArrayBuffer(head + 4 + mask.length));
  'Lerc2 '.split('').forEach((c, i) => v.setUint8(i, c.charCodeAt(0)));
  v.setInt32(6, 3, true);
  v.setUint32(14, height, true);
  v.setUint32(18, width, true);
  v.setUint32(22, numValid, true);
  v.setUint32(head, mask.length, true);
  mask.forEach((b, i) => v.setUint8(head + 4 + i, b));
  return v.buffer;
}
const i16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];

describe('lercInvalidCells', () => {
  it('reads the run-length encoded mask (set bit = valid)', () => {
    // 4x3 = 12 cells, 2 mask bytes: 0b10110000 literal, then 0xff repeated once; end marker -32768
    const blob = lerc(4, 3, 9, [...i16(1), 0b10110000, ...i16(-1), 0xff, ...i16(-32768)]);
    expect(Array.from(lercInvalidCells(blob)!)).toEqual([0, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
  });

  it('null when every cell is valid or the blob is not LERC2; all invalid when none is valid', () => {
    expect(lercInvalidCells(lerc(4, 3, 12, []))).toBeNull();
    expect(lercInvalidCells(new TextEncoder().encode('CntZImage 1234567').buffer as ArrayBuffer)).toBeNull();
    expect(Array.from(lercInvalidCells(lerc(2, 2, 0, []))!)).toEqual([1, 1, 1, 1]);
  });

  it('a corrupt mask throws (readRaster turns it into E_TIFF_INVALID)', () => {
    expect(() => lercInvalidCells(lerc(4, 3, 9, [...i16(5), 1, 2]))).toThrow(/overruns/);
    expect(() => lercInvalidCells(lerc(4, 3, 9, [...i16(1), 0xff, ...i16(-32768)]))).toThrow(/shorter/);
    expect(() => lercInvalidCells(lerc(4, 3, 9, [...i16(2), 0xff, 0xff]))).toThrow(/end marker/);
  });
});

it('compressionName', () => {
  expect(compressionName(34925)).toBe('LZMA');
  expect(compressionName(50000)).toBe('ZSTD');
  expect(compressionName(12345)).toBe('code 12345');
});
