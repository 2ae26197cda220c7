/**
 * @module geo/crs
 * Coordinate reference systems the engine transforms between (through proj4): EPSG:4326, EPSG:3857
 * and every UTM zone (EPSG:326xx north, 327xx south). Anything else is a clear `E_CRS_UNKNOWN`.
 */
import proj4 from 'proj4';
import { IbfError } from '../errors.js';

/** Canonical `EPSG:nnnn` for the spellings we accept (`epsg:4326`, `EPSG:4326`, `urn:ogc:def:crs:EPSG::4326`, `CRS84`). */
export function canonicalCrs(crs: string): string {
  const c = crs.trim();
  if (/^(urn:ogc:def:crs:)?OGC:(1\.3:)?CRS84$/i.test(c) || /^CRS:84$/i.test(c)) return 'EPSG:4326';
  const m = /^(?:urn:ogc:def:crs:)?EPSG:(?:[\d.]*:)?(\d+)$/i.exec(c);
  return m ? `EPSG:${Number(m[1])}` : c;
}

/** proj4 definition of a supported CRS, or null. */
export function projDefinition(crs: string): string | null {
  const c = canonicalCrs(crs);
  if (c === 'EPSG:4326') return '+proj=longlat +datum=WGS84 +no_defs';
  if (c === 'EPSG:3857') return '+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +no_defs';
  const utm = /^EPSG:(326|327)(\d\d)$/.exec(c);
  if (utm) {
    const zone = Number(utm[2]);
    if (zone >= 1 && zone <= 60) return `+proj=utm +zone=${zone}${utm[1] === '327' ? ' +south' : ''} +datum=WGS84 +units=m +no_defs`;
  }
  return null;
}

export function isSupportedCrs(crs: string): boolean {
  return projDefinition(crs) !== null;
}

/** True for geographic (degrees) CRSs. */
export function isGeographic(crs: string): boolean {
  return canonicalCrs(crs) === 'EPSG:4326';
}

export type PointTransform = (x: number, y: number) => [number, number];

function unknown(crs: string, what: string): IbfError {
  return new IbfError('E_CRS_UNKNOWN', `${what} is in ${JSON.stringify(crs)}, which this engine cannot transform`, { details: { crs } });
}

/**
 * A point transform from `from` to `to` (x = easting / longitude, y = northing / latitude).
 * Identity when both are the same CRS. Throws `E_CRS_UNKNOWN` naming `what` for unsupported CRSs.
 */
export function pointTransform(from: string, to: string, what = 'an input'): PointTransform {
  const a = canonicalCrs(from);
  const b = canonicalCrs(to);
  const da = projDefinition(a);
  if (!da) throw unknown(from, what);
  const db = projDefinition(b);
  if (!db) throw unknown(to, 'the target grid');
  if (a === b) return (x, y) => [x, y];
  const conv = proj4(da, db);
  return (x, y) => {
    const [u, v] = conv.forward([x, y]) as [number, number];
    return [u, v];
  };
}

/** Transforms interleaved x,y pairs into a new array (non-finite results stay NaN). */
export function transformPoints(from: string, to: string, xy: Float64Array, what?: string): Float64Array {
  const t = pointTransform(from, to, what);
  const out = new Float64Array(xy.length);
  for (let i = 0; i < xy.length; i += 2) {
    const [u, v] = t(xy[i]!, xy[i + 1]!);
    out[i] = Number.isFinite(u) ? u : NaN;
    out[i + 1] = Number.isFinite(v) ? v : NaN;
  }
  return out;
}
