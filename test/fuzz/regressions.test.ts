/**
 * Cases the fuzz tests found, kept as plain tests (each failed before its fix in src/).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseFlow } from '../../src/flow/document.js';
import { TaskRegistry } from '../../src/flow/registry.js';
import { readRasterInfo } from '../../src/io/geotiff.js';
import { REPO, ibfError, thrown } from '../helpers.js';
import { TAGS, layout, mutate } from './tiff-mutate.js';

const fixture = (name: string) => new Uint8Array(readFileSync(join(REPO, 'test', 'fixtures', 'formats', name)));

describe('GeoTIFF: impossible block sizes are refused at open (found by test/fuzz/geotiff.test.ts)', () => {
  // a RowsPerStrip stored as a DOUBLE reads as a denormal (2.1e-314), a TileWidth of 0: the window loops
  // `for (ty = 0; ty * th < y1; ty++)` endless: a hang, growing memory, never an error
  const strip = fixture('f32-none-strip.tif');
  const rows = layout(strip).entries.findIndex((e) => e.tag === TAGS.RowsPerStrip);
  it.each([
    ['RowsPerStrip as a DOUBLE', mutate(strip, [{ kind: 'type', entry: rows, type: 12 }])],
    ['TileWidth 0', mutate(fixture('f32-none-tile.tif'), [{ kind: 'value', tag: TAGS.TileWidth, index: 0, value: { c: 0 } }])],
  ])('%s: E_TIFF_INVALID naming the block size', async (_, bytes) => {
    const e = await ibfError(readRasterInfo(bytes, { name: 'x.tif' }));
    expect(e.code).toBe('E_TIFF_INVALID');
    expect(e.message).toMatch(/x\.tif: .*block/);
  });
});

describe('GeoTIFF: band counts past what TIFF allows are refused at open (found by test/fuzz/geotiff.test.ts)', () => {
  // SamplesPerPixel is a SHORT in TIFF 6.0 (at most 65535); stored as a LONG it claimed 327 155 712
  // bands, and readRasterInfo built per-band arrays of that length: the process ran out of heap
  const bands = (n: number) => {
    const b = fixture('f32-none-strip.tif');
    const e = layout(b).entries.find((x) => x.tag === TAGS.SamplesPerPixel)!;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    dv.setUint16(e.at + 2, 4, true); // LONG
    dv.setUint32(e.at + 8, n, true);
    return b;
  };
  it('65 536 bands: E_TIFF_INVALID naming the count, before any per-band work', async () => {
    const e = await ibfError(readRasterInfo(bands(65_536), { name: 'x.tif' }));
    expect(e.code).toBe('E_TIFF_INVALID');
    expect(e.message).toMatch(/x\.tif: .*65536 bands/);
  });
});

describe('flow documents: a condition without a task is a problem, not a TypeError (found by test/fuzz/documents.test.ts)', () => {
  const registry = new TaskRegistry().register('noop', { schema: z.object({}), run: () => 1 });
  it.each([[{}], [{ zz: 1 }], [[]], [{ all: [{ is: 'Completed' }] }]])('trigger %j: E_FLOW_INVALID naming the task\'s trigger', (trigger) => {
    const doc = { name: 'f', tasks: [{ name: 'a', type: 'noop' }, { name: 'b', type: 'noop', trigger }] };
    const e = thrown(() => parseFlow(doc, registry));
    expect(e.code).toBe('E_FLOW_INVALID');
    expect(e.problems!.some((p) => p.path.startsWith('b.trigger'))).toBe(true);
  });
});
