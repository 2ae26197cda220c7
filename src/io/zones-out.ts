/**
 * @module io/zones-out
 * The per-zone outputs of a run: `zones.csv` (one row per zone) and `zones.geojson` (the zone polygons
 * with the same columns as feature properties), from a result document and the parsed zones. Pure
 * functions: no I/O; `node/run-scenario` writes their output with the other files.
 *
 * Columns, in order (the same keys in both files):
 * - `id`, `name` (empty / null when the zone has none), `cells` (coverage-weighted), `exposedValue`
 *   (exposure unit);
 * - per band, in band order: `damage_<band>`, then `affectedValue_<band>` (exposure unit), then
 *   `maxIntensity_<band>` (hazard unit), where `<band>` is the band name (`bands[].name`); when two bands
 *   share a name, each of those gets `#<band number>` appended (`rp#1`, `rp#2`);
 * - `eai` (event sets, exposure unit / year) and `ead` (return-period maps, exposure unit / year), when
 *   a zone has them;
 * - per lead time of `zones[].trigger[]` (ensembles with a trigger rule), in order: `alert_<leadTime>`
 *   (none / low / medium / high), `probability_<leadTime>` (in [0, 1]) and `triggered_<leadTime>`.
 *
 * CSV: RFC 4180 (CRLF line ends, a field quoted when it holds a comma, a double quote, CR or LF, with
 * quotes doubled); numbers written as JSON writes them (shortest text that reads back as the same
 * float64), null / NaN / missing as an empty field, booleans as `true` / `false`.
 */
import { IbfError, type Problem } from '../errors.js';
import type { AssessResult, ZoneResult } from '../engine/result.js';
import type { Polygon, Zones } from '../model/zones.js';

/** A cell of the zone table: what a CSV field or a GeoJSON property holds. */
export type ZoneValue = string | number | boolean | null;

export interface ZoneTable {
  /** Column names, in order (`id` first). */
  columns: string[];
  /** One record per zone of `result.zones`, in order, keyed by column (every column present). */
  rows: Array<Record<string, ZoneValue>>;
}

/** Band labels for column names: the band name, made unique with `#<band number>` where names repeat. */
function bandLabels(result: AssessResult): string[] {
  const uses = new Map<string, number>();
  for (const b of result.bands) uses.set(b.name, (uses.get(b.name) ?? 0) + 1);
  return result.bands.map((b) => (uses.get(b.name)! > 1 ? `${b.name}#${b.band}` : b.name));
}

/** A number as the table holds it: finite numbers as they are, NaN / Infinity / missing as null. */
const numberOrNull = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Lead times of every zone's trigger entries, in order of first appearance. */
function triggerLeadTimes(zones: readonly ZoneResult[]): string[] {
  const seen = new Set<string>();
  for (const z of zones) for (const t of z.trigger ?? []) seen.add(t.leadTime);
  return [...seen];
}

/**
 * The zone table of a result: the columns (see the module doc) and one record per zone. The basis of
 * {@link zonesCsv} and {@link zonesGeoJson}, for callers that want other formats.
 */
export function zoneTable(result: AssessResult): ZoneTable {
  const labels = bandLabels(result);
  const zones = result.zones;
  const hasEai = zones.some((z) => z.eai !== undefined);
  const hasEad = zones.some((z) => z.ead !== undefined);
  const leadTimes = triggerLeadTimes(zones);
  const columns = [
    'id',
    'name',
    'cells',
    'exposedValue',
    ...labels.map((l) => `damage_${l}`),
    ...labels.map((l) => `affectedValue_${l}`),
    ...labels.map((l) => `maxIntensity_${l}`),
    ...(hasEai ? ['eai'] : []),
    ...(hasEad ? ['ead'] : []),
    ...leadTimes.flatMap((lt) => [`alert_${lt}`, `probability_${lt}`, `triggered_${lt}`]),
  ];
  const rows = zones.map((z) => {
    const row: Record<string, ZoneValue> = {
      id: z.id,
      name: z.name ?? null,
      cells: numberOrNull(z.cells),
      exposedValue: numberOrNull(z.exposedValue),
    };
    labels.forEach((l, i) => {
      row[`damage_${l}`] = numberOrNull(z.damage[i]);
    });
    labels.forEach((l, i) => {
      row[`affectedValue_${l}`] = numberOrNull(z.affectedValue[i]);
    });
    labels.forEach((l, i) => {
      row[`maxIntensity_${l}`] = numberOrNull(z.maxIntensity[i]);
    });
    if (hasEai) row.eai = numberOrNull(z.eai);
    if (hasEad) row.ead = numberOrNull(z.ead);
    for (const lt of leadTimes) {
      const t = z.trigger?.find((e) => e.leadTime === lt);
      row[`alert_${lt}`] = t?.alertLevel ?? null;
      row[`probability_${lt}`] = numberOrNull(t?.probability);
      row[`triggered_${lt}`] = t?.triggered ?? null;
    }
    return row;
  });
  return { columns, rows };
}

