import { describe, it, expect } from 'vitest';
import { IbfError } from '../src/errors.js';
import { CLIMADA_TC_INTENSITY, DamageFunction, validateDamageFunction } from '../src/model/damage-function.js';
import {
  CurveCatalog,
  EBERENZ_2021_REGIONS,
  EBERENZ_2021_TDR_V_HALF,
  FOOT_M,
  JRC_DEPTHS_M,
  JRC_REGIONS,
  createCatalog,
  eberenz2021,
  getCurve,
  hasCurve,
  jrcFlood,
  listCurves,
  registerCurves,
  type CatalogEntry,
} from '../src/catalog/index.js';
import { thrown } from './helpers.js';


function table(id: string) {
  const spec = getCurve(id).spec;
  if (spec.kind !== 'table') throw new Error(`${id} is not tabulated`);
  return spec;
}

describe('catalog: every entry', () => {
  const entries = listCurves();

  it('has unique ids, units, hazards and provenance', () => {
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    for (const e of entries) {
      expect(e.unit).toMatch(/^(m|m\/s)$/);
      expect(['flood', 'wind']).toContain(e.hazard);
      expect(e.provenance.source.length).toBeGreaterThan(10);
      expect(e.provenance.reference?.length ?? 0).toBeGreaterThan(10);
    }
  });

  it('loads, validates and agrees with its entry', () => {
    for (const e of entries) {
      const fn = getCurve(e.id);
      expect(fn).toBeInstanceOf(DamageFunction);
      expect(validateDamageFunction(fn.spec)).toEqual([]);
      expect(fn.id).toBe(e.id);
      expect(fn.unit).toBe(e.unit);
      expect(fn.spec.hazard).toBe(e.hazard);
      expect(hasCurve(e.id)).toBe(true);
    }
  });

  it('lists in a stable order and counts per family', () => {
    expect(listCurves().map((e) => e.id)).toEqual(entries.map((e) => e.id));
    expect(entries.filter((e) => e.id.startsWith('jrc-flood-'))).toHaveLength(25);
    expect(entries.filter((e) => e.id.startsWith('eberenz-2021-'))).toHaveLength(10);
    expect(entries.filter((e) => e.id.startsWith('hazus-flood-'))).toHaveLength(6);
    expect(entries[0]!.id).toBe('jrc-flood-africa-residential');
  });

  it('filters by hazard, region and sector, forgiving case and separators', () => {
    expect(listCurves({ hazard: 'wind' }).map((e) => e.id)).toEqual(['emanuel-usa', ...EBERENZ_2021_REGIONS.map((r) => `eberenz-2021-${r.toLowerCase()}`)]);
    expect(listCurves({ hazard: 'flood' })).toHaveLength(31);
    expect(listCurves({ region: 'North America' }).map((e) => e.sector)).toEqual(['residential', 'commercial', 'industrial', 'agriculture']);
    expect(listCurves({ hazard: 'FLOOD', sector: 'infrastructure' }).map((e) => e.region)).toEqual(['asia', 'europe']);
    expect(listCurves({ region: 'atlantis' })).toEqual([]);
  });
});

