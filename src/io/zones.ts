/**
 * @module io/zones
 * Admin zones from GeoJSON: a FeatureCollection of Polygon / MultiPolygon features (holes included), each
 * with an id property, validated at the model's edge with every problem listed at once.
 *
 * What is refused (`E_ZONES_INVALID`): a document that is not a FeatureCollection, features that are not
 * Features, geometries that are missing or not polygonal, features without the id property (the message
 * names the properties they do have), ids that are not strings / numbers, duplicate ids, polygons without
 * rings, rings with fewer than 3 distinct points or zero area, coordinates that are not finite numbers,
 * and rings that cross themselves or each other within one polygon (a hole crossing its outer ring too),
 * and holes outside their outer ring. An unsupported CRS is `E_CRS_UNKNOWN` (with the other problems listed).
 *
 * Self-intersection check: edges of one polygon are swept in x order and each pair whose boxes overlap is
 * tested for a proper crossing (interiors cross, with Shewchuk's error bound so that near-touching edges are
 * never reported). Touching rings, a hole touching its outer ring at a point, and collinear overlaps are
 * accepted (they do not change areas). Not detected: rings that cross exactly through a vertex, and holes
 * nested in holes. The check stops after a budget of pair tests (about a second of work; see
 * {@link CROSSING_BUDGET}); polygons left unchecked, or all of them with `selfIntersections: 'accept'`,
 * are used as they are, with the coverage kernel's semantics: per cell, the integral of the winding
 * number clamped to [0, 1] (a loop of opposite orientation subtracts), and for the centre rule winding
 * number > 0. For valid polygons that is exactly their area (and GDAL's even-odd rule).
 */
import { IbfError, type Problem } from '../errors.js';
import { canonicalCrs, isSupportedCrs } from '../geo/crs.js';
import type { Polygon, Zone, Zones } from '../model/zones.js';

export interface ParseZonesOptions {
  /** Feature property holding the zone id (e.g. `ADM2_PCODE`); numbers become strings. */
  idProperty: string;
  /** Feature property holding a display name. */
  nameProperty?: string;
  /** CRS of the coordinates; overrides the document. Default: the legacy `crs` member, else EPSG:4326. */
  crs?: string;
  /** Name of the document in messages (e.g. its file name). Default `zones`. */
  name?: string;
  /**
   * `error` (default): rings that cross (themselves or each other within a polygon) and holes outside
   * their outer ring are problems. `accept`: skip that check and use such polygons with the coverage
   * kernel's semantics (per cell, the integral of the winding number, clamped to [0, 1]; see
   * src/kernels/coverage.ts), e.g. for simplified boundaries whose tiny twists do not matter.
   */
  selfIntersections?: 'error' | 'accept';
}

/** Pair tests the self-intersection check may spend on one document (plus 64 per edge). */
export const CROSSING_BUDGET = 20_000_000;
/** Problems listed per kind (missing id, non-polygon, ...) before a summary line. */
const LIST_MAX = 10;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (isObject(v)) return typeof v.type === 'string' ? `a ${v.type}` : 'an object without "type"';
  return `a ${typeof v}`;
}

/** CRS named by the legacy (GeoJSON 2008) `crs` member, or undefined when there is none. */
function legacyCrs(doc: Json, problems: Problem[]): string | undefined {
  const crs = doc.crs;
  if (crs === undefined || crs === null) return undefined;
  const props = isObject(crs) && isObject(crs.properties) ? crs.properties : undefined;
  if (props && typeof props.name === 'string') return props.name;
  if (props && (typeof props.code === 'number' || typeof props.code === 'string')) return `EPSG:${props.code}`;
  problems.push({ path: 'crs', message: `is ${JSON.stringify(crs)}; expected {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}}` });
  return undefined;
}

