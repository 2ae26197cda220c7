/**
 * @module kernels/reference
 * The pure-TypeScript twin of the WASM kernels: the plain per-cell loop, in f64, that defines what
 * the kernels compute. Runs everywhere (no WASM needed) and is the oracle of the conformance suite.
 */
import { statusError, checkInputs } from './abi.js';
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
    const { stride, nZones } = checkInputs(inp);
    const { cells: n, nBands, hazard, exposure, zones, weights, classes, curves, threshold } = inp;
    const acc = into ?? emptyPartial(nZones, nBands);
    const hasExpNd = inp.exposureNodata != null;
    const expNd = inp.exposureNodata ?? 0;
    const hasHazNd = inp.hazardNodata != null;
    const hazNd = Math.fround(inp.hazardNodata ?? 0);
    // Cell pass: validity, weights and zones (band independent).
    const ew = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let e = exposure[i]!;
      if (hasExpNd && e === expNd) e = NaN;
      const w = weights ? weights[i]! : 1;
      const z = zones ? zones[i]! : 0;
      if (z !== NO_ZONE && z >= nZones) throw statusError(2);
      if (classes && classes[i]! >= curves.length) throw statusError(3);
      const inZone = z !== NO_ZONE && w > 0 && e === e;
      ew[i] = inZone ? w * e : NaN;
      if (inZone) {
        const zo = z * STATS_PER_ZONE;
        acc.zoneStats[zo] = acc.zoneStats[zo]! + w * e;
        acc.zoneStats[zo + 1] = acc.zoneStats[zo + 1]! + w;
      }
    }
    const damage = inp.damage ? new Float32Array((nBands - 1) * stride + n) : undefined;
    const stats = acc.stats;
    for (let b = 0; b < nBands; b++) {
      const off = b * stride;
      for (let i = 0; i < n; i++) {
        const x = hazard[off + i]!;
        const hazValid = x === x && !(hasHazNd && x === hazNd);
        const curve = curves[classes ? classes[i]! : 0]!;
        const m = curve.mdr(x);
        if (damage) {
          let e = exposure[i]!;
          if (hasExpNd && e === expNd) e = NaN;
          damage[off + i] = hazValid ? e * m : NaN;
        }
        const v = ew[i]!;
        if (!hazValid || v !== v) continue;
        const a = ((zones ? zones[i]! : 0) * nBands + b) * STATS_PER_BAND;
        stats[a + STAT.exposed] = stats[a + STAT.exposed]! + (x > 0 ? v : 0);
        stats[a + STAT.damage] = stats[a + STAT.damage]! + v * m;
        stats[a + STAT.affected] = stats[a + STAT.affected]! + (x >= threshold ? v : 0);
        stats[a + STAT.max] = Math.max(stats[a + STAT.max]!, x);
        stats[a + STAT.cells] = stats[a + STAT.cells]! + (weights ? weights[i]! : 1);
      }
    }
    if (damage) acc.damage = damage;
    return acc;
  }
}
