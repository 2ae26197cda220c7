/**
 * @module io/gdal-tags
 * The two private TIFF tags GDAL writes, parsed and written the way GDAL does:
 * `GDAL_NODATA` (42113, the nodata value as ASCII text) and `GDAL_METADATA` (42112, an XML list of items,
 * which also carries band descriptions); and {@link geoTiffTags}, every georeferencing and GDAL tag our
 * GeoTIFF writers (`writeGeoTiff`, `io/tiff-stream`) put in a file. Pure functions; no geotiff import.
 */
import type { Problem } from '../errors.js';
import type { Grid } from '../model/grid.js';
import { GEOGRAPHIC_TYPE, GT_MODEL_TYPE, GT_RASTER_TYPE, PROJECTED_CS_TYPE, epsgCode } from './tiff-header.js';
import type { TiffTag } from './tiff-writer.js';

/** Largest finite float32 (`FLT_MAX`). */
export const FLT_MAX = 3.4028234663852886e38;

/**
 * Parses a GDAL nodata text as GDAL's `CPLAtofM` does: leading blanks and trailing text are ignored,
 * `nan`/`-nan`/`1.#QNAN`/`-1.#IND` give NaN, `inf`/`-inf`/`1.#INF` give infinities.
 * Returns null when the text holds no number at all (GDAL would silently read 0 there).
 *
 * For 32-bit float bands GDAL then snaps values within 1e-10 relative of ±FLT_MAX to ±FLT_MAX and rounds
 * to float32, so a `-3.4e+38` tag matches the cells that hold it; pass `float32: true` to do the same.
 */
export function parseGdalNodata(text: string, opts: { float32?: boolean } = {}): number | null {
  const s = text.replace(/\0+$/g, '').trim();
  const m = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(s);
  let v: number | null = null;
  if (/^[+-]?(?:nan|1\.#(?:qnan|snan|ind))/i.test(s)) v = NaN;
  else if (/^[+-]?(?:inf|1\.#inf)/i.test(s)) v = s.startsWith('-') ? -Infinity : Infinity;
  else if (m) v = Number(m[0]);
  if (v === null) return null;
  return opts.float32 ? toFloat32Nodata(v) : v;
}

/** GDAL's `GDALAdjustNoDataCloseToFloatMax` followed by a cast to float32. */
export function toFloat32Nodata(v: number): number {
  if (Math.abs(v - -FLT_MAX) < 1e-10 * FLT_MAX) return Math.fround(-FLT_MAX);
  if (Math.abs(v - FLT_MAX) < 1e-10 * FLT_MAX) return Math.fround(FLT_MAX);
  return Math.fround(v);
}

/** Formats a nodata value for the `GDAL_NODATA` tag: `nan`, `inf`, `-inf`, or the shortest exact decimal. */
export function formatGdalNodata(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return Object.is(v, -0) ? '-0' : String(v);
}

/** Contents of a `GDAL_METADATA` tag (default metadata domain only). */
export interface GdalMetadata {
  /** Dataset items (`<Item name="...">` without `sample`). */
  metadata: Record<string, string>;
  /** Per-band items by 0-based band index (`sample="i"`), band descriptions excluded. */
  bandMetadata: Record<string, string>[];
  /** Band descriptions (`role="description"`) by 0-based band index; holes are undefined. */
  descriptions: (string | undefined)[];
  /** GDAL band scale (`role="scale"`) as written, by 0-based band index; holes are undefined. */
  scales: (string | undefined)[];
  /** GDAL band offset (`role="offset"`) as written, by 0-based band index. */
  offsets: (string | undefined)[];
  /** GDAL band unit (`role="unittype"`, e.g. `m`), by 0-based band index. */
  units: (string | undefined)[];
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : '';
    }
    return XML_ENTITIES[e.toLowerCase()] ?? '';
  });
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * TIFF ASCII tags carry bytes; GDAL stores UTF-8 there while geotiff decodes each byte as one char.
 * Re-decodes such a string as UTF-8 (left as is when it is not valid UTF-8).
 */
export function latin1ToUtf8(s: string): string {
  if (!/[\u0080-\u00ff]/.test(s) || /[^\u0000-\u00ff]/.test(s)) return s;
  const bytes = Uint8Array.from(s, (c) => c.charCodeAt(0));
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return s;
  }
}

/**
 * Parses the `GDAL_METADATA` XML. Items of other domains (e.g. `IMAGE_STRUCTURE`) are skipped. Band items
 * with a GDAL role (description, scale, offset, unittype) go to their own lists, not to `bandMetadata`,
 * as GDAL's `GetMetadata()` does not list them either.
 */
export function parseGdalMetadata(xml: string): GdalMetadata {
  const out: GdalMetadata = { metadata: {}, bandMetadata: [], descriptions: [], scales: [], offsets: [], units: [] };
  const text = latin1ToUtf8(xml.replace(/\0+$/g, ''));
  for (const item of text.matchAll(/<Item\b([^>]*)>([\s\S]*?)<\/Item>/g)) {
    const attrs: Record<string, string> = {};
    for (const a of item[1]!.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*"([^"]*)"/g)) attrs[a[1]!] = unescapeXml(a[2]!);
    if (attrs.domain) continue;
    const name = attrs.name;
    const value = unescapeXml(item[2]!);
    const sample = attrs.sample === undefined ? null : Number(attrs.sample);
    if (sample === null) {
      if (name !== undefined) out.metadata[name] = value;
      continue;
    }
    if (!Number.isInteger(sample) || sample < 0 || sample > 65535) continue;
    if (attrs.role === 'description') out.descriptions[sample] = value;
    else if (attrs.role === 'scale') out.scales[sample] = value;
    else if (attrs.role === 'offset') out.offsets[sample] = value;
    else if (attrs.role === 'unittype') out.units[sample] = value;
    else if (name !== undefined) (out.bandMetadata[sample] ??= {})[name] = value;
  }
  for (let i = 0; i < out.bandMetadata.length; i++) out.bandMetadata[i] ??= {};
  return out;
}

