/**
 * @module web/demo-gen
 * The demo's rasters made in the browser, from the same seed and generator as `ibf demo` (src/demo/generate.ts),
 * written as the same GeoTIFF bytes: the steps of `generateInto` in src/demo/index.ts (the Node driver),
 * which this mirrors. The sha256 of each file is returned so the page can show it matches the CLI's stamp
 * (a mismatch means this copy drifted from the driver). Runs in a worker (a few seconds of work).
 */
import { exposureRaster, gridOf, hazardRaster, returnPeriodRaster, riverField, riverNetwork, type DemoSpec } from '../../src/demo/generate.js';
import { sha256Hex } from '../../src/engine/manifest.js';
import { writeGeoTiff } from '../../src/io/geotiff.js';
import { parseZones } from '../../src/io/zones.js';
import { meanOfBands, previewOfBand, type Preview } from './lib/preview.js';

export const DEMO_FILES = ['hazard.tif', 'return-periods.tif', 'exposure.tif'] as const;
export type DemoFile = (typeof DEMO_FILES)[number];

export interface GeneratedDemo {
  /** The GeoTIFFs as Blobs: they cross to the page and on to the engine's worker by reference. */
  files: Record<DemoFile, Blob>;
  sha256: Record<DemoFile, string>;
  /** Forecast: mean depth over members per lead time; risk: depth per return period. */
  previews: { forecast: Preview[]; risk: Preview[] };
}

/** Makes the three demo rasters; `generator` is the stamp's generator version (part of the file metadata). */
export async function generateDemo(spec: DemoSpec, generator: number, zonesText: string, progress: (step: string) => void = () => {}): Promise<GeneratedDemo> {
  const zones = parseZones(JSON.parse(zonesText), { idProperty: 'iso3', nameProperty: 'name', name: 'zones.geojson' });
  const metadata = (quantity: string, unit: string) => ({ metadata: { unit, quantity, generator: `e4drr-ibf demo v${generator}`, seed: String(spec.seed) } });
  const files = {} as Record<DemoFile, Blob>;
  const sha256 = {} as Record<DemoFile, string>;
  const keep = async (name: DemoFile, bytes: ArrayBuffer) => {
    sha256[name] = await sha256Hex(bytes);
    files[name] = new Blob([bytes], { type: 'image/tiff' });
  };
  const hazardGrid = gridOf(spec.hazardCell);
  const exposureGrid = gridOf(spec.exposureCell);
  progress('rivers');
  const lines = riverNetwork(spec.seed);
  const field = riverField(hazardGrid, lines);
  progress('forecast');
  const hazard = hazardRaster(spec, lines, field, hazardGrid);
  await keep('hazard.tif', writeGeoTiff(hazard, metadata('flood depth', 'm')));
  const L = spec.leadTimes.length;
  const forecast = spec.leadTimes.map((lt, l) => {
    const members = Array.from({ length: spec.members }, (_, m) => hazard.bands[m * L + l]!); // member-major, as the scenario says
    return previewOfBand(hazardGrid, meanOfBands(members), null, { id: `hazard-${l}`, label: `Flood depth, mean of ${spec.members} members, ${lt}`, unit: 'm', quantity: 'hazard' });
  });
  hazard.bands.length = 0;
  progress('return periods');
  const rp = returnPeriodRaster(spec, lines, exposureGrid);
  await keep('return-periods.tif', writeGeoTiff(rp, { ...metadata('flood depth', 'm'), bandMetadata: spec.returnPeriods.map((T) => ({ return_period_years: String(T) })) }));
  const risk = rp.bands.map((b, i) => previewOfBand(exposureGrid, b, null, { id: `hazard-${i}`, label: `Flood depth, ${spec.returnPeriods[i]}-year return period`, unit: 'm', quantity: 'hazard' }));
  rp.bands.length = 0;
  progress('exposure');
  const exposure = exposureRaster(spec, zones, hazardGrid, field, undefined);
  await keep('exposure.tif', writeGeoTiff(exposure.raster, metadata('residential asset value', 'USD')));
  return { files, sha256, previews: { forecast, risk } };
}
