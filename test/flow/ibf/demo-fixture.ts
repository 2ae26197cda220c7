/**
 * The bundled demo (src/demo: river floods in south-eastern Africa, 51 members, seed 20190314) extended to
 * five lead times, as an IBF flow fixture in a folder: the demo's own generator (src/demo/generate.ts) with
 * its geography, seed and member spread, only `leadTimes` longer (24 .. 120 hours; lead times past the
 * storyline's third keep its last severity while the flood wave moves on) and, to keep the tests quick,
 * a coarser exposure grid by default (0.02 degrees instead of the demo's 0.01). The demo's own scenario and
 * cache are not touched.
 *
 *     <dir>/flow.json                          the IBF flow (publish.dir "out")
 *     <dir>/zones.geojson                      examples/ibf-demo/zones.geojson
 *     <dir>/exposure.tif                       residential value (USD), as the demo makes it
 *     <dir>/forecast/<date>/flood_<lead>.tif   51 bands (members) per lead time, per issue date
 *     <dir>/impacts.csv                        historical impacts for the hindcast dates (made up)
 *
 * Hindcast issue dates get the same rivers and exposure, with the member factors and terrain of another
 * seed (`seed + k`), so their triggers differ from the forecast's.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_SPEC, demoDir, demoSpec } from '../../../src/demo/index.js';
import { parseScenario } from '../../../src/model/scenario.js';
import { exposureRaster, gridOf, hazardRaster, riverField, riverNetwork, type DemoSpec } from '../../../src/demo/generate.js';
import { writeGeoTiff } from '../../../src/io/geotiff.js';
import { parseZones } from '../../../src/io/zones.js';
import { readFileSync } from 'node:fs';

export const LEAD_TIMES = ['24-hour', '48-hour', '72-hour', '96-hour', '120-hour'] as const;

export interface FixtureOptions {
  /** Exposure cell size, degrees (default 0.01, the demo's). */
  exposureCell?: number;
  /** Forecast issue date (default 2019-03-14). */
  date?: string;
  /** Hindcast issue dates (default none). */
  hindcast?: string[];
  /** Members (default 51, as the demo). */
  members?: number;
  /** Extra keys merged into flow.json (top level). */
  flow?: Record<string, unknown>;
}

export interface Fixture {
  dir: string;
  flowPath: string;
  date: string;
  doc: Record<string, unknown>;
}

/** The demo trigger: damage >= USD 250 M in >= 60% of the members, up to 72 hours, with low / medium / high classes. */
export const DEMO_TRIGGER = {
  metric: 'damage',
  threshold: 250_000_000,
  pMin: 0.6,
  maxLeadTime: '72-hour',
  alertClasses: [
    { level: 'low', threshold: 50_000_000, pMin: 0.3 },
    { level: 'medium', threshold: 250_000_000, pMin: 0.6 },
    { level: 'high', threshold: 1_000_000_000, pMin: 0.8 },
  ],
};

export function writeDemoFlowFixture(dir: string, opts: FixtureOptions = {}): Fixture {
  const date = opts.date ?? '2019-03-14';
  const spec: DemoSpec = { ...DEMO_SPEC, exposureCell: opts.exposureCell ?? 0.01, members: opts.members ?? 51, leadTimes: [...LEAD_TIMES], returnPeriods: [2] };
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(demoDir(), 'zones.geojson'), join(dir, 'zones.geojson'));
  const zones = parseZones(JSON.parse(readFileSync(join(dir, 'zones.geojson'), 'utf8')), { idProperty: 'iso3', nameProperty: 'name' });
  const hazardGrid = gridOf(spec.hazardCell);
  const lines = riverNetwork(spec.seed);
  const field = riverField(hazardGrid, lines);
  writeFileSync(join(dir, 'exposure.tif'), new Uint8Array(writeGeoTiff(exposureRaster(spec, zones, hazardGrid, field, undefined).raster)));
  const dates = [date, ...(opts.hindcast ?? [])];
  dates.forEach((d, k) => {
    const h = hazardRaster({ ...spec, seed: spec.seed + k }, lines, field, hazardGrid);
    const L = LEAD_TIMES.length;
    LEAD_TIMES.forEach((lead, l) => {
      const bands = Array.from({ length: spec.members }, (_, m) => h.bands[m * L + l]!);
      const folder = join(dir, 'forecast', d);
      mkdirSync(folder, { recursive: true });
      const names = Array.from({ length: spec.members }, (_, m) => `member${String(m).padStart(2, '0')}`);
      writeFileSync(join(folder, `flood_${lead}.tif`), new Uint8Array(writeGeoTiff({ grid: hazardGrid, bands, nodata: null, bandNames: names }, { metadata: { unit: 'm', lead_time: lead, issued: d } })));
    });
  });
  // made-up observations for the hindcast: floods in Mozambique and Malawi, one in Zimbabwe, none elsewhere
  writeFileSync(join(dir, 'impacts.csv'), 'date,zone,impact\n2019-03-01,MOZ,1500\n2019-03-02,MWI,300\n2019-03-05,ZWE,40\n2019-02-10,MOZ,900\n');
  const doc: Record<string, unknown> = {
    name: 'demo-5-leads',
    description: 'The e4drr-ibf demo forecast (synthetic floods, south-eastern Africa) with five lead times',
    forecast: { source: 'forecast/{date}/flood_{lead}.tif', unit: 'm', leadTimes: [...LEAD_TIMES], members: spec.members, resampling: 'nearest' },
    exposure: { source: 'exposure.tif', unit: 'USD' },
    zones: { source: 'zones.geojson', idProperty: 'iso3', nameProperty: 'name', rule: 'coverage' },
    vulnerability: 'jrc-flood-africa-residential',
    affectedThreshold: 0.3,
    quantiles: [0.1, 0.9],
    trigger: DEMO_TRIGGER,
    publish: {
      dir: 'out',
      ibfSystem: { countryCodeISO3: 'MOZ', disasterType: 'floods', adminLevel: 0, indicators: [{ name: 'damage_estimation', metric: 'damage', statistic: 'median' }] },
    },
    ...opts.flow,
  };
  const flowPath = join(dir, 'flow.json');
  writeFileSync(flowPath, `${JSON.stringify(doc, null, 2)}\n`);
  return { dir, flowPath, date, doc };
}

/**
 * The demo's own forecast (scenario.json: 51 members x 3 lead times, member-major, hazard.tif) and exposure
 * (exposure.tif) in `dir`, as `prepareDemo` generates them (same generator, same spec), without the
 * return-period maps.
 */
export function writeDemoRasters(dir: string): void {
  const read = (f: string) => parseScenario(JSON.parse(readFileSync(join(demoDir(), f), 'utf8')));
  const spec = demoSpec(read('scenario.json'), read('risk.json'));
  mkdirSync(dir, { recursive: true });
  const zones = parseZones(JSON.parse(readFileSync(join(demoDir(), 'zones.geojson'), 'utf8')), { idProperty: 'iso3', nameProperty: 'name' });
  const hazardGrid = gridOf(spec.hazardCell);
  const lines = riverNetwork(spec.seed);
  const field = riverField(hazardGrid, lines);
  writeFileSync(join(dir, 'hazard.tif'), new Uint8Array(writeGeoTiff(hazardRaster(spec, lines, field, hazardGrid))));
  writeFileSync(join(dir, 'exposure.tif'), new Uint8Array(writeGeoTiff(exposureRaster(spec, zones, hazardGrid, field, undefined).raster)));
}
