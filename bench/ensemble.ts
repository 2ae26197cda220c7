/**
 * Ensemble bench (issue #4, section 6): 51 members on a hazard grid 4x coarser than a 4096 x 4096
 * exposure grid, nearest, with 64 zones (coverage windows, a diagonal strip in no zone), against a
 * single-band assessment on the same exposure grid, in the same run. Target: 51 members at most 8x the
 * single band.
 *
 * - single band, per cell: the hazard upsampled onto the exposure grid (ResamplePlan.run, what
 *   readAligned does) and assessRasters' fused per-cell pass: the conventional single-band assessment.
 * - single band, aggregated: the same through the aggregated nearest path (what `ibf assess` now runs).
 * - 51 members, aggregated: assessRasters with `nearest` (src/engine/aggregate.ts). The per-cell path
 *   cannot run here at all: 51 upsampled bands are 855 M float32 cells (3.4 GB), over resampling's
 *   2^28-cell limit.
 *
 * Everything is generated deterministically in memory; timings are best of REPS, wasm-simd kernel.
 * Run: npm run build:ts && node dist/bench/ensemble.js   (BENCH_SIZE=2048 for a quick run)
 */
import { assessRasters, type AssessRastersInput } from '../src/engine/assess.js';
import { planResample } from '../src/geo/resample.js';
import { loadKernel } from '../src/kernels/load-node.js';
import type { Grid } from '../src/model/grid.js';
import type { CoverageWindow } from '../src/model/zones.js';
import { lcg, FIAT_STRUCT_1 } from './common.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 4096);
const FACTOR = 4;
const MEMBERS = 51;
const ZONES_SIDE = 8;
const REPS = Number(process.env.BENCH_REPS ?? 3);

const curve = FIAT_STRUCT_1;


const EXP: Grid = { width: SIZE, height: SIZE, transform: [0, 100, 0, SIZE * 100, 0, -100], crs: 'EPSG:3857' };
const HS = SIZE / FACTOR;
const HAZ: Grid = { width: HS, height: HS, transform: [0, 100 * FACTOR, 0, SIZE * 100, 0, -100 * FACTOR], crs: 'EPSG:3857' };

/** Flood depth (m) per member: a smooth member-dependent field, 3% nodata. */
function hazardBands(n: number): Float32Array[] {
  const rnd = lcg(7);
  return Array.from({ length: n }, (_, b) => {
    const out = new Float32Array(HS * HS);
    const shift = 1 + 0.02 * b;
    for (let r = 0; r < HS; r++) {
      for (let c = 0; c < HS; c++) {
        const v = 2.5 + 2.5 * Math.sin(c / 24 + b * 0.3) * Math.cos(r / 15) * shift + (rnd() - 0.5);
        out[r * HS + c] = rnd() < 0.03 ? NaN : Math.max(0, v);
      }
    }
    return out;
  });
}

function exposure(): Float64Array {
  const rnd = lcg(1000);
  return Float64Array.from({ length: SIZE * SIZE }, () => (rnd() < 0.02 ? NaN : 500 + 4500 * rnd() * rnd()));
}

/** 8 x 8 square zones; cells within 16 of the diagonal (sea) in none; fractional coverage on zone edges. */
function zones(): Array<{ id: string; window: CoverageWindow }> {
  const side = SIZE / ZONES_SIDE;
  const out: Array<{ id: string; window: CoverageWindow }> = [];
  for (let zr = 0; zr < ZONES_SIDE; zr++) {
    for (let zc = 0; zc < ZONES_SIDE; zc++) {
      const x0 = zc * side;
      const y0 = zr * side;
      const weights = new Float32Array(side * side);
      for (let r = 0; r < side; r++) {
        for (let c = 0; c < side; c++) {
          const row = y0 + r;
          const col = x0 + c;
          weights[r * side + c] = Math.abs(row - col) < 16 ? 0 : r === 0 || c === 0 ? 0.5 : 1;
        }
      }
      out.push({ id: `Z${zr}${zc}`, window: { x0, y0, width: side, height: side, weights } });
    }
  }
  return out;
}

async function best(f: () => Promise<unknown>): Promise<number> {
  let t = Infinity;
  for (let i = 0; i < REPS; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    await f();
    t = Math.min(t, (performance.now() - t0) / 1000);
  }
  return t;
}

async function main(): Promise<void> {
  const kernel = await loadKernel('wasm-simd');
  const cells = SIZE * SIZE;
  console.log(`e4drr-ibf ensemble bench: exposure ${SIZE}x${SIZE}, hazard ${HS}x${HS} (${FACTOR}x coarser, nearest), ${MEMBERS} members, ${ZONES_SIDE * ZONES_SIDE} zones, kernel ${kernel.name}, best of ${REPS}`);
  console.log(`node ${process.version}, ${process.arch}`);
  const all = hazardBands(MEMBERS);
  const one = { grid: HAZ, bands: [all[0]!], nodata: null };
  const ens = { grid: HAZ, bands: all, nodata: null };
  const base: Omit<AssessRastersInput, 'hazard'> = {
    hazardUnit: 'm', exposure: { grid: EXP, bands: [exposure()], nodata: null }, curves: [curve], affectedThreshold: 0.5, zones: zones(),
  };
  const plan = planResample(HAZ, EXP, { method: 'nearest' });
  const whole: [number, number, number, number] = [0, 0, HS, HS];

  let perCell1 = 0;
  const t1 = await best(async () => {
    const onGrid = plan.run(one, { kernel }); // readAligned's resampling
    perCell1 = (await assessRasters({ ...base, hazard: onGrid }, { kernel })).totals.damage[0]!;
  });
  let agg1 = 0;
  const a1 = await best(async () => {
    agg1 = (await assessRasters({ ...base, hazard: one, nearest: { plan, window: whole } }, { kernel })).totals.damage[0]!;
  });
  let agg51 = 0;
  const a51 = await best(async () => {
    const out = await assessRasters({ ...base, hazard: ens, nearest: { plan, window: whole } }, { kernel });
    if (!out.aggregated) throw new Error('the aggregated path did not run');
    agg51 = out.totals.damage[0]!;
  });
  const rate = (bands: number, s: number) => `${((cells * bands) / s / 1e6).toFixed(1).padStart(7)} M cell-bands/s`;
  console.log(`  1 band,  per cell (upsample + fused pass)  ${t1.toFixed(3).padStart(7)} s  ${rate(1, t1)}`);
  console.log(`  1 band,  aggregated                        ${a1.toFixed(3).padStart(7)} s  ${rate(1, a1)}`);
  console.log(`  ${MEMBERS} bands, aggregated                        ${a51.toFixed(3).padStart(7)} s  ${rate(MEMBERS, a51)}`);
  console.log(`  member 0 total damage: per cell ${perCell1.toExponential(12)}, aggregated ${agg1.toExponential(12)} (relative difference ${(Math.abs(agg1 - perCell1) / perCell1).toExponential(2)}); 51-band run member 0 ${agg51.toExponential(12)}`);
  console.log('\nratios (same run):');
  console.log(`  ${MEMBERS} members aggregated / 1 band per cell = ${(a51 / t1).toFixed(2)}x   (target <= 8x; a native C reference: ~5.6x)`);
  console.log(`  ${MEMBERS} members aggregated / 1 band aggregated = ${(a51 / a1).toFixed(2)}x`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
