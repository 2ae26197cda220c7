/**
 * Kernel benchmark (npm run bench): the fused impact + zonal pass over a 4096 x 4096 synthetic
 * hazard / exposure / zones workload, for the TypeScript twin, WASM scalar and WASM SIMD, with 1 band
 * and with 51 bands (an ECMWF-sized ensemble). Figures are cells per second and ratios measured in
 * the same run (maplibre bench rules: same data, same process, report ratios, not absolute targets).
 *
 * The raster is fed in row chunks of CHUNK_ROWS, as the engine feeds tiles. Hazard bands for a chunk
 * are generated once and reused for every chunk (generating 855 M values would dominate the run);
 * exposure and zones differ per chunk. Every timed call includes copying inputs into WASM memory.
 */
import { loadKernel } from '../src/kernels/load-node.js';
import { NO_ZONE, STAT, STATS_PER_BAND, emptyPartial, type ImpactKernel, type ImpactPartial } from '../src/kernels/types.js';
import type { WasmKernel } from '../src/kernels/wasm.js';
import { lcg, FIAT_STRUCT_1 } from './common.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 4096);
const CHUNK_ROWS = 256;
const ZONES = 64;

const curve = FIAT_STRUCT_1;


/** Flood depth (m): a smooth field, member-dependent, 3% nodata. */
function hazardChunk(nBands: number): Float32Array {
  const n = CHUNK_ROWS * SIZE;
  const out = new Float32Array(n * nBands);
  const rnd = lcg(7);
  for (let b = 0; b < nBands; b++) {
    const shift = 1 + 0.02 * b;
    for (let r = 0; r < CHUNK_ROWS; r++) {
      for (let c = 0; c < SIZE; c++) {
        const v = 2.5 + 2.5 * Math.sin(c / 97 + b * 0.3) * Math.cos(r / 61) * shift + (rnd() - 0.5);
        out[b * n + r * SIZE + c] = rnd() < 0.03 ? NaN : Math.max(0, v);
      }
    }
  }
  return out;
}

function exposureAndZones(chunk: number): { exposure: Float64Array; zones: Uint32Array } {
  const n = CHUNK_ROWS * SIZE;
  const rnd = lcg(1000 + chunk);
  const exposure = new Float64Array(n);
  const zones = new Uint32Array(n);
  const side = Math.sqrt(ZONES);
  for (let r = 0; r < CHUNK_ROWS; r++) {
    const row = chunk * CHUNK_ROWS + r;
    for (let c = 0; c < SIZE; c++) {
      const i = r * SIZE + c;
      exposure[i] = rnd() < 0.02 ? NaN : 500 + 4500 * rnd() * rnd();
      // square admin units with a diagonal band of cells outside every zone (sea)
      zones[i] = Math.abs(row - c) < 16 ? NO_ZONE : Math.floor((row / SIZE) * side) * side + Math.floor((c / SIZE) * side);
    }
  }
  return { exposure, zones };
}

interface Run {
  seconds: number;
  result: ImpactPartial;
}

function run(kernel: ImpactKernel, nBands: number, hazard: Float32Array, inputs: Array<{ exposure: Float64Array; zones: Uint32Array }>): Run {
  const acc = emptyPartial(ZONES, nBands);
  const t0 = performance.now();
  for (const { exposure, zones } of inputs) {
    kernel.impactZonal({ cells: CHUNK_ROWS * SIZE, nBands, hazard, exposure, zones, nZones: ZONES, curves: [curve], threshold: 0.5 }, acc);
  }
  return { seconds: (performance.now() - t0) / 1000, result: acc };
}

function best(kernel: ImpactKernel, nBands: number, hazard: Float32Array, inputs: Array<{ exposure: Float64Array; zones: Uint32Array }>, reps: number): Run {
  let b: Run | undefined;
  for (let i = 0; i < reps; i++) {
    const r = run(kernel, nBands, hazard, inputs);
    if (!b || r.seconds < b.seconds) b = r;
  }
  return b!;
}

