/**
 * @module web/inputs
 * Everything that makes a scenario on the page: dropped or chosen files (each checked on arrival; a bad
 * file is named with the reason and left out, and the page carries on), rasters at URLs (headers read by
 * range requests), the form (vulnerability from the catalog or a CSV, zone rule, thresholds) and the
 * scenario JSON editor. The result is a scenario document whose sources are file names or URLs, and the
 * files themselves; nothing leaves the device unless the user sends it to the API.
 */
import { IbfError, isIbfError } from '../../src/errors.js';
import { listCurves } from '../../src/catalog/index.js';
import { canonicalCrs, pointTransform } from '../../src/geo/crs.js';
import { readRasterInfo, type RasterInfo } from '../../src/io/geotiff.js';
import { httpByteSource, withoutCredentials } from '../../src/io/http.js';
import { parseScenario } from '../../src/model/scenario.js';
import { api, type ApiTarget } from './lib/api.js';
import { rewind, type ZoneCollection } from './lib/map.js';
import type { Layout } from './lib/metrics.js';
import { baseName } from './compute.js';

export type Role = 'hazard' | 'exposure' | 'zones' | 'curves' | 'frequencies' | 'scenario' | 'ignore';

export interface Given {
  name: string;
  blob: Blob;
  kind: 'raster' | 'zones' | 'csv' | 'scenario' | 'other';
  role: Role;
  info?: RasterInfo;
  error?: string;
  /** Zones: property names; CSV: column names. */
  fields?: string[];
  text?: string;
  doc?: Record<string, unknown>;
}

/** A message for people from any error (code, what, how to fix). */
export function explain(e: unknown): string {
  if (isIbfError(e)) return `${e.message}\nHow to fix: ${e.hint}`;
  if (e && typeof e === 'object' && 'hint' in e && (e as { hint?: string }).hint) return `${(e as unknown as Error).message}\nHow to fix: ${(e as { hint: string }).hint}`;
  return (e as Error)?.message ?? String(e);
}

const rasterExt = /\.(tif|tiff|cog)$/i;

/** Looks at a file: kind, header or fields, and whether it can be used. Never throws. */
export async function analyse(file: File): Promise<Given> {
  const g: Given = { name: file.name, blob: file, kind: 'other', role: 'ignore' };
  try {
    if (rasterExt.test(file.name)) {
      g.kind = 'raster';
      g.info = await readRasterInfo(file, { name: file.name });
      return g;
    }
    const text = await file.text();
    g.text = text;
    if (/\.(csv|txt)$/i.test(file.name)) {
      g.kind = 'csv';
      const header = text.split(/\r?\n/).find((l) => l.trim() && !l.startsWith('#')) ?? '';
      g.fields = header.split(/[,\t;]/).map((s) => s.trim().replace(/^"|"$/g, '')).filter(Boolean);
      g.role = g.fields.map((f) => f.toLowerCase()).join(',') === 'band,frequency' ? 'frequencies' : 'curves';
      return g;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new IbfError('E_INPUT_FORMAT', `${file.name} is not valid JSON: ${(e as Error).message}`, { hint: 'Give a GeoTIFF (.tif), GeoJSON zones, a curve CSV or a scenario JSON.' });
    }
    const o = doc as Record<string, unknown>;
    if (o && o.type === 'FeatureCollection' && Array.isArray(o.features)) {
      g.kind = 'zones';
      g.role = 'zones';
      const props = new Set<string>();
      for (const f of o.features as Array<{ properties?: Record<string, unknown> }>) for (const k of Object.keys(f.properties ?? {})) props.add(k);
      g.fields = [...props];
      return g;
    }
    if (o && typeof o === 'object' && 'hazard' in o && 'exposure' in o) {
      g.kind = 'scenario';
      g.role = 'scenario';
      g.doc = o;
      return g;
    }
    throw new IbfError('E_INPUT_FORMAT', `${file.name} is JSON but neither zones (a GeoJSON FeatureCollection) nor a scenario (with hazard and exposure)`, { hint: 'See README "Scenario" for the scenario format.' });
  } catch (e) {
    g.error = explain(e);
    g.role = 'ignore';
    return g;
  }
}

/** Guesses hazard / exposure for rasters by name, then by order. */
export function guessRoles(files: Given[]): void {
  const rasters = files.filter((g) => g.kind === 'raster' && !g.error);
  const has = (r: Role) => files.some((g) => g.role === r);
  for (const g of rasters) {
    if (g.role !== 'ignore') continue;
    const n = g.name.toLowerCase();
    if (/haz|depth|flood|wind|event|rp|return|rain|inund|ens|member/.test(n) && !has('hazard')) g.role = 'hazard';
    else if (/exp|value|asset|pop|build|max_damage/.test(n) && !has('exposure')) g.role = 'exposure';
  }
  for (const g of rasters) {
    if (g.role !== 'ignore') continue;
    if (!has('hazard')) g.role = 'hazard';
    else if (!has('exposure')) g.role = 'exposure';
  }
}

