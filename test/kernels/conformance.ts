/**
 * One conformance suite for every kernel implementation (the TypeScript twin, WASM scalar, WASM SIMD;
 * the pooled path joins with the engine). Modelled on hono's router `runTest`: each implementation
 * calls {@link runKernelConformance}; a skipped case must carry a reason.
 *
 * Tolerance: the design promises bit-for-bit agreement with the TypeScript twin (same f64 operations
 * in the same order, accumulators fed in grid order), so these tests compare with Object.is. Against
 * published oracles (CLIMADA, snail, FIAT) the stated tolerance is 0 for f64 inputs and 1e-6 relative
 * where an f32 intensity stands for a decimal value (17.2 as f32 is 17.2000007629...).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DamageFunction } from '../../src/model/damage-function.js';
import { ReferenceKernel } from '../../src/kernels/reference.js';
import { NO_ZONE, STAT, STATS_PER_BAND, emptyPartial, type ImpactInputs, type ImpactKernel, type ImpactPartial } from '../../src/kernels/types.js';
import { IbfError } from '../../src/errors.js';
import { BLOCK } from '../../src/kernels/abi.js';

export interface ConformanceOptions {
  name: string;
  make: () => Promise<ImpactKernel>;
  skip?: Array<{ reason: string; tests: string[] }>;
}

const twin = new ReferenceKernel();
const f32 = (xs: number[]) => new Float32Array(xs);

/** Curves from the peers' test data (values in ../shared/data/*). */
export const CURVES = {
  fiatStruct1: DamageFunction.fromTable({
    unit: 'm',
    intensity: [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.25, 4.5, 4.75, 5],
    mdd: [0, 0, 0, 0, 0, 0.14, 0.25, 0.35, 0.43, 0.5, 0.57, 0.63, 0.68, 0.73, 0.78, 0.82, 0.86, 0.9, 0.93, 0.96, 0.96],
  }),
  snail: DamageFunction.fromTable({ unit: 'm', intensity: [0, 10, 20, 30], mdd: [0, 0.1, 0.2, 1] }),
  climadaLinear: DamageFunction.fromTable({
    unit: 'm',
    intensity: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90],
    mdd: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    paa: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
  }),
  step: DamageFunction.fromStep([0, 5, 10], { unit: 'm' }),
  emanuel: DamageFunction.fromEmanuel(),
  emanuelCustom: DamageFunction.fromEmanuel({ vThresh: 2, vHalf: 5, scale: 0.5 }),
};

const SPECIALS = [-Infinity, -999, -0, 0, 0.1, 0.25, 0.5, 1, 1.2, 2.4, 5, 9.999, 10, 17.2, 25, 29.99, 30, 74.7, 120, 999, Infinity, NaN];

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) {
      expect.fail(`index ${i}: ${a[i]} !== ${b[i]}`);
    }
  }
}

const arbCurve = fc
  .record({
    k: fc.integer({ min: 2, max: 24 }),
    seed: fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 24, maxLength: 24 }),
    mdd: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 24, maxLength: 24 }),
    paa: fc.option(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 24, maxLength: 24 })),
    dup: fc.boolean(),
  })
  .map(({ k, seed, mdd, paa, dup }) => {
    const intensity = seed.slice(0, k).sort((a, b) => a - b);
    if (dup && k > 2) intensity[1] = intensity[2]!; // a step
    return DamageFunction.fromTable({ unit: 'm', intensity, mdd: mdd.slice(0, k), paa: paa?.slice(0, k) });
  });

const arbEmanuel = fc
  .record({ t: fc.double({ min: 0, max: 40, noNaN: true }), d: fc.double({ min: 1, max: 80, noNaN: true }), s: fc.double({ min: 0.01, max: 1, noNaN: true }) })
  .map(({ t, d, s }) => DamageFunction.fromEmanuel({ vThresh: t, vHalf: t + d, scale: s }));

const arbIntensity = fc.oneof(
  fc.float({ noDefaultInfinity: false }),
  fc.float({ min: -1, max: 130, noNaN: true }),
  fc.constantFrom(...SPECIALS.map(Math.fround)),
);

