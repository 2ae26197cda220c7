/**
 * @module demo/generate
 * The demo's rasters, made deterministically from a seed (no download):
 *
 * - **Hazard**: a river-flood forecast ensemble on a coarse grid (GloFAS-like 0.05 degrees), `members` x
 *   lead times bands, member-major. Flood depth (m) spreads from a river network (the hand-placed main
 *   rivers of {@link RIVERS}, with seeded meanders and seeded tributaries): the depth at the bank grows
 *   downstream and with the basin's forecast severity, falls off across the floodplain, and is modulated by
 *   a seeded terrain field. A flood wave moves downstream with lead time, the floodplain widens, and the
 *   members spread more the longer the lead time (log-normal member factors, correlated across basins and
 *   consistent across lead times; member 0 is the control forecast).
 * - **Return-period maps**: flood depth (m) for return periods (2, 10, 50, 100 years) on the exposure grid,
 *   from the same river network and terrain: the flood of return period T has severity
 *   {@link returnPeriodSeverity}(T) (growing with ln T, as a Gumbel-distributed annual maximum does) times a
 *   seeded factor per basin, so the floodplain is wider and deeper the rarer the flood, and every cell's
 *   depth is non-decreasing in T.
 * - **Exposure**: residential asset value (USD) on a 5x finer grid: a synthetic population (towns as
 *   Gaussian clusters, villages clustered near rivers, a thin rural background; scaled to each country's
 *   population) times a value per person. Cells outside the zones are nodata, lakes hold no value.
 *
 * Everything is a pure function of the spec and the zones, so every run gives the same bits.
 */
import type { Grid } from '../model/grid.js';
import type { Raster } from '../model/raster.js';
import type { Zones } from '../model/zones.js';
import { coverageWindow } from '../geo/coverage.js';
import { AREA, LAKES, NATIONAL_POPULATION, RIVERS, TOWNS, type River } from './geography.js';
import { hash2, normal, rng, valueNoise } from './random.js';

export interface DemoSpec {
  seed: number;
  /** Exposure cell size (degrees). */
  exposureCell: number;
  /** Hazard cell size (degrees): coarser than the exposure, so the engine resamples. */
  hazardCell: number;
  members: number;
  /** Lead times in band order (the storyline scripts three severities per basin; later lead times keep the third). */
  leadTimes: readonly string[];
  /** Residential asset value per person (USD). */
  valuePerPerson: number;
  /** Villages to place (each a few hundred to a few thousand people). */
  villages: number;
  /** Return periods (years) of the flood-depth maps, in band order. */
  returnPeriods: readonly number[];
}

/** km per degree of latitude, and of longitude at the equator. */
const KM_LAT = 110.57;
const KM_LON = 111.32;
/** Farthest a flood reaches from its river (km): the search radius of the distance field. */
const REACH_KM = 70;
/**
 * Search radius (km) of the return-period maps' distance field on the fine grid: wider than the widest
 * floodplain they draw (the Zambezi's mouth at 100 years: 18 km x 0.9 x sqrt(1.26 x 1.15) = 19.5 km), and
 * under half of REACH_KM, so the 25x larger grid costs about 5x the forecast's field, not 25x.
 */
const RP_REACH_KM = 30;
/** Member spread (log-normal sigma) per lead-time index: forecasts diverge with time. */
const SPREAD = [0.25, 0.42, 0.6];

export function gridOf(cell: number): Grid {
  const width = Math.round((AREA.east - AREA.west) / cell);
  const height = Math.round((AREA.north - AREA.south) / cell);
  return { width, height, transform: [AREA.west, cell, 0, AREA.north, 0, -cell], crs: 'EPSG:4326' };
}

/** One line of the river network, densified: points, arc-length fraction from the source, reference width and depth. */
interface Line {
  x: Float64Array;
  y: Float64Array;
  /** Fraction of the line's length at each point (0 at the source, 1 at the mouth). */
  t: Float64Array;
  river: number;
  width: readonly [number, number];
  depth: readonly [number, number];
  /** Severity multiplier relative to the river's basin (tributaries vary). */
  factor: number;
}

const kmDist = (ax: number, ay: number, bx: number, by: number) => {
  const c = Math.cos(((ay + by) / 2) * (Math.PI / 180));
  return Math.hypot((bx - ax) * KM_LON * c, (by - ay) * KM_LAT);
};

