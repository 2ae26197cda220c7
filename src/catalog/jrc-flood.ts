/**
 * @module catalog/jrc-flood
 * JRC global flood depth-damage functions (Huizinga et al. 2017), per continent x sector, as CLIMADA
 * tabulates them (`ImpfRiverFlood.from_jrc_region_sector`). Intensity: water depth in m; mdd in [0, 1];
 * paa = 1 ("noPAA"). Combinations JRC does not publish are absent and fail loudly, never as a zero curve.
 */
import { IbfError } from '../errors.js';
import { DamageFunction, type Provenance } from '../model/damage-function.js';
import { normalizeKey } from './keys.js';
import type { CatalogEntry, CurveRegistration } from './types.js';

export const JRC_REGIONS = ['africa', 'asia', 'europe', 'north-america', 'oceania', 'south-america'] as const;
export type JrcRegion = (typeof JRC_REGIONS)[number];

export const JRC_SECTORS = ['residential', 'commercial', 'industrial', 'transport', 'infrastructure', 'agriculture'] as const;
export type JrcSector = (typeof JRC_SECTORS)[number];

const REGION_NAMES: Record<JrcRegion, string> = {
  africa: 'Africa',
  asia: 'Asia',
  europe: 'Europe',
  'north-america': 'North America',
  oceania: 'Oceania',
  'south-america': 'South America',
};

/**
 * Water-depth knots in m, as CLIMADA: the JRC tables give 0, 0.5, 1, 1.5, 2, 3, 4, 5, 6 m; CLIMADA moves
 * the JRC 0 m value to 0.05 m (North America is non-zero at 0 m because it counts basements), sets 0 at
 * 0 m, and repeats the last value at 12 m.
 */
export const JRC_DEPTHS_M: readonly number[] = [0, 0.05, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 12];

/**
 * Mean damage degree (ratio in [0, 1]) at {@link JRC_DEPTHS_M}, copied from CLIMADA-project/climada_petals
 * `climada_petals/entity/impact_funcs/river_flood.py` (`from_jrc_impf_<sector>` value maps) and identical
 * to `IMPF_MDD` in `climada_petals/entity/impact_funcs/test/test_fl.py`. A missing region = not published.
 */
const JRC_MDD: Record<JrcSector, Partial<Record<JrcRegion, readonly number[]>>> = {
  residential: {
    africa: [0, 0, 0.22, 0.378, 0.531, 0.636, 0.817, 0.903, 0.957, 1, 1],
    asia: [0, 0, 0.327, 0.494, 0.617, 0.721, 0.87, 0.931, 0.984, 1, 1],
    europe: [0, 0, 0.25, 0.4, 0.5, 0.6, 0.75, 0.85, 0.95, 1, 1],
    'north-america': [0, 0.202, 0.443, 0.583, 0.683, 0.784, 0.854, 0.924, 0.959, 1, 1],
    oceania: [0, 0, 0.475, 0.64, 0.715, 0.788, 0.929, 0.967, 0.983, 1, 1],
    'south-america': [0, 0, 0.491, 0.711, 0.842, 0.949, 0.984, 1, 1, 1, 1],
  },
  commercial: {
    asia: [0, 0, 0.377, 0.538, 0.659, 0.763, 0.883, 0.942, 0.981, 1, 1],
    europe: [0, 0, 0.15, 0.3, 0.45, 0.55, 0.75, 0.9, 1, 1, 1],
    'north-america': [0, 0.018, 0.239, 0.374, 0.466, 0.552, 0.687, 0.822, 0.908, 1, 1],
    oceania: [0, 0, 0.239, 0.481, 0.674, 0.865, 1, 1, 1, 1, 1],
    'south-america': [0, 0, 0.611, 0.84, 0.924, 0.992, 1, 1, 1, 1, 1],
  },
  industrial: {
    africa: [0, 0, 0.063, 0.247, 0.403, 0.494, 0.685, 0.919, 1, 1, 1],
    asia: [0, 0, 0.283, 0.482, 0.629, 0.717, 0.857, 0.909, 0.955, 1, 1],
    europe: [0, 0, 0.15, 0.27, 0.4, 0.52, 0.7, 0.85, 1, 1, 1],
    'north-america': [0, 0.026, 0.323, 0.511, 0.637, 0.74, 0.86, 0.937, 0.98, 1, 1],
    'south-america': [0, 0, 0.667, 0.889, 0.947, 1, 1, 1, 1, 1, 1],
  },
  transport: {
    asia: [0, 0, 0.358, 0.572, 0.733, 0.847, 1, 1, 1, 1, 1],
    europe: [0, 0, 0.317, 0.542, 0.702, 0.832, 1, 1, 1, 1, 1],
    'south-america': [0, 0, 0.088, 0.175, 0.596, 0.842, 1, 1, 1, 1, 1],
  },
  infrastructure: {
    asia: [0, 0, 0.214, 0.373, 0.604, 0.71, 0.808, 0.887, 0.969, 1, 1],
    europe: [0, 0, 0.25, 0.42, 0.55, 0.65, 0.8, 0.9, 1, 1, 1],
  },
  agriculture: {
    africa: [0, 0, 0.243, 0.472, 0.741, 0.917, 1, 1, 1, 1, 1],
    asia: [0, 0, 0.135, 0.37, 0.524, 0.558, 0.66, 0.834, 0.988, 1, 1],
    europe: [0, 0, 0.3, 0.55, 0.65, 0.75, 0.85, 0.95, 1, 1, 1],
    'north-america': [0, 0.019, 0.268, 0.474, 0.551, 0.602, 0.76, 0.874, 0.954, 1, 1],
  },
};

