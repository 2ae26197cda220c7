/**
 * @module engine/zonal-source
 * Zonal statistics of one band of a GeoTIFF (any byte input: bytes, a file, a URL, a stored object)
 * over GeoJSON zones, runtime-neutral: the zones' coverage (row spans, src/geo/coverage.ts) is computed
 * on the raster's grid from its header first, and only the window the zones need is decoded. `ibf zonal`
 * (src/node/run-zonal.ts) and `POST /v1/zonal` (src/api) both run this.
 */
import { coverageSpans } from '../geo/coverage.js';
import { readRaster, readRasterInfo, type ByteInput } from '../io/geotiff.js';
import { parseZones } from '../io/zones.js';
import { IbfError } from '../errors.js';
import type { ImpactKernel } from '../kernels/types.js';
import type { ZoneRule } from '../model/zones.js';
import { unionWindow, zonalStatsOfSpans, type ZonalRow } from './zonal.js';

export interface RunZonalOptions {
  idProperty?: string;
  nameProperty?: string;
  rule?: ZoneRule;
  /** 1-based band number (GDAL numbering), default 1. */
  band?: number;
  /** Nodata override for files that use a sentinel without a tag. */
  nodata?: number | null;
  /** Multiply valid values by this. */
  scale?: number;
  kernel?: ImpactKernel;
  /** `accept` uses self-intersecting polygons (winding semantics) instead of refusing them. */
  selfIntersections?: 'error' | 'accept';
  /** CRS of the raster when the file has none (e.g. a cartesian test grid); default: the zones' CRS. */
  rasterCrs?: string;
}

export interface ZonalOutput {
  rows: ZonalRow[];
  /** What was left out while reading the zones. */
  warnings: string[];
  rule: ZoneRule;
  band: number;
  idProperty: string;
}

/** Most cells of the window the zones need that a call decodes (default 2^28); more is `E_LIMIT`. */
export interface ZonalLimits {
  maxCells?: number;
}

/** Zonal statistics of band `opts.band` of the GeoTIFF `bytes` over the zones in GeoJSON `doc`. */
export async function zonalOfSource(bytes: ByteInput, name: string, doc: unknown, zonesPath: string, opts: RunZonalOptions & ZonalLimits = {}): Promise<ZonalOutput> {
  const idProperty = opts.idProperty ?? 'id';
  const rule = opts.rule ?? 'coverage';
  const band = opts.band ?? 1;
  const zones = parseZones(doc, { idProperty, nameProperty: opts.nameProperty, name: zonesPath, selfIntersections: opts.selfIntersections });
  const info = await readRasterInfo(bytes, { name });
  if (band < 1 || band > info.bandCount) {
    throw new IbfError('E_USAGE', `${name} has ${info.bandCount} band(s); --band ${band} does not exist`, { hint: `Use --band 1 to ${info.bandCount}.` });
  }
  const grid = { ...info.grid, crs: info.grid.crs ?? opts.rasterCrs ?? zones.crs };
  const kernel = opts.kernel;
  const spans = zones.zones.map((z) => coverageSpans(z, zones.crs, grid, rule, kernel));
  const union = unionWindow(spans);
  const r = union
    ? await readRaster(bytes, { name, bands: [band - 1], window: union, ...(opts.maxCells !== undefined ? { maxCells: opts.maxCells } : {}), ...(opts.nodata !== undefined ? { nodata: opts.nodata } : {}) })
    : null;
  const rows = r
    ? zonalStatsOfSpans(r, zones, spans, { scale: opts.scale, offsetX: union![0], offsetY: union![1] })
    : zones.zones.map((z) => ({ id: z.id, ...(z.name !== undefined ? { name: z.name } : {}), count: 0, sum: 0, mean: null, min: null, max: null, stdev: null }));
  return { rows, warnings: zones.warnings ?? [], rule, band, idProperty };
}
