/**
 * A tiny IBF flow in a folder, for quick tests: a 20 x 20 grid of 0.1 degree cells (x 0..2, y 0..2,
 * EPSG:4326) holding USD 100 per cell, zone A the left half and zone B the right half (200 cells,
 * USD 20 000 each), a linear depth-damage curve (0 m: 0, 2 m: 1), and flood depth uniform per zone,
 * member and lead time as `depth(zone, member, lead, date)` says. So a zone's damage for a member is
 * 20 000 x depth / 2 (depth <= 2 m), worked out by hand in the tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeGeoTiff } from '../../../src/io/geotiff.js';
import type { Grid } from '../../../src/model/grid.js';

export const GRID: Grid = { width: 20, height: 20, transform: [0, 0.1, 0, 2, 0, -0.1], crs: 'EPSG:4326' };

export type Layout = 'per-lead' | 'per-member' | 'all-in-one';

export interface TinyOptions {
  leads?: string[];
  members?: number;
  layout?: Layout;
  date?: string;
  /** Flood depth (m) of a zone ('A' or 'B') for a member at a lead time, on an issue date. */
  depth?: (zone: 'A' | 'B', member: number, lead: string, date: string) => number;
  /** Issue dates to write forecasts for (default: `date` only). */
  dates?: string[];
  /** Lead times not to write (a missing lead time). */
  skipLeads?: string[];
  /** Merged over the flow document. */
  flow?: Record<string, unknown>;
  /** Zones, default A and B; C lies outside the grid. */
  zones?: Array<'A' | 'B' | 'C'>;
}

const SQUARES = { A: [0, 0, 1, 2], B: [1, 0, 2, 2], C: [5, 5, 6, 6] } as const;

/** Zone A: 80% of the members at 2 m (damage 20 000 each), the rest dry; zone B dry. */
export const DEFAULT_DEPTH = (zone: 'A' | 'B', member: number, _lead: string, _date: string, members = 5) => (zone === 'A' && member < Math.round(members * 0.8) ? 2 : 0);

function band(f: (zone: 'A' | 'B') => number): Float32Array {
  const out = new Float32Array(GRID.width * GRID.height);
  for (let r = 0; r < GRID.height; r++) for (let c = 0; c < GRID.width; c++) out[r * GRID.width + c] = f(c < 10 ? 'A' : 'B');
  return out;
}

const tif = (path: string, bands: Float32Array[]) => writeFileSync(path, new Uint8Array(writeGeoTiff({ grid: GRID, bands, nodata: null })));

export function writeTinyFlow(dir: string, o: TinyOptions = {}): { flowPath: string; doc: Record<string, any> } {
  const leads = o.leads ?? ['24-hour', '48-hour', '72-hour'];
  const M = o.members ?? 5;
  const layout = o.layout ?? 'per-lead';
  const date = o.date ?? '2019-03-14';
  const depth = o.depth ?? ((z: 'A' | 'B', m: number, l: string, d: string) => DEFAULT_DEPTH(z, m, l, d, M));
  mkdirSync(dir, { recursive: true });
  tif(join(dir, 'exposure.tif'), [band(() => 100)]);
  const features = (o.zones ?? ['A', 'B']).map((id) => {
    const [x0, y0, x1, y1] = SQUARES[id];
    return { type: 'Feature', properties: { code: id, name: `Zone ${id}` }, geometry: { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] } };
  });
  writeFileSync(join(dir, 'zones.geojson'), JSON.stringify({ type: 'FeatureCollection', features }));
  let source: unknown;
  for (const d of o.dates ?? [date]) {
    const folder = join(dir, 'fc', d);
    mkdirSync(folder, { recursive: true });
    const kept = leads.filter((l) => !o.skipLeads?.includes(l));
    if (layout === 'per-lead') {
      for (const l of kept) tif(join(folder, `${l}.tif`), Array.from({ length: M }, (_, m) => band((z) => depth(z, m, l, d))));
      source = 'fc/{date}/{lead}.tif';
    } else if (layout === 'per-member') {
      for (const l of kept) {
        mkdirSync(join(folder, l), { recursive: true });
        for (let m = 0; m < M; m++) tif(join(folder, l, `m${m + 1}.tif`), [band((z) => depth(z, m, l, d))]);
      }
      source = 'fc/{date}/{lead}/m{member}.tif';
    } else {
      // member-major: band = m * L + l
      tif(join(folder, 'all.tif'), Array.from({ length: M * leads.length }, (_, b) => band((z) => depth(z, Math.floor(b / leads.length), leads[b % leads.length]!, d))));
      source = 'fc/{date}/all.tif';
    }
  }
  const doc: Record<string, any> = {
    name: 'tiny',
    forecast: { source, unit: 'm', leadTimes: leads, members: M },
    exposure: { source: 'exposure.tif', unit: 'USD' },
    zones: { source: 'zones.geojson', idProperty: 'code', nameProperty: 'name' },
    vulnerability: { intensity: [0, 2], mdd: [0, 1], unit: 'm', id: 'linear-2m' },
    trigger: { metric: 'damage', threshold: 10_000, pMin: 0.6, maxLeadTime: '48-hour', alertClasses: [{ level: 'low', threshold: 5000, pMin: 0.2 }, { level: 'high', threshold: 10_000, pMin: 0.6 }] },
    publish: { dir: 'out', ibfSystem: { countryCodeISO3: 'MWI', adminLevel: 2, indicators: [{ name: 'damage_estimation', metric: 'damage', statistic: 'median' }] } },
    ...o.flow,
  };
  const flowPath = join(dir, 'flow.json');
  writeFileSync(flowPath, `${JSON.stringify(doc, null, 2)}\n`);
  return { flowPath, doc };
}