const CLIMADA_REGION_CODE: Record<JrcRegion, number> = { africa: 10, asia: 20, europe: 30, 'north-america': 40, oceania: 50, 'south-america': 60 };
const CLIMADA_SECTOR_CODE: Record<JrcSector, number> = { residential: 1, commercial: 2, industrial: 3, transport: 4, infrastructure: 5, agriculture: 6 };

/** Catalog id of a JRC curve, e.g. `jrc-flood-north-america-residential`. */
export function jrcFloodId(region: JrcRegion, sector: JrcSector): string {
  return `jrc-flood-${region}-${sector}`;
}

/** Sectors JRC publishes for `region`, in {@link JRC_SECTORS} order. */
export function jrcSectorsFor(region: JrcRegion): JrcSector[] {
  return JRC_SECTORS.filter((s) => JRC_MDD[s][region] !== undefined);
}

function provenance(region: JrcRegion, sector: JrcSector): Provenance {
  const capital = sector[0]!.toUpperCase() + sector.slice(1);
  return {
    source:
      'Huizinga, J., De Moel, H., Szewczyk, W. (2017): Global flood depth-damage functions. Methodology and the database with guidelines. EUR 28552 EN, JRC105688, doi:10.2760/16510',
    reference:
      'CLIMADA-project/climada_petals climada_petals/entity/impact_funcs/river_flood.py, ImpfRiverFlood.from_jrc_region_sector' +
      ` ('${REGION_NAMES[region]}', '${sector}'), CLIMADA impf id ${CLIMADA_REGION_CODE[region] + CLIMADA_SECTOR_CODE[sector]}` +
      ` ("Flood ${REGION_NAMES[region]} JRC ${capital} noPAA"); same values in climada_petals/entity/impact_funcs/test/test_fl.py IMPF_MDD.` +
      ' The code index did not expose the commit of this (current, per-sector) version of river_flood.py.',
    notes:
      'Depth knots 0, 0.05, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 12 m as in CLIMADA (the JRC 0 m value sits at 0.05 m, 0 at 0 m, the 6 m value repeated at 12 m); ' +
      'mdd as printed by CLIMADA (3 decimals); paa = 1 (noPAA).',
  };
}

function build(region: JrcRegion, sector: JrcSector, mdd: readonly number[]): DamageFunction {
  return DamageFunction.fromTable({
    intensity: [...JRC_DEPTHS_M],
    mdd: [...mdd],
    paa: JRC_DEPTHS_M.map(() => 1),
    unit: 'm',
    id: jrcFloodId(region, sector),
    name: `JRC flood ${REGION_NAMES[region]} ${sector}`,
    hazard: 'flood',
    provenance: provenance(region, sector),
  });
}

function parseRegion(region: string): JrcRegion {
  const key = normalizeKey(region);
  const hit = JRC_REGIONS.find((r) => normalizeKey(r) === key);
  if (hit) return hit;
  throw new IbfError('E_CATALOG_UNKNOWN', `unknown JRC flood region '${region}'; the JRC regions are ${JRC_REGIONS.map((r) => REGION_NAMES[r]).join(', ')}.`, {
    hint: 'List the JRC curves with `ibf curves` (or listCurves({ hazard: "flood" }) in code).',
    details: { region, regions: [...JRC_REGIONS] },
  });
}

/**
 * The JRC depth-damage function of `region` x `sector` (intensity: water depth in m, mdd in [0, 1], paa 1).
 * Region and sector match ignoring case, spaces and `-` (`North America`, `northamerica`).
 * Throws `E_CATALOG_UNKNOWN` for an unknown region or sector, and for a combination JRC does not
 * publish, naming the sectors that do exist for that region.
 */
export function jrcFlood(region: string, sector: string): DamageFunction {
  const r = parseRegion(region);
  const s = JRC_SECTORS.find((x) => x === normalizeKey(sector));
  const existing = jrcSectorsFor(r);
  const list = `listCurves({ hazard: 'flood', region: '${r}' })`;
  if (!s) {
    throw new IbfError('E_CATALOG_UNKNOWN', `unknown JRC flood sector '${sector}'; the JRC sectors are ${JRC_SECTORS.join(', ')} (for ${REGION_NAMES[r]}: ${existing.join(', ')}).`, {
      hint: `List them with \`ibf curves\` (or ${list} in code).`,
      details: { region: r, sector, sectors: existing },
    });
  }
  const mdd = JRC_MDD[s][r];
  if (!mdd) {
    throw new IbfError(
      'E_CATALOG_UNKNOWN',
      `Huizinga et al. (2017) publish no ${s} flood depth-damage function for ${REGION_NAMES[r]}; JRC sectors published for ${REGION_NAMES[r]}: ${existing.join(', ')}.`,
      {
        hint: `Pick one of those sectors, or list the curves with \`ibf curves\` (or ${list} in code). The catalog never substitutes a zero curve.`,
        details: { region: r, sector: s, sectors: existing },
      },
    );
  }
  return build(r, s, mdd);
}

/** Every published JRC curve, region by region in {@link JRC_REGIONS} order, sectors in {@link JRC_SECTORS} order. */
export function jrcFloodCurves(): CurveRegistration[] {
  const out: CurveRegistration[] = [];
  for (const region of JRC_REGIONS) {
    for (const sector of jrcSectorsFor(region)) {
      const mdd = JRC_MDD[sector][region]!;
      const entry: CatalogEntry = {
        id: jrcFloodId(region, sector),
        title: `JRC global flood depth-damage function, ${REGION_NAMES[region]}, ${sector} (Huizinga et al. 2017)`,
        hazard: 'flood',
        unit: 'm',
        region,
        sector,
        provenance: provenance(region, sector),
      };
      out.push({ entry, load: () => build(region, sector, mdd) });
    }
  }
  return out;
}
