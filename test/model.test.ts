/**
 * Model: damage functions against CLIMADA's unit tests (../shared/data/climada-oracles), units, grids,
 * errors. Tolerance 0 (bit for bit) wherever the oracle was computed from f64 inputs.
 */
import { describe, expect, it } from 'vitest';
import { DamageFunction, interp } from '../src/model/damage-function.js';
import { conversionFactor, inUnit, normalizeUnit } from '../src/model/units.js';
import { assertSameGrid, gridDifferences, cellCenter, isNorthUp, type Grid } from '../src/model/grid.js';
import { IbfError } from '../src/errors.js';
import { expectedJson } from './helpers.js';

const climada = expectedJson('climada-oracles');
const range = (from: number, to: number, step: number) => Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => from + i * step);

describe('DamageFunction (CLIMADA semantics)', () => {
  it('calc_mdr(17.2) = interp(mdd) x interp(paa), bit for bit', () => {
    const o = climada['impf_calc_mdr_linear_interp (climada/entity/impact_funcs/test/test_base.py:100-107)'];
    const xs = range(0, 90, 10);
    const f = DamageFunction.fromTable({ unit: 'm', intensity: xs, mdd: xs.map((x) => x / 100), paa: xs.map((x) => x / 100) });
    expect(f.mdr(17.2)).toBe(o['mdr=mdd*paa']);
  });

  it('from_step_impf and from_sigmoid_impf', () => {
    const step = DamageFunction.fromStep([0, 5, 10], { unit: 'm' });
    const o = climada['impf_step (test_base.py:109-117)'];
    expect(step.spec).toMatchObject({ intensity: o.result_intensity, mdd: o.mdd, paa: o.paa });
    const s = climada['impf_sigmoid (test_base.py:119-130)'];
    const sig = DamageFunction.fromSigmoid({ L: s.L, k: s.k, x0: s.x0, intensity: range(0, 95, 5), unit: 'm' });
    expect(sig.mdd(50)).toBe(s['mdd[10] (I=50)']);
    expect(sig.mdd(95)).toBe(s['mdd[-1] (I=95)']);
  });

  it('Emanuel USA matches CLIMADA at every tested wind speed, and rejects bad parameters', () => {
    const o = climada['impf_emanuel_usa_default (climada/entity/impact_funcs/test/test_tc.py:33-66)'];
    const f = DamageFunction.fromEmanuel();
    expect(range(30, 120, 5).map((v) => f.mdr(v))).toEqual(o['mdd[6:25] (I=30..120)']);
    expect(range(0, 25, 5).map((v) => f.mdr(v))).toEqual(o['mdd[0:6]']);
    const c = climada['impf_emanuel_usa_custom (test_tc.py:68-87)'];
    const g = DamageFunction.fromEmanuel({ vThresh: 2, vHalf: 5, scale: 0.5, intensity: c.params.intensity });
    expect(c.params.intensity.map((v: number) => g.mdr(v))).toEqual(c.mdd);
    expect(() => DamageFunction.fromEmanuel({ vThresh: 5, vHalf: 5 })).toThrow(IbfError);
    expect(() => DamageFunction.fromEmanuel({ scale: 1.5 })).toThrow(/scale/);
    expect(f.mdr(NaN)).toBeNaN();
  });

  it('interp is np.interp: clamped ends, right-most value at steps, NaN stays NaN', () => {
    expect(interp(-1, [0, 1], [0.2, 0.4])).toBe(0.2);
    expect(interp(2, [0, 1], [0.2, 0.4])).toBe(0.4);
    expect(interp(5, [0, 5, 5, 10], [0, 0, 1, 1])).toBe(1);
    expect(interp(NaN, [0, 1], [0, 1])).toBeNaN();
  });

  it('validation lists every problem at once', () => {
    try {
      DamageFunction.fromTable({ unit: '', intensity: [0, 2, 1, NaN], mdd: [0, 1.5, -0.1, 0] });
      expect.fail('should throw');
    } catch (e) {
      const err = e as IbfError;
      expect(err.code).toBe('E_CURVE_INVALID');
      expect(err.problems!.map((p) => p.path).sort()).toEqual(['intensity[2]', 'intensity[3]', 'mdd[1]', 'mdd[2]', 'unit']);
    }
  });

  it('onset is where damage starts', () => {
    expect(DamageFunction.fromEmanuel().onset()).toBe(25.7);
    expect(DamageFunction.fromTable({ unit: 'm', intensity: [0, 1, 2], mdd: [0, 0, 0.5] }).onset()).toBe(1);
    expect(DamageFunction.fromTable({ unit: 'm', intensity: [0, 1], mdd: [0, 0] }).onset()).toBe(Infinity);
  });
});

describe('units', () => {
  it('converts lengths and speeds exactly, refuses other pairs', () => {
    expect(conversionFactor('ft', 'm')).toBe(0.3048);
    expect(conversionFactor('metre', 'm')).toBe(1);
    expect(conversionFactor('kn', 'm/s')).toBeCloseTo(0.514444, 6);
    expect(conversionFactor('m', 'm/s')).toBeNull();
    expect(normalizeUnit('Meters')).toBe('m');
    const ft = DamageFunction.fromTable({ unit: 'ft', intensity: [0, 10], mdd: [0, 1] });
    expect(inUnit(ft, 'm').spec).toMatchObject({ unit: 'm', intensity: [0, 3.048] });
    const em = inUnit(DamageFunction.fromEmanuel(), 'km/h');
    expect(em.mdr(74.7 * 3.6)).toBeCloseTo(0.5, 12);
    expect(() => inUnit(ft, 'm/s')).toThrow(expect.objectContaining({ code: 'E_UNIT_MISMATCH' }));
  });
});

describe('grid', () => {
  const g: Grid = { width: 10, height: 10, transform: [4.35, 0.01, 0, 52.05, 0, -0.01], crs: 'EPSG:4326' };
  it('compares grids with a relative tolerance and names every difference', () => {
    expect(gridDifferences(g, { ...g, transform: [4.35 + 1e-14, 0.01, 0, 52.05, 0, -0.01] })).toEqual([]);
    const d = gridDifferences(g, { ...g, width: 11, crs: 'EPSG:3857' }, 'exposure', 'hazard');
    expect(d.map((p) => p.path)).toEqual(['hazard.size', 'hazard.crs']);
    expect(() => assertSameGrid(g, { ...g, height: 9 }, 'a', 'b')).toThrow(expect.objectContaining({ code: 'E_GRID_MISMATCH' }));
    const [cx, cy] = cellCenter(g, 0, 0);
    expect(cx).toBeCloseTo(4.355, 12);
    expect(cy).toBeCloseTo(52.045, 12);
    expect(isNorthUp(g)).toBe(true);
  });
});

describe('IbfError', () => {
  it('survives JSON (postMessage) with code, hint and problems', () => {
    const e = IbfError.fromProblems('E_SCENARIO_INVALID', 'bad', [{ path: 'a', message: 'b' }]);
    const back = IbfError.fromJSON(JSON.parse(JSON.stringify(e)));
    expect(back).toBeInstanceOf(IbfError);
    expect(back.toJSON()).toEqual(e.toJSON());
    expect(back.hint).toContain('README');
    expect(structuredClone(e.toJSON()).code).toBe('E_SCENARIO_INVALID');
  });
});
