/**
 * Derivations (issue #4 section 3): event sets against CLIMADA's own unit tests, EAD against
 * Delft-FIAT's, ensembles against numpy's definitions. Every expected number is read from
 * ../shared/data (climada-oracles/expected.json, fiat-synthetic-grid/expected.json), whose keys name
 * the upstream file and lines; the comment at each assertion names the key. Tolerances: 1e-12
 * relative where the computation is the reference's, operation for operation; CLIMADA's own rtol
 * (0.8) where its test states rounded numbers, and then our exact value is asserted as well.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aai,
  aaiFromAtEvent,
  atEvent,
  bandOf,
  ead,
  eadBands,
  eadCells,
  eadPerZone,
  eadWeights,
  eai,
  ensembleStats,
  eventSetMetrics,
  exceedance,
  exceedanceCurve,
  interp1d,
  localExceedanceImpact,
  localReturnPeriod,
  npInterp,
  quantileSorted,
  medianSorted,
  resolveEnsembleLayout,
  riskDensity,
  trapezoidWeights,
  roundSigDigits,
  aroundDecimals,
  derivationProblems,
  assertDerivation,
  type EnsembleLayout,
} from '../../src/engine/derive/index.js';
import { interp } from '../../src/model/damage-function.js';
import { FIAT, expectedJson, relClose, thrown } from '../helpers.js';

const climada = expectedJson('climada-oracles');
const fiat = expectedJson('fiat-synthetic-grid');
const RTOL = 1e-12;

/** Number or "nan" (as expected.json writes NaN) -> number. */
const num = (v: number | string): number => (v === 'nan' ? NaN : (v as number));

function expectClose(actual: readonly number[], expected: readonly (number | string)[], rtol: number, atol = 0): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    const e = num(expected[i]!);
    if (Number.isNaN(e)) expect(a, `[${i}]`).toBeNaN();
    else expect(Math.abs(a - e) <= atol + rtol * Math.abs(e), `[${i}] ${a} vs ${e}`).toBe(true);
  });
}

/** CLIMADA writes events x exposures; our tables are zone (exposure) x band (event). */
const transpose = (m: number[][]): number[][] => m[0]!.map((_, j) => m.map((row) => row[j]!));

describe('event sets: CLIMADA risk metrics', () => {
  const o = climada['risk_metrics (climada/engine/test/test_impact_calc.py:83-97)'];
  const table = transpose(o.imp_mat_events_x_exposures);

  it('atEvent, eai and aai equal test_impact_calc.py:83-97', () => {
    const m = eventSetMetrics(table, o.frequency);
    // risk_metrics.at_event [2, 4]
    expectClose(m.atEvent, o.at_event, 0);
    // risk_metrics.eai_exp [1.2, 0.2, 1]
    expectClose(m.eai, o.eai_exp, 1e-15);
    // risk_metrics.aai_agg 2.4
    expectClose([m.aai], [o.aai_agg], 1e-15);
    // CLIMADA's older aai_agg = sum(at_event x frequency): the same number
    expectClose([aaiFromAtEvent(m.atEvent, o.frequency)], [o.aai_agg], 1e-15);
  });

  it('aai is the sum of eai, and eai is linear in frequency (property)', () => {
    // impacts and frequencies of realistic size (no subnormals, where doubling is not exact)
    const row = fc.array(fc.integer({ min: 0, max: 1e9 }).map((x) => x / 7), { minLength: 3, maxLength: 3 });
    const freq = fc.array(fc.integer({ min: 0, max: 10000 }).map((x) => x / 1000), { minLength: 3, maxLength: 3 });
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 8 }), freq, (t, f) => {
        const e = eai(t, f);
        expect(aai(e)).toBe(e.reduce((s, x) => s + x, 0));
        const doubled = eai(t, f.map((x) => 2 * x));
        doubled.forEach((d, z) => expect(d).toBe(2 * e[z]!));
        // atEvent sums the zones: sum over bands of atEvent x f equals aai up to rounding
        expect(Math.abs(aaiFromAtEvent(atEvent(t), f) - aai(e))).toBeLessThanOrEqual(1e-9 * Math.max(1, aai(e)));
      }),
    );
  });

  it('refuses frequencies that do not match the band count, listing every problem', () => {
    const err = thrown(() => eai(table, [1, -0.1, 0.5]));
    expect(err.code).toBe('E_SCENARIO_INVALID');
    expect(err.problems!.map((p) => p.path)).toEqual(['hazard.bands.frequencies[1]', 'table[0]', 'table[1]', 'table[2]']);
    expect(err.message).toMatch(/frequency -0.1 is not a finite number >= 0/);
  });
});

