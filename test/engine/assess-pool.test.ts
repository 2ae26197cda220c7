/**
 * `ibf assess --workers N`: the same scenario on this thread and on 1 or 2 worker threads gives the same
 * result, bit for bit (chunks are pure functions merged in chunk order).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKernel } from '../../src/kernels/load-node.js';
import { POOL_MIN_CELL_BANDS, runScenarioFile } from '../../src/node/run-scenario.js';
import { tempDir, writeJson, writeTif } from '../helpers.js';

describe('assess on a worker pool', () => {
  it('gives identical totals and zones for 0, 1 and 2 workers', async () => {
    const dir = tempDir();
    const size = 1024;
    const grid = { width: size, height: size, transform: [30, 0.001, 0, 2, 0, -0.001] as const, crs: 'EPSG:4326' };
    const bands = [0, 1, 2, 3].map((b) => new Float32Array(size * size).map((_, i) => ((i % size) / size) * 3 + (Math.floor(i / size) / size) * (1 + b / 2) - 0.5));
    writeTif(join(dir, 'hazard.tif'), grid, bands);
    writeTif(join(dir, 'exposure.tif'), grid, [new Float64Array(size * size).map((_, i) => 100 + (i % 97))]);
    writeJson(join(dir, 'zones.geojson'), {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { id: 'a' }, geometry: { type: 'Polygon', coordinates: [[[30.1, 1.1], [30.7, 1.2], [30.5, 1.9], [30.1, 1.1]]] } },
        { type: 'Feature', properties: { id: 'b' }, geometry: { type: 'Polygon', coordinates: [[[30.0, 1.0], [31.0, 1.0], [31.0, 1.5], [30.0, 1.5], [30.0, 1.0]]] } },
      ],
    });
    writeJson(join(dir, 's.json'), {
      hazard: { source: 'hazard.tif', unit: 'm', bands: { type: 'return-periods', returnPeriods: [2, 10, 50, 100] } },
      exposure: { source: 'exposure.tif', unit: 'USD' },
      vulnerability: 'jrc-flood-africa-residential',
      zones: { source: 'zones.geojson', idProperty: 'id' },
    });
    expect(size * size * 4).toBeGreaterThanOrEqual(POOL_MIN_CELL_BANDS);
    const kernel = await loadKernel();
    const strip = (r: { totals: unknown; zones: unknown }) => JSON.stringify({ totals: r.totals, zones: r.zones });
    const inline = (await runScenarioFile(join(dir, 's.json'), { kernel, workers: 0 })).result;
    for (const workers of [1, 2]) {
      const pooled = (await runScenarioFile(join(dir, 's.json'), { kernel, workers })).result;
      expect(strip(pooled)).toBe(strip(inline));
    }
    expect(inline.totals.ead).toBeGreaterThan(0);
    expect(inline.zones.map((z) => z.id)).toEqual(['a', 'b']);
  }, 60_000);
});

describe('assess survives a worker killed mid-run', () => {
  it('replaces the worker, retries its chunk, and gives the same result as a clean run', async () => {
    const { assessRasters } = await import('../../src/engine/assess.js');
    const { createPool } = await import('../../src/pool/pool.js');
    const { nodeWorkerFactory } = await import('../../src/pool/node.js');
    const { DamageFunction } = await import('../../src/model/damage-function.js');
    const size = 1024;
    const grid = { width: size, height: size, transform: [0, 1, 0, size, 0, -1] as const, crs: 'EPSG:32633' };
    const depth = new Float32Array(size * size).map((_, i) => ((i * 7919) % 1000) / 250);
    const value = new Float64Array(size * size).map((_, i) => 100 + (i % 89));
    const input = {
      hazard: { grid, bands: [depth, depth.map((v) => v * 1.5), depth.map((v) => v * 2)], nodata: null },
      hazardUnit: 'm',
      exposure: { grid, bands: [value], nodata: null },
      curves: [DamageFunction.fromTable({ unit: 'm', intensity: [0, 1, 2, 4], mdd: [0, 0.3, 0.6, 1] })],
    };
    const kernel = await loadKernel();
    const clean = await assessRasters(input, { kernel, tileCells: 65536 });
    const factory = nodeWorkerFactory();
    const handles: ReturnType<typeof factory>[] = [];
    const pool = createPool({ size: 2, maxRetries: 2, createWorker: () => { const h = factory(); handles.push(h); return h; }, loadKernel: () => loadKernel() });
    try {
      await pool.warmup();
      // 16 chunks: when the first one is done, kill a worker while the others are still queued or running
      let killed = false;
      const survived = await assessRasters(input, {
        kernel,
        pool,
        tileCells: 65536,
        onProgress: () => {
          if (!killed) {
            killed = true;
            void handles[0]!.worker.terminate();
          }
        },
      });
      expect(killed).toBe(true);
      expect(JSON.stringify(survived.totals)).toBe(JSON.stringify(clean.totals));
      expect(handles.length).toBeGreaterThan(2); // a replacement was started
      expect(pool.stats().replaced).toBeGreaterThanOrEqual(1);
    } finally {
      await pool.close();
    }
  }, 60_000);
});