/** One RFC 4180 field. */
function csvField(v: ZoneValue): string {
  if (v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * `zones.csv` of a result: a header and one row per zone (see the module doc for the columns and the
 * format). A result without zones gives the header only.
 */
export function zonesCsv(result: AssessResult): string {
  const { columns, rows } = zoneTable(result);
  const lines = [columns.map(csvField).join(','), ...rows.map((r) => columns.map((c) => csvField(r[c] ?? null)).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

/** A GeoJSON linear ring from interleaved x,y pairs, closed (first position repeated at the end). */
function ring(xy: Float64Array): number[][] {
  const out: number[][] = [];
  for (let i = 0; i + 1 < xy.length; i += 2) out.push([xy[i]!, xy[i + 1]!]);
  const first = out[0];
  const last = out[out.length - 1];
  if (first && last && (first[0] !== last[0] || first[1] !== last[1])) out.push([first[0]!, first[1]!]);
  return out;
}

const polygonCoordinates = (p: Polygon): number[][][] => p.map(ring);

export interface ZonesFeatureCollection {
  type: 'FeatureCollection';
  /** GeoJSON 2008 CRS member, present when the zones are not in EPSG:4326 (RFC 7946 has no CRS). */
  crs?: { type: 'name'; properties: { name: string } };
  features: Array<{
    type: 'Feature';
    id: string;
    properties: Record<string, ZoneValue>;
    geometry: { type: 'Polygon'; coordinates: number[][][] } | { type: 'MultiPolygon'; coordinates: number[][][][] };
  }>;
}

/**
 * `zones.geojson` of a result: a FeatureCollection with one feature per zone of `result.zones` (in
 * order), its polygons from `zones` (the parsed zones the run used, coordinates in `zones.crs` as read;
 * rings closed) and the zone table's columns as properties (nulls where the CSV has empty fields). A
 * zone with one polygon is a Polygon, with several a MultiPolygon. When `zones.crs` is not EPSG:4326
 * the legacy `crs` member names it (`urn:ogc:def:crs:EPSG::nnnn`), so GDAL, QGIS and `parseZones` read
 * the coordinates right.
 *
 * Errors: `E_ZONES_INVALID` listing every zone id of the result that `zones` lacks and every zone of
 * `zones` the result lacks (the two must come from the same run).
 */
export function zonesGeoJson(result: AssessResult, zones: Zones): ZonesFeatureCollection {
  const byId = new Map(zones.zones.map((z) => [z.id, z]));
  const inResult = new Set(result.zones.map((z) => z.id));
  const problems: Problem[] = [];
  result.zones.forEach((z, i) => {
    if (!byId.has(z.id)) problems.push({ path: `zones[${i}].id`, message: `zone ${JSON.stringify(z.id)} of the result has no polygons in the zones given` });
  });
  zones.zones.forEach((z, i) => {
    if (!inResult.has(z.id)) problems.push({ path: `zones.zones[${i}].id`, message: `zone ${JSON.stringify(z.id)} of the zones given is not in the result` });
  });
  if (problems.length) {
    throw IbfError.fromProblems('E_ZONES_INVALID', 'the zones do not match the result\'s zones', problems, 'Pass the zones parsed for the same run (the scenario\'s zones file, with its idProperty).');
  }
  const { rows } = zoneTable(result);
  const features = result.zones.map((z, i): ZonesFeatureCollection['features'][number] => {
    const polygons = byId.get(z.id)!.polygons;
    return {
      type: 'Feature',
      id: z.id,
      properties: rows[i]!,
      geometry: polygons.length === 1
        ? { type: 'Polygon', coordinates: polygonCoordinates(polygons[0]!) }
        : { type: 'MultiPolygon', coordinates: polygons.map(polygonCoordinates) },
    };
  });
  const epsg = /^EPSG:(\d+)$/.exec(zones.crs);
  const crsName = zones.crs === 'EPSG:4326' ? undefined : epsg ? `urn:ogc:def:crs:EPSG::${epsg[1]}` : zones.crs;
  return { type: 'FeatureCollection', ...(crsName ? { crs: { type: 'name' as const, properties: { name: crsName } } } : {}), features };
}