describe('catalog: JRC global flood (Huizinga et al. 2017)', () => {
  const jrc = listCurves({ hazard: 'flood' }).filter((e) => e.id.startsWith('jrc-flood-'));

  it('has the 25 region x sector curves CLIMADA petals publishes', () => {
    const bySector = (s: string) => jrc.filter((e) => e.sector === s).map((e) => e.region);
    expect(bySector('residential')).toEqual([...JRC_REGIONS]);
    expect(bySector('commercial')).toEqual(['asia', 'europe', 'north-america', 'oceania', 'south-america']);
    expect(bySector('industrial')).toEqual(['africa', 'asia', 'europe', 'north-america', 'south-america']);
    expect(bySector('transport')).toEqual(['asia', 'europe', 'south-america']);
    expect(bySector('infrastructure')).toEqual(['asia', 'europe']);
    expect(bySector('agriculture')).toEqual(['africa', 'asia', 'europe', 'north-america']);
  });

  it('are in m, non-decreasing in depth, mdd in [0, 1], paa 1, 0 at 0 m and 1 at 12 m', () => {
    for (const e of jrc) {
      const s = table(e.id);
      expect(e.unit).toBe('m');
      expect(s.intensity).toEqual([...JRC_DEPTHS_M]);
      s.mdd.forEach((v, i) => {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
        if (i > 0) expect(v).toBeGreaterThanOrEqual(s.mdd[i - 1]!);
      });
      expect(s.paa.every((p) => p === 1)).toBe(true);
      expect(s.mdd[0]).toBe(0);
      expect(s.mdd.at(-1)).toBe(1);
    }
  });

  it('match values read in climada_petals river_flood.py / test_fl.py IMPF_MDD', () => {
    // Europe residential (impf 31): 0.25 at 0.5 m, 0.6 at 2 m.
    expect(getCurve('jrc-flood-europe-residential').mdr(0.5)).toBe(0.25);
    expect(getCurve('jrc-flood-europe-residential').mdr(2)).toBe(0.6);
    // Africa residential (impf 11): 0.378 at 1 m.
    expect(jrcFlood('Africa', 'residential').mdr(1)).toBe(0.378);
    // North America residential (impf 41): JRC 0 m value 0.202 sits at 0.05 m, 0 at 0 m.
    expect(jrcFlood('north america', 'residential').mdr(0.05)).toBe(0.202);
    expect(jrcFlood('NorthAmerica', 'residential').mdr(0)).toBe(0);
    // Asia infrastructure (impf 25): 0.969 at 5 m; South America transport (impf 64): 0.596 at 1.5 m.
    expect(getCurve('jrc-flood-asia-infrastructure').mdr(5)).toBe(0.969);
    expect(getCurve('jrc-flood-south-america-transport').mdr(1.5)).toBe(0.596);
    // Between knots: linear, 0.75 m in Europe residential = (0.25 + 0.4) / 2.
    expect(getCurve('jrc-flood-europe-residential').mdr(0.75)).toBeCloseTo(0.325, 15);
  });

  it('refuses a region x sector JRC does not publish, naming the sectors that exist', () => {
    const e = thrown(() => jrcFlood('Africa', 'commercial'));
    expect(e.code).toBe('E_CATALOG_UNKNOWN');
    expect(e.message).toContain('Africa');
    expect(e.message).toContain('residential, industrial, agriculture');
    expect(e.hint).toContain('ibf curves');
    expect(e.details).toMatchObject({ sectors: ['residential', 'industrial', 'agriculture'] });

    const byId = thrown(() => getCurve('jrc-flood-oceania-industrial'));
    expect(byId.code).toBe('E_CATALOG_UNKNOWN');
    expect(byId.message).toContain('jrc-flood-oceania-residential, jrc-flood-oceania-commercial');
    expect(byId.hint).toContain('ibf curves');
    expect(hasCurve('jrc-flood-oceania-industrial')).toBe(false);
  });

  it('refuses unknown regions and sectors, listing the valid ones', () => {
    const r = thrown(() => jrcFlood('Atlantis', 'residential'));
    expect(r.code).toBe('E_CATALOG_UNKNOWN');
    expect(r.message).toContain('Africa, Asia, Europe, North America, Oceania, South America');
    const s = thrown(() => jrcFlood('Europe', 'roads'));
    expect(s.code).toBe('E_CATALOG_UNKNOWN');
    expect(s.message).toContain('infrastructure');
  });
});

