/**
 * @module catalog/tc-wind
 * Tropical-cyclone wind damage functions (hazard `wind`, intensity: 1-min sustained wind speed in m/s):
 * Emanuel (2011) with CLIMADA's USA defaults, and the regionally calibrated functions of Eberenz et al.
 * (2021), all tabulated on {@link CLIMADA_TC_INTENSITY} (0..120 m/s, step 5) so impacts match CLIMADA,
 * including the clamp above 120 m/s.
 */
import { IbfError } from '../errors.js';
import { CLIMADA_TC_INTENSITY, DamageFunction, type Provenance } from '../model/damage-function.js';
import { normalizeKey } from './keys.js';
import type { CatalogEntry, CurveRegistration } from './types.js';

const CLIMADA_TC_PY = 'CLIMADA-project/climada_python climada/entity/impact_funcs/trop_cyclone.py @0cf0ea46eab9a73d969ec6a6e39c48b878b19cfe';
const CLIMADA_TC_TEST = 'climada/entity/impact_funcs/test/test_tc.py @f54387a1a4f232ece52d735e809f6a02312cf835';
const EMANUEL_2011 = 'Emanuel, K. (2011): Global warming effects on U.S. hurricane damage. Weather, Climate, and Society 3, 261-268, doi:10.1175/WCAS-D-11-00007.1';

/** CLIMADA `ImpfTropCyclone.from_emanuel_usa` defaults: thresholds in m/s, scale a ratio. */
export const EMANUEL_USA = { vThresh: 25.7, vHalf: 74.7, scale: 1 } as const;

export const EBERENZ_2021_REGIONS = ['NA1', 'NA2', 'NI', 'OC', 'SI', 'WP1', 'WP2', 'WP3', 'WP4', 'ROW'] as const;
export type Eberenz2021Region = (typeof EBERENZ_2021_REGIONS)[number];

/** Region names as CLIMADA's `from_calibrated_regional_ImpfSet` sets them (impf ids 1..10 in this order). */
export const EBERENZ_2021_REGION_NAMES: Record<Eberenz2021Region, string> = {
  NA1: 'Caribbean and Mexico (NA1)',
  NA2: 'USA and Canada (NA2)',
  NI: 'North Indian (NI)',
  OC: 'Oceania (OC)',
  SI: 'South Indian (SI)',
  WP1: 'South East Asia (WP1)',
  WP2: 'Philippines (WP2)',
  WP3: 'China Mainland (WP3)',
  WP4: 'North West Pacific (WP4)',
  ROW: 'Global',
};

/**
 * Calibrated `v_half` in m/s per region, approach TDR (total damage ratio 1, CLIMADA's default
 * `calibration_approach='TDR'`, file `tc_impf_cal_v01_TDR1.0.csv`), rounded to 5 decimals as
 * `calibrated_regional_vhalf` does (`np.round(v, 5)`); ROW is the `GLB` row. Raw CSV values, e.g.
 * NA1 66.30000000000058, round to the literals below. `v_thresh` is 25.7 m/s and scale 1 for all.
 */
export const EBERENZ_2021_TDR_V_HALF: Record<Eberenz2021Region, number> = {
  NA1: 66.3,
  NA2: 89.2,
  NI: 70.8,
  OC: 64.1,
  SI: 52.4,
  WP1: 66.4,
  WP2: 188.4,
  WP3: 112.8,
  WP4: 190.5,
  ROW: 110.1,
};

const EMANUEL_NOTES =
  'Tabulated on 0..120 m/s step 5 (CLIMADA default intensity) by DamageFunction.fromEmanuel: mdd = v^3/(1+v^3)*scale, v = max(0,(x-v_thresh)/(v_half-v_thresh)), ' +
  'cube rounded as libm pow, so the knots equal CLIMADA test_tc.py bit for bit; paa = 1; linear between knots and clamped above 120 m/s (np.interp).';

const EMANUEL_USA_PROVENANCE: Provenance = {
  source: EMANUEL_2011,
  reference: `${CLIMADA_TC_PY}, ImpfTropCyclone.from_emanuel_usa defaults v_thresh=25.7, v_half=74.7, scale=1.0, intensity=np.arange(0, 121, 5); knots checked against ${CLIMADA_TC_TEST} (TestEmanuelFormula.test_default_values_pass).`,
  notes: EMANUEL_NOTES,
};

