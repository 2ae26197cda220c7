/**
 * A job whose tile-batch partials are larger than a Workflow step may return (1 MiB): many small admin
 * zones over a small ensemble, as a national admin-2 forecast has (1 600 zones x 51 members), shrunk
 * to run in seconds. Rasters are written by our GeoTIFF encoder and uploaded through the API; the zones
 * (GeoJSON, which PUT /v1/data does not take) are put in the partner's folder of R2 directly, as an
 * operator would.
 */
import { env } from 'cloudflare:test';
import { expect } from 'vitest';
import { CASE_BUCKET } from '../../api/cases.js';
import { writeGeoTiff } from '../../../src/io/geotiff.js';
import { api, auth } from './helpers.js';

/** Grid: 128 x 136 cells of 0.01 deg from (30 E, 10 S); 136 rows = 2 tiles of 1024 x 128 units (TILE_CELLS = 1). */
export const MZ_W = 128;
export const MZ_H = 136;
export const MZ_TILES = 2;
/** Ensemble members (hazard bands): cells x bands = 208 896, under CASE_LIMITS.maxCellBands. */
export const MZ_MEMBERS = 12;
/** Zones: 64 x 34 squares of 2 x 4 cells = 2 176 zones, 2 048 of them in the first tile. */
export const MZ_ZONES_X = 64;
export const MZ_ZONES_Y = 34;

const CELL = 0.01;
const transform = [30, CELL, 0, -10, 0, -CELL] as [number, number, number, number, number, number];

/** Flood depth per member (m): 0.2 to 2.15, varying by cell and member, so every zone and band has damage. */
function hazardBands(): Float32Array[] {
  return Array.from({ length: MZ_MEMBERS }, (_, b) => {
    const depth = new Float32Array(MZ_W * MZ_H);
    for (let r = 0; r < MZ_H; r++) for (let c = 0; c < MZ_W; c++) depth[r * MZ_W + c] = 0.2 + ((c * 7 + r * 3 + b * 11) % 40) * 0.05;
    return depth;
  });
}

function exposureBand(): Float32Array {
  const value = new Float32Array(MZ_W * MZ_H);
  for (let r = 0; r < MZ_H; r++) for (let c = 0; c < MZ_W; c++) value[r * MZ_W + c] = 1000 + 37 * ((r * 13 + c * 7) % 50);
  return value;
}

/** The zones: squares on cell edges, ids `Z<row>-<column>`. */
export function manyZones(): { type: 'FeatureCollection'; features: unknown[] } {
  const w = MZ_W / MZ_ZONES_X;
  const h = MZ_H / MZ_ZONES_Y;
  const features = [];
  for (let zy = 0; zy < MZ_ZONES_Y; zy++) {
    for (let zx = 0; zx < MZ_ZONES_X; zx++) {
      const [x0, x1] = [30 + zx * w * CELL, 30 + (zx + 1) * w * CELL];
      const [y0, y1] = [-10 - zy * h * CELL, -10 - (zy + 1) * h * CELL];
      features.push({
        type: 'Feature',
        properties: { id: `Z${zy}-${zx}` },
        geometry: { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] },
      });
    }
  }
  return { type: 'FeatureCollection', features };
}

/** Uploads hazard and exposure under `<prefix>/`, puts the zones beside them; returns the scenario. */
export async function uploadManyZonesScenario(token: string, prefix: string): Promise<Record<string, unknown>> {
  const grid = { width: MZ_W, height: MZ_H, transform, crs: 'EPSG:4326' };
  const rasters = [
    ['hazard', writeGeoTiff({ grid, bands: hazardBands(), nodata: -9999 })],
    ['exposure', writeGeoTiff({ grid, bands: [exposureBand()], nodata: null })],
  ] as const;
  for (const [name, bytes] of rasters) {
    const res = await api(`/v1/data/${prefix}/${name}.tif`, { method: 'PUT', body: bytes, headers: auth(token, { 'content-type': 'image/tiff' }) });
    expect(res.status).toBe(201);
    await res.body?.cancel();
  }
  await env.DATA.put(`data/p1/${prefix}/zones.geojson`, JSON.stringify(manyZones()), { httpMetadata: { contentType: 'application/geo+json' } });
  return {
    name: `edge job ${prefix}`,
    hazard: { source: `r2://${CASE_BUCKET}/${prefix}/hazard.tif`, unit: 'm', bands: { type: 'ensemble', members: MZ_MEMBERS, leadTimes: ['24-hour'] } },
    exposure: { source: `r2://${CASE_BUCKET}/${prefix}/exposure.tif`, unit: 'EUR' },
    vulnerability: 'jrc-flood-europe-residential',
    zones: { source: `r2://${CASE_BUCKET}/${prefix}/zones.geojson`, idProperty: 'id' },
    affectedThreshold: 0.5,
  };
}
