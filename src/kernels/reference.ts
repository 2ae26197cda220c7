/**
 * @module kernels/reference
 * The pure-TypeScript twin of the WASM kernels: the plain per-cell loop, in f64, that defines what
 * the kernels compute. Runs everywhere (no WASM needed) and is the oracle of the conformance suite.
 */
import { BLOCK, statusError, checkInputs } from './abi.js';
import {
  NO_ZONE, STAT, STATS_PER_BAND, STATS_PER_ZONE, emptyPartial,
  type ImpactInputs, type ImpactKernel, type ImpactPartial,
} from './types.js';
import type { DamageFunction } from '../model/damage-function.js';

export class ReferenceKernel implements ImpactKernel {
  readonly name = 'ts' as const;

  mdr(curve: DamageFunction, xs: Float32Array): Float64Array {
    const out = new Float64Array(xs.length);
    for (let i = 0; i < xs.length; i++) out[i] = curve.mdr(xs[i]!);
    return out;
  }

  impactZonal(inp: ImpactInputs, into?: ImpactPartial): ImpactPartial {
    const { stride, nZones, fractionStride } = checkInputs(inp);
    const { cells: n, nBands, hazard, exposure, zones, weights, classes, curves, threshold, fraction } = inp;
    const acc = into ?? emptyPartial(nZones, nBands);
    const hasExpNd = inp.exposureNodata != null;
    const expNd = inp.exposureNodata ?? 0;
    const hasHazNd = inp.hazardNodata != null;
    const hazNd = Math.fround(inp.hazardNodata ?? 0);
    // Cell pass: validity, weights and zones (band independent); zone totals summed per run of one
    // zone within a block, as asm/impact.ts does.
    const ew = new Float64Array(n);
    for (let start = 0; start < n; start += BLOCK) {
      const end = Math.min(n, start + BLOCK);
      let runZone = zones ? zones[start]! : 0;
      let runExposure = 0;
      let runCells = 0;
      const flushZone = () => {
        if (runZone === NO_ZONE) return;
        const zo = runZone * STATS_PER_ZONE;
        acc.zoneStats[zo] = acc.zoneStats[zo]! + runExposure;
        acc.zoneStats[zo + 1] = acc.zoneStats[zo + 1]! + runCells;
      };
      for (let i = start; i < end; i++) {
        let e = exposure[i]!;
        if (hasExpNd && e === expNd) e = NaN;
        const w = weights ? weights[i]! : 1;
        const z = zones ? zones[i]! : 0;
        if (z !== NO_ZONE && z >= nZones) throw statusError(2);
        if (classes && classes[i]! >= curves.length) throw statusError(3);
        if (z !== runZone) {
          flushZone();
          runZone = z;
          runExposure = 0;
          runCells = 0;
        }
        const inZone = z !== NO_ZONE && w > 0 && e === e;
        ew[i] = inZone ? w * e : NaN;
        if (inZone) {
          runExposure += w * e;
          runCells += w;
        }
      }
      if (end > start) flushZone();
    }
    const damage = inp.damage ? new Float32Array((nBands - 1) * stride + n) : undefined;
    const stats = acc.stats;
    const nb = nBands;
    // Run sums in two lanes, cells at even block offsets in lane 0 and odd ones in lane 1 (the SIMD
    // build's f64x2 lanes); a run adds lane 0 + lane 1 to the accumulator.
    const flush = (z: number, b: number, r0: Float64Array, r1: Float64Array) => {
      if (z === NO_ZONE) return;
      const a = (z * nb + b) * STATS_PER_BAND;
      stats[a + STAT.exposed] = stats[a + STAT.exposed]! + (r0[0]! + r1[0]!);
      stats[a + STAT.damage] = stats[a + STAT.damage]! + (r0[1]! + r1[1]!);
      stats[a + STAT.affected] = stats[a + STAT.affected]! + (r0[2]! + r1[2]!);
      stats[a + STAT.max] = Math.max(stats[a + STAT.max]!, Math.max(r0[3]!, r1[3]!));
      stats[a + STAT.cells] = stats[a + STAT.cells]! + (r0[4]! + r1[4]!);
      stats[a + STAT.intensity] = stats[a + STAT.intensity]! + (r0[5]! + r1[5]!);
    };
    const lanes = [new Float64Array(6), new Float64Array(6)] as const;
    const reset = () => lanes.forEach((r) => r.set([0, 0, 0, -Infinity, 0, 0]));
    const mdr = new Float64Array(n);
    // Hazard fraction of cell i in band b (NaN counts as 0); only read when `fraction` is given, so
    // without it damage is `ew * mdr` with no multiplication by 1.
    const frac = (b: number, i: number) => {
      const f = fraction![b * fractionStride + i]!;
      return f === f ? f : 0;
    };
    for (let b = 0; b < nBands; b++) {
      const off = b * stride;
      for (let i = 0; i < n; i++) {
        const x = hazard[off + i]!;
        const hazValid = x === x && !(hasHazNd && x === hazNd);
        const m = curves[classes ? classes[i]! : 0]!.mdr(x);
        mdr[i] = m;
        if (damage) {
          let e = exposure[i]!;
          if (hasExpNd && e === expNd) e = NaN;
          damage[off + i] = hazValid ? (fraction ? e * (m * frac(b, i)) : e * m) : NaN;
        }
      }
      // Summation grouping of the contract (asm/impact.ts, docs/KERNELS.md): per block of BLOCK cells,
      // each run of consecutive cells with one zone is summed from 0 in cell order, in two lanes.
      for (let start = 0; start < n; start += BLOCK) {
        const end = Math.min(n, start + BLOCK);
        let zone = zones ? zones[start]! : 0;
        reset();
        for (let i = start; i < end; i++) {
          const z = zones ? zones[i]! : 0;
          if (z !== zone) {
            flush(zone, b, lanes[0], lanes[1]);
            zone = z;
            reset();
          }
          const x = hazard[off + i]!;
          const v = ew[i]!;
          if (x !== x || (hasHazNd && x === hazNd) || v !== v) continue;
          const run = lanes[(i - start) & 1];
          run[0] = run[0]! + (x > 0 ? v : 0);
          run[1] = run[1]! + (fraction ? v * (mdr[i]! * frac(b, i)) : v * mdr[i]!);
          run[2] = run[2]! + (x >= threshold ? v : 0);
          run[3] = Math.max(run[3]!, x);
          const w = weights ? weights[i]! : 1;
          run[4] = run[4]! + w;
          run[5] = run[5]! + w * x;
        }
        if (end > start) flush(zone, b, lanes[0], lanes[1]);
      }
    }
    if (damage) acc.damage = damage;
    return acc;
  }
}
