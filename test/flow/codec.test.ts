/**
 * The result codec: what a disk store writes reads back as the same value (typed arrays bit for bit,
 * NaN, -0, undefined, Map, Set, Date, bigint), values no JSON can keep are refused with the path, and
 * the sync SHA-256 and base64 agree with Node's own (fast-check).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { canonicalJson, decodeValue, encodeValue, fromBase64, hashValue, sha256Hex, toBase64 } from '../../src/flow/codec.js';

const roundTrip = (v: unknown) => decodeValue(JSON.parse(JSON.stringify(encodeValue(v))));

describe('encodeValue / decodeValue', () => {
  it('keeps what JSON loses', () => {
    const value = {
      f32: new Float32Array([1.5, NaN, -0, 3.4e38]),
      f64: new Float64Array([Math.PI, -Infinity]),
      u8: new Uint8Array([0, 255]),
      i16: new Int16Array([-32768, 7]),
      big: new BigInt64Array([-5n, 2n ** 62n]),
      buffer: new Uint8Array([1, 2, 3]).buffer,
      numbers: [NaN, Infinity, -Infinity, -0, 0, 1e-310],
      nothing: undefined,
      list: [undefined, null],
      n: 12345678901234567890n,
      when: new Date(Date.UTC(2024, 2, 1)),
      map: new Map<unknown, unknown>([['a', 1], [2, new Set(['x'])]]),
      tagged: { $type: 'Float32Array', base64: 'not a tag' },
      nested: { deep: { $type: 'number' } },
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(back.f32).toBeInstanceOf(Float32Array);
    expect(Object.is(back.f32[2], -0)).toBe(true);
    expect(Object.is(back.numbers[3], -0)).toBe(true);
    expect(back.buffer).toBeInstanceOf(ArrayBuffer);
    expect(back.tagged).toEqual({ $type: 'Float32Array', base64: 'not a tag' });
    expect('nothing' in back).toBe(true);
  });

  it('stores only the view of a typed array, not its whole buffer', () => {
    const whole = new Float64Array([1, 2, 3, 4]);
    const back = roundTrip(whole.subarray(1, 3)) as Float64Array;
    expect([...back]).toEqual([2, 3]);
  });

  it.each([
    [{ a: { b: () => 1 } }, 'a function at a.b'],
    [{ list: [1, Symbol('s')] }, 'a symbol at list[1]'],
    [{ m: new (class Model {})() }, 'an instance of Model at m'],
  ])('refuses %o', (value, what) => {
    expect(() => encodeValue(value)).toThrow(expect.objectContaining({ code: 'E_FLOW_RESULT', message: `cannot store ${what}` }));
  });

  it('refuses a cycle but allows the same object twice', () => {
    const shared = { x: 1 };
    expect(roundTrip({ a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } });
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => encodeValue(loop)).toThrow(IbfError);
  });

  it('round-trips arbitrary JSON-like values (property)', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: false, withObjectString: false, withBoxedValues: false, withSparseArray: false }), (v) => {
        expect(roundTrip(v)).toEqual(v);
      }),
      { numRuns: 300 },
    );
  });
});

describe('hashing', () => {
  it('sha256Hex equals node:crypto (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
      }),
      { numRuns: 300 },
    );
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('base64 equals Buffer (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = toBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect([...fromBase64(text)]).toEqual([...bytes]);
      }),
    );
  });

  it('hashValue ignores key order and sees typed array contents', () => {
    expect(hashValue({ a: 1, b: [2, { c: 3, d: 4 }] })).toBe(hashValue({ b: [2, { d: 4, c: 3 }], a: 1 }));
    expect(hashValue(new Float32Array([1, 2]))).not.toBe(hashValue(new Float32Array([1, 3])));
    expect(hashValue(new Float32Array([1, 2]))).not.toBe(hashValue(new Float64Array([1, 2])));
    expect(canonicalJson({ b: 1, a: [true, null] })).toBe('{"a":[true,null],"b":1}');
  });
});