/**
 * Builds the `GDAL_METADATA` XML GDAL itself writes (band descriptions as `role="description"` items),
 * or null when there is nothing to write. Returns UTF-8 text; the TIFF writer stores its bytes.
 */
export function buildGdalMetadata(m: {
  metadata?: Record<string, string>;
  bandMetadata?: (Record<string, string> | undefined)[];
  descriptions?: (string | undefined)[];
}): string | null {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(m.metadata ?? {})) lines.push(`  <Item name="${escapeXml(k)}">${escapeXml(v)}</Item>`);
  const n = Math.max(m.bandMetadata?.length ?? 0, m.descriptions?.length ?? 0);
  for (let i = 0; i < n; i++) {
    for (const [k, v] of Object.entries(m.bandMetadata?.[i] ?? {})) {
      lines.push(`  <Item name="${escapeXml(k)}" sample="${i}">${escapeXml(v)}</Item>`);
    }
    const d = m.descriptions?.[i];
    if (d) lines.push(`  <Item name="DESCRIPTION" sample="${i}" role="description">${escapeXml(d)}</Item>`);
  }
  return lines.length ? `<GDALMetadata>\n${lines.join('\n')}\n</GDALMetadata>\n` : null;
}

/** What {@link geoTiffTags} describes: a grid, its nodata and the band descriptions / metadata. */
export interface GeoTiffTagSpec {
  grid: Grid;
  /** Number of bands (to check `bandNames` against). */
  nBands: number;
  nodata: number | null;
  /** Band descriptions (GDAL `SetDescription`), one per band. */
  bandNames?: string[];
  /** Per-band `GDAL_METADATA` items. */
  bandMetadata?: Record<string, string>[];
  /** Dataset `GDAL_METADATA` items. */
  metadata?: Record<string, string>;
  /**
   * Whether `EPSG:nnnn` is a geographic (lon/lat) or projected CRS. Default: geographic for codes
   * 4000..4999 (EPSG's block of geographic CRSs) except 4087/4088, projected otherwise.
   */
  crsType?: 'geographic' | 'projected';
}

/**
 * The georeferencing and GDAL tags of a GeoTIFF, as GDAL writes them: ModelPixelScale + ModelTiepoint
 * (ModelTransformation for south-up or rotated grids), GeoKeys for an `EPSG:nnnn` CRS, `GDAL_METADATA`
 * (band descriptions and metadata) and `GDAL_NODATA` (NaN as `nan`). Returns the tags, or the problems
 * found (transform, CRS, band names, nodata; all of them) for the caller to report together with its own.
 */
export function geoTiffTags(spec: GeoTiffTagSpec): { tags: TiffTag[]; problems: Problem[] } {
  const { grid, nodata } = spec;
  const t = grid.transform;
  const problems: Problem[] = [];
  if (!t.every(Number.isFinite) || t[1] === 0 || t[5] === 0) problems.push({ path: 'grid.transform', message: `[${t.join(', ')}] is not a valid geotransform` });
  let code: number | null = null;
  if (grid.crs !== null) {
    code = epsgCode(grid.crs);
    if (code === null) problems.push({ path: 'grid.crs', message: `is ${JSON.stringify(grid.crs)}; only EPSG:nnnn codes (or null) can be written` });
  }
  const names = spec.bandNames;
  if (names && names.length !== spec.nBands) problems.push({ path: 'bandNames', message: `has ${names.length} names for ${spec.nBands} bands` });
  if (nodata !== null && typeof nodata !== 'number') problems.push({ path: 'nodata', message: `is ${JSON.stringify(nodata)}; must be a number or null` });
  if (problems.length) return { tags: [], problems };

  const tags: TiffTag[] = [];
  if (t[2] === 0 && t[4] === 0 && t[1] > 0 && t[5] < 0) {
    tags.push({ tag: 33550, type: 'DOUBLE', value: [t[1], -t[5], 0] });
    tags.push({ tag: 33922, type: 'DOUBLE', value: [0, 0, 0, t[0], t[3], 0] });
  } else {
    tags.push({ tag: 34264, type: 'DOUBLE', value: [t[1], t[2], 0, t[0], t[4], t[5], 0, t[3], 0, 0, 0, 0, 0, 0, 0, 1] });
  }
  if (code !== null) {
    const geographic = spec.crsType ? spec.crsType === 'geographic' : code >= 4000 && code <= 4999 && code !== 4087 && code !== 4088;
    tags.push({
      tag: 34735,
      type: 'SHORT',
      value: [1, 1, 0, 3, GT_MODEL_TYPE, 0, 1, geographic ? 2 : 1, GT_RASTER_TYPE, 0, 1, 1, geographic ? GEOGRAPHIC_TYPE : PROJECTED_CS_TYPE, 0, 1, code],
    });
  }
  const xml = buildGdalMetadata({ metadata: spec.metadata, bandMetadata: spec.bandMetadata, descriptions: names });
  if (xml) tags.push({ tag: 42112, type: 'ASCII', value: xml });
  if (nodata !== null) tags.push({ tag: 42113, type: 'ASCII', value: formatGdalNodata(nodata) });
  return { tags, problems };
}