/** Groups problems of one kind: the first LIST_MAX as they are, then one summary line. */
class Capped {
  private readonly items: Problem[] = [];
  private more = 0;
  constructor(private readonly summary: (n: number) => Problem) {}
  add(p: Problem): void {
    if (this.items.length < LIST_MAX) this.items.push(p);
    else this.more++;
  }
  get size(): number {
    return this.items.length + this.more;
  }
  flush(into: Problem[]): void {
    into.push(...this.items);
    if (this.more > 0) into.push(this.summary(this.more));
  }
}

interface RingCheck {
  /** Consecutive-distinct vertices, unclosed. */
  xy: Float64Array;
  n: number;
}

/** Parses one ring; pushes a problem and returns null when it is unusable. */
function parseRing(raw: unknown, path: string, label: string, problems: Problem[]): { ring: Float64Array; check: RingCheck } | { degenerate: string } | null {
  if (!Array.isArray(raw)) {
    problems.push({ path, message: `${label}: ring is ${describeType(raw)}, not an array of [x, y] positions` });
    return null;
  }
  const ring = new Float64Array(2 * raw.length);
  for (let j = 0; j < raw.length; j++) {
    const pos = raw[j] as unknown;
    if (!Array.isArray(pos) || pos.length < 2) {
      problems.push({ path: `${path}[${j}]`, message: `${label}: ${JSON.stringify(pos) ?? String(pos)} is not a position [x, y]` });
      return null;
    }
    const [x, y] = pos as unknown[];
    if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) {
      problems.push({ path: `${path}[${j}]`, message: `${label}: position [${String(x)}, ${String(y)}] is not a pair of finite numbers` });
      return null;
    }
    ring[2 * j] = x;
    ring[2 * j + 1] = y;
  }
  // consecutive-distinct vertices, closing duplicate dropped
  const xy = new Float64Array(ring.length);
  let n = 0;
  for (let j = 0; j < raw.length; j++) {
    const x = ring[2 * j]!;
    const y = ring[2 * j + 1]!;
    if (n > 0 && xy[2 * n - 2] === x && xy[2 * n - 1] === y) continue;
    xy[2 * n] = x;
    xy[2 * n + 1] = y;
    n++;
  }
  if (n > 1 && xy[0] === xy[2 * n - 2] && xy[1] === xy[2 * n - 1]) n--;
  if (n < 3) return { degenerate: `${label}: ring at ${path} has ${n} distinct point${n === 1 ? '' : 's'} (no area)` };
  let a2 = 0;
  for (let j = 0; j < n; j++) {
    const k = j + 1 === n ? 0 : j + 1;
    a2 += (xy[2 * j]! - xy[0]!) * (xy[2 * k + 1]! - xy[1]!) - (xy[2 * k]! - xy[0]!) * (xy[2 * j + 1]! - xy[1]!);
  }
  if (a2 === 0) return { degenerate: `${label}: ring at ${path} has zero area (its points lie on one line, or its loops cancel out)` };
  return { ring, check: { xy, n } };
}

/** Sign of the orientation of (a, b, c), 0 when within Shewchuk's error bound of collinear. */
function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const l = (bx - ax) * (cy - ay);
  const r = (by - ay) * (cx - ax);
  const det = l - r;
  const bound = 3.3306690738754716e-16 * (Math.abs(l) + Math.abs(r));
  return det > bound ? 1 : det < -bound ? -1 : 0;
}

interface Crossing {
  ringA: number;
  ringB: number;
  x: number;
  y: number;
}

/** A budget of pair tests shared by every polygon of one document. */
interface Budget {
  left: number;
}

/**
 * First proper crossing between edges of the rings of one polygon (ring against itself or another
 * ring), or null; 'budget' when the budget ran out first.
 */
