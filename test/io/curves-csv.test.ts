/**
 * Damage-curve CSV readers against the real files in /work/shared/data: the Delft-FIAT synthetic grid's
 * vulnerability_curves.csv and nismod/snail's curve CSVs. Expected values: snail `tests/test_damages.py`
 * (copied into snail-aqueduct-oxford/expected.json) and the FIAT table itself.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { normalizeUnit, parseFiatCurves, readCurveCsv } from '../../src/io/curves-csv.js';

const DATA = '/work/shared/data';
const FIAT_CSV = readFileSync(`${DATA}/fiat-synthetic-grid/vulnerability_curves.csv`, 'utf8');
const SNAIL = `${DATA}/snail-aqueduct-oxford`;
const PIECEWISE = readFileSync(`${SNAIL}/piecewise-linear-damage-curve.csv`, 'utf8');
const PAVED = readFileSync(`${SNAIL}/paved-road-flood-depth-damage.csv`, 'utf8');
const SNAIL_EXPECTED = JSON.parse(readFileSync(`${SNAIL}/expected.json`, 'utf8'))['snail_tests_damage_curve (tests/test_damages.py)'];

function thrown(fn: () => unknown): IbfError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IbfError);
    return e as IbfError;
  }
  throw new Error('expected an IbfError');
}

describe('Delft-FIAT vulnerability curves', () => {
  it('reads every curve with unit m, comments and per-curve #method', () => {
    const t = parseFiatCurves(FIAT_CSV, { name: 'vulnerability_curves.csv' });
    expect([...t.keys()]).toEqual(['struct_1', 'struct_2']);
    expect(t.unit).toBe('m');
    expect(t.intensityColumn).toBe('water depth');
    expect(t.comments).toEqual(['method,mean,max']);
    expect(t.columnMetadata).toEqual({ struct_1: { method: 'mean' }, struct_2: { method: 'max' } });
    const s1 = t.get('struct_1')!;
    expect(s1.unit).toBe('m');
    expect(s1.id).toBe('struct_1');
    expect(s1.mdr(2.4)).toBeCloseTo(0.542, 12); // between 2.25 -> 0.5 and 2.5 -> 0.57
    expect(s1.mdr(1.0)).toBe(0);
    expect(s1.mdr(9)).toBe(0.96);
    expect(t.get('struct_2')!.mdr(3.1)).toBe(0.96);
  });

  it('readCurveCsv picks a FIAT column and asks for one when there are several', () => {
    expect(readCurveCsv(FIAT_CSV, { column: 'struct_2' }).mdr(1.5)).toBe(0.37);
    const e = thrown(() => readCurveCsv(FIAT_CSV, { name: 'v.csv' }));
    expect(e.code).toBe('E_INPUT_FORMAT');
    expect(e.message).toMatch(/'struct_1', 'struct_2'.*column option/);
  });

  it('unknown column names the available ones', () => {
    const e = thrown(() => readCurveCsv(FIAT_CSV, { column: 'struct_3', name: 'v.csv' }));
    expect(e.code).toBe('E_INPUT_FORMAT');
    expect(e.message).toMatch(/no damage column 'struct_3'; the columns are 'water depth', 'struct_1', 'struct_2'/);
  });

  it('unit names are normalised; a unit option that contradicts the file is a problem', () => {
    expect(normalizeUnit('metre')).toBe('m');
    expect(normalizeUnit(' Feet ')).toBe('ft');
    expect(normalizeUnit('m/s')).toBe('m/s');
    expect(parseFiatCurves(FIAT_CSV.replace('#UNIT=meter', '#UNIT=feet')).unit).toBe('ft');
    const e = thrown(() => parseFiatCurves(FIAT_CSV, { unit: 'ft', name: 'v.csv' }));
    expect(e.message).toMatch(/unit option says 'ft' but the file says 'm'/);
  });
});

describe('plain / nismod-snail curves', () => {
  it('piecewise-linear-damage-curve.csv: interpolation and out-of-bounds as snail tests', () => {
    const f = readCurveCsv(PIECEWISE, { unit: 'm', name: 'piecewise.csv' });
    expect(f.spec).toMatchObject({ intensity: SNAIL_EXPECTED.curve.intensity, mdd: SNAIL_EXPECTED.curve.damage });
    for (const [x, y] of Object.entries(SNAIL_EXPECTED.interpolation as Record<string, number>)) expect(f.mdr(Number(x))).toBeCloseTo(y, 12);
    const toNum = (v: number | string) => (v === '-inf' ? -Infinity : v === 'inf' ? Infinity : v === 'nan' ? NaN : Number(v));
    const { inputs, expected } = SNAIL_EXPECTED.out_of_bounds as { inputs: (number | string)[]; expected: (number | string)[] };
    inputs.forEach((x, i) => expect(f.mdr(toNum(x))).toEqual(toNum(expected[i]!)));
    // the comment block is kept as provenance notes
    expect(f.spec.provenance?.notes).toMatch(/use # to add comment lines/);
  });

  it('piecewise curve without a unit: the missing unit is reported with how to fix it', () => {
    const e = thrown(() => readCurveCsv(PIECEWISE, { name: 'piecewise.csv' }));
    expect(e.code).toBe('E_CURVE_INVALID');
    expect(e.message).toMatch(/piecewise\.csv:unit: the intensity unit is missing/);
    expect(e.hint).toMatch(/#UNIT=/);
  });

  it('paved-road-flood-depth-damage.csv: tab separated, column road_unpaved, unit from the header "(m)"', () => {
    const f = readCurveCsv(PAVED, { column: 'road_unpaved', name: 'paved.csv' });
    expect(f.unit).toBe('m');
    expect(f.spec).toMatchObject({ intensity: SNAIL_EXPECTED[Object.keys(SNAIL_EXPECTED).find((k) => k.startsWith('paved'))!].intensity });
    const want = SNAIL_EXPECTED[Object.keys(SNAIL_EXPECTED).find((k) => k.startsWith('paved'))!];
    expect(f.spec).toMatchObject({ intensity: want.intensity, mdd: want.damage });
    expect(f.mdr(2.5)).toBeCloseTo(0.55, 12);
  });

  it('paved-road CSV without a column: lists the candidate columns (the non-numeric one included)', () => {
    const e = thrown(() => readCurveCsv(PAVED, { name: 'paved.csv' }));
    expect(e.message).toMatch(/'road_unpaved', 'unrelated'/);
  });
});

describe('bad CSVs list every problem at once, with line and column', () => {
  it('non-numeric cells, NaN, decreasing intensity and percentages together', () => {
    const csv = ['# made up', '#UNIT=m', 'depth,dmg', '0,0', '1,abc', '2,nan', '1.5,40', ',0.5', '3,1'].join('\n');
    const e = thrown(() => readCurveCsv(csv, { name: 'bad.csv' }));
    expect(e.code).toBe('E_INPUT_FORMAT');
    const paths = e.problems!.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['bad.csv:5:dmg', 'bad.csv:6:dmg', 'bad.csv:7:depth', 'bad.csv:7:dmg', 'bad.csv:8:depth']));
    const text = e.problems!.map((p) => `${p.path} ${p.message}`).join('\n');
    expect(text).toMatch(/bad\.csv:5:dmg is "abc"; expected a number/);
    expect(text).toMatch(/bad\.csv:6:dmg is NaN/);
    expect(text).toMatch(/bad\.csv:7:depth is 1\.5, less than 2 on line 6/);
    expect(text).toMatch(/bad\.csv:7:dmg is 40; must be in \[0, 1\]/);
    expect(text).toMatch(/bad\.csv:8:depth is empty/);
    expect(e.hint).toMatch(/divide percentages by 100/);
  });

  it('percent curves alone are E_CURVE_INVALID with the /100 hint', () => {
    const e = thrown(() => readCurveCsv('intensity,damage_ratio\n0,0\n1,50\n2,100\n', { unit: 'm', name: 'pct.csv' }));
    expect(e.code).toBe('E_CURVE_INVALID');
    expect(e.problems!.map((p) => p.path)).toEqual(['pct.csv:3:damage_ratio', 'pct.csv:4:damage_ratio']);
    expect(e.hint).toMatch(/divide percentages by 100/);
  });

  it('FIAT table with problems in several curves lists them all, intensity problems once', () => {
    const csv = ['#UNIT=m', 'water depth,a,b', '0,0,0', '2,0.5,x', '1,1.2,0.3'].join('\n');
    const e = thrown(() => parseFiatCurves(csv, { name: 'f.csv' }));
    expect(e.problems!.map((p) => p.path)).toEqual(['f.csv:4:b', 'f.csv:5:water depth', 'f.csv:5:a']);
  });

  it('short rows, a missing header and too few rows', () => {
    const e1 = thrown(() => readCurveCsv('intensity,damage\n0,0\n1\n2,1\n', { unit: 'm', name: 's.csv' }));
    expect(e1.message).toMatch(/s\.csv:3:damage: line 3 has 1 cells/);
    const e2 = thrown(() => readCurveCsv('# only comments\n', { name: 'c.csv' }));
    expect(e2.code).toBe('E_INPUT_FORMAT');
    expect(e2.message).toMatch(/no header row/);
    const e3 = thrown(() => readCurveCsv('intensity,damage\n0,0\n', { unit: 'm', name: 'one.csv' }));
    expect(e3.message).toMatch(/at least 2/);
  });

  it('duplicate columns are a problem; a trailing empty column is ignored', () => {
    const e = thrown(() => parseFiatCurves('#UNIT=m\nd,a,a\n0,0,0\n1,1,1\n', { name: 'dup.csv' }));
    expect(e.message).toMatch(/column 'a' appears more than once/);
    const t = parseFiatCurves('#UNIT=m\n#method,mean,max,\nd,a,b,\n0,0,0,\n1,1,0.5,\n');
    expect([...t.keys()]).toEqual(['a', 'b']);
    expect(t.columnMetadata).toEqual({ a: { method: 'mean' }, b: { method: 'max' } });
  });

  it('quoted headers, semicolons and CRLF line ends are read', () => {
    const f = readCurveCsv('"flood depth (m)";"damage ratio"\r\n0;0\r\n2;0.5\r\n', { column: 'damage ratio' });
    expect(f.unit).toBe('m');
    expect(f.mdr(1)).toBe(0.25);
  });
});