/** Densifies a course into ~3 km steps with a seeded meander (sinusoidal offset across the course). */
function meander(course: ReadonlyArray<readonly [number, number]>, seed: number, amplitudeKm: number): { x: number[]; y: number[] } {
  const u = rng(seed);
  const wavelength = 22 + 18 * u();
  const phase = 2 * Math.PI * u();
  const x: number[] = [];
  const y: number[] = [];
  let s = 0;
  for (let i = 0; i + 1 < course.length; i++) {
    const [ax, ay] = course[i]!;
    const [bx, by] = course[i + 1]!;
    const len = kmDist(ax, ay, bx, by);
    const steps = Math.max(1, Math.ceil(len / 3));
    const c = Math.cos(((ay + by) / 2) * (Math.PI / 180));
    // unit normal in km, back to degrees
    const nx = (-(by - ay) * KM_LAT) / len;
    const ny = ((bx - ax) * KM_LON * c) / len;
    for (let k = i === 0 ? 0 : 1; k <= steps; k++) {
      const f = k / steps;
      const along = s + f * len;
      // no offset at the ends of the whole course: sources and mouths stay where they were placed
      const last = i + 1 === course.length - 1 && k === steps;
      const off = (i === 0 && k === 0) || last ? 0 : amplitudeKm * Math.sin((2 * Math.PI * along) / wavelength + phase);
      x.push(ax + f * (bx - ax) + (off * nx) / (KM_LON * c));
      y.push(ay + f * (by - ay) + (off * ny) / KM_LAT);
    }
    s += len;
  }
  return { x, y };
}

function toLine(p: { x: number[]; y: number[] }, river: number, width: readonly [number, number], depth: readonly [number, number], factor: number): Line {
  const n = p.x.length;
  const t = new Float64Array(n);
  for (let i = 1; i < n; i++) t[i] = t[i - 1]! + kmDist(p.x[i - 1]!, p.y[i - 1]!, p.x[i]!, p.y[i]!);
  const total = t[n - 1]! || 1;
  for (let i = 0; i < n; i++) t[i] = t[i]! / total;
  return { x: Float64Array.from(p.x), y: Float64Array.from(p.y), t, river, width, depth, factor };
}

/** The river network: every main river (meandering) and its seeded tributaries. */
export function riverNetwork(seed: number): Line[] {
  const lines: Line[] = [];
  RIVERS.forEach((r: River, ri) => {
    const main = toLine(meander(r.course, seed + 101 * ri, 2.5), ri, r.width, r.depth, 1);
    lines.push(main);
    const u = rng(seed * 7 + 977 * ri + 13);
    for (let k = 0; k < r.tributaries; k++) {
      // join somewhere along the middle of the main stem, leave at an angle upstream, wander
      const j = Math.min(main.x.length - 2, Math.floor((0.15 + 0.7 * u()) * main.x.length));
      const jx = main.x[j]!;
      const jy = main.y[j]!;
      const c = Math.cos(jy * (Math.PI / 180));
      const dirAlong = Math.atan2((main.y[j + 1]! - jy) * KM_LAT, (main.x[j + 1]! - jx) * KM_LON * c);
      const side = u() < 0.5 ? -1 : 1;
      let heading = dirAlong + Math.PI + side * (0.6 + 0.6 * u()); // pointing upstream and away
      const lengthKm = 60 + 140 * u();
      const steps = 8 + Math.floor(5 * u());
      const px = [jx];
      const py = [jy];
      for (let s = 0; s < steps; s++) {
        heading += (u() - 0.5) * 0.8;
        const step = lengthKm / steps;
        const ly = py[py.length - 1]!;
        px.push(px[px.length - 1]! + (step * Math.cos(heading)) / (KM_LON * Math.cos(ly * (Math.PI / 180))));
        py.push(ly + (step * Math.sin(heading)) / KM_LAT);
      }
      const course = px.map((x, i) => [x, py[i]!] as const).reverse(); // source first
      const tj = main.t[j]!;
      const mainWidth = r.width[0] + (r.width[1] - r.width[0]) * tj;
      const mainDepth = r.depth[0] + (r.depth[1] - r.depth[0]) * tj;
      lines.push(toLine(meander(course, seed + 7919 * ri + 31 * k, 1.2), ri, [0.8, 0.45 * mainWidth], [0.3, 0.6 * mainDepth], 0.7 + 0.6 * u()));
    }
  });
  return lines;
}

