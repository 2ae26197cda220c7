/**
 * @module geo/coverage
 * How one admin zone covers a raster grid: the window of cells it touches and a weight per cell, for the
 * three {@link ZoneRule}s (exact area fraction, cell centre, all touched).
 *
 * The zone's vertices are transformed into the grid CRS (src/geo/crs.ts) and then into fractional
 * column / row with GDAL's inverse geotransform (`-x0/dx + x * (1/dx)`, so that ties fall as in
 * gdal_rasterize); edges are straight lines between the transformed vertices, as in GDAL and
 * exactextract. Rings are closed, de-duplicated and oriented (outer positive, holes negative) whatever
 * the file's order. The work is done by the coverage kernel (src/kernels/coverage.ts: algorithm and
 * numerics): the WASM build when a {@link WasmKernel} is passed, else the TypeScript twin (same bits).
 *
 * Two shapes of the same weights: {@link coverageWindow} (a dense window, for the assessment engine)
 * and {@link coverageSpans} (runs of cells of one weight along rows, for zonal statistics: no memory
 * and no work per empty cell of the zone's bounding box).
 *
 * Zones may overlap; each is computed on its own. Cost per zone: O(vertices + edge crossings + rows x
 * width / 64), plus the window cells for a dense window; the window is the zone's bounding box in cells
 * (clipped to the grid).
 */
import { IbfError } from '../errors.js';
import type { Grid } from '../model/grid.js';
import type { CoverageWindow, Zone, ZoneRule } from '../model/zones.js';
import { ZONE_RULES } from '../model/zones.js';
import { rasterizeCoverage, rasterizeSpans, type CoverageInput, type CoverageSpans } from '../kernels/coverage.js';
import { rasterizeCoverageWasm, rasterizeSpansWasm } from '../kernels/coverage-wasm.js';
import type { ImpactKernel } from '../kernels/types.js';
import { WasmKernel } from '../kernels/wasm.js';
import { canonicalCrs, pointTransform } from './crs.js';

export type { CoverageSpans } from '../kernels/coverage.js';

/** A zone's rings in pixel coordinates of a window of the grid, ready for the coverage kernel. */
export interface ZoneRings extends Omit<CoverageInput, 'rule'> {
  /** The window's top-left cell in the grid (column, row). */
  x0: number;
  y0: number;
}

function usage(message: string, hint: string): IbfError {
  return new IbfError('E_USAGE', message, { hint });
}

/** Signed shoelace sum (twice the area) of a closed ring stored at xy[2*s .. 2*e), relative to its first vertex. */
function shoelace2(xy: Float64Array, s: number, e: number): number {
  const ox = xy[2 * s]!;
  const oy = xy[2 * s + 1]!;
  let sum = 0;
  for (let i = s; i + 1 < e; i++) {
    const ax = xy[2 * i]! - ox;
    const ay = xy[2 * i + 1]! - oy;
    const bx = xy[2 * i + 2]! - ox;
    const by = xy[2 * i + 3]! - oy;
    sum += ax * by - bx * ay;
  }
  return sum;
}

/**
 * The zone's rings in window pixel coordinates (x = column, y = row from the window's top-left cell),
 * each ring closed, consecutive duplicate vertices dropped, rings with fewer than 3 distinct vertices
 * dropped, outer rings (the first ring of each polygon) oriented with shoelace area < 0 and holes > 0
 * (the kernel's positive / negative). The window is the zone's bounding box in cells, clipped to the
 * grid; null when that is empty.
 *
 * `zonesCrs` is the CRS of the zone's coordinates; when the grid has a CRS and it differs, vertices are
 * transformed (`E_CRS_UNKNOWN` when either CRS is unsupported or a vertex cannot be transformed). A grid
 * without a CRS is taken to be in the zones' CRS. Grids must be north-up (`E_USAGE` otherwise).
 */