/** SIMD kernel alone, inputs already in WASM memory (what a zero-copy reader would pay). */
function kernelOnly(kernel: WasmKernel, nBands: number, hazard: Float32Array, inputs: Array<{ exposure: Float64Array; zones: Uint32Array }>): number {
  let seconds = 0;
  for (const { exposure, zones } of inputs) {
    const staged = kernel.stage({ cells: CHUNK_ROWS * SIZE, nBands, hazard, exposure, zones, nZones: ZONES, curves: [curve], threshold: 0.5 });
    const t0 = performance.now();
    kernel.run(staged);
    seconds += (performance.now() - t0) / 1000;
  }
  return seconds;
}

function totalDamage(p: ImpactPartial): number {
  let s = 0;
  for (let i = STAT.damage; i < p.stats.length; i += STATS_PER_BAND) s += p.stats[i]!;
  return s;
}

async function main(): Promise<void> {
  const chunks = SIZE / CHUNK_ROWS;
  const cells = SIZE * SIZE;
  console.log(`e4drr-ibf kernel bench: ${SIZE}x${SIZE} cells, ${ZONES} zones, curve of ${curve.spec.kind === 'table' ? curve.spec.intensity.length : 0} knots, chunks of ${CHUNK_ROWS} rows`);
  console.log(`node ${process.version}, ${process.arch}`);
  const inputs = Array.from({ length: chunks }, (_, c) => exposureAndZones(c));
  const kernels = [await loadKernel('ts'), await loadKernel('wasm-scalar'), await loadKernel('wasm-simd')];
  const rows: string[] = [];
  const times: Record<string, Record<number, number>> = {};
  for (const nBands of [1, 51]) {
    const hazard = hazardChunk(nBands);
    const reps = nBands === 1 ? 5 : 1;
    const totals: number[] = [];
    for (const k of kernels) {
      best(k, nBands, hazard, inputs.slice(0, 1), 1); // warm-up (JIT tiers, memory growth)
      const r = best(k, nBands, hazard, inputs, reps);
      (times[k.name] ??= {})[nBands] = r.seconds;
      totals.push(totalDamage(r.result));
      const rate = (cells * nBands) / r.seconds / 1e6;
      rows.push(`${String(nBands).padStart(3)} band(s)  ${k.name.padEnd(12)} ${r.seconds.toFixed(3).padStart(8)} s  ${rate.toFixed(1).padStart(8)} M cell-bands/s`);
    }
    const spread = Math.max(...totals.map((t) => Math.abs(t - totals[0]!) / Math.abs(totals[0]!)));
    rows.push(`          total damage ${totals[0]!.toExponential(12)} (max relative spread across kernels ${spread.toExponential(2)})`);
    const simd = kernels[2] as WasmKernel;
    const ko = kernelOnly(simd, nBands, hazard, inputs);
    rows.push(`          wasm-simd kernel only (inputs already in WASM memory): ${ko.toFixed(3)} s, ${((cells * nBands) / ko / 1e6).toFixed(1)} M cell-bands/s`);
  }
  console.log(rows.join('\n'));
  const t = times;
  console.log('\nratios (same run):');
  console.log(`  1 band : wasm-simd vs ts ${(t.ts![1]! / t['wasm-simd']![1]!).toFixed(2)}x   wasm-scalar vs ts ${(t.ts![1]! / t['wasm-scalar']![1]!).toFixed(2)}x   wasm-simd vs wasm-scalar ${(t['wasm-scalar']![1]! / t['wasm-simd']![1]!).toFixed(2)}x`);
  console.log(`  51 bands: wasm-simd vs ts ${(t.ts![51]! / t['wasm-simd']![51]!).toFixed(2)}x   wasm-scalar vs ts ${(t.ts![51]! / t['wasm-scalar']![51]!).toFixed(2)}x`);
  for (const k of kernels) {
    console.log(`  ${k.name.padEnd(12)} 51-band time / 1-band time = ${(t[k.name]![51]! / t[k.name]![1]!).toFixed(1)} (51 would be no gain from cache blocking)`);
  }
  console.log(`  targets: wasm-simd >= 3x ts on 1 band; 51 bands well under 51x the 1-band time`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