function findCrossing(rings: RingCheck[], budget: Budget): Crossing | null | 'budget' {
  let m = 0;
  for (const r of rings) m += r.n;
  const ax = new Float64Array(m);
  const ay = new Float64Array(m);
  const bx = new Float64Array(m);
  const by = new Float64Array(m);
  const xmin = new Float64Array(m);
  const xmax = new Float64Array(m);
  const ringOf = new Int32Array(m);
  const idx = new Int32Array(m);
  let e = 0;
  rings.forEach((r, k) => {
    for (let j = 0; j < r.n; j++) {
      const q = j + 1 === r.n ? 0 : j + 1;
      ax[e] = r.xy[2 * j]!;
      ay[e] = r.xy[2 * j + 1]!;
      bx[e] = r.xy[2 * q]!;
      by[e] = r.xy[2 * q + 1]!;
      xmin[e] = Math.min(ax[e]!, bx[e]!);
      xmax[e] = Math.max(ax[e]!, bx[e]!);
      ringOf[e] = k;
      idx[e] = j;
      e++;
    }
  });
  const order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[i] = i;
  order.sort((p, q) => xmin[p]! - xmin[q]!);
  for (let p = 0; p < m; p++) {
    const i = order[p]!;
    const iymin = Math.min(ay[i]!, by[i]!);
    const iymax = Math.max(ay[i]!, by[i]!);
    for (let q = p + 1; q < m; q++) {
      const j = order[q]!;
      if (xmin[j]! > xmax[i]!) break;
      if (--budget.left < 0) return 'budget';
      if (Math.max(ay[j]!, by[j]!) < iymin || Math.min(ay[j]!, by[j]!) > iymax) continue;
      if (ringOf[i] === ringOf[j]) {
        const n = rings[ringOf[i]!]!.n;
        const d = Math.abs(idx[i]! - idx[j]!);
        if (d === 1 || d === n - 1) continue; // neighbours share a vertex
      }
      const o1 = orient(ax[i]!, ay[i]!, bx[i]!, by[i]!, ax[j]!, ay[j]!);
      const o2 = orient(ax[i]!, ay[i]!, bx[i]!, by[i]!, bx[j]!, by[j]!);
      if (o1 * o2 >= 0) continue;
      const o3 = orient(ax[j]!, ay[j]!, bx[j]!, by[j]!, ax[i]!, ay[i]!);
      const o4 = orient(ax[j]!, ay[j]!, bx[j]!, by[j]!, bx[i]!, by[i]!);
      if (o3 * o4 >= 0) continue;
      // where: parameter along edge i
      const dxi = bx[i]! - ax[i]!;
      const dyi = by[i]! - ay[i]!;
      const dxj = bx[j]! - ax[j]!;
      const dyj = by[j]! - ay[j]!;
      const den = dxi * dyj - dyi * dxj;
      const t = den === 0 ? 0.5 : ((ax[j]! - ax[i]!) * dyj - (ay[j]! - ay[i]!) * dxj) / den;
      const ra = Math.min(ringOf[i]!, ringOf[j]!);
      const rb = Math.max(ringOf[i]!, ringOf[j]!);
      return { ringA: ra, ringB: rb, x: ax[i]! + t * dxi, y: ay[i]! + t * dyi };
    }
  }
  return null;
}

/** Point in ring by crossing number: 1 inside, 0 outside, -1 on the boundary (or too close to tell). */
function pointInRing(x: number, y: number, r: RingCheck): number {
  let inside = false;
  for (let j = 0; j < r.n; j++) {
    const q = j + 1 === r.n ? 0 : j + 1;
    const x1 = r.xy[2 * j]!;
    const y1 = r.xy[2 * j + 1]!;
    const x2 = r.xy[2 * q]!;
    const y2 = r.xy[2 * q + 1]!;
    if (y1 > y !== y2 > y) {
      const o = orient(x1, y1, x2, y2, x, y);
      if (o === 0) return -1;
      // edge going up (y1 <= y < y2) crosses right of the point when the point is left of it (o > 0)
      if ((y2 > y1) === (o > 0)) inside = !inside;
    } else if (orient(x1, y1, x2, y2, x, y) === 0 && x >= Math.min(x1, x2) && x <= Math.max(x1, x2) && y >= Math.min(y1, y2) && y <= Math.max(y1, y2)) {
      return -1;
    }
  }
  return inside ? 1 : 0;
}

