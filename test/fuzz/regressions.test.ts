/**
 * Cases the fuzz tests found, kept as plain tests (each failed before its fix in src/).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRasterInfo } from '../../src/io/geotiff.js';
import { REPO, ibfError } from '../helpers.js';
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
