/**
 * End-to-end bench (npm run bench): one assessment of an 8192 x 8192 hazard / exposure / zones workload
 * (generated deterministically in memory, one flood band, 64 square zones given as coverage windows) on
 * this thread, on 1 worker and on 2 workers, in the same run; time split by phase. Issue #4's target is
 * 2 workers >= 1.7x 1 worker on 2 cores; reading files is not part of this bench (in-memory rasters).
 */
import { assessRasters } from '../src/engine/assess.js';
import { loadKernel } from '../src/kernels/load-node.js';
import { DamageFunction } from '../src/model/damage-function.js';
import type { CoverageWindow } from '../src/model/zones.js';
import { createNodePool } from '../src/pool/node.js';
import { lcg } from './common.js';

const SIZE = Number(process.env.BENCH_E2E_SIZE ?? 8192);
const curve = DamageFunction.fromTable({
  unit: 'm',
  intensity: [0, 0.5, 1, 1.5, 2, 3, 4, 5, 6],
  mdd: [0, 0.25, 0.4, 0.5, 0.6, 0.75, 0.85, 0.95, 1], // JRC Europe residential knots (catalog jrc-flood-europe-residential)
});


async function main(): Promise<void> {
  const n = SIZE * SIZE;
  const grid = { width: SIZE, height: SIZE, transform: [0, 1, 0, SIZE, 0, -1] as const, crs: 'EPSG:32633' };
  let t = performance.now();
  const rnd = lcg(42);
  const depth = new Float32Array(n);
  const value = new Float64Array(n);
  for (let r = 0; r < SIZE; r++) {
    for (let c = 0; c < SIZE; c++) {
      const i = r * SIZE + c;
      depth[i] = Math.max(0, 3 * Math.sin(c / 300) * Math.cos(r / 211) + rnd() - 0.5);
      value[i] = rnd() < 0.05 ? NaN : 1000 + 9000 * rnd();
    }
  }
  const side = 8;
  const step = SIZE / side;
  const zones: Array<{ id: string; window: CoverageWindow }> = [];
  for (let zr = 0; zr < side; zr++) {
    for (let zc = 0; zc < side; zc++) {
      zones.push({ id: `z${zr}-${zc}`, window: { x0: zc * step, y0: zr * step, width: step, height: step, weights: new Float32Array(step * step).fill(1) } });
    }
  }
  const genMs = performance.now() - t;
  console.log(`e2e bench: ${SIZE}x${SIZE} cells, 1 band, ${zones.length} zones (generated in ${(genMs / 1000).toFixed(1)} s)`);
  const kernel = await loadKernel();
  const input = { hazard: { grid, bands: [depth], nodata: null }, hazardUnit: 'm', exposure: { grid, bands: [value], nodata: null }, curves: [curve], zones };
  const runs: Record<string, number> = {};
  let reference: string | undefined;
  for (const workers of [0, 1, 2]) {
    const pool = workers > 0 ? createNodePool({ size: workers, kernel: kernel.name }) : undefined;
    try {
      await pool?.warmup();
      let best = Infinity;
      for (let rep = 0; rep < 2; rep++) {
        t = performance.now();
        const out = await assessRasters(input, { kernel, pool });
        best = Math.min(best, performance.now() - t);
        const key = JSON.stringify([out.totals.damage, out.zones.map((z) => z.damage)]);
        reference ??= key;
        if (key !== reference) throw new Error(`results differ with ${workers} workers`);
      }
      runs[workers] = best;
      // totals pass + 64 zone passes over the same cells: twice the grid through the kernel
      console.log(`  ${workers === 0 ? 'this thread' : `${workers} worker${workers > 1 ? 's' : ''}`.padEnd(11)} ${(best / 1000).toFixed(2).padStart(6)} s  ${((2 * n) / (best / 1000) / 1e6).toFixed(1)} M cells/s (kernel passes over totals and zones)`);
    } finally {
      await pool?.close();
    }
  }
  console.log('ratios (same run):');
  console.log(`  2 workers vs 1 worker: ${(runs[1]! / runs[2]!).toFixed(2)}x (target >= 1.7x on 2 cores)   1 worker vs this thread: ${(runs[0]! / runs[1]!).toFixed(2)}x`);
  console.log('  results identical for 0, 1 and 2 workers');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