/** A hole of `rings` (index >= 1) that lies outside the outer ring, or -1. Assumes no crossings. */
function holeOutside(rings: RingCheck[], budget: Budget): number {
  const shell = rings[0]!;
  for (let h = 1; h < rings.length; h++) {
    const hole = rings[h]!;
    for (let j = 0; j < hole.n; j++) {
      budget.left -= shell.n;
      if (budget.left < 0) return -1;
      const where = pointInRing(hole.xy[2 * j]!, hole.xy[2 * j + 1]!, shell);
      if (where === 0) return h;
      if (where === 1) break;
    }
  }
  return -1;
}

/** The JSON document of a zones file (`name` for messages); `E_ZONES_INVALID` when it does not parse. */
export function zonesDocument(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new IbfError('E_ZONES_INVALID', `${name} is not valid JSON: ${(e as Error).message}`, {
      hint: 'Zones must be a GeoJSON FeatureCollection of Polygon / MultiPolygon features.',
    });
  }
}

/**
 * Parses admin zones from a GeoJSON document (already JSON-parsed). Coordinates are kept as given
 * (x = longitude / easting, y = latitude / northing; extra ordinates dropped), one Float64Array per ring;
 * rings may be closed or not. The CRS is `opts.crs`, else the legacy `crs` member, else EPSG:4326,
 * returned in canonical `EPSG:nnnn` form.
 *
 * Errors: `E_ZONES_INVALID` listing every problem found (see the module doc); `E_CRS_UNKNOWN` when the
 * CRS is not supported (its `problems` also list any other problem).
 */
