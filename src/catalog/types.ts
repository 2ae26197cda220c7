/**
 * @module catalog/types
 * Nouns of the damage-function catalog: an entry (metadata with provenance) and a registration
 * (an entry plus a lazy loader that builds the {@link DamageFunction}).
 */
import type { DamageFunction, Provenance } from '../model/damage-function.js';

export type { Provenance };

/** Metadata of one catalogued damage function; cheap to list, the curve itself loads on demand. */
export interface CatalogEntry {
  /** Stable id, lower-case kebab, e.g. `jrc-flood-europe-residential`, `emanuel-usa`. */
  id: string;
  /** One-line human title. */
  title: string;
  /** Hazard type: `flood` (intensity = water depth) or `wind` (intensity = wind speed), or a partner's own. */
  hazard: 'flood' | 'wind' | (string & {});
  /** Unit of the intensity axis: `m` (water depth), `m/s` (1-min sustained wind speed) ... */
  unit: string;
  /** Region the function was derived for, e.g. `europe`, `north-america`, `NA1`, `USA`. */
  region?: string;
  /** Exposed asset class, e.g. `residential`, `commercial`, `agriculture`. */
  sector?: string;
  /** Where every number came from. */
  provenance: Provenance;
}

/** A catalog entry plus the loader that builds its damage function (called on each {@link getCurve}). */
export interface CurveRegistration {
  entry: CatalogEntry;
  load: () => DamageFunction;
}

/** Filter for listing; every field is matched ignoring case, spaces, `-` and `_` (`North America` = `north-america`). */
export interface CurveFilter {
  hazard?: string;
  region?: string;
  sector?: string;
}