describe('catalog: TC wind (Emanuel 2011, Eberenz et al. 2021)', () => {
  it('emanuel-usa equals CLIMADA test_tc.py bit for bit at every knot', () => {
    // CLIMADA climada/entity/impact_funcs/test/test_tc.py @f54387a, TestEmanuelFormula.test_default_values_pass: mdd[6:25] (30..120 m/s).
    const climada = [
      0.0006753419543492556, 0.006790495604105169, 0.02425254393374475, 0.05758706257339458, 0.10870556455111065, 0.1761433569521351,
      0.2553983618763961, 0.34033822528795565, 0.4249447743109498, 0.5045777092933046, 0.576424302849412, 0.6393091739184916,
      0.6932203123193963, 0.7388256596555696, 0.777104531116526, 0.8091124649261859, 0.8358522190681132, 0.8582150905529946,
      0.8769633232141456,
    ];
    const f = getCurve('emanuel-usa');
    expect(f.unit).toBe('m/s');
    expect(table('emanuel-usa').intensity).toEqual([...CLIMADA_TC_INTENSITY]);
    for (let x = 0; x <= 25; x += 5) expect(f.mdr(x)).toBe(0);
    climada.forEach((v, i) => expect(f.mdr(30 + 5 * i)).toBe(v));
    expect(f.mdr(120)).toBe(0.8769633232141456);
    expect(f.mdr(30)).toBe(0.0006753419543492556);
    // np.interp clamps above the last knot.
    expect(f.mdr(122)).toBe(f.mdr(120));
    expect(f.mdr(Number.NaN)).toBeNaN();
  });

  it('Eberenz v_half (TDR, CLIMADA default) match the calibration file and CLIMADA tests', () => {
    // CLIMADA test_tc.py TestCalibratedImpfSet.test_default_values_pass: WP2 188.4, ROW 110.1.
    expect(EBERENZ_2021_TDR_V_HALF.WP2).toBe(188.4);
    expect(EBERENZ_2021_TDR_V_HALF.ROW).toBe(110.1);
    // climada_python data/system/tc_impf_cal_v01_TDR1.0.csv @7516af3: NA1 66.30000000000058, WP4 190.50000000000242 -> np.round(., 5).
    expect(EBERENZ_2021_TDR_V_HALF.NA1).toBe(Math.round(66.30000000000058 * 1e5) / 1e5);
    expect(EBERENZ_2021_TDR_V_HALF.WP4).toBe(Math.round(190.50000000000242 * 1e5) / 1e5);
    expect(EBERENZ_2021_TDR_V_HALF).toEqual({ NA1: 66.3, NA2: 89.2, NI: 70.8, OC: 64.1, SI: 52.4, WP1: 66.4, WP2: 188.4, WP3: 112.8, WP4: 190.5, ROW: 110.1 });
  });

  it('Eberenz functions are tabulated like CLIMADA (WP4 checks from test_tc.py)', () => {
    const wp4 = getCurve('eberenz-2021-wp4');
    const s = table('eberenz-2021-wp4');
    // test_tc.py: impf_wp4.mdd.max() ~ 0.15779133833203 and calc_mdr(75) ~ 0.02607326527808 (places=5).
    expect(Math.max(...s.mdd)).toBeCloseTo(0.15779133833203, 5);
    expect(wp4.mdr(75)).toBeCloseTo(0.02607326527808, 5);
    expect(wp4.mdr(25)).toBe(0);
    expect(eberenz2021('row').id).toBe('eberenz-2021-row');
    expect(getCurve('eberenz-2021-na1').spec.provenance?.notes).toContain('TDR');
    const bad = thrown(() => eberenz2021('EP'));
    expect(bad.code).toBe('E_CATALOG_UNKNOWN');
    expect(bad.message).toContain('NA1, NA2, NI, OC, SI, WP1, WP2, WP3, WP4, ROW');
  });
});

describe('catalog: Hazus flood (FEMA)', () => {
  it('converts feet to metres and percent to ratios', () => {
    const s = table('hazus-flood-res1-1s-nb');
    expect(s.intensity).toHaveLength(29);
    // Hazus columns m4..p24 = -4..24 ft; the 1 ft knot is 0.3048 m exactly, -4 ft is -4 x 0.3048 m.
    expect(s.intensity[5]).toBe(0.3048);
    expect(s.intensity[4]).toBe(0);
    expect(s.intensity[0]).toBe(-4 * FOOT_M);
    expect(s.intensity[28]).toBe(24 * FOOT_M);
    // nhrap-hazus/FAST Lookuptables/flBldgStructDmgFn.csv @42e0ca0, BldgDmgFnID 129: 3 % at -1 ft, 13 % at 0 ft, 23 % at 1 ft, 84 % at 24 ft.
    const f = getCurve('hazus-flood-res1-1s-nb');
    expect(f.mdr(-0.3048)).toBe(0.03);
    expect(f.mdr(0)).toBe(0.13);
    expect(f.mdr(0.3048)).toBe(0.23);
    expect(f.mdr(24 * FOOT_M)).toBe(0.84);
    // BldgDmgFnID 217 (COM1 average retail, USACE Galveston): 9 % at 1 ft.
    expect(getCurve('hazus-flood-com1-retail').mdr(FOOT_M)).toBe(0.09);
  });

  it('are non-decreasing, in [0, 1], and say they were converted', () => {
    for (const e of listCurves({ hazard: 'flood', region: 'USA' })) {
      const s = table(e.id);
      s.mdd.forEach((v, i) => {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
        if (i > 0) expect(v).toBeGreaterThanOrEqual(s.mdd[i - 1]!);
      });
      expect(e.provenance.notes).toContain('0.3048');
      expect(e.provenance.notes).toContain('percent / 100');
    }
  });
});

