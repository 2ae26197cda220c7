/** Reading onto the target grid decodes only the source window the target needs, with the same cells as a full read. */
import { describe, expect, it } from 'vitest';
import { readAligned } from '../../src/engine/align.js';
import { resampleRaster } from '../../src/geo/resample.js';
import { readRaster, writeGeoTiff } from '../../src/io/geotiff.js';
import { loadKernel } from '../../src/kernels/load-node.js';

describe('readAligned', () => {
  it('reads a small window of a large hazard and resamples it exactly as the whole file', async () => {
    // a 0.01-degree "forecast" over 20 x 10 degrees; the target: 0.005-degree cells over a 0.5 x 0.3 degree area
    const width = 2000;
    const height = 1000;
    const values = new Float32Array(width * height).map((_, i) => ((i % width) * 0.001 + Math.floor(i / width) * 0.002) % 7);
    const bytes = new Uint8Array(writeGeoTiff({ grid: { width, height, transform: [0, 0.01, 0, 50, 0, -0.01], crs: 'EPSG:4326' }, bands: [values], nodata: null }));
    const target = { width: 100, height: 60, transform: [12.3, 0.005, 0, 45.6, 0, -0.005] as const, crs: 'EPSG:4326' };
    const kernel = await loadKernel();
    for (const method of ['nearest', 'bilinear'] as const) {
      const a = await readAligned(bytes, target, { name: 'forecast', method, kernel });
      expect(a.resampled).toBe(true);
      const [x0, y0, x1, y1] = a.window!;
      // the window covers the target's 0.5 x 0.3 degrees plus a margin: a few thousand of the 2 M cells
      expect((x1 - x0) * (y1 - y0)).toBeLessThan(5000);
      const whole = resampleRaster(await readRaster(bytes), target, { method, kernel });
      expect(Array.from(a.raster.bands[0]!)).toEqual(Array.from(whole.bands[0]!));
    }
  });

  it('reads a file on the target grid whole, and a file off the grid gives nodata everywhere', async () => {
    const grid = { width: 4, height: 3, transform: [0, 1, 0, 3, 0, -1] as const, crs: 'EPSG:4326' };
    const bytes = new Uint8Array(writeGeoTiff({ grid, bands: [new Float32Array(12).fill(2)], nodata: null }));
    const same = await readAligned(bytes, grid, { name: 'x', method: 'bilinear' });
    expect(same).toMatchObject({ resampled: false, window: null });
    const far = await readAligned(bytes, { ...grid, transform: [100, 1, 0, 50, 0, -1] }, { name: 'x', method: 'bilinear' });
    expect(Array.from(far.raster.bands[0]!).every(Number.isNaN)).toBe(true);
  });
});