/** Point-in-polygon (even-odd) for a [lon, lat] ring. */
function inRing(x: number, y: number, ring: ReadonlyArray<readonly [number, number]>): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** 1 for cells of `grid` whose centre lies in a lake. */
export function lakeMask(grid: Grid): Uint8Array {
  const [x0, dx, , y0, , dy] = grid.transform;
  const mask = new Uint8Array(grid.width * grid.height);
  for (const lake of LAKES) {
    const xs = lake.ring.map((p) => p[0]);
    const ys = lake.ring.map((p) => p[1]);
    const c0 = Math.max(0, Math.floor((Math.min(...xs) - x0) / dx));
    const c1 = Math.min(grid.width - 1, Math.ceil((Math.max(...xs) - x0) / dx));
    const r0 = Math.max(0, Math.floor((Math.max(...ys) - y0) / dy));
    const r1 = Math.min(grid.height - 1, Math.ceil((Math.min(...ys) - y0) / dy));
    for (let r = r0; r <= r1; r++) {
      const y = y0 + (r + 0.5) * dy;
      for (let c = c0; c <= c1; c++) if (inRing(x0 + (c + 0.5) * dx, y, lake.ring)) mask[r * grid.width + c] = 1;
    }
  }
  return mask;
}

/** Per cell of `grid`: the nearest line (by distance relative to its floodplain width), that distance (km) and the fraction along the line. */
export interface RiverField {
  line: Int16Array;
  distKm: Float32Array;
  t: Float32Array;
}

export function riverField(grid: Grid, lines: Line[], reachKm = REACH_KM): RiverField {
  const { width: W, height: H } = grid;
  const [x0, dx, , y0, , dy] = grid.transform;
  const n = W * H;
  const line = new Int16Array(n).fill(-1);
  const distKm = new Float32Array(n).fill(Infinity);
  const t = new Float32Array(n);
  const score = new Float64Array(n).fill(Infinity);
  lines.forEach((L, li) => {
    for (let i = 0; i + 1 < L.x.length; i++) {
      const ax = L.x[i]!;
      const ay = L.y[i]!;
      const bx = L.x[i + 1]!;
      const by = L.y[i + 1]!;
      const c = Math.cos(((ay + by) / 2) * (Math.PI / 180));
      const kx = KM_LON * c;
      const rLon = reachKm / kx;
      const rLat = reachKm / KM_LAT;
      const col0 = Math.max(0, Math.floor((Math.min(ax, bx) - rLon - x0) / dx));
      const col1 = Math.min(W - 1, Math.floor((Math.max(ax, bx) + rLon - x0) / dx));
      const row0 = Math.max(0, Math.floor((Math.max(ay, by) + rLat - y0) / dy));
      const row1 = Math.min(H - 1, Math.floor((Math.min(ay, by) - rLat - y0) / dy));
      const sx = (bx - ax) * kx;
      const sy = (by - ay) * KM_LAT;
      const len2 = sx * sx + sy * sy || 1;
      const ta = L.t[i]!;
      const tb = L.t[i + 1]!;
      for (let r = row0; r <= row1; r++) {
        const py = (y0 + (r + 0.5) * dy - ay) * KM_LAT;
        for (let col = col0; col <= col1; col++) {
          const px = (x0 + (col + 0.5) * dx - ax) * kx;
          const f = Math.max(0, Math.min(1, (px * sx + py * sy) / len2));
          const d = Math.hypot(px - f * sx, py - f * sy);
          if (d > reachKm) continue;
          const tt = ta + f * (tb - ta);
          const w = L.width[0] + (L.width[1] - L.width[0]) * tt;
          const s = d / w;
          const k = r * W + col;
          if (s < score[k]!) {
            score[k] = s;
            line[k] = li;
            distKm[k] = d;
            t[k] = tt;
          }
        }
      }
    }
  });
  return { line, distKm, t };
}

/**
 * Each member's severity multiplier per river and lead time (log-normal with mean 1; member 0 = 1):
 * `factors[(m * L + l) * rivers + r]`.
 */
export function memberFactors(seed: number, members: number, leads: number, rivers: number): Float64Array {
  const z = normal(rng(seed * 31 + 5));
  const out = new Float64Array(members * leads * rivers);
  for (let m = 0; m < members; m++) {
    const common = z();
    const own = Array.from({ length: rivers }, () => z());
    for (let l = 0; l < leads; l++) {
      const sigma = SPREAD[Math.min(l, SPREAD.length - 1)]!;
      for (let r = 0; r < rivers; r++) {
        const wobble = z();
        const zz = m === 0 ? 0 : 0.55 * common + 0.75 * own[r]! + 0.35 * wobble;
        out[(m * leads + l) * rivers + r] = m === 0 ? 1 : Math.exp(sigma * zz - (sigma * sigma) / 2);
      }
    }
  }
  return out;
}