export function parseZones(doc: unknown, opts: ParseZonesOptions): Zones {
  const what = opts.name ?? 'zones';
  const fail = (problems: Problem[]) => IbfError.fromProblems('E_ZONES_INVALID', `${what} are not valid admin zones`, problems);
  if (!isObject(doc) || doc.type !== 'FeatureCollection') {
    const kind = describeType(doc);
    const hint = isObject(doc) && (doc.type === 'Feature' || doc.type === 'Polygon' || doc.type === 'MultiPolygon')
      ? ' (wrap it: {"type": "FeatureCollection", "features": [...]})'
      : '';
    throw fail([{ path: '', message: `is ${kind}, not a GeoJSON FeatureCollection${hint}` }]);
  }
  if (!Array.isArray(doc.features)) {
    throw fail([{ path: 'features', message: `is ${describeType(doc.features)}, not an array of features` }]);
  }
  const problems: Problem[] = [];
  const idProperty = opts.idProperty;
  const rawCrs = opts.crs ?? legacyCrs(doc, problems) ?? 'EPSG:4326';
  const crs = canonicalCrs(rawCrs);
  const crsProblem: Problem | null = isSupportedCrs(crs)
    ? null
    : { path: opts.crs !== undefined ? 'crs (option)' : 'crs', message: `is ${JSON.stringify(rawCrs)}, which this engine cannot transform; use EPSG:4326, EPSG:3857 or a UTM zone (EPSG:326xx / 327xx)` };

  const features = doc.features as unknown[];
  const missingId = new Capped((n) => ({ path: 'features', message: `... and ${n} more feature${n === 1 ? '' : 's'} without "${idProperty}"` }));
  const nonPolygon = new Capped((n) => ({ path: 'features', message: `... and ${n} more feature${n === 1 ? '' : 's'} whose geometry is not a Polygon or MultiPolygon` }));
  const geometryProblems = new Capped((n) => ({ path: 'features', message: `... and ${n} more geometry problem${n === 1 ? '' : 's'}` }));
  const idUses = new Map<string, number[]>();
  const zones: Zone[] = [];
  const warnings: string[] = [];
  const budget: Budget = { left: CROSSING_BUDGET };
  let totalEdges = 0;
  const pending: Array<{ label: string; polygons: RingCheck[][]; polygonPaths: string[] }> = [];

  features.forEach((f, i) => {
    const path = `features[${i}]`;
    if (!isObject(f) || f.type !== 'Feature') {
      geometryProblems.add({ path, message: `is ${describeType(f)}, not a Feature` });
      return;
    }
    const props = isObject(f.properties) ? f.properties : {};
    const rawId = props[idProperty];
    let id: string | undefined;
    if (rawId === undefined || rawId === null) {
      const keys = Object.keys(props);
      const near = keys.find((k) => k.toLowerCase() === idProperty.toLowerCase());
      const top = f.id !== undefined ? `; the feature has a top-level "id" ${JSON.stringify(f.id)}, which is not a property` : '';
      missingId.add({
        path: `${path}.properties`,
        message: `${rawId === null ? `has "${idProperty}": null` : `has no "${idProperty}"`}; ${keys.length ? `its properties are: ${keys.slice(0, 20).join(', ')}${keys.length > 20 ? ', ...' : ''}` : 'it has no properties'}${near ? ` (did you mean "${near}"?)` : ''}${top}`,
      });
    } else if (typeof rawId === 'string' || (typeof rawId === 'number' && Number.isFinite(rawId))) {
      id = String(rawId);
      if (id.trim() === '') {
        geometryProblems.add({ path: `${path}.properties.${idProperty}`, message: 'is an empty string; zone ids must not be empty' });
        id = undefined;
      } else {
        const uses = idUses.get(id);
        if (uses) uses.push(i);
        else idUses.set(id, [i]);
      }
    } else {
      geometryProblems.add({ path: `${path}.properties.${idProperty}`, message: `is ${JSON.stringify(rawId)}; zone ids must be strings or numbers` });
    }
    const label = id === undefined ? 'the feature' : `zone ${JSON.stringify(id)}`;
    const g = f.geometry;
    if (!isObject(g)) {
      nonPolygon.add({ path: `${path}.geometry`, message: `${label} has ${g === null || g === undefined ? 'no geometry' : `a geometry that is ${describeType(g)}`}; zones must be Polygon or MultiPolygon` });
      return;
    }
    if (g.type !== 'Polygon' && g.type !== 'MultiPolygon') {
      nonPolygon.add({ path: `${path}.geometry`, message: `${label} is a ${String(g.type)}; zones must be Polygon or MultiPolygon` });
      return;
    }
    const gPath = `${path}.geometry.coordinates`;
    const local: Problem[] = [];
    const rawPolys: Array<{ raw: unknown; path: string }> = [];
    if (!Array.isArray(g.coordinates)) {
      local.push({ path: gPath, message: `${label}: coordinates are ${describeType(g.coordinates)}, not an array` });
    } else if (g.type === 'Polygon') {
      rawPolys.push({ raw: g.coordinates, path: gPath });
    } else {
      if (g.coordinates.length === 0) local.push({ path: gPath, message: `${label}: the MultiPolygon has no polygons (empty geometry)` });
      g.coordinates.forEach((p, k) => rawPolys.push({ raw: p, path: `${gPath}[${k}]` }));
    }
    const polygons: Polygon[] = [];
    const checks: RingCheck[][] = [];
    for (const { raw, path: pPath } of rawPolys) {
      if (!Array.isArray(raw)) {
        local.push({ path: pPath, message: `${label}: polygon is ${describeType(raw)}, not an array of rings` });
        continue;
      }
      if (raw.length === 0) {
        local.push({ path: pPath, message: `${label}: the polygon has no rings (empty geometry)` });
        continue;
      }
      const rings: Float64Array[] = [];
      const rc: RingCheck[] = [];
      let dropped = false;
      raw.forEach((ring, k) => {
        if (dropped) return;
        const parsed = parseRing(ring, `${pPath}[${k}]`, label, local);
        if (parsed && 'degenerate' in parsed) {
          // A ring without area adds nothing to any cell: leave it out (its whole polygon when it is
          // the outer ring) and say so, rather than refuse a real-world file for a sliver.
          warnings.push(`${parsed.degenerate}; ${k === 0 ? 'the polygon' : 'the hole'} is left out`);
          if (k === 0) dropped = true;
        } else if (parsed) {
          rings.push(parsed.ring);
          rc.push(parsed.check);
        }
      });
      if (dropped) continue;
      polygons.push(rings);
      checks.push(rc);
    }
    if (polygons.length === 0 && local.length === 0 && rawPolys.length > 0) {
      local.push({ path: gPath, message: `${label}: every ring is degenerate; the zone has no area` });
    }
    if (local.length) {
      for (const p of local) geometryProblems.add(p);
      return;
    }
    for (const rc of checks) for (const r of rc) totalEdges += r.n;
    pending.push({ label, polygons: checks, polygonPaths: rawPolys.map((p) => p.path) });
    if (id !== undefined) {
      const zone: Zone = { id, polygons };
      if (opts.nameProperty !== undefined) {
        const nm = props[opts.nameProperty];
        if (nm !== undefined && nm !== null) zone.name = String(nm);
      }
      zones.push(zone);
    }
  });

  // Crossings, once every feature parsed (the budget grows with the document's size).
  budget.left += 64 * totalEdges;
  const crossing = new Capped((n) => ({ path: 'features', message: `... and ${n} more self-intersecting polygon${n === 1 ? '' : 's'}` }));
  if (opts.selfIntersections === 'accept') pending.length = 0;
  outer: for (const p of pending) {
    for (let k = 0; k < p.polygons.length; k++) {
      const rings = p.polygons[k]!;
      const c = findCrossing(rings, budget);
      if (c === 'budget') break outer;
      if (c) {
        const where = `near (${+c.x.toPrecision(10)}, ${+c.y.toPrecision(10)})`;
        const msg = c.ringA === c.ringB
          ? `${p.label}: ring ${c.ringA}${c.ringA === 0 ? ' (outer)' : ' (a hole)'} crosses itself ${where}`
          : `${p.label}: ring ${c.ringB} (a hole) crosses ring ${c.ringA}${c.ringA === 0 ? ' (outer)' : ' (a hole)'} ${where}`;
        crossing.add({ path: p.polygonPaths[k]!, message: `${msg}; self-intersecting polygons have no well-defined area` });
        continue;
      }
      const h = holeOutside(rings, budget);
      if (h > 0) {
        crossing.add({ path: `${p.polygonPaths[k]!}[${h}]`, message: `${p.label}: hole ${h} lies outside the outer ring` });
      }
      if (budget.left < 0) break outer;
    }
  }

  const duplicates = new Capped((n) => ({ path: 'features', message: `... and ${n} more duplicated id${n === 1 ? '' : 's'}` }));
  for (const [id, uses] of idUses) {
    if (uses.length > 1) {
      duplicates.add({ path: `features[${uses[0]}].properties.${idProperty}`, message: `id ${JSON.stringify(id)} is used by ${uses.length} features: ${uses.slice(0, LIST_MAX).map((u) => `features[${u}]`).join(', ')}${uses.length > LIST_MAX ? ', ...' : ''}; zone ids must be unique` });
    }
  }
  duplicates.flush(problems);
  missingId.flush(problems);
  nonPolygon.flush(problems);
  geometryProblems.flush(problems);
  const invalidGeometry = crossing.size > 0;
  crossing.flush(problems);
  if (features.length === 0) problems.push({ path: 'features', message: 'is empty; there are no zones' });

  if (crsProblem) {
    const all = [crsProblem, ...problems];
    throw IbfError.fromProblems('E_CRS_UNKNOWN', `${what} use a coordinate reference system this engine cannot transform`, all);
  }
  if (problems.length) {
    throw IbfError.fromProblems('E_ZONES_INVALID', `${what} are not valid admin zones`, problems, invalidGeometry
      ? 'Repair the geometries (e.g. ogr2ogr -makevalid out.geojson in.geojson, or QGIS "Fix geometries"), or pass selfIntersections: \'accept\' to use them as they are; fix the other listed problems too.'
      : undefined);
  }
  const out: Zones = { crs, zones, idProperty };
  if (warnings.length) out.warnings = warnings;
  if (opts.nameProperty !== undefined) out.nameProperty = opts.nameProperty;
  return out;
}