describe('event sets: CLIMADA exceedance frequency curve', () => {
  const o = climada['freq_curve (climada/engine/test/test_impact.py:248-291)'];
  const freq = new Array<number>(10).fill(o.frequency_each);

  it('return periods and impacts equal test_impact.py:248-291', () => {
    const curve = exceedanceCurve(o.at_event, freq);
    // freq_curve.return_per_ascending: 1 / cumulative frequency (a cumulative sum, so 1e-12, not bits, vs 1/(k f))
    expectClose(
      curve.map((p) => p.returnPeriod),
      o.return_per_ascending,
      RTOL,
    );
    // freq_curve.impact_ascending: exactly the events' impacts
    expect(curve.map((p) => p.impact)).toEqual(o.impact_ascending);
  });

  it('impacts at return periods 100, 500, 1000 equal test_impact.py:311-319 (np.interp, left = smallest impact)', () => {
    const at = exceedanceCurve(o.at_event, freq, [100, 500, 1000]);
    // freq_curve."at_return_periods [100,500,1000] (test_impact.py:311-319)": [0, 2320408028.5695677, 3287314329.129928]
    expectClose(
      at.map((p) => p.impact),
      o['at_return_periods [100,500,1000] (test_impact.py:311-319)'],
      RTOL,
    );
    expect(at.map((p) => p.returnPeriod)).toEqual([100, 500, 1000]);
  });

  it('does not depend on the band order of the events (distinct impacts)', () => {
    const perm = [3, 1, 4, 0, 9, 2, 6, 5, 8, 7];
    const a = exceedanceCurve(o.at_event, freq, [100, 500, 1000]);
    const b = exceedanceCurve(
      perm.map((i) => o.at_event[i]),
      freq,
      [100, 500, 1000],
    );
    expect(b).toEqual(a);
  });

  it('refuses non-positive requested return periods', () => {
    const err = thrown(() => exceedanceCurve([1, 2], [0.1, 0.1], [0, 10, -5]));
    expect(err.problems!.map((p) => p.path)).toEqual(['returnPeriods[0]', 'returnPeriods[2]']);
  });
});