/** Terrain: a smooth seeded factor 0.55-1.45 per cell (low ground floods deeper), the same field on any grid. */
function terrainField(grid: Grid, seed: number): Float32Array {
  const [x0, dx, , y0, , dy] = grid.transform;
  const terrain = new Float32Array(grid.width * grid.height);
  for (let r = 0; r < grid.height; r++) {
    for (let c = 0; c < grid.width; c++) {
      const lon = x0 + (c + 0.5) * dx;
      const lat = y0 + (r + 0.5) * dy;
      terrain[r * grid.width + c] = 0.55 + 0.9 * valueNoise(lon / 0.35, lat / 0.35, seed + 17, 3);
    }
  }
  return terrain;
}

/** The hazard ensemble: flood depth (m), float32, member-major bands named `member<m>_<lead>`. */
export function hazardRaster(spec: DemoSpec, lines: Line[], field: RiverField, grid: Grid): Raster<Float32Array> {
  const n = grid.width * grid.height;
  const L = spec.leadTimes.length;
  const lakes = lakeMask(grid);
  const terrain = terrainField(grid, spec.seed);
  const factors = memberFactors(spec.seed, spec.members, L, RIVERS.length);
  const cells: number[] = [];
  for (let k = 0; k < n; k++) if (field.line[k]! >= 0 && !lakes[k]) cells.push(k);
  const bands: Float32Array[] = [];
  const names: string[] = [];
  for (let m = 0; m < spec.members; m++) {
    for (let l = 0; l < L; l++) {
      const band = new Float32Array(n);
      const wave = 0.5 + 0.25 * l; // where along the rivers the flood peaks
      const spread = 0.75 + 0.15 * l; // the floodplain fills up with time
      for (const k of cells) {
        const line = lines[field.line[k]!]!;
        const river = RIVERS[line.river]!;
        const s = river.severity[Math.min(l, 2)]! * line.factor * factors[(m * L + l) * RIVERS.length + line.river]!;
        const t = field.t[k]!;
        const g = 0.4 + 0.6 * Math.exp(-(((t - wave) / 0.4) ** 2));
        const halfWidth = (line.width[0] + (line.width[1] - line.width[0]) * t) * spread * Math.sqrt(s);
        const u = field.distKm[k]! / halfWidth;
        if (u >= 1) continue;
        const bank = (line.depth[0] + (line.depth[1] - line.depth[0]) * t) * s * g;
        const depth = bank * terrain[k]! * (1 - u) ** 1.5 - 0.05;
        if (depth > 0) band[k] = Math.round(depth * 1000) / 1000;
      }
      bands.push(band);
      names.push(`member${String(m).padStart(2, '0')}_${spec.leadTimes[l]}`);
    }
  }
  return { grid, bands, nodata: null, bandNames: names };
}

/**
 * Severity (relative to a river's reference flood, as the forecast's) of the flood with return period T
 * years: 0.3 ln(T / 1.5), linear in ln T as a Gumbel annual maximum's quantiles are in the tail, and 0 at
 * 1.5 years, about when a river fills its channel (bankfull): the 2-year flood (0.09) barely leaves the
 * channel, the 10-year one (0.57) floods about half as deep as the reference flood, the 100-year one (1.26)
 * is less than the forecast's worst basins reach at 48-72 hours. Never negative, non-decreasing in T.
 */
export function returnPeriodSeverity(T: number): number {
  return Math.max(0, 0.3 * Math.log(T / 1.5));
}

/** A seeded climatological factor per river basin (0.85-1.15): some basins flood harder than others. */
export function basinFactors(seed: number, rivers: number): Float64Array {
  const u = rng(seed * 11 + 19);
  return Float64Array.from({ length: rivers }, () => 0.85 + 0.3 * u());
}