/** What the hazard's bands mean, guessed from the file: one event, return periods from band metadata, else one ensemble lead time. */
export function guessBands(info: RasterInfo): Record<string, unknown> | undefined {
  const n = info.bandCount;
  if (n <= 1) return undefined;
  const rps = info.bandMetadata.map((m) => Number(m.return_period_years ?? m.return_period ?? m.returnPeriod ?? NaN));
  const names = info.bandNames ?? [];
  const fromNames = names.map((s) => Number(/^rp_?(\d+(?:\.\d+)?)$/i.exec(s)?.[1] ?? NaN));
  const rp = rps.every(Number.isFinite) ? rps : fromNames.every(Number.isFinite) ? fromNames : null;
  if (rp) return { type: 'return-periods', returnPeriods: rp };
  return { type: 'ensemble', members: n, leadTimes: ['0-hour'] };
}

/** The ensemble layout of a scenario for `bandCount` bands, or undefined. */
export function layoutOf(doc: Record<string, unknown>, bandCount: number): Layout | undefined {
  const b = (doc.hazard as { bands?: { type?: string; members?: number; leadTimes?: unknown[]; order?: Layout['order'] } } | undefined)?.bands;
  if (b?.type !== 'ensemble' || !b.leadTimes?.length) return undefined;
  const leads = b.leadTimes.length;
  return { members: b.members ?? Math.round(bandCount / leads), leads, order: b.order ?? 'member-major' };
}

/** Zones GeoJSON text to lon/lat features d3-geo draws (legacy `crs` member honoured). */
export function zonesForMap(text: string): ZoneCollection {
  const doc = JSON.parse(text) as ZoneCollection & { crs?: { properties?: { name?: string } } };
  const name = doc.crs?.properties?.name;
  const crs = name ? canonicalCrs(name) : 'EPSG:4326';
  if (crs !== 'EPSG:4326') {
    const t = pointTransform(crs, 'EPSG:4326', 'the zones');
    const conv = (c: unknown): unknown => (typeof (c as number[])[0] === 'number' ? t((c as number[])[0]!, (c as number[])[1]!) : (c as unknown[]).map(conv));
    doc.features = doc.features.map((f) => ({ ...f, geometry: { ...f.geometry, coordinates: conv((f.geometry as { coordinates: unknown }).coordinates) } as ZoneCollection['features'][number]['geometry'] }));
  }
  return rewind(doc);
}

/** The raster header at an http(s) URL (COG: a few range requests). */
export async function urlInfo(url: string): Promise<RasterInfo> {
  const src = await httpByteSource(url);
  try {
    return await readRasterInfo(src, { name: withoutCredentials(url) });
  } finally {
    await src.close();
  }
}

export interface CurveOption {
  id: string;
  title: string;
  hazard: string;
}

/** The damage-function catalog: the API's `GET /v1/curves`, else the built-in one. */
export async function catalog(target: ApiTarget): Promise<{ curves: CurveOption[]; from: 'api' | 'built-in' }> {
  try {
    const { body } = await api<{ curves: CurveOption[] }>({ base: target.base, key: '' }, '/v1/curves', { signal: AbortSignal.timeout(3000) });
    if (Array.isArray(body.curves) && body.curves.length) return { curves: body.curves, from: 'api' };
  } catch {
    // no API here (the app served alone): the engine's own catalog is the same list
  }
  return { curves: listCurves().map((c) => ({ id: c.id, title: c.title, hazard: c.hazard })), from: 'built-in' };
}

/** Every problem of a scenario document, or '' (the engine's own validation, all at once). */
export function scenarioProblems(doc: Record<string, unknown>): string {
  try {
    parseScenario(doc, 'the scenario');
    return '';
  } catch (e) {
    return explain(e);
  }
}

/** A scenario document from the files' roles (no scenario JSON given). */
export function docFromFiles(files: Given[], form: { hazardUnit: string; exposureUnit: string }): Record<string, unknown> {
  const by = (r: Role) => files.find((g) => g.role === r && !g.error);
  const hz = by('hazard');
  const ex = by('exposure');
  const zones = by('zones');
  const curves = by('curves');
  const freq = by('frequencies');
  const bands = hz?.info ? guessBands(hz.info) : undefined;
  if (bands && freq) Object.assign(bands, { type: 'events', frequencies: freq.name, returnPeriods: undefined, members: undefined, leadTimes: undefined });
  const doc: Record<string, unknown> = {
    name: 'Scenario from your files',
    hazard: { source: hz?.name ?? '(drop a hazard GeoTIFF)', unit: form.hazardUnit, ...(bands ? { bands: JSON.parse(JSON.stringify(bands)) } : {}) },
    exposure: { source: ex?.name ?? '(drop an exposure GeoTIFF)', unit: form.exposureUnit },
    vulnerability: curves ? { csv: curves.name, ...(curves.fields?.[1] ? { column: curves.fields[1] } : {}) } : 'jrc-flood-europe-residential',
  };
  if (zones) {
    const fields = zones.fields ?? [];
    const id = fields.find((k) => /^(id|code|iso3|iso_a3|adm\d_pcode|pcode|gid_\d)$/i.test(k)) ?? fields[0] ?? 'id';
    const name = fields.find((k) => k !== id && /^(name|adm\d_en|name_en|shapename|nom)$/i.test(k));
    doc.zones = { source: zones.name, idProperty: id, ...(name ? { nameProperty: name } : {}), rule: 'coverage' };
  }
  return doc;
}

export { baseName };
