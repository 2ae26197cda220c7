/**
 * @module model/scenario
 * The scenario document of `ibf assess` (and later the API): what hazard, what exposure, which
 * damage function(s), and thresholds. Paths are relative to the scenario file. Parsing lists every
 * problem at once and rejects unknown keys, so a typo never silently falls back to a default.
 */
import { z } from 'zod';
import { zodProblems } from './zod-problems.js';
import { IbfError, type Problem } from '../errors.js';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

/** A tabulated curve given inline. */
export const InlineCurveSchema = z.strictObject({
  intensity: z.array(finite).min(2),
  mdd: z.array(finite).min(2),
  paa: z.array(finite).min(2).optional(),
  unit: z.string().min(1),
  id: z.string().optional(),
});

/** The Emanuel (2011) sigmoid with its parameters (m/s). */
export const EmanuelCurveSchema = z.strictObject({
  emanuel: z.strictObject({
    vThresh: finite.optional(),
    vHalf: finite.optional(),
    scale: finite.optional(),
    /** Tabulate at these wind speeds as CLIMADA does (e.g. 0..120 step 5); omitted = exact sigmoid. */
    intensity: z.array(finite).optional(),
  }),
});

/** A column of a curve CSV (Delft-FIAT or plain/tab with comment lines). */
export const CsvCurveSchema = z.strictObject({
  csv: z.string().min(1),
  column: z.string().optional(),
  unit: z.string().optional(),
});

/** A catalog id (`ibf curves` lists them), as a string or `{ "catalog": id }`. */
export const CurveRefSchema = z.union([
  z.string().min(1),
  z.strictObject({ catalog: z.string().min(1) }),
  InlineCurveSchema,
  EmanuelCurveSchema,
  CsvCurveSchema,
]);

/** Several curves chosen per cell by a class raster: class value -> curve. */
export const ClassedVulnerabilitySchema = z.strictObject({
  classes: z.union([z.string().min(1), z.strictObject({ source: z.string().min(1), nodata: finite.nullable().optional() })]),
  /** Keys are class values (integers as written in the class raster), or `default` for any other class. */
  curves: z.record(z.string(), CurveRefSchema).refine((r) => Object.keys(r).length > 0, 'needs at least one class'),
});

export const BandsSchema = z.strictObject({
  /** What the bands are: one event, a set of events, ensemble members, or return-period maps. */
  type: z.enum(['event', 'events', 'ensemble', 'return-periods']),
  /** Band names, one per band (default: from the file, else `band_1` ...). */
  names: z.array(z.string()).optional(),
  /** `events`: annual frequency of each band (1/year), or a CSV file with columns `band,frequency`. */
  frequencies: z.union([z.array(finite.nonnegative()), z.string().min(1)]).optional(),
  /** `return-periods`: return period of each band (years). */
  returnPeriods: z.array(finite.positive()).optional(),
  /** `ensemble`: members per lead time (default: bands / lead times). */
  members: z.number().int().positive().optional(),
  /** `ensemble`: lead times in band order, as labels (`"72-hour"`, `"5-day"`) or hours. */
  leadTimes: z.array(z.union([z.string().min(1), finite])).optional(),
  /** `ensemble`: `member-major` (band = member x leadTimes + lead) or `lead-major`. */
  order: z.enum(['member-major', 'lead-major']).optional(),
});

const TriggerMetricSchema = z.enum(['damage', 'affectedValue', 'hazardMean', 'hazardMax']);

/** IBF early-action trigger per zone and lead time (ensembles, or one event as a single member). */
export const TriggerSchema = z.strictObject({
  metric: TriggerMetricSchema,
  threshold: finite,
  pMin: finite,
  maxLeadTime: z.union([z.string().min(1), finite]).optional(),
  alertClasses: z.array(z.strictObject({ level: z.enum(['low', 'medium', 'high']), threshold: finite, pMin: finite })).optional(),
});

const rasterSource = {
  /** Path (relative to the scenario file) of a GeoTIFF. */
  source: z.string().min(1),
  /** Overrides the file's nodata (for files that use a sentinel without a nodata tag); null = none. */
  nodata: finite.nullable().optional(),
};