/**
 * The return-period maps: flood depth (m), float32, one band per return period of `spec` (named
 * `rp<T>`), on `grid` (the exposure grid: these maps are ~1 km, as global flood hazard maps are).
 * The same river network and terrain as the forecast, at the envelope of the flood (no travelling wave):
 * `depth = bank(t) x s(T) x terrain x (1 - d/W)^1.5 - 0.05 m` with half-width `W = width(t) x 0.9 x sqrt(s(T))`
 * and `s(T)` = {@link returnPeriodSeverity} x basin factor x tributary factor. Depth is non-decreasing in T
 * in every cell (bank depth grows and d/W shrinks with s; rounding to mm keeps the order).
 */
export function returnPeriodRaster(spec: DemoSpec, lines: Line[], grid: Grid): Raster<Float32Array> {
  const n = grid.width * grid.height;
  const field = riverField(grid, lines, RP_REACH_KM);
  const lakes = lakeMask(grid);
  const terrain = terrainField(grid, spec.seed);
  const basin = basinFactors(spec.seed, RIVERS.length);
  const cells: number[] = [];
  for (let k = 0; k < n; k++) if (field.line[k]! >= 0 && !lakes[k]) cells.push(k);
  const bands: Float32Array[] = [];
  for (const T of spec.returnPeriods) {
    const band = new Float32Array(n);
    const sT = returnPeriodSeverity(T);
    for (const k of cells) {
      const line = lines[field.line[k]!]!;
      const s = sT * basin[line.river]! * line.factor;
      const t = field.t[k]!;
      const halfWidth = (line.width[0] + (line.width[1] - line.width[0]) * t) * 0.9 * Math.sqrt(s);
      const u = field.distKm[k]! / halfWidth;
      if (!(u < 1)) continue;
      const bank = (line.depth[0] + (line.depth[1] - line.depth[0]) * t) * s;
      const depth = bank * terrain[k]! * (1 - u) ** 1.5 - 0.05;
      if (depth > 0) band[k] = Math.round(depth * 1000) / 1000;
    }
    bands.push(band);
  }
  return { grid, bands, nodata: null, bandNames: spec.returnPeriods.map((T) => `rp${T}`) };
}

/** Zone index (position in `zones.zones`) of each cell centre of `grid`, or -1. */
function zoneIndex(grid: Grid, zones: Zones, kernel: unknown): Int8Array {
  const out = new Int8Array(grid.width * grid.height).fill(-1);
  zones.zones.forEach((z, zi) => {
    const w = coverageWindow(z, zones.crs, grid, 'centre', kernel as Parameters<typeof coverageWindow>[4]);
    if (!w) return;
    for (let r = 0; r < w.height; r++) {
      for (let c = 0; c < w.width; c++) {
        const k = (w.y0 + r) * grid.width + w.x0 + c;
        if (w.weights[r * w.width + c]! > 0 && out[k] === -1) out[k] = zi;
      }
    }
  });
  return out;
}

/**
 * The exposure: residential asset value (USD) per cell, float32, NaN outside the zones; and the
 * population behind it (people per zone, for the README's numbers).
 */
