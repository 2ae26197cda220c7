/**
 * The edge fixtures (test/fixtures/edge/README.md) are the files the README describes, and the ZSTD and
 * LERC COGs that workerd refuses (test/edge/workerd/edge.spec.ts) are good files: Node decodes them to
 * the cells of the Delft-FIAT event map they were made from (examples/fiat-grid/event_map.tif).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/engine/manifest.js';
import { readRaster, readRasterInfo } from '../../src/io/geotiff.js';
import { REPO } from '../helpers.js';

const file = (name: string) => new Uint8Array(readFileSync(join(REPO, 'test', 'fixtures', 'edge', name)));

describe('edge fixtures', () => {
  it('match the sizes and hashes in their README', async () => {
    const readme = readFileSync(join(REPO, 'test', 'fixtures', 'edge', 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| ([\w.-]+\.(?:tif|geojson)) \| (\d+) \| ([0-9a-f]{12}) \|/gm)];
    expect(rows.map((r) => r[1])).toEqual(['rice-asia-cog.tif', 'countries-asia.geojson', 'event-zstd-cog.tif', 'event-lerc-cog.tif']);
    for (const [, name, bytes, sha] of rows) {
      const b = file(name!);
      expect(b.byteLength).toBe(Number(bytes));
      expect((await sha256Hex(b)).slice(0, 12)).toBe(sha);
    }
  });

  it('the rice COG is 1200 x 720 Float64 in 128 x 128 DEFLATE tiles', async () => {
    const info = await readRasterInfo(file('rice-asia-cog.tif'));
    expect([info.grid.width, info.grid.height, info.dataType, info.block.width, info.block.height]).toEqual([1200, 720, 'float64', 128, 128]);
    expect(info.compression).toBe(8); // TIFF compression 8: DEFLATE
  });

  for (const name of ['event-zstd-cog.tif', 'event-lerc-cog.tif']) {
    it(`${name} decodes in Node to the event map's cells`, async () => {
      const want = await readRaster(new Uint8Array(readFileSync(join(REPO, 'examples', 'fiat-grid', 'event_map.tif'))));
      const got = await readRaster(file(name));
      expect(got.grid).toEqual(want.grid);
      expect(Array.from(got.bands[0]!)).toEqual(Array.from(want.bands[0]!));
    });
  }
});