describe('event sets: CLIMADA local exceedance impact and local return period', () => {
  it('lin-lin extrapolation equals test_impact.py:541-571', () => {
    const o = climada['local_exceedance_impact lin-lin (test_impact.py:541-571)'];
    const got = localExceedanceImpact(transpose(o.imp_mat), o.frequency, o.return_periods, { method: 'extrapolate', logFrequency: false, logImpact: false });
    // "local_exceedance_impact lin-lin".expected_per_exposure [[0,0,0,0],[0,0,1,1],[0,3,4,4.5],[0,3,4,4.5]]
    got.forEach((row, z) => expectClose(row, o.expected_per_exposure[z], RTOL, 1e-12));
    // CLIMADA 5 groups at 3 significant digits, CLIMADA 6 with bin_decimals: the same numbers here
    for (const binning of [{ sigDigits: 3 }, { decimals: 2 }] as const) {
      const g = localExceedanceImpact(transpose(o.imp_mat), o.frequency, o.return_periods, { method: 'extrapolate', logFrequency: false, logImpact: false, binning });
      g.forEach((row, z) => expectClose(row, o.expected_per_exposure[z], RTOL, 1e-12));
    }
    // without grouping, exposure 2 (impacts 1, 4, 1, 1) keeps three points at impact 1: another curve
    const ungrouped = localExceedanceImpact(transpose(o.imp_mat), o.frequency, o.return_periods, { method: 'extrapolate', logFrequency: false, logImpact: false, binning: 'none' });
    expect(ungrouped[2]).not.toEqual(o.expected_per_exposure[2]);
  });

  describe('methods, test_impact.py:573-644', () => {
    const o = climada['local_exceedance_impact methods (test_impact.py:573-644; rtol 0.8 in test)'];
    const table = transpose(o.imp_mat);
    // the exact values of the interpolating methods, from the points (cumulative frequency, impact):
    // exposure 2: (0.01, 1000), (0.11, 10); exposure 3: (0.01, 1000), (0.11, 100), (1.11, 10); test frequency 1/30
    const t = Math.log10(1 / 30);
    const logLog2 = 10 ** (3 + ((1 - 3) * (t - -2)) / (Math.log10(0.11) - -2));
    const logLog3 = 10 ** (3 + ((2 - 3) * (t - -2)) / (Math.log10(0.11) - -2));
    const lin2 = 1000 + ((10 - 1000) * (1 / 30 - 0.01)) / (0.11 - 0.01);
    const lin3 = 1000 + ((100 - 1000) * (1 / 30 - 0.01)) / (0.11 - 0.01);

    it('stepfunction: exact', () => {
      // methods.stepfunction [[0,0,0],[1000,0,0],[1000,10,0],[1000,100,0]]
      localExceedanceImpact(table, o.frequency, o.return_periods, { method: 'stepfunction' }).forEach((row, z) => expectClose(row, o.stepfunction[z], 0));
    });

    it('extrapolate_constant (log-log): CLIMADA rtol 0.8, and the exact interpolation', () => {
      const got = localExceedanceImpact(table, o.frequency, o.return_periods, { method: 'extrapolate_constant' });
      // methods."extrapolate_constant (log-log)" [[0,0,0],[1000,0,0],[1000,100,0],[1000,300,0]] (rounded; rtol 0.8 upstream)
      got.forEach((row, z) => expectClose(row, o['extrapolate_constant (log-log)'][z], 0.8));
      expectClose(got[2]!, [1000, logLog2, 0], RTOL);
      expectClose(got[3]!, [1000, logLog3, 0], RTOL);
    });

    it('interpolate only (log-log): NaN outside the points', () => {
      const got = localExceedanceImpact(table, o.frequency, o.return_periods);
      // methods."interpolate only (log-log, no extrapolation)" [[nan..],[nan..],[nan,100,nan],[nan,300,nan]]
      got.forEach((row, z) => expectClose(row, o['interpolate only (log-log, no extrapolation)'][z], 0.8));
      expectClose(got[2]!, [NaN, logLog2, NaN], RTOL);
      expectClose(got[3]!, [NaN, logLog3, NaN], RTOL);
    });

    it('extrapolate_constant lin-lin', () => {
      const got = localExceedanceImpact(table, o.frequency, o.return_periods, { method: 'extrapolate_constant', logFrequency: false, logImpact: false });
      // methods."extrapolate_constant lin-lin" [[0,0,0],[1000,0,0],[1000,750,0],[1000,750,0]]
      got.forEach((row, z) => expectClose(row, o['extrapolate_constant lin-lin'][z], 0.8));
      expectClose(got[2]!, [1000, lin2, 0], RTOL);
      expectClose(got[3]!, [1000, lin3, 0], RTOL);
    });
  });

  it('local return period, stepfunction, equals test_impact.py:680-708', () => {
    const o = climada['local_return_period stepfunction (test_impact.py:680-708)'];
    const got = localReturnPeriod(transpose(o.imp_mat), o.frequency, o.threshold_impact, { method: 'stepfunction' });
    // "local_return_period stepfunction".expected_return_period [[nan,nan,nan],[100,100,nan],[9.0909..,100,nan],[0.9009..,100,nan]]
    got.forEach((row, z) => expectClose(row, o.expected_return_period[z], RTOL));
  });

  it('local return period, interpolated, is the inverse of the local exceedance impact', () => {
    const table = [[10, 100, 1000]];
    const freq = [1, 0.1, 0.01];
    const [[imp]] = localExceedanceImpact(table, freq, [30]) as [[number]];
    const [[rp]] = localReturnPeriod(table, freq, [imp]) as [[number]];
    expect(relClose(rp, 30, 1e-12)).toBe(true);
  });
});