export function exposureRaster(spec: DemoSpec, zones: Zones, hazardGrid: Grid, field: RiverField, kernel: unknown): { raster: Raster<Float32Array>; population: Record<string, number> } {
  const grid = gridOf(spec.exposureCell);
  const { width: W, height: H } = grid;
  const n = W * H;
  const [x0, dx, , y0, , dy] = grid.transform;
  const zone = zoneIndex(grid, zones, kernel);
  const lakes = lakeMask(grid);
  const nz = zones.zones.length;
  const hx0 = hazardGrid.transform[0];
  const hdx = hazardGrid.transform[1];
  const hy0 = hazardGrid.transform[3];
  const hdy = hazardGrid.transform[5];

  // rural background: seeded noise, denser near rivers
  const rural = new Float64Array(n);
  const ruralSum = new Float64Array(nz);
  let wMax = 0;
  for (let r = 0; r < H; r++) {
    const lat = y0 + (r + 0.5) * dy;
    const hr = Math.min(hazardGrid.height - 1, Math.max(0, Math.floor((lat - hy0) / hdy)));
    for (let c = 0; c < W; c++) {
      const k = r * W + c;
      const zi = zone[k]!;
      if (zi < 0 || lakes[k]) continue;
      const lon = x0 + (c + 0.5) * dx;
      const hc = Math.min(hazardGrid.width - 1, Math.max(0, Math.floor((lon - hx0) / hdx)));
      const d = field.distKm[hr * hazardGrid.width + hc]!;
      const near = Number.isFinite(d) ? Math.exp(-d / 12) : 0;
      const w = Math.exp(3 * (valueNoise(lon / 1.5, lat / 1.5, spec.seed + 29, 4) - 0.5)) * (0.35 + near);
      rural[k] = w;
      ruralSum[zi] += w;
      if (w > wMax) wMax = w;
    }
  }

  // villages: clustered where the rural weight is high (rejection sampling)
  const village = new Float64Array(n);
  const villageSum = new Float64Array(nz);
  const u = rng(spec.seed * 13 + 7);
  const z = normal(rng(spec.seed * 17 + 3));
  let placed = 0;
  for (let tries = 0; placed < spec.villages && tries < spec.villages * 200; tries++) {
    const k = Math.floor(u() * n);
    const accept = u();
    const zi = zone[k]!;
    if (zi < 0 || accept * wMax > rural[k]!) continue;
    const size = Math.exp(0.9 * z());
    const c = k % W;
    const r = (k - c) / W;
    const share = (cc: number, rr: number, f: number) => {
      if (cc < 0 || rr < 0 || cc >= W || rr >= H) return;
      const kk = rr * W + cc;
      if (zone[kk] !== zi || lakes[kk]) return;
      village[kk] += size * f;
      villageSum[zi] += size * f;
    };
    share(c, r, 0.6);
    share(c - 1, r, 0.1);
    share(c + 1, r, 0.1);
    share(c, r - 1, 0.1);
    share(c, r + 1, 0.1);
    placed++;
  }

  // towns: Gaussian clusters, normalised over the cells of their own zone
  const people = new Float64Array(n);
  const urban = new Float64Array(nz);
  for (const [, lon, lat, pop] of TOWNS) {
    const c0 = Math.floor((lon - x0) / dx);
    const r0 = Math.floor((lat - y0) / dy);
    if (c0 < 0 || r0 < 0 || c0 >= W || r0 >= H) continue;
    const zi = zone[r0 * W + c0]!;
    if (zi < 0) continue;
    const sigmaKm = Math.min(8, Math.max(1.2, 1.5 * Math.sqrt(pop / 100_000)));
    const kx = KM_LON * Math.cos(lat * (Math.PI / 180));
    const rc = Math.ceil((3 * sigmaKm) / (kx * dx));
    const rr = Math.ceil((3 * sigmaKm) / (KM_LAT * -dy));
    const cells: number[] = [];
    const weights: number[] = [];
    let sum = 0;
    for (let r = Math.max(0, r0 - rr); r <= Math.min(H - 1, r0 + rr); r++) {
      for (let c = Math.max(0, c0 - rc); c <= Math.min(W - 1, c0 + rc); c++) {
        const k = r * W + c;
        if (zone[k] !== zi || lakes[k]) continue;
        const ex = (x0 + (c + 0.5) * dx - lon) * kx;
        const ey = (y0 + (r + 0.5) * dy - lat) * KM_LAT;
        const d2 = ex * ex + ey * ey;
        if (d2 > 9 * sigmaKm * sigmaKm) continue; // a disc of 3 sigma, not the square window
        // a little seeded texture so towns are not perfect discs
        const w = Math.exp(-d2 / (2 * sigmaKm * sigmaKm)) * (0.6 + 0.8 * hash2(c, r, spec.seed + 41));
        cells.push(k);
        weights.push(w);
        sum += w;
      }
    }
    if (sum === 0) continue;
    cells.forEach((k, i) => (people[k] += (pop * weights[i]!) / sum));
    urban[zi] += pop;
  }

  const population: Record<string, number> = {};
  const ruralTotal = zones.zones.map((zz, zi) => {
    const national = NATIONAL_POPULATION[zz.id] ?? 0;
    return Math.max(0.35 * national, national - urban[zi]!);
  });
  const value = new Float32Array(n);
  const totals = new Float64Array(nz);
  for (let k = 0; k < n; k++) {
    const zi = zone[k]!;
    if (zi < 0) {
      value[k] = NaN;
      continue;
    }
    if (lakes[k]) continue;
    const p = people[k]! + ruralTotal[zi]! * (0.5 * (rural[k]! / (ruralSum[zi]! || 1)) + 0.5 * (village[k]! / (villageSum[zi]! || 1)));
    totals[zi] += p;
    value[k] = Math.round(p * spec.valuePerPerson);
  }
  zones.zones.forEach((zz, zi) => (population[zz.id] = Math.round(totals[zi]!)));
  return { raster: { grid, bands: [value], nodata: NaN, bandNames: ['residential_value_usd'] }, population };
}
