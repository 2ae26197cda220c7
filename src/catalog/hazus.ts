/**
 * @module catalog/hazus
 * FEMA Hazus flood building-structure depth-damage functions (Hazus 4.0 riverine defaults for a few
 * occupancies). Hazus tabulates damage in percent of replacement value at -4..24 ft of water above the
 * first finished floor; here depth is converted to m (ft x 0.3048) and percent to a ratio (/ 100).
 */
import { DamageFunction, type Provenance } from '../model/damage-function.js';
import type { CurveRegistration } from './types.js';

/** Metres per international foot (exact by definition). */
export const FOOT_M = 0.3048;

/** Hazus depth columns `m4, m3, m2, m1, p0 ... p24`: depth above the first finished floor, in ft. */
export const HAZUS_DEPTHS_FT: readonly number[] = Array.from({ length: 29 }, (_, i) => i - 4);

const FAST_DMGFN = 'nhrap-hazus/FAST Lookuptables/flBldgStructDmgFn.csv @42e0ca0dc0126b99a6b650a65abdf3ec0f60c9ab';
const FAST_RIVERINE_LUT = 'Lookuptables/Building_DDF_Riverine_LUT_Hazus4p0.csv @7f8b49ad94e996a4c04db997a0f6e3bb19b312f0';

interface HazusCurve {
  id: string;
  /** Hazus `BldgDmgFnID`. */
  ddf: number;
  occupancy: string;
  /** Hazus `SpecificOccupId` this curve is the riverine default for. */
  specificOccupancy: string;
  source: string;
  description: string;
  sector: 'residential' | 'commercial';
  /** Damage in percent of structure value at {@link HAZUS_DEPTHS_FT}, as in the Hazus table. */
  percent: readonly number[];
}

/** Rows copied from {@link FAST_DMGFN}; each equals its row in the Hazus 4.0 riverine default table. */
const HAZUS_CURVES: readonly HazusCurve[] = [
  {
    id: 'hazus-flood-res1-1s-nb',
    ddf: 129,
    occupancy: 'RES1',
    specificOccupancy: 'R11N',
    source: 'USACE - IWR',
    description: 'one story, no basement, Structure',
    sector: 'residential',
    percent: [0, 0, 0, 3, 13, 23, 32, 40, 47, 53, 59, 63, 67, 71, 73, 75, 77, 79, 80, 81, 81, 82, 82, 83, 83, 83, 84, 84, 84],
  },
  {
    id: 'hazus-flood-res1-1s-b',
    ddf: 704,
    occupancy: 'RES1',
    specificOccupancy: 'R11B',
    source: 'BCAR - Jan 2011',
    description: 'one story, w/ basement, Structure (B14)',
    sector: 'residential',
    percent: [0, 0, 14, 19, 26, 32, 39, 46, 52, 59, 65, 70, 74, 78, 80, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81],
  },
  {
    id: 'hazus-flood-res1-2s-nb',
    ddf: 107,
    occupancy: 'RES1',
    specificOccupancy: 'R12N',
    source: 'FIA',
    description: 'two floors, no basement, Structure, A-Zone',
    sector: 'residential',
    percent: [0, 0, 0, 0, 11, 12, 14, 18, 20, 22, 24, 26, 30, 34, 38, 39, 40, 42, 43, 44, 45, 47, 48, 49, 50, 52, 53, 54, 56],
  },
  {
    id: 'hazus-flood-res1-2s-b',
    ddf: 108,
    occupancy: 'RES1',
    specificOccupancy: 'R12B',
    source: 'FIA (MOD.)',
    description: 'two floors, w/ basement, Structure, A-Zone',
    sector: 'residential',
    percent: [4, 4, 8, 14, 19, 21, 26, 29, 34, 39, 44, 50, 55, 57, 59, 61, 63, 65, 66, 68, 69, 71, 72, 74, 75, 77, 79, 80, 82],
  },
  {
    id: 'hazus-flood-res2-mobile-home',
    ddf: 189,
    occupancy: 'RES2',
    specificOccupancy: 'R21N',
    source: 'FIA',
    description: 'Mobile home, structure, A-Zone',
    sector: 'residential',
    percent: [0, 0, 0, 0, 11, 44, 63, 73, 78, 79, 81, 82, 83, 84, 85, 86, 88, 89, 90, 91, 92, 94, 95, 96, 97, 98, 99, 100, 100],
  },
  {
    id: 'hazus-flood-com1-retail',
    ddf: 217,
    occupancy: 'COM1',
    specificOccupancy: 'C1LN',
    source: 'USACE - Galveston',
    description: 'Average Retail, Structure',
    sector: 'commercial',
    percent: [0, 0, 0, 0, 1, 9, 14, 16, 18, 20, 23, 26, 30, 34, 38, 42, 47, 51, 55, 58, 61, 64, 67, 69, 71, 74, 76, 78, 80],
  },
];

function title(c: HazusCurve): string {
  return `Hazus flood structure depth-damage function ${c.ddf}, ${c.occupancy} ${c.description} (${c.source})`;
}

function provenance(c: HazusCurve): Provenance {
  return {
    source: `FEMA Hazus 4.0 flood model, building structure depth-damage function ${c.ddf} (${c.occupancy}, "${c.description}", source ${c.source})`,
    reference:
      `${FAST_DMGFN}, BldgDmgFnID ${c.ddf} (columns m4..p24 = -4..24 ft, damage in percent); Hazus 4.0 riverine default for ${c.specificOccupancy} in ${FAST_RIVERINE_LUT}; ` +
      'FAST Lookuptables/README.txt: "DDFs and other tables were obtained from Hazus 4.0 SQL database".',
    notes:
      'Converted: depth ft x 0.3048 -> m (float64), damage percent / 100 -> ratio; paa = 1. Intensity is the water depth above the first finished floor (Hazus convention): ' +
      'subtract the first-floor height from the depth above ground before applying. Negative knots lie below the first floor.',
  };
}

function build(c: HazusCurve): DamageFunction {
  return DamageFunction.fromTable({
    intensity: HAZUS_DEPTHS_FT.map((ft) => ft * FOOT_M),
    mdd: c.percent.map((p) => p / 100),
    paa: c.percent.map(() => 1),
    unit: 'm',
    id: c.id,
    name: title(c),
    hazard: 'flood',
    provenance: provenance(c),
  });
}

/** The Hazus curves of the catalog (water depth above the first floor in m). */
export function hazusFloodCurves(): CurveRegistration[] {
  return HAZUS_CURVES.map((c) => ({
    entry: { id: c.id, title: title(c), hazard: 'flood', unit: 'm', region: 'USA', sector: c.sector, provenance: provenance(c) },
    load: () => build(c),
  }));
}