describe('numpy / scipy primitives', () => {
  it('np.interp: clamps, knots, left/right', () => {
    expect(npInterp(0.5, [1, 2], [10, 20])).toBe(10);
    expect(npInterp(3, [1, 2], [10, 20])).toBe(20);
    expect(npInterp(1.5, [1, 2], [10, 20])).toBe(15);
    expect(npInterp(0.5, [1, 2], [10, 20], -1, 99)).toBe(-1);
    expect(npInterp(2, [1, 2, Infinity], [10, 20, 30])).toBe(20);
    expect(npInterp(1, [1], [7])).toBe(7);
  });

  it('interp1d: fill values and extrapolation', () => {
    expect(interp1d([1, 2], [10, 20], 3, 'extrapolate')).toBe(30);
    expect(interp1d([1, 2], [10, 20], 0, 'extrapolate')).toBe(0);
    expect(interp1d([1, 2], [10, 20], 0, [-1, -2])).toBe(-1);
    expect(interp1d([1, 2], [10, 20], 3, [-1, -2])).toBe(-2);
  });

  it("numpy's default quantile (linear) and median", () => {
    // np.quantile([1, 2, 3, 4], [0, 0.1, 0.25, 0.5, 0.9, 1]) = [1, 1.3, 1.75, 2.5, 3.7, 4]
    const s = [1, 2, 3, 4];
    expectClose(
      [0, 0.1, 0.25, 0.5, 0.9, 1].map((q) => quantileSorted(s, q)),
      [1, 1.3, 1.75, 2.5, 3.7, 4],
      1e-15,
    );
    expect(medianSorted([1, 2, 3, 4])).toBe(2.5);
    expect(medianSorted([3, 5, 9])).toBe(5);
  });

  it('rounding for grouping: significant digits (CLIMADA 5) and np.around (CLIMADA 6)', () => {
    // climada/util/test/test_interpolation.py: round_to_sig_digits([0.00111, 999.0, 55.5, 0.0, -1.001, -1.08], 2)
    expect([0.00111, 999.0, 55.5, 0.0, -1.001, -1.08].map((x) => roundSigDigits(x, 2))).toEqual([0.0011, 1000, 56, 0, -1, -1.1]);
    expect([2.5, 3.5, -2.5, 1234.5678].map((x) => aroundDecimals(x, 0))).toEqual([2, 4, -2, 1235]);
    expect(aroundDecimals(1234.5678, -2)).toBe(1200);
  });
});