export function zoneRings(zone: Zone, zonesCrs: string, grid: Grid): ZoneRings | null {
  const t = grid.transform;
  if (t[2] !== 0 || t[4] !== 0) {
    throw usage(`the grid has a rotated geotransform [${t.join(', ')}]; zone coverage needs a north-up grid`, 'Warp the raster north-up first, e.g. gdalwarp -t_srs <crs> in.tif out.tif.');
  }
  if (!t.every(Number.isFinite) || t[1] === 0 || t[5] === 0) {
    throw usage(`the grid's geotransform [${t.join(', ')}] is not valid (zero or non-finite cell size)`, 'Check the raster georeferencing with gdalinfo.');
  }
  const same = grid.crs === null || canonicalCrs(grid.crs) === canonicalCrs(zonesCrs);
  const tf = same ? null : pointTransform(zonesCrs, grid.crs!, `zone ${JSON.stringify(zone.id)}`);
  // GDAL's inverse geotransform (GDALInvGeoTransform, north-up case) and its arithmetic, so that cell
  // centres lying on an edge up to rounding fall on the same side as in gdal_rasterize / rasterio.
  const ix0 = -t[0] / t[1];
  const ix1 = 1 / t[1];
  const iy0 = -t[3] / t[5];
  const iy1 = 1 / t[5];
  // Pixel coordinates of every ring (grid cells, unclipped) and the bounding box.
  const rings: Float64Array[] = [];
  const outer: boolean[] = [];
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const polygon of zone.polygons) {
    polygon.forEach((ring, k) => {
      const n = ring.length >> 1;
      const px = new Float64Array(2 * n + 2);
      let m = 0;
      for (let i = 0; i < n; i++) {
        let x = ring[2 * i]!;
        let y = ring[2 * i + 1]!;
        if (tf) [x, y] = tf(x, y);
        const cx = ix0 + x * ix1;
        const cy = iy0 + y * iy1;
        if (!Number.isFinite(cx) || !Number.isFinite(cy)) {
          throw new IbfError('E_CRS_UNKNOWN', `zone ${JSON.stringify(zone.id)}: vertex (${ring[2 * i]}, ${ring[2 * i + 1]}) cannot be placed on the grid${tf ? ` (transform to ${grid.crs} failed)` : ''}`, {
            hint: 'Zone coordinates must be finite and inside the area the grid CRS can represent; clip the zones to the raster extent first.',
            details: { zone: zone.id, vertex: i },
          });
        }
        if (m > 0 && px[2 * m - 2] === cx && px[2 * m - 1] === cy) continue;
        px[2 * m] = cx;
        px[2 * m + 1] = cy;
        m++;
      }
      if (m > 1 && px[0] === px[2 * m - 2] && px[1] === px[2 * m - 1]) m--; // closing vertex, added back below
      if (m < 3) return;
      px[2 * m] = px[0]!;
      px[2 * m + 1] = px[1]!;
      m++;
      const r = px.subarray(0, 2 * m);
      for (let i = 0; i < m; i++) {
        const cx = r[2 * i]!;
        const cy = r[2 * i + 1]!;
        if (cx < minX) minX = cx;
        if (cx > maxX) maxX = cx;
        if (cy < minY) minY = cy;
        if (cy > maxY) maxY = cy;
      }
      rings.push(r);
      outer.push(k === 0);
    });
  }
  if (rings.length === 0) return null;
  const x0 = Math.max(0, Math.floor(minX));
  const x1 = Math.min(grid.width, Math.ceil(maxX));
  const y0 = Math.max(0, Math.floor(minY));
  const y1 = Math.min(grid.height, Math.ceil(maxY));
  if (x1 <= x0 || y1 <= y0) return null;
  let nV = 0;
  for (const r of rings) nV += r.length >> 1;
  const xy = new Float64Array(2 * nV);
  const ringStarts = new Int32Array(rings.length + 1);
  let at = 0;
  rings.forEach((r, k) => {
    const m = r.length >> 1;
    ringStarts[k] = at;
    // x - x0 is exact for x >= x0 (x0 is an integer no larger than x), and x0 = 0 otherwise.
    const a2 = shoelace2(r, 0, m);
    const reverse = outer[k] ? a2 > 0 : a2 < 0;
    for (let i = 0; i < m; i++) {
      const j = reverse ? m - 1 - i : i;
      xy[2 * (at + i)] = r[2 * j]! - x0;
      xy[2 * (at + i) + 1] = r[2 * j + 1]! - y0;
    }
    at += m;
  });
  ringStarts[rings.length] = at;
  return { xy, ringStarts, width: x1 - x0, height: y1 - y0, x0, y0 };
}

/**
 * The cells of `grid` that `zone` covers under `rule`, as a window with a weight per cell in [0, 1]
 * (Float32Array, row-major; `centre` and `all-touched` give 0 / 1). The window is the bounding box of
 * the cells with a non-zero weight; null when there are none (the zone misses the grid, or under
 * `centre` covers no cell centre).
 *
 * - `coverage`: the exact fraction of each cell's area inside the zone (exactextract); holes subtract,
 *   parts of a MultiPolygon add (overlapping parts clamp at 1). Fractions below 1e-9 count as 0 and above
 *   1 - 1e-9 as 1 (so an edge on a cell line up to rounding leaves no sliver).
 * - `centre`: cells whose centre lies inside (GDAL / rasterio / rasterstats default). Centres exactly on
 *   the boundary fall as in gdal_rasterize (GDAL 3.6, tested on vertices and edges through centres): on a
 *   slanted or vertical edge a centre is in when the zone lies on its left (x grows to the right), and
 *   on a horizontal edge it is in, except on the top edge of a hole (rows counted downwards).
 * - `all-touched`: cells whose interior overlaps the zone with an area above 1e-9 of a cell (unlike GDAL's
 *   ALL_TOUCHED, a zone that only touches a cell along an edge or at a corner does not take it).
 *
 * `zonesCrs` is the CRS of the zone's coordinates (`Zones.crs`); a grid without CRS is taken to be in it.
 * `kernel`: a {@link WasmKernel} (e.g. from `loadKernel()`) runs the WASM build; anything else (the
 * TypeScript `ReferenceKernel`, null, nothing) the TypeScript twin.
 * Nothing passed in is modified or detached. Errors: `E_CRS_UNKNOWN`, `E_USAGE` (rotated grid, unknown
 * rule), `E_LIMIT` (window too large), `E_KERNEL`.
 */