/** A deterministic linear congruential generator in [0, 1) (the same one the random rasters use). */
function lcgFrom(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const caseFields = {
  n: fc.integer({ min: 0, max: 5000 }),
  nBands: fc.integer({ min: 1, max: 4 }),
  nZones: fc.integer({ min: 1, max: 5 }),
  seed: fc.integer(),
  useZones: fc.boolean(),
  useWeights: fc.boolean(),
  useClasses: fc.boolean(),
  hazNd: fc.option(fc.constantFrom(-9999, 0, -3.4e38)),
  expNd: fc.option(fc.constantFrom(-1, 0)),
  threshold: fc.double({ min: 0, max: 5, noNaN: true }),
  curves: fc.array(fc.oneof(arbCurve, arbEmanuel), { minLength: 1, maxLength: 3 }),
  strideExtra: fc.integer({ min: 0, max: 7 }),
};
type CaseFields = { [K in keyof typeof caseFields]: (typeof caseFields)[K] extends fc.Arbitrary<infer T> ? T : never };

/** Random rasters with nodata, zones (changing at any offset), weights, classes and a padded band stride. */
function randomCase(c: CaseFields): ImpactInputs {
  const rnd = lcgFrom(c.seed);
  const stride = c.n + c.strideExtra;
  const hazard = new Float32Array(stride * c.nBands).map(() => {
    const r = rnd();
    return r < 0.05 ? NaN : r < 0.1 ? (c.hazNd ?? -1) : rnd() * 6 - 0.5;
  });
  const exposure = new Float64Array(c.n).map(() => (rnd() < 0.05 ? (c.expNd ?? NaN) : rnd() * 1e4));
  const zones = c.useZones ? new Uint32Array(c.n).map(() => (rnd() < 0.1 ? NO_ZONE : Math.floor(rnd() * c.nZones))) : undefined;
  const weights = c.useWeights ? new Float32Array(c.n).map(() => (rnd() < 0.1 ? 0 : rnd())) : undefined;
  const classes = c.useClasses ? new Uint8Array(c.n).map(() => Math.floor(rnd() * c.curves.length)) : undefined;
  return {
    cells: c.n, nBands: c.nBands, bandStride: stride, hazard, exposure, zones, weights, classes,
    nZones: c.useZones ? c.nZones : 1, curves: c.curves, threshold: c.threshold,
    hazardNodata: c.hazNd, exposureNodata: c.expNd, damage: true,
  };
}

const arbCase = fc.record(caseFields).map(randomCase);

/** Fractions in [0, 1] with the edge values: NaN (no fraction), 0, -0, 1, a float32 subnormal. */
function randomFractions(length: number, seed: number): Float32Array {
  const rnd = lcgFrom(seed);
  return new Float32Array(length).map(() => {
    const r = rnd();
    return r < 0.08 ? NaN : r < 0.16 ? 0 : r < 0.24 ? 1 : r < 0.26 ? -0 : r < 0.28 ? 1e-40 : rnd();
  });
}

type FractionLayout = 'shared' | 'shared-explicit' | 'per-band' | 'per-band-own-stride';

/** `inp` with a hazard fraction in one of the layouts of `ImpactInputs.fractionStride`. */
function withFraction(inp: ImpactInputs, layout: FractionLayout, seed: number, extra: number): ImpactInputs {
  const n = inp.cells;
  const stride = inp.bandStride ?? n;
  switch (layout) {
    case 'shared':
      // fewer values than a per-band fraction needs (when there are several bands), so the default is shared
      return { ...inp, fraction: randomFractions(n + (inp.nBands > 1 ? Math.max(0, Math.min(extra, stride - 1)) : extra), seed) };
    case 'shared-explicit':
      return { ...inp, fraction: randomFractions(n + extra, seed), fractionStride: 0 };
    case 'per-band':
      return { ...inp, fraction: randomFractions((inp.nBands - 1) * stride + n, seed) };
    case 'per-band-own-stride':
      return { ...inp, fraction: randomFractions((inp.nBands - 1) * (n + extra) + n, seed), fractionStride: n + extra };
  }
}

const arbFractionCase = fc
  .record({
    ...caseFields,
    layout: fc.constantFrom<FractionLayout>('shared', 'shared-explicit', 'per-band', 'per-band-own-stride'),
    fracSeed: fc.integer(),
    fracExtra: fc.integer({ min: 0, max: 5 }),
  })
  .map((c) => withFraction(randomCase(c), c.layout, c.fracSeed, c.fracExtra));

/** Hazard fraction of cell i in band b of `inp` as the kernels read it (layout resolved as documented). */
function fractionAt(inp: ImpactInputs, b: number, i: number): number {
  const f = inp.fraction!;
  const stride = inp.bandStride ?? inp.cells;
  const fs = inp.fractionStride ?? (inp.nBands > 1 && f.length >= (inp.nBands - 1) * stride + inp.cells ? stride : 0);
  const v = f[b * fs + i]!;
  return Number.isNaN(v) ? 0 : v;
}

/** Every stats slot except damage, and the zone totals, must not depend on the fraction. */
function sameExceptDamage(a: ImpactPartial, b: ImpactPartial): void {
  sameBits(a.stats.filter((_, i) => i % STATS_PER_BAND !== STAT.damage), b.stats.filter((_, i) => i % STATS_PER_BAND !== STAT.damage));
  sameBits(a.zoneStats, b.zoneStats);
}

export function runKernelConformance({ name, make, skip = [] }: ConformanceOptions): void {
  const skipped = new Map(skip.flatMap((s) => s.tests.map((t) => [t, s.reason] as const)));
  const test = (title: string, fn: () => Promise<void> | void) => {
    const reason = skipped.get(title);
    if (reason) it.skip(`${title} (skipped: ${reason})`, fn);
    else it(title, fn);
  };

  describe(`kernel conformance: ${name}`, () => {
    let k: ImpactKernel;
    const kernel = async () => (k ??= await make());

    test('mdr equals the twin bit for bit on the peer curves and edge intensities', async () => {
      const xs = f32(SPECIALS);
      for (const c of Object.values(CURVES)) sameBits((await kernel()).mdr(c, xs), twin.mdr(c, xs));
    });

    test('mdr matches snail and CLIMADA oracles', async () => {
      const kk = await kernel();
      // nismod/snail tests/test_damages.py (shared/data/snail-aqueduct-oxford/expected.json)
      sameBits(kk.mdr(CURVES.snail, f32([-Infinity, -999, -0, 0, 30, 999, Infinity])), [0, 0, 0, 0, 1, 1, 1]);
      expect(kk.mdr(CURVES.snail, f32([NaN]))[0]).toBeNaN();
      const mid = kk.mdr(CURVES.snail, f32([5, 15, 25]));
      [0.05, 0.15, 0.6].forEach((v, i) => expect(mid[i]).toBeCloseTo(v, 15));
      // CLIMADA test_base.py calc_mdr(17.2) = 0.029583999999999996 (f64 input); f32 input -> 1e-6 rel
      const m = kk.mdr(CURVES.climadaLinear, f32([17.2]))[0]!;
      expect(Math.abs(m - 0.029583999999999996) / 0.029584).toBeLessThan(1e-6);
      // CLIMADA test_tc.py: Emanuel USA at 30..120 m/s (integers: exact in f32) -> exact
      const winds = Array.from({ length: 19 }, (_, i) => 30 + 5 * i);
      const em = kk.mdr(CURVES.emanuel, f32(winds));
      expect(em[18]).toBe(0.8769633232141456);
      expect(em[0]).toBe(0.0006753419543492556);
      // CLIMADA test_tc.py custom: v_thresh 2, v_half 5, scale 0.5
      sameBits(kk.mdr(CURVES.emanuelCustom, f32([0, 1, 2, 3, 4, 5])), [0, 0, 0, 0.017857142857142853, 0.11428571428571425, 0.25]);
      // CLIMADA test_base.py from_step_impf: [0, 5, 10] -> 0 below 5, 1 from 5
      sameBits(kk.mdr(CURVES.step, f32([0, 4.99, 5, 7, 10, 11])), [0, 0, 1, 1, 1, 1]);
    });

    test('mdr equals the twin for random curves and intensities (fast-check)', async () => {
      const kk = await kernel();
      fc.assert(
        fc.property(fc.oneof(arbCurve, arbEmanuel), fc.array(arbIntensity, { maxLength: 67 }), (c, xs) => {
          const x = f32(xs);
          sameBits(kk.mdr(c, x), twin.mdr(c, x));
        }),
        { numRuns: 300, seed: 20261125 },
      );
    });

    test('impactZonal computes a hand-checked case', async () => {
      // 6 cells, 2 bands, 2 zones (+ one cell in no zone), hazard nodata -1, exposure nodata -9999.
      // snail curve: mdr(5) = 0.05, mdr(10) = 0.1, mdr(15) = 0.15, mdr(20) = 0.2, mdr(25) = 0.6.
      const inp: ImpactInputs = {
        cells: 6,
        nBands: 2,
        hazard: f32([5, 10, -1, 20, 25, 0, /* band 1 */ 15, 0, 5, NaN, 30, 10]),
        exposure: new Float64Array([100, 200, 300, -9999, 50, 1000]),
        exposureNodata: -9999,
        hazardNodata: -1,
        zones: new Uint32Array([0, 0, 1, 1, 1, NO_ZONE]),
        nZones: 2,
        weights: f32([1, 0.5, 1, 1, 1, 1]),
        curves: [CURVES.snail],
        threshold: 10,
        damage: true,
      };
      const r = (await kernel()).impactZonal(inp);
      const at = (z: number, b: number, s: number) => r.stats[(z * 2 + b) * STATS_PER_BAND + s];
      // zone 0, band 0: cells 0 (x=5, e=100, w=1) and 1 (x=10, e=200, w=0.5)
      expect(at(0, 0, STAT.damage)).toBe(100 * 0.05 + 100 * 0.1);
      expect(at(0, 0, STAT.exposed)).toBe(200);
      expect(at(0, 0, STAT.affected)).toBe(100);
      expect(at(0, 0, STAT.max)).toBe(10);
      expect(at(0, 0, STAT.cells)).toBe(1.5);
      // weighted intensity: 1 * 5 + 0.5 * 10 (zonal mean intensity = 10 / 1.5)
      expect(at(0, 0, STAT.intensity)).toBe(10);
      // zone 1, band 0: cell 2 hazard nodata, cell 3 exposure nodata, cell 4 (x=25, e=50)
      expect(at(1, 0, STAT.damage)).toBeCloseTo(50 * 0.6, 13);
      expect(at(1, 0, STAT.cells)).toBe(1);
      expect(at(1, 0, STAT.max)).toBe(25);
      // zone 1, band 1: cell 2 (x=5, e=300), cell 3 exposure nodata, cell 4 (x=30, e=50)
      expect(at(1, 1, STAT.damage)).toBeCloseTo(300 * 0.05 + 50 * 1, 12);
      expect(at(1, 1, STAT.affected)).toBe(50);
      // zone 0, band 1: cell 0 (x=15, e=100), cell 1 (x=0, e=200, w=.5: dry, exposed 0)
      expect(at(0, 1, STAT.exposed)).toBe(100);
      expect(at(0, 1, STAT.cells)).toBe(1.5);
      sameBits(r.zoneStats, [100 + 100, 1.5, 300 + 50, 2]);
      // per-cell damage ignores zones and weights; nodata -> NaN
      const d = Array.from(r.damage!);
      expect(d[1]).toBe(Math.fround(200 * 0.1));
      expect(d[2]).toBeNaN();
      expect(d[3]).toBeNaN();
      expect(d[5]).toBe(0);
      expect(d[11]).toBe(Math.fround(1000 * 0.1));
    });

    test('impactZonal equals the twin bit for bit on random rasters (fast-check)', async () => {
      const kk = await kernel();
      fc.assert(
        fc.property(arbCase, (inp) => {
          const a = kk.impactZonal(inp);
          const b = twin.impactZonal(inp);
          sameBits(a.stats, b.stats);
          sameBits(a.zoneStats, b.zoneStats);
          sameBits(a.damage!, b.damage!);
        }),
        { numRuns: 120, seed: 424242 },
      );
    });

    test('impactZonal with a hazard fraction: a hand-checked case, shared and per band', async () => {
      const kk = await kernel();
      // 5 cells, 2 bands, zones 0 0 1 1 NO_ZONE; snail curve: mdr(5) = 0.05, mdr(10) = 0.1, mdr(20) = 0.2
      const base: ImpactInputs = {
        cells: 5,
        nBands: 2,
        hazard: f32([5, 10, 20, 10, 5, /* band 1 */ 10, 20, 5, NaN, 10]),
        exposure: new Float64Array([100, 200, 300, 400, 500]),
        zones: new Uint32Array([0, 0, 1, 1, NO_ZONE]),
        nZones: 2,
        weights: f32([1, 0.5, 1, 1, 1]),
        curves: [CURVES.snail],
        threshold: 10,
        damage: true,
      };
      const plain = kk.impactZonal(base);
      const shared = kk.impactZonal({ ...base, fraction: f32([0.5, NaN, 0.25, 1, 0]) });
      const perBand = kk.impactZonal({ ...base, fraction: f32([0.5, NaN, 0.25, 1, 0, /* band 1 */ 0, 1, 0.75, 0.5, NaN]) });
      const at = (r: ImpactPartial, z: number, b: number) => r.stats[(z * 2 + b) * STATS_PER_BAND + STAT.damage];
      // each run adds lane 0 (even cells) + lane 1 (odd cells), each lane summed from 0
      const m = (x: number) => CURVES.snail.mdr(Math.fround(x));
      // shared: band 0 zone 0: cell 0 (100 * mdr(5)) * 0.5 + cell 1 (0.5 * 200 * mdr(10)) * 0 (NaN)
      expect(at(shared, 0, 0)).toBe(0 + 100 * (m(5) * 0.5) + (0 + 100 * (m(10) * 0)));
      expect(at(shared, 1, 0)).toBe(0 + 300 * (m(20) * 0.25) + (0 + 400 * (m(10) * 1)));
      expect(at(shared, 0, 1)).toBe(0 + 100 * (m(10) * 0.5) + (0 + 100 * (m(20) * 0)));
      expect(at(shared, 1, 1)).toBe(0 + 300 * (m(5) * 0.25) + 0);
      expect(at(perBand, 0, 1)).toBe(0 + 100 * (m(10) * 0) + (0 + 100 * (m(20) * 1)));
      expect(at(perBand, 1, 1)).toBe(0 + 300 * (m(5) * 0.75) + 0);
      sameBits([at(perBand, 0, 0), at(perBand, 1, 0)], [at(shared, 0, 0), at(shared, 1, 0)]);
      // the other slots and the zone totals ignore the fraction
      sameExceptDamage(shared, plain);
      sameExceptDamage(perBand, plain);
      // damage raster: float32(exposure * (mdr * f)), f = 0 for NaN; NaN where the hazard is nodata
      sameBits(shared.damage!, f32([100 * (m(5) * 0.5), 0, 300 * (m(20) * 0.25), 400 * m(10), 0, 100 * (m(10) * 0.5), 0, 300 * (m(5) * 0.25), NaN, 0]));
      sameBits(perBand.damage!, f32([100 * (m(5) * 0.5), 0, 300 * (m(20) * 0.25), 400 * m(10), 0, 0, 200 * m(20), 300 * (m(5) * 0.75), NaN, 0]));
    });

    test('impactZonal with a hazard fraction equals the twin bit for bit (fast-check: shared, per band, NaN, 0, 1)', async () => {
      const kk = await kernel();
      fc.assert(
        fc.property(arbFractionCase, (inp) => {
          const a = kk.impactZonal(inp);
          const b = twin.impactZonal(inp);
          sameBits(a.stats, b.stats);
          sameBits(a.zoneStats, b.zoneStats);
          sameBits(a.damage!, b.damage!);
          sameExceptDamage(a, kk.impactZonal({ ...inp, fraction: undefined, fractionStride: undefined }));
        }),
        { numRuns: 120, seed: 20260501 },
      );
    });

    test('impactZonal without a fraction equals a fraction of all ones in every slot, bit for bit', async () => {
      const kk = await kernel();
      fc.assert(
        fc.property(arbCase, fc.boolean(), (inp, perBand) => {
          const stride = inp.bandStride ?? inp.cells;
          const ones = new Float32Array(perBand ? (inp.nBands - 1) * stride + inp.cells : inp.cells).fill(1);
          const a = kk.impactZonal(inp);
          const b = kk.impactZonal({ ...inp, fraction: ones, fractionStride: perBand ? stride : 0 });
          sameBits(a.stats, b.stats);
          sameBits(a.zoneStats, b.zoneStats);
          sameBits(a.damage!, b.damage!);
        }),
        { numRuns: 60, seed: 7117 },
      );
    });

    test('impactZonal damage with a fraction equals a plain per-cell f64 sum of w*e*mdr*f within 1e-12', async () => {
      const kk = await kernel();
      fc.assert(
        fc.property(arbFractionCase, (inp) => {
          const r = kk.impactZonal(inp);
          const { cells: n, nBands, hazard, exposure, zones, weights, classes, curves } = inp;
          const stride = inp.bandStride ?? n;
          const nZones = inp.nZones ?? 1;
          const want = new Float64Array(nZones * nBands);
          for (let b = 0; b < nBands; b++) {
            for (let i = 0; i < n; i++) {
              const z = zones ? zones[i]! : 0;
              const x = hazard[b * stride + i]!;
              const e = exposure[i]!;
              const w = weights ? weights[i]! : 1;
              if (z === NO_ZONE || Number.isNaN(x) || (inp.hazardNodata != null && x === Math.fround(inp.hazardNodata))) continue;
              if (Number.isNaN(e) || (inp.exposureNodata != null && e === inp.exposureNodata) || !(w > 0)) continue;
              want[z * nBands + b] += w * e * curves[classes ? classes[i]! : 0]!.mdr(x) * fractionAt(inp, b, i);
            }
          }
          for (let j = 0; j < want.length; j++) {
            const got = r.stats[j * STATS_PER_BAND + STAT.damage]!;
            const tol = 1e-12 * Math.max(Math.abs(got), Math.abs(want[j]!));
            if (!(Math.abs(got - want[j]!) <= tol)) expect.fail(`zone/band ${j}: ${got} vs plain sum ${want[j]}`);
          }
        }),
        { numRuns: 60, seed: 99 },
      );
    });

    test('impactZonal with a hazard fraction: fixed vectors (odd lengths, block edges, zone changes) equal the twin', async () => {
      const kk = await kernel();
      for (const n of [1, 2, 3, 7, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 3]) {
        for (const layout of ['shared', 'shared-explicit', 'per-band', 'per-band-own-stride'] as const) {
          const rnd = lcgFrom(n * 31 + layout.length);
          const nBands = 3;
          const stride = n + (n & 1);
          const base: ImpactInputs = {
            cells: n, nBands, bandStride: stride,
            hazard: new Float32Array(nBands * stride).map((_, i) => (i % 11 === 4 ? NaN : (i % 13) * 0.4)),
            exposure: new Float64Array(n).map((_, i) => (i % 17 === 3 ? NaN : 1000 + i)),
            // zones change at odd and even offsets, runs of 1 to 5 cells, some cells in no zone
            zones: new Uint32Array(n).map(() => (rnd() < 0.1 ? NO_ZONE : Math.floor(rnd() * 3))),
            nZones: 3,
            weights: new Float32Array(n).map((_, i) => (i % 9 === 0 ? 0.5 : 1)),
            curves: [CURVES.fiatStruct1], threshold: 0.5, damage: true,
          };
          const inp = withFraction(base, layout, n + 5, 3);
          const a = kk.impactZonal(inp);
          const b = twin.impactZonal(inp);
          sameBits(a.stats, b.stats);
          sameBits(a.zoneStats, b.zoneStats);
          sameBits(a.damage!, b.damage!);
        }
      }
    });

    test('impactZonal with a per-band fraction fed in chunks of whole blocks equals one call', async () => {
      const kk = await kernel();
      const n = 4100;
      const hazard = new Float32Array(2 * n).map((_, i) => (i % 97) / 20);
      const fraction = new Float32Array(2 * n).map((_, i) => (i % 7 === 0 ? NaN : (i % 5) / 4));
      const exposure = new Float64Array(n).map((_, i) => 1000 + (i % 13));
      const zones = new Uint32Array(n).map((_, i) => Math.floor(i / 700) % 3);
      const common = { nBands: 2, bandStride: n, fractionStride: n, nZones: 3, curves: [CURVES.fiatStruct1], threshold: 0.5 };
      const whole = kk.impactZonal({ ...common, cells: n, hazard, fraction, exposure, zones });
      const acc = emptyPartial(3, 2);
      for (let s = 0; s < n; s += BLOCK) {
        const e = Math.min(n, s + BLOCK);
        kk.impactZonal({ ...common, cells: e - s, hazard: hazard.subarray(s), fraction: fraction.subarray(s), exposure: exposure.subarray(s, e), zones: zones.subarray(s, e) }, acc);
      }
      sameBits(acc.stats, whole.stats);
      sameBits(acc.zoneStats, whole.zoneStats);
    });

    test('impactZonal rejects a short fraction or a bad fraction stride with E_KERNEL', async () => {
      const kk = await kernel();
      const base = { cells: 3, nBands: 2, hazard: f32([1, 2, 3, 4, 5, 6]), exposure: new Float64Array([1, 1, 1]), curves: [CURVES.snail], threshold: 0 };
      for (const bad of [
        { ...base, fraction: f32([1, 1]) },
        { ...base, fraction: f32([1, 1, 1, 1, 1]), fractionStride: 3 },
        { ...base, fraction: f32([1, 1, 1, 1, 1, 1]), fractionStride: 2 },
        { ...base, fraction: f32([1, 1, 1, 1, 1, 1]), fractionStride: -1 },
        { ...base, fraction: f32([1, 1, 1, 1, 1, 1]), fractionStride: 3.5 },
      ]) {
        let err: unknown;
        try {
          kk.impactZonal(bad);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(IbfError);
        expect((err as IbfError).code).toBe('E_KERNEL');
      }
    });

    test('impactZonal fed in chunks of whole blocks equals one call over the whole raster', async () => {
      const kk = await kernel();
      const n = 4100;
      const hazard = new Float32Array(n).map((_, i) => (i % 97) / 20);
      const exposure = new Float64Array(n).map((_, i) => 1000 + (i % 13));
      const zones = new Uint32Array(n).map((_, i) => Math.floor(i / 700) % 3);
      const whole = kk.impactZonal({ cells: n, nBands: 1, hazard, exposure, zones, nZones: 3, curves: [CURVES.fiatStruct1], threshold: 0.5 });
      const acc = emptyPartial(3, 1);
      for (let s = 0; s < n; s += BLOCK) {
        const e = Math.min(n, s + BLOCK);
        kk.impactZonal({ cells: e - s, nBands: 1, hazard: hazard.subarray(s, e), exposure: exposure.subarray(s, e), zones: zones.subarray(s, e), nZones: 3, curves: [CURVES.fiatStruct1], threshold: 0.5 }, acc);
      }
      sameBits(acc.stats, whole.stats);
      sameBits(acc.zoneStats, whole.zoneStats);
    });

    test('impactZonal rejects out-of-range zone and class indices with E_KERNEL', async () => {
      const kk = await kernel();
      const base = { cells: 2, nBands: 1, hazard: f32([1, 2]), exposure: new Float64Array([1, 1]), curves: [CURVES.snail], threshold: 0 };
      for (const bad of [
        { ...base, zones: new Uint32Array([0, 5]), nZones: 2 },
        { ...base, classes: new Uint8Array([0, 1]) },
        { ...base, hazard: f32([1]) },
      ]) {
        let err: unknown;
        try {
          kk.impactZonal(bad);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(IbfError);
        expect((err as IbfError).code).toBe('E_KERNEL');
      }
    });
  });
}