describe('EAD: Delft-FIAT risk density', () => {
  const pub = fiat['delft_fiat_published (test/test_run.py test_grid_event / test_grid_risk; test/test_logic.py)'];
  const rec = fiat.recomputed_here;

  /** Delft-FIAT src/fiat/methods/ead.py `risk_density`, step by step as written there (the reference twin). */
  function fiatRiskDensityLiteral(rp: number[]): number[] {
    const s = [...rp].sort((a, b) => a - b);
    const n = s.length;
    const f = s.map((x) => 1 / x);
    const lf = s.map((x) => Math.log(1 / x));
    if (n === 1) return f;
    const c = Array.from({ length: n - 1 }, (_, i) => 1 / (lf[i]! - lf[i + 1]!));
    const g = f.map((x, i) => x * lf[i]! - x);
    const a = Array.from({ length: n - 1 }, (_, i) => (1 + c[i]! * lf[i + 1]!) * (f[i]! - f[i + 1]!) + c[i]! * (g[i + 1]! - g[i]!));
    const b = Array.from({ length: n - 1 }, (_, i) => c[i]! * (g[i]! - g[i + 1]! + lf[i + 1]! * (f[i + 1]! - f[i]!)));
    const alpha = s.map((_, i) => (i === 0 ? b[0]! : i === n - 1 ? f[i]! + a[i - 1]! : a[i - 1]! + b[i]!));
    return rp.map((x) => alpha[s.indexOf(x)]!);
  }

  it('risk_density([2,5,10,25]) equals the recomputed values', () => {
    // recomputed_here."risk_density([2,5,10,25])"
    expectClose(riskDensity([2, 5, 10, 25]), rec['risk_density([2,5,10,25])'], RTOL);
    expectClose(fiatRiskDensityLiteral([2, 5, 10, 25]), rec['risk_density([2,5,10,25])'], RTOL);
  });

  it("equals FIAT's literal formula for well-separated return periods (property)", () => {
    const rps = fc.uniqueArray(fc.integer({ min: 1, max: 100000 }), { minLength: 1, maxLength: 10 });
    fc.assert(
      fc.property(rps, (t) => {
        const ours = riskDensity(t);
        const theirs = fiatRiskDensityLiteral(t);
        const scale = 1 / Math.min(...t);
        ours.forEach((w, i) => expect(Math.abs(w - theirs[i]!)).toBeLessThanOrEqual(1e-9 * scale));
      }),
    );
  });

  it('calc_ead for the six-return-period example is 98.50 (test_logic.py), sorted or not', () => {
    const rps = [1, 2, 5, 25, 50, 100];
    const dms = [5, 10, 50, 300, 1200, 3000];
    const e = ead(dms, rps);
    // delft_fiat_published."calc_ead(...)": int(round(ead,1)*100)==9850
    expect(Math.trunc(Math.round(e * 10) / 10 * 100)).toBe(9850);
    expect(pub['calc_ead(risk_density([1,2,5,25,50,100]), [5,10,50,300,1200,3000])']).toMatch(/9850/);
    // recomputed_here.ead_98.50_check 98.49343647185707
    expect(relClose(e, rec['ead_98.50_check'], RTOL)).toBe(true);
    // the same list unsorted ([50,2,100,25,1,5] / [1200,10,3000,300,5,50]): the same bits
    expect(ead([1200, 10, 3000, 300, 5, 50], [50, 2, 100, 25, 1, 5])).toBe(e);
  });

  it('one return period: EAD = D / T (calc_ead(risk_density([10]), [5]) = 0.5)', () => {
    // delft_fiat_published."calc_ead(risk_density([10]), [5])": int(ead*100)==50
    expect(Math.trunc(ead([5], [10]) * 100)).toBe(50);
    expect(ead([5], [10])).toBe(0.5);
    expect(ead([5], [10], 'trapezoid')).toBe(0.5);
  });

  /** Delft-FIAT synthetic grid: hazard (3.6 - 0.2 (row + col)) x factor, struct_1 curve, exposure 2000 + 100 (row + col). */
  function fiatCell(row: number, col: number): { damages: number[]; rps: number[] } {
    const csv = readFileSync(join(FIAT, 'vulnerability_curves.csv'), 'utf8')
      .split(/\r?\n/)
      .filter((l) => l.trim() && !l.startsWith('#'));
    const header = csv[0]!.split(',');
    const rows = csv.slice(1).map((l) => l.split(',').map(Number));
    const depth = rows.map((r) => r[0]!);
    const s1 = rows.map((r) => r[header.indexOf('struct_1')]!);
    const factors = [1.5, 1.8, 1.9, 1.95];
    const exposure = 2000 + 100 * (row + col);
    return { rps: [2, 5, 10, 25], damages: factors.map((f) => exposure * interp((3.6 - 0.2 * (row + col)) * f, depth, s1)) };
  }

  it('per-cell EAD at (1,2) is 1092.09 and at (5,6) 846.88 (test_run.py test_grid_risk)', () => {
    const a = fiatCell(1, 2);
    const b = fiatCell(5, 6);
    const ea = ead(a.damages, a.rps);
    const eb = ead(b.damages, b.rps);
    // delft_fiat_published."grid_risk_ead[row=1,col=2]": int(x*10)==10920; recomputed_here."ead[1,2]" 1092.091083026302
    expect(Math.trunc(ea * 10)).toBe(10920);
    expect(relClose(ea, rec['ead[1,2]'], 1e-12)).toBe(true);
    // delft_fiat_published."grid_risk_ead[row=5,col=6]": int(x*10)==8468; recomputed_here."ead[5,6]" 846.8849095598903
    expect(Math.trunc(eb * 10)).toBe(8468);
    expect(relClose(eb, rec['ead[5,6]'], 1e-12)).toBe(true);
    // the same through the zone table and the per-cell (band-sequential) path, f64 and f32 input
    expect(eadPerZone([a.damages, b.damages], a.rps)).toEqual([ea, eb]);
    const seq = new Float64Array(8);
    a.damages.forEach((d, i) => {
      seq[i * 2] = d;
      seq[i * 2 + 1] = b.damages[i]!;
    });
    expect(Array.from(eadCells(seq, 2, { returnPeriods: a.rps }))).toEqual([ea, eb]);
    const f32 = eadCells(Float32Array.from(seq), 2, { returnPeriods: a.rps });
    expect(relClose(f32[0]!, ea, 1e-6) && relClose(f32[1]!, eb, 1e-6)).toBe(true);
    const bands = [0, 1, 2, 3].map((i) => Float64Array.of(a.damages[i]!, b.damages[i]!));
    expect(Array.from(eadBands(bands, { returnPeriods: a.rps }))).toEqual([ea, eb]);
  });

  it('per-cell EAD over the whole 10 x 10 grid sums to the recomputed 85385.50 (band-sequential f64)', () => {
    const cells = 100;
    const data = new Float64Array(4 * cells);
    for (let r = 0; r < 10; r++) {
      for (let c = 0; c < 10; c++) fiatCell(r, c).damages.forEach((d, b) => (data[b * cells + r * 10 + c] = d));
    }
    const perCell = eadCells(data, cells, { returnPeriods: [2, 5, 10, 25] });
    // recomputed_here.grid_risk_ead_sum 85385.50064758552
    expect(relClose(Array.from(perCell).reduce((s, x) => s + x, 0), rec.grid_risk_ead_sum, 1e-12)).toBe(true);
    expect(perCell[12]).toBe(ead(fiatCell(1, 2).damages, [2, 5, 10, 25]));
  });

  it('per-cell EAD: no data in any band gives NaN; output array written in place', () => {
    const data = Float32Array.of(1, NaN, 3, -9999, 2, 2, 2, 2);
    const out = new Float32Array(4);
    const r = eadCells(data, 4, { returnPeriods: [10, 100], nodata: -9999, out });
    expect(r).toBe(out);
    expect(Number.isNaN(out[1]!)).toBe(true);
    expect(Number.isNaN(out[3]!)).toBe(true);
    expect(out[0]).toBeCloseTo(ead([1, 2], [10, 100]), 6);
  });

  it('weights: sum to 1 / shortest return period, non-negative, both methods (property)', () => {
    const rpsArb = fc.uniqueArray(fc.double({ min: 1.01, max: 1e5, noNaN: true }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(rpsArb, (rps) => {
        const fMax = 1 / Math.min(...rps);
        for (const w of [riskDensity(rps), trapezoidWeights(rps)]) {
          w.forEach((x) => expect(x).toBeGreaterThanOrEqual(-1e-12 * fMax));
          expect(Math.abs(w.reduce((s, x) => s + x, 0) - fMax)).toBeLessThanOrEqual(1e-9 * fMax);
        }
      }),
    );
  });

  it('EAD is monotone in the damages and independent of band order (property)', () => {
    const arb = fc
      .uniqueArray(fc.integer({ min: 2, max: 10000 }), { minLength: 1, maxLength: 7 })
      .chain((rps) =>
        fc.tuple(
          fc.constant(rps),
          fc.array(fc.double({ min: 0, max: 1e7, noNaN: true }), { minLength: rps.length, maxLength: rps.length }),
          fc.array(fc.double({ min: 0, max: 1e5, noNaN: true }), { minLength: rps.length, maxLength: rps.length }),
        ),
      );
    fc.assert(
      fc.property(arb, fc.constantFrom('loglinear' as const, 'trapezoid' as const), ([rps, d, extra], method) => {
        const base = ead(d, rps, method);
        expect(ead(d.map((x, i) => x + extra[i]!), rps, method)).toBeGreaterThanOrEqual(base);
        const rev = [...rps.keys()].reverse();
        expect(
          ead(
            rev.map((i) => d[i]!),
            rev.map((i) => rps[i]!),
            method,
          ),
        ).toBe(base);
      }),
    );
  });

  it('trapezoid: hand-computed example, and equal to loglinear for constant damage', () => {
    // T = 2, 10: p = 0.5, 0.1; D = 100, 500: (0.5 - 0.1) (100 + 500) / 2 + 0.1 * 500 = 170
    expect(ead([100, 500], [2, 10], 'trapezoid')).toBeCloseTo(170, 12);
    expect(ead([7, 7, 7], [2, 10, 50], 'trapezoid')).toBeCloseTo(3.5, 12);
    expect(ead([7, 7, 7], [2, 10, 50], 'loglinear')).toBeCloseTo(3.5, 12);
  });

  it('refuses duplicated and non-positive return periods, listing all; sorts unsorted ones', () => {
    const err = thrown(() => ead([1, 2, 3, 4], [10, 10, 0, -2]));
    expect(err.code).toBe('E_SCENARIO_INVALID');
    expect(err.message).toMatch(/return period 0 is not a finite number > 0/);
    expect(err.message).toMatch(/return period -2 is not/);
    expect(err.message).toMatch(/return period 10 appears 2 times \(bands 1, 2\)/);
    expect(thrown(() => ead([1, 2], [10, 20, 30])).message).toMatch(/3 return periods given for 2 bands/);
    expect(thrown(() => eadWeights([10], 'simpson' as never)).message).toMatch(/unknown method "simpson"/);
    expect(thrown(() => eadCells(new Float64Array(5), 2, { returnPeriods: [2, 5] })).code).toBe('E_GRID_MISMATCH');
  });
});

describe('ensembles', () => {
  const layoutOf = (members: number, leadTimes: string[], order: EnsembleLayout['order']) => resolveEnsembleLayout({ members, leadTimes, order }, members * leadTimes.length);

  it('band layout: member-major and lead-major', () => {
    const mm = layoutOf(3, ['24-hour', '48-hour'], 'member-major');
    const lm = layoutOf(3, ['24-hour', '48-hour'], 'lead-major');
    expect([0, 1, 2].map((m) => bandOf(mm, m, 1))).toEqual([1, 3, 5]);
    expect([0, 1, 2].map((m) => bandOf(lm, m, 1))).toEqual([3, 4, 5]);
    // members default to bands / lead times
    expect(resolveEnsembleLayout({ leadTimes: ['1-day', '2-day'] }, 102)).toEqual({ members: 51, leadTimes: ['1-day', '2-day'], order: 'member-major' });
  });

  it('stats per lead time: mean, median, numpy quantiles', () => {
    // member-major, 4 members x 2 lead times: member m has [m + 1, 10 (m + 1)]
    const values = [1, 10, 2, 20, 3, 30, 4, 40];
    const s = ensembleStats(values, layoutOf(4, ['1-day', '2-day'], 'member-major'), [0.1, 0.9]);
    expect(s.map((x) => [x.leadTime, x.leadTimeHours, x.mean, x.median, x.min, x.max])).toEqual([
      ['1-day', 24, 2.5, 2.5, 1, 4],
      ['2-day', 48, 25, 25, 10, 40],
    ]);
    expectClose(
      s[0]!.quantiles.map((q) => q.value),
      [1.3, 3.7],
      1e-15,
    );
    // a member without data (null / NaN): that lead time's statistics are NaN
    const withNull = ensembleStats([1, 2, null, 4], layoutOf(4, ['1-day'], 'member-major'), [0.5]);
    expect([withNull[0]!.mean, withNull[0]!.median, withNull[0]!.quantiles[0]!.value].every(Number.isNaN)).toBe(true);
  });

  it('exceedance probability = members at or above / members', () => {
    const lm = layoutOf(4, ['24-hour', '72-hour'], 'lead-major');
    const e = exceedance([0, 5, 10, 15, 20, 20, 20, NaN], lm, 'damage', [10, 20]);
    expect(e.map((x) => [x.leadTime, x.threshold, x.count, x.probability])).toEqual([
      ['24-hour', 10, 2, 0.5],
      ['24-hour', 20, 0, 0],
      ['72-hour', 10, 3, 0.75],
      ['72-hour', 20, 3, 0.75],
    ]);
    expect(e[0]).toMatchObject({ leadTime: '24-hour', metric: 'damage', threshold: 10, probability: 0.5 });
  });

  it('probability is monotone: non-increasing in the threshold, in [0, 1] (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 60 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }), (v, t, dt) => {
        const layout = layoutOf(v.length, ['0-hour'], 'member-major');
        const [a, b] = exceedance(v, layout, 'damage', [t, t + dt]);
        expect(a!.probability).toBeGreaterThanOrEqual(b!.probability);
        expect(a!.probability).toBeGreaterThanOrEqual(0);
        expect(a!.probability).toBeLessThanOrEqual(1);
        expect(a!.count).toBe(v.filter((x) => x >= t).length);
      }),
    );
  });

  it('refuses a layout that does not divide the band count, listing every problem', () => {
    const err = thrown(() => resolveEnsembleLayout({ members: 51, leadTimes: ['1-day', '2-day', 'soon', '48-hour'], order: 'by-member' as never }, 150));
    expect(err.code).toBe('E_SCENARIO_INVALID');
    expect(err.problems!.map((p) => p.path)).toEqual(['hazard.bands.order', 'hazard.bands.leadTimes[2]', 'hazard.bands.leadTimes', 'hazard.bands.members']);
    expect(err.message).toMatch(/51 members x 4 lead times = 204 bands, but the hazard has 150/);
    expect(err.message).toMatch(/lead time 48 hours appears 2 times/);
    expect(thrown(() => resolveEnsembleLayout({ leadTimes: ['1-day', '2-day'] }, 101)).message).toMatch(/2 lead times do not divide the 101 bands/);
    expect(thrown(() => resolveEnsembleLayout({ members: 0, leadTimes: ['1-day'] }, 0)).message).toMatch(/members \(0\) must be a whole number >= 1/);
    expect(thrown(() => ensembleStats([1, 2, 3], layoutOf(2, ['1-day'], 'member-major'))).message).toMatch(/3 band values, but 2 members x 1 lead times = 2/);
    expect(thrown(() => ensembleStats([1, 2], layoutOf(2, ['1-day'], 'member-major'), [1.5])).message).toMatch(/quantile 1.5 is outside/);
  });
});

