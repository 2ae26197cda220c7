/**
 * @module catalog
 * The damage-function catalog: built-in curves with provenance and units (JRC global flood, Emanuel /
 * Eberenz TC wind, Hazus flood), fetchable by id, and a registry partners extend with their own.
 * This file only wires: the default catalog and its functions.
 */
import type { DamageFunction } from '../model/damage-function.js';
import { hazusFloodCurves } from './hazus.js';
import { jrcFloodCurves } from './jrc-flood.js';
import { CurveCatalog, type RegisterOptions } from './registry.js';
import { tcWindCurves } from './tc-wind.js';
import type { CatalogEntry, CurveFilter, CurveRegistration } from './types.js';

export type { CatalogEntry, CurveFilter, CurveRegistration, Provenance } from './types.js';
export { CurveCatalog, LIST_HINT, type RegisterOptions } from './registry.js';
export { JRC_DEPTHS_M, JRC_REGIONS, JRC_SECTORS, jrcFlood, jrcFloodCurves, jrcFloodId, jrcSectorsFor, type JrcRegion, type JrcSector } from './jrc-flood.js';
export {
  EBERENZ_2021_REGIONS,
  EBERENZ_2021_REGION_NAMES,
  EBERENZ_2021_TDR_V_HALF,
  EMANUEL_USA,
  eberenz2021,
  eberenz2021Id,
  emanuelUsa,
  tcWindCurves,
  type Eberenz2021Region,
} from './tc-wind.js';
export { FOOT_M, HAZUS_DEPTHS_FT, hazusFloodCurves } from './hazus.js';

/** Built-in curves, in listing order: JRC flood, TC wind, Hazus flood. */
export function builtInCurves(): CurveRegistration[] {
  return [...jrcFloodCurves(), ...tcWindCurves(), ...hazusFloodCurves()];
}

/** A new catalog holding the built-in curves (for callers who want their own, isolated registry). */
export function createCatalog(): CurveCatalog {
  const catalog = new CurveCatalog();
  catalog.register(builtInCurves());
  return catalog;
}

const defaultCatalog = createCatalog();

/** The catalog behind {@link listCurves}, {@link getCurve}, {@link hasCurve} and {@link registerCurves}. */
export function getDefaultCatalog(): CurveCatalog {
  return defaultCatalog;
}

/** Entries of the default catalog in a stable order (built-ins first, then registrations in call order). */
export function listCurves(filter?: CurveFilter): CatalogEntry[] {
  return defaultCatalog.list(filter);
}

/** Builds damage function `id`; throws `IbfError('E_CATALOG_UNKNOWN')` naming close matches for an unknown id. */
export function getCurve(id: string): DamageFunction {
  return defaultCatalog.get(id);
}

export function hasCurve(id: string): boolean {
  return defaultCatalog.has(id);
}

/** Adds partner curves to the default catalog; `load` runs on each {@link getCurve}. See {@link CurveCatalog.register}. */
export function registerCurves(entries: readonly CurveRegistration[], options?: RegisterOptions): void {
  defaultCatalog.register(entries, options);
}
