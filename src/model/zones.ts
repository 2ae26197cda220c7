/**
 * @module model/zones
 * Admin zones (districts, provinces, countries) as polygons, and how a zone covers a raster grid.
 */

/** One polygon: ring 0 is the outer boundary, the others are holes; each ring is interleaved x,y pairs (closed or not). */
export type Polygon = Float64Array[];

export interface Zone {
  /** Value of the id property, as a string. */
  id: string;
  name?: string;
  /** Polygons of the zone (a MultiPolygon has several), in `Zones.crs` coordinates. */
  polygons: Polygon[];
}

export interface Zones {
  /** `EPSG:nnnn` of the coordinates (GeoJSON default: EPSG:4326). */
  crs: string;
  zones: Zone[];
  idProperty: string;
  nameProperty?: string;
  /** What was left out while reading (rings without area), for the result's warnings. */
  warnings?: string[];
}

/**
 * How cells count for a zone: `coverage` weights each cell by the exact fraction of its area inside the
 * zone (exactextract); `centre` takes cells whose centre is inside (rasterstats / geoblaze default);
 * `all-touched` takes every cell whose interior the zone overlaps with area > 0.
 */
export type ZoneRule = 'coverage' | 'centre' | 'all-touched';

export const ZONE_RULES: readonly ZoneRule[] = ['coverage', 'centre', 'all-touched'];

/**
 * The cells of a grid a zone touches: the window `[x0, x0 + width) x [y0, y0 + height)` in grid cells
 * and a weight per window cell (row-major) in [0, 1]; 0 = not in the zone. `centre` and `all-touched`
 * give 0 or 1.
 */
export interface CoverageWindow {
  x0: number;
  y0: number;
  width: number;
  height: number;
  weights: Float32Array;
}
