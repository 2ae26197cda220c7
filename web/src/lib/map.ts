/**
 * @module web/lib/map
 * Zones and rasters on a map without any tile server: d3-geo projects the zone polygons (lon/lat
 * GeoJSON) to SVG paths, and a raster preview is drawn onto a canvas by inverting the projection per
 * canvas pixel (any projection, any raster CRS a transform is given for). Shared by the dashboard and
 * the widget (which uses only the zone part).
 */
import { geoMercator, geoPath, type GeoProjection } from 'd3-geo';
import type { Grid } from '../../../src/model/grid.js';

type Ring = number[][];
export interface ZoneFeature {
  type: 'Feature';
  id?: string | number;
  properties: Record<string, unknown> | null;
  geometry: { type: 'Polygon'; coordinates: Ring[] } | { type: 'MultiPolygon'; coordinates: Ring[][] } | { type: string; coordinates?: unknown };
}
export interface ZoneCollection {
  type: 'FeatureCollection';
  features: ZoneFeature[];
}

/** Twice the signed planar area of a lon/lat ring (> 0: counter-clockwise, with latitude up). */
export function area2(ring: Ring): number {
  let s = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) s += (ring[j]![0]! - ring[i]![0]!) * (ring[j]![1]! + ring[i]![1]!);
  return s;
}

/**
 * d3-geo reads polygons on the sphere, where an exterior ring must run clockwise (RFC 7946 GeoJSON runs
 * counter-clockwise, and would cover the whole globe but the zone). Rewinds every polygon that way.
 */
export function rewind(fc: ZoneCollection): ZoneCollection {
  const fix = (poly: Ring[]) => poly.map((ring, i) => ((i === 0 ? area2(ring) > 0 : area2(ring) < 0) ? [...ring].reverse() : ring));
  return {
    type: 'FeatureCollection',
    features: fc.features.map((f) => {
      const g = f.geometry;
      if (g?.type === 'Polygon') return { ...f, geometry: { type: 'Polygon', coordinates: fix(g.coordinates as Ring[]) } };
      if (g?.type === 'MultiPolygon') return { ...f, geometry: { type: 'MultiPolygon', coordinates: (g.coordinates as Ring[][]).map(fix) } };
      return f;
    }),
  };
}

/** A Mercator projection fitting `fc` into `width` x `height` pixels with `pad` pixels around. */
export function fitProjection(fc: ZoneCollection, width: number, height: number, pad = 8): GeoProjection {
  return geoMercator().fitExtent([[pad, pad], [Math.max(pad + 1, width - pad), Math.max(pad + 1, height - pad)]], fc as never);
}

/** A function giving the SVG path data of a feature under `p`. */
export function pathMaker(p: GeoProjection): (f: ZoneFeature) => string {
  const path = geoPath(p);
  return (f) => path(f as never) ?? '';
}

/** Centroid and bounds (pixels) of a feature under `p`, for labels. */
export function measureMaker(p: GeoProjection): { centroid: (f: ZoneFeature) => [number, number]; bounds: (f: ZoneFeature) => [[number, number], [number, number]] } {
  const path = geoPath(p);
  return { centroid: (f) => path.centroid(f as never), bounds: (f) => path.bounds(f as never) };
}

/**
 * The property of the features whose values name the zones `ids` (the result's zone ids), or `'#id'` for
 * the features' own `id`: the one matching most. Lets a page give any zones file without saying which
 * property holds the ids.
 */
export function idPropertyOf(fc: ZoneCollection, ids: readonly string[]): string | null {
  const want = new Set(ids);
  const score = new Map<string, number>();
  for (const f of fc.features) {
    if (f.id !== undefined && want.has(String(f.id))) score.set('#id', (score.get('#id') ?? 0) + 1);
    for (const [k, v] of Object.entries(f.properties ?? {})) if (v !== null && want.has(String(v))) score.set(k, (score.get(k) ?? 0) + 1);
  }
  let best: string | null = null;
  let n = 0;
  for (const [k, s] of score) if (s > n) [best, n] = [k, s];
  return best;
}

export const featureId = (f: ZoneFeature, prop: string | null): string | undefined => (prop === '#id' ? (f.id !== undefined ? String(f.id) : undefined) : prop && f.properties?.[prop] != null ? String(f.properties[prop]) : undefined);

/**
 * Draws `values` on `grid` (row-major, NaN = none) onto `canvas` under projection `p`: each canvas pixel
 * asks which cell it shows (`toGrid` maps lon/lat to the grid's CRS; identity for EPSG:4326). `colour`
 * returns an RGBA quadruple or null (transparent). Cost: one inverse projection per pixel, whatever the raster.
 */
export function drawRaster(
  canvas: HTMLCanvasElement,
  p: GeoProjection,
  grid: Grid,
  values: Float32Array,
  colour: (v: number) => readonly [number, number, number, number] | null,
  toGrid?: (lon: number, lat: number) => [number, number],
): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { width: W, height: H } = canvas;
  const img = ctx.createImageData(W, H);
  const px = img.data;
  const [x0, dx, , y0, , dy] = grid.transform;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const ll = p.invert?.([x + 0.5, y + 0.5]);
      if (!ll) continue;
      const [gx, gy] = toGrid ? toGrid(ll[0], ll[1]) : ll;
      const c = Math.floor((gx - x0) / dx);
      const r = Math.floor((gy - y0) / dy);
      if (c < 0 || r < 0 || c >= grid.width || r >= grid.height) continue;
      const rgba = colour(values[r * grid.width + c]!);
      if (!rgba) continue;
      const o = (y * W + x) * 4;
      px[o] = rgba[0];
      px[o + 1] = rgba[1];
      px[o + 2] = rgba[2];
      px[o + 3] = rgba[3];
    }
  }
  ctx.putImageData(img, 0, 0);
}