export function coverageWindow(
  zone: Zone,
  zonesCrs: string,
  grid: Grid,
  rule: ZoneRule,
  kernel?: ImpactKernel | { readonly exports?: unknown } | null,
): CoverageWindow | null {
  if (!ZONE_RULES.includes(rule)) {
    throw usage(`unknown zone rule ${JSON.stringify(rule)}`, `Use one of ${ZONE_RULES.join(', ')}.`);
  }
  const rings = zoneRings(zone, zonesCrs, grid);
  if (!rings) return null;
  const input: CoverageInput = { xy: rings.xy, ringStarts: rings.ringStarts, width: rings.width, height: rings.height, rule };
  const res = kernel instanceof WasmKernel ? rasterizeCoverageWasm(kernel, input) : rasterizeCoverage(input);
  if (!res) return null;
  return { x0: rings.x0 + res.x0, y0: rings.y0 + res.y0, width: res.width, height: res.height, weights: res.weights };
}

/**
 * The same cells and weights as {@link coverageWindow} (bit for bit: f32 weights), as row spans in grid
 * cells: span i is the cells [start, end) of one grid row, all of one weight in (0, 1]. Spans come row
 * by row, left to right, never overlap, and leave out every cell of weight 0; `x0, y0, width, height`
 * is the box of the cells with a non-zero weight (as {@link coverageWindow}'s window). Null when there
 * are none. Memory: 16 bytes a span (about two per boundary cell and one per row of the zone inside),
 * never a cell of the bounding box; the kernel's scratch is O(vertices + width + height).
 *
 * Same arguments, kernels and errors as {@link coverageWindow}; the result is fresh arrays.
 */
export function coverageSpans(
  zone: Zone,
  zonesCrs: string,
  grid: Grid,
  rule: ZoneRule,
  kernel?: ImpactKernel | { readonly exports?: unknown } | null,
): CoverageSpans | null {
  const r = zoneSpans(zone, zonesCrs, grid, rule, kernel, false);
  return r && r.spans;
}

/**
 * {@link coverageSpans} for callers that read the spans at once (zonal statistics): with a
 * {@link WasmKernel} the arrays are views into its memory, valid until its next call, and span rows and
 * columns are in the zone's window cells, (`originX`, `originY`) from the grid's top-left cell (the box
 * `x0, y0` is in the window's cells too). Not part of the public API.
 */
export function zoneSpans(
  zone: Zone,
  zonesCrs: string,
  grid: Grid,
  rule: ZoneRule,
  kernel: ImpactKernel | { readonly exports?: unknown } | null | undefined,
  view: boolean,
): { spans: CoverageSpans; originX: number; originY: number } | null {
  if (!ZONE_RULES.includes(rule)) {
    throw usage(`unknown zone rule ${JSON.stringify(rule)}`, `Use one of ${ZONE_RULES.join(', ')}.`);
  }
  const rings = zoneRings(zone, zonesCrs, grid);
  if (!rings) return null;
  const input: CoverageInput = { xy: rings.xy, ringStarts: rings.ringStarts, width: rings.width, height: rings.height, rule };
  const res = kernel instanceof WasmKernel ? rasterizeSpansWasm(kernel, input, { view }) : rasterizeSpans(input);
  if (!res) return null;
  if (view) return { spans: res, originX: rings.x0, originY: rings.y0 };
  // a fresh result: into grid cells in place
  const sp = res.spans;
  for (let i = 0; i < 4 * res.length; i += 4) {
    sp[i] = sp[i]! + rings.y0;
    sp[i + 1] = sp[i + 1]! + rings.x0;
    sp[i + 2] = sp[i + 2]! + rings.x0;
  }
  return { spans: { ...res, x0: res.x0 + rings.x0, y0: res.y0 + rings.y0 }, originX: 0, originY: 0 };
}
