/**
 * Zonal benchmark (npm run bench): sum and max of the MapSPAM rice raster (4320 x 2160 = 9.3 M cells,
 * ../shared/data/geoblaze-mapspam-rice) over the 177 countries of Natural Earth 110m
 * (../shared/data/natural-earth-world-atlas), with the `coverage` and `centre` rules, next to geoblaze
 * 2.8 doing the same job (`centre`, its only rule) in the same run. Raster decoding is excluded from
 * both timings (each parses once); sums are compared to show both computed the same thing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import geoblaze from 'geoblaze';
import { coverageWindow } from '../src/geo/coverage.js';
import { readRaster } from '../src/io/geotiff.js';
import { parseZones } from '../src/io/zones.js';
import { loadKernel } from '../src/kernels/load-node.js';
import { zonalStatsOfWindows } from '../src/engine/zonal.js';
import type { ZoneRule } from '../src/model/zones.js';
import { packageRoot } from '../src/node/paths.js';

const SHARED = join(packageRoot(), '..', 'shared', 'data');
const RASTER = join(SHARED, 'geoblaze-mapspam-rice', 'spam2005v2r0_physical-area_rice_total.tif');
const COUNTRIES = join(SHARED, 'natural-earth-world-atlas', 'countries-110m.geojson');

async function main(): Promise<void> {
  const bytes = readFileSync(RASTER);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const raster = await readRaster(bytes, { name: 'mapspam' });
  const doc = JSON.parse(readFileSync(COUNTRIES, 'utf8'));
  // Natural Earth 110m has self-intersecting rings (Fiji, Sudan, Russia, Antarctica) and three countries
  // without an ISO id: use names, and accept the rings (winding semantics), as a user of this file would
  const zones = parseZones(doc, { idProperty: 'name', selfIntersections: 'accept' });
  const cells = raster.grid.width * raster.grid.height;
  console.log(`zonal bench: ${raster.grid.width}x${raster.grid.height} cells (MapSPAM rice), ${zones.zones.length} countries`);
  const kernel = await loadKernel();
  const ours: Record<string, { ms: number; sums: number[] }> = {};
  for (const rule of ['coverage', 'centre'] as ZoneRule[]) {
    let best = Infinity;
    let sums: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      const windows = zones.zones.map((z) => coverageWindow(z, zones.crs, raster.grid, rule, kernel));
      const rows = zonalStatsOfWindows(raster, zones, windows, {});
      best = Math.min(best, performance.now() - t0);
      sums = rows.map((r) => r.sum);
    }
    ours[rule] = { ms: best, sums };
    console.log(`  e4drr-ibf ${rule.padEnd(8)} ${best.toFixed(1).padStart(8)} ms  ${((cells / best) * 1e3 / 1e6).toFixed(1)} M grid cells/s`);
  }
  const gr = await geoblaze.parse(buffer);
  const t0 = performance.now();
  const gbSums: number[] = [];
  for (const f of doc.features) {
    const fc = { type: 'FeatureCollection', features: [f] };
    let s = 0;
    try {
      s = (await geoblaze.sum(gr, fc))[0] ?? 0;
      await geoblaze.max(gr, fc);
    } catch {
      s = NaN; // geoblaze throws for a polygon with no cell centre inside
    }
    gbSums.push(s);
  }
  const gbMs = performance.now() - t0;
  console.log(`  geoblaze 2.8 centre  ${gbMs.toFixed(1).padStart(8)} ms`);
  let worst = 0;
  let compared = 0;
  ours.centre!.sums.forEach((s, i) => {
    const g = gbSums[i]!;
    if (!Number.isFinite(g) || (g === 0 && s === 0)) return;
    compared++;
    worst = Math.max(worst, Math.abs(s - g) / Math.max(Math.abs(g), 1e-9));
  });
  console.log(`  centre sums vs geoblaze: ${compared} countries compared, max relative difference ${worst.toExponential(2)}`);
  console.log(`ratios (same run): centre ${(gbMs / ours.centre!.ms).toFixed(1)}x geoblaze, coverage ${(gbMs / ours.coverage!.ms).toFixed(1)}x geoblaze (target >= 20x)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