describe('validation of a whole derivation (issue #4 section 7)', () => {
  it('lists every problem at once in one E_SCENARIO_INVALID', () => {
    const ensemble = derivationProblems({
      bandCount: 100,
      bands: { type: 'ensemble', members: 51, leadTimes: ['1-day', '2-day'], order: 'member-major' },
      quantiles: [0.5, -0.1],
      trigger: { metric: 'damage', threshold: 1000, pMin: 1.2, maxLeadTime: '5-day', alertClasses: [{ level: 'low', threshold: 500, pMin: -0.5 }] },
    });
    expect(ensemble.map((p) => p.path)).toEqual(['hazard.bands.members', 'quantiles[1]', 'trigger.pMin', 'trigger.alertClasses[0].pMin']);

    const err = thrown(() =>
      assertDerivation({
        bandCount: 3,
        bands: { type: 'events', frequencies: [0.1, 0.01] },
        trigger: { metric: 'damage', threshold: 1, pMin: 0.5 },
        exceedance: [{ metric: 'affectedValue', thresholds: [] }],
      }),
    );
    expect(err.code).toBe('E_SCENARIO_INVALID');
    expect(err.message).toMatch(/^scenario is invalid: 4 problems/);
    expect(err.problems!.map((p) => p.path)).toEqual(['hazard.bands.frequencies', 'exceedance[0]', 'exceedance[0].thresholds', 'trigger']);
    expect(err.message).toMatch(/2 frequencies given for 3 bands/);
    expect(err.message).toMatch(/thresholds need ensemble members, but hazard.bands.type is "events"/);

    const rp = derivationProblems({ bandCount: 4, bands: { type: 'return-periods', returnPeriods: [25, 10, 10, 0] }, ead: { method: 'simpson' as never } });
    expect(rp.map((p) => p.message)).toEqual([
      'return period 0 is not a finite number > 0 (years)',
      'return period 10 appears 2 times (bands 2, 3); each band needs its own return period',
      'unknown method "simpson"; use "loglinear" or "trapezoid"',
    ]);
    // unsorted but distinct return periods are fine
    expect(derivationProblems({ bandCount: 4, bands: { type: 'return-periods', returnPeriods: [25, 2, 10, 5] }, ead: { method: 'trapezoid' } })).toEqual([]);
    expect(() => assertDerivation({ bandCount: 51, bands: { type: 'ensemble', leadTimes: ['3-day'] }, trigger: { metric: 'hazardMax', threshold: 2, pMin: 0.6 } })).not.toThrow();
  });
});