describe('catalog: unknown ids and partner registrations', () => {
  it('an unknown id names close matches and how to list', () => {
    const e = thrown(() => getCurve('emanuel-us'));
    expect(e.code).toBe('E_CATALOG_UNKNOWN');
    expect(e.message).toContain('emanuel-usa');
    expect(e.hint).toContain('ibf curves');
    expect(hasCurve('emanuel-us')).toBe(false);
  });

  it('registers partner curves lazily and serves them by id', () => {
    let loads = 0;
    const entry: CatalogEntry = {
      id: 'test-partner-step',
      title: 'Test step function',
      hazard: 'flood',
      unit: 'm',
      region: 'testland',
      provenance: { source: 'unit test' },
    };
    registerCurves([{ entry, load: () => (loads++, DamageFunction.fromStep([0, 1, 5], { unit: 'm', id: entry.id })) }]);
    expect(loads).toBe(0);
    expect(hasCurve('test-partner-step')).toBe(true);
    expect(listCurves({ region: 'Testland' }).map((x) => x.id)).toEqual(['test-partner-step']);
    expect(listCurves().at(-1)!.id).toBe('test-partner-step');
    expect(getCurve('test-partner-step').mdr(2)).toBe(1);
    expect(loads).toBe(1);
    // a duplicate id is refused unless replace is asked for
    expect(thrown(() => registerCurves([{ entry, load: () => getCurve('jrc-flood-europe-residential') }])).code).toBe('E_CURVE_INVALID');
  });

  it('checks registrations all at once and loaded units against the entry', () => {
    const catalog = new CurveCatalog();
    const e = thrown(() =>
      catalog.register([
        { entry: { id: 'a b', title: '', hazard: 'flood', unit: '', provenance: { source: '' } }, load: () => getCurve('emanuel-usa') },
      ]),
    );
    expect(e.code).toBe('E_CURVE_INVALID');
    expect(e.problems?.map((p) => p.path)).toEqual(['curves[0].entry.id', 'curves[0].entry.title', 'curves[0].entry.unit', 'curves[0].entry.provenance.source']);
    expect(catalog.list()).toEqual([]);

    catalog.register([{ entry: { id: 'wind-in-m', title: 'wrong unit', hazard: 'wind', unit: 'm', provenance: { source: 'unit test' } }, load: () => getCurve('emanuel-usa') }]);
    expect(thrown(() => catalog.get('wind-in-m')).code).toBe('E_UNIT_MISMATCH');

    catalog.register([{ entry: { id: 'broken', title: 'throws', hazard: 'wind', unit: 'm/s', provenance: { source: 'unit test' } }, load: () => { throw new Error('boom'); } }]);
    const b = thrown(() => catalog.get('broken'));
    expect(b.code).toBe('E_CURVE_INVALID');
    expect(b.message).toContain('boom');
  });

  it('createCatalog gives an isolated copy of the built-ins', () => {
    const own = createCatalog();
    expect(own.list().map((e) => e.id)).toEqual(listCurves().filter((e) => !e.id.startsWith('test-')).map((e) => e.id));
    own.register([{ entry: { id: 'only-here', title: 't', hazard: 'flood', unit: 'm', provenance: { source: 'unit test' } }, load: () => getCurve('jrc-flood-asia-residential') }]);
    expect(hasCurve('only-here')).toBe(false);
  });
});