export const HazardSchema = z.strictObject({
  ...rasterSource,
  /** Unit of the intensity: `m` (depth), `m/s` (wind), `mm` (rain) ... */
  unit: z.string().min(1),
  /** What the bands mean (default: one event). */
  bands: BandsSchema.optional(),
  /** 1-based band numbers to use, as GDAL counts them (default: all). */
  select: z.array(z.number().int().positive()).min(1).optional(),
  /** How the hazard is resampled onto the exposure grid when the grids differ (default bilinear). */
  resampling: z.enum(['nearest', 'bilinear']).optional(),
  /**
   * CLIMADA's hazard fraction: a GeoTIFF on the hazard's grid with values in [0, 1] that multiply damage
   * (not exposed or affected value). One band for every hazard band, or as many bands as the hazard file
   * (then `select` applies to it too). Cells without a fraction (nodata) have no damage.
   */
  fraction: z.union([z.string().min(1), z.strictObject(rasterSource)]).optional(),
});

/** Admin zones: a GeoJSON FeatureCollection of Polygon / MultiPolygon features. */
export const ZonesSchema = z.strictObject({
  source: z.string().min(1),
  /** Feature property holding the zone id (e.g. `ADM2_PCODE`). */
  idProperty: z.string().min(1),
  nameProperty: z.string().min(1).optional(),
  /** How cells count for a zone (default `coverage`: exact area fraction). */
  rule: z.enum(['coverage', 'centre', 'all-touched']).optional(),
  /** `error` (default) refuses self-intersecting polygons; `accept` uses them (winding semantics). */
  selfIntersections: z.enum(['error', 'accept']).optional(),
});

export const ExposureSchema = z.strictObject({
  ...rasterSource,
  /** Unit of the exposed value: `EUR`, `USD`, `people` ... */
  unit: z.string().min(1),
  /** 1-based band holding the values (default 1). */
  band: z.number().int().positive().optional(),
});

export const ScenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().optional(),
  hazard: HazardSchema,
  exposure: ExposureSchema,
  vulnerability: z.union([CurveRefSchema, ClassedVulnerabilitySchema]),
  /** Admin zones to sum per zone (zones[] of the result); exposure outside every zone still counts in totals. */
  zones: ZonesSchema.optional(),
  /** A cell is affected when its intensity >= this (hazard unit). Default: any intensity > 0. */
  affectedThreshold: finite.optional(),
  /** Return-period maps: how EAD is integrated (default `loglinear`, Delft-FIAT's risk density). */
  ead: z.strictObject({ method: z.enum(['loglinear', 'trapezoid']).optional() }).optional(),
  /** Event sets: return periods (years) at which to report the exceedance curve (default: every event). */
  exceedanceCurve: z.strictObject({ returnPeriods: z.array(finite.positive()).min(1) }).optional(),
  /** Ensembles: quantiles in [0, 1] of the member distribution of damage to report. */
  quantiles: z.array(finite).optional(),
  /** Ensembles: exceedance probabilities to report, per metric. */
  exceedance: z.array(z.strictObject({ metric: TriggerMetricSchema, thresholds: z.array(finite).min(1) })).optional(),
  trigger: TriggerSchema.optional(),
  outputs: z
    .strictObject({
      /** Write damage.tif with --out (default true). */
      damageRaster: z.boolean().optional(),
    })
    .optional(),
});

export type Scenario = z.infer<typeof ScenarioSchema>;
export type CurveRef = z.infer<typeof CurveRefSchema>;
export type ClassedVulnerability = z.infer<typeof ClassedVulnerabilitySchema>;
export type BandsMeaning = z.infer<typeof BandsSchema>;

/** What the hazard bands mean, defaulting to a single event. */
export function bandsMeaning(s: Scenario): BandsMeaning {
  return s.hazard.bands ?? { type: 'event' };
}

export function isClassed(v: Scenario['vulnerability']): v is ClassedVulnerability {
  return typeof v === 'object' && v !== null && 'classes' in v;
}


/** Parses and validates a scenario (already JSON-decoded); every problem in one `E_SCENARIO_INVALID`. */
export function parseScenario(doc: unknown, name = 'scenario'): Scenario {
  const r = ScenarioSchema.safeParse(doc);
  if (!r.success) {
    throw IbfError.fromProblems('E_SCENARIO_INVALID', `${name} is invalid`, zodProblems(r.error), 'Fix the fields listed; see README "Scenario" for the format.');
  }
  const s = r.data;
  const problems: Problem[] = [];
  const m = bandsMeaning(s);
  if (m.type === 'events' && m.frequencies === undefined) problems.push({ path: 'hazard.bands.frequencies', message: 'events need one annual frequency per band' });
  if (m.type === 'return-periods' && m.returnPeriods === undefined) problems.push({ path: 'hazard.bands.returnPeriods', message: 'return-period maps need one return period (years) per band' });
  if (problems.length) throw IbfError.fromProblems('E_SCENARIO_INVALID', `${name} is invalid`, problems);
  return s;
}