function eberenzProvenance(region: Eberenz2021Region): Provenance {
  return {
    source:
      'Eberenz, S., Lüthi, S., Bresch, D. N. (2021): Regional tropical cyclone impact functions for globally consistent risk assessments. Nat. Hazards Earth Syst. Sci. 21, 393-415, doi:10.5194/nhess-21-393-2021',
    reference:
      `v_half: CLIMADA-project/climada_python data/system/tc_impf_cal_v01_TDR1.0.csv @7516af3bfe3b463c5b3d1e288ffbb6f2c0bf866d, row cal_region2=${region === 'ROW' ? 'GLB' : region}, ` +
      `rounded to 5 decimals by ImpfSetTropCyclone.calibrated_regional_vhalf (${CLIMADA_TC_PY}); v_thresh=25.7, scale=1 from from_calibrated_regional_ImpfSet.`,
    notes:
      `Calibration approach TDR (total damage ratio = 1), the CLIMADA default; v_half = ${EBERENZ_2021_TDR_V_HALF[region]} m/s. ` +
      `CLIMADA impf id ${EBERENZ_2021_REGIONS.indexOf(region) + 1}, name "${EBERENZ_2021_REGION_NAMES[region]}". ${EMANUEL_NOTES}`,
  };
}

function tabulated(id: string, name: string, vHalf: number, provenance: Provenance): DamageFunction {
  return DamageFunction.fromEmanuel({ vThresh: EMANUEL_USA.vThresh, vHalf, scale: EMANUEL_USA.scale, intensity: CLIMADA_TC_INTENSITY, id, name, provenance });
}

/** Emanuel (2011) with CLIMADA's USA defaults, tabulated as CLIMADA does (id `emanuel-usa`; wind speed in m/s). */
export function emanuelUsa(): DamageFunction {
  return tabulated('emanuel-usa', 'Emanuel 2011', EMANUEL_USA.vHalf, EMANUEL_USA_PROVENANCE);
}

/** Catalog id of an Eberenz et al. (2021) function, e.g. `eberenz-2021-na1`. */
export function eberenz2021Id(region: Eberenz2021Region): string {
  return `eberenz-2021-${region.toLowerCase()}`;
}

/**
 * The Eberenz et al. (2021) TDR-calibrated wind function of `region` (NA1 ... WP4, ROW; case-insensitive),
 * tabulated as CLIMADA does (wind speed in m/s). Throws `E_CATALOG_UNKNOWN` for another region.
 */
export function eberenz2021(region: string): DamageFunction {
  const r = EBERENZ_2021_REGIONS.find((x) => normalizeKey(x) === normalizeKey(region));
  if (!r) {
    throw new IbfError('E_CATALOG_UNKNOWN', `unknown Eberenz et al. (2021) region '${region}'; the regions are ${EBERENZ_2021_REGIONS.join(', ')}.`, {
      hint: 'ROW (rest of world) is the global calibration; list the curves with `ibf curves` (or listCurves({ hazard: "wind" }) in code).',
      details: { region, regions: [...EBERENZ_2021_REGIONS] },
    });
  }
  return tabulated(eberenz2021Id(r), EBERENZ_2021_REGION_NAMES[r], EBERENZ_2021_TDR_V_HALF[r], eberenzProvenance(r));
}

/** `emanuel-usa`, then the ten Eberenz et al. (2021) functions in CLIMADA's order. */
export function tcWindCurves(): CurveRegistration[] {
  const usa: CatalogEntry = {
    id: 'emanuel-usa',
    title: 'Emanuel (2011) TC wind damage function, CLIMADA USA defaults (v_thresh 25.7 m/s, v_half 74.7 m/s)',
    hazard: 'wind',
    unit: 'm/s',
    region: 'USA',
    provenance: EMANUEL_USA_PROVENANCE,
  };
  const out: CurveRegistration[] = [{ entry: usa, load: emanuelUsa }];
  for (const region of EBERENZ_2021_REGIONS) {
    out.push({
      entry: {
        id: eberenz2021Id(region),
        title: `Eberenz et al. (2021) calibrated TC wind damage function, ${EBERENZ_2021_REGION_NAMES[region]}, v_half ${EBERENZ_2021_TDR_V_HALF[region]} m/s (TDR)`,
        hazard: 'wind',
        unit: 'm/s',
        region,
        provenance: eberenzProvenance(region),
      },
      load: () => eberenz2021(region),
    });
  }
  return out;
}
