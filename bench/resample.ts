/**
 * Resampling benchmark: bilinear (and nearest) resampling of a 4096 x 4096 float32 hazard onto an
 * 8192 x 8192 target grid (same CRS, half the cell size, offset by a fraction of a cell so no
 * coordinate is trivial), for the TypeScript twin, WASM scalar and WASM SIMD, in one process with the
 * same data (maplibre bench rules: report ratios measured in the same run).
 *
 * Each timed run is a full `resampleRaster` call: the approximate transform (one segment per row
 * here), copying the source into WASM memory, the kernel over 2^20-cell strips, and copying each strip
 * out. Memory: the source, one 256 MiB output, the WASM copy of the source and one strip.
 *
 *   npm run build && node --expose-gc dist/bench/resample.js   (BENCH_RESAMPLE_SIZE=1024 for a quick run)
 */
import { loadKernel } from '../src/kernels/load-node.js';
import { resampleRaster } from '../src/geo/resample.js';
import type { Grid } from '../src/model/grid.js';
import type { Raster } from '../src/model/raster.js';
import { lcg } from './common.js';

const SIZE = Number(process.env.BENCH_RESAMPLE_SIZE ?? 4096);
const REPEAT = Number(process.env.BENCH_RESAMPLE_REPEAT ?? 2);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});


/** Flood depth (m) on 100 m cells: a smooth field, 3% nodata (NaN). */
function hazard(): Raster<Float32Array> {
  const rnd = lcg(7);
  const band = new Float32Array(SIZE * SIZE);
  for (let r = 0; r < SIZE; r++) {
    for (let c = 0; c < SIZE; c++) {
      const v = 2.5 + 2.5 * Math.sin(c / 97) * Math.cos(r / 61) + (rnd() - 0.5);
      band[r * SIZE + c] = rnd() < 0.03 ? NaN : Math.max(0, v);
    }
  }
  const grid: Grid = { width: SIZE, height: SIZE, transform: [500000, 100, 0, 5000000, 0, -100], crs: 'EPSG:32633' };
  return { grid, bands: [band], nodata: null };
}

/** FNV-1a over the float32 bits: compares runs without keeping two 256 MiB outputs. */
function checksum(a: Float32Array): string {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  let h = 0x811c9dc5;
  for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i]!, 16777619);
  return (h >>> 0).toString(16);
}

async function main(): Promise<void> {
  const src = hazard();
  const target: Grid = { width: 2 * SIZE, height: 2 * SIZE, transform: [500000 + 13, 50, 0, 5000000 - 7, 0, -50], crs: 'EPSG:32633' };
  const cells = target.width * target.height;
  console.log(`resample ${SIZE}x${SIZE} -> ${target.width}x${target.height} (${(cells / 1e6).toFixed(1)} M target cells), best of ${REPEAT}`);
  for (const method of ['bilinear', 'nearest'] as const) {
    const rows: Array<{ name: string; seconds: number; sum: string }> = [];
    for (const name of ['ts', 'wasm-scalar', 'wasm-simd'] as const) {
      const kernel = await loadKernel(name);
      let best = Infinity;
      let sum = '';
      for (let i = 0; i < REPEAT; i++) {
        gc();
        const t0 = performance.now();
        const out = resampleRaster(src, target, { method, kernel });
        best = Math.min(best, (performance.now() - t0) / 1000);
        sum = checksum(out.bands[0]!);
      }
      rows.push({ name, seconds: best, sum });
    }
    const ts = rows[0]!.seconds;
    for (const r of rows) {
      console.log(
        `${method.padEnd(8)} ${r.name.padEnd(11)} ${r.seconds.toFixed(3)} s  ${(cells / r.seconds / 1e6).toFixed(1)} M cells/s  ` +
          `${(ts / r.seconds).toFixed(2)}x twin  checksum ${r.sum}${r.sum === rows[0]!.sum ? '' : '  MISMATCH'}`,
      );
    }
    if (rows.some((r) => r.sum !== rows[0]!.sum)) process.exitCode = 1;
  }
}

await main();
