/**
 * `ibf assess` with inputs as they come: admin zones from GeoJSON (zones[] of the result) and a hazard
 * on another grid (resampled onto the exposure grid). Oracles: the Delft-FIAT per-cell damages
 * (damage = exposure x struct_1(depth), ../shared/data/fiat-synthetic-grid/expected.json formulas).
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRaster } from '../../src/io/geotiff.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import type { ImpactKernel } from '../../src/kernels/types.js';
import { DamageFunction } from '../../src/model/damage-function.js';
import { runScenarioFile } from '../../src/node/run-scenario.js';
import { FIAT, relClose, tempDir, writeJson, writeTif } from '../helpers.js';

const struct1 = DamageFunction.fromTable({
  unit: 'm',
  intensity: [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.25, 4.5, 4.75, 5],
  mdd: [0, 0, 0, 0, 0, 0.14, 0.25, 0.35, 0.43, 0.5, 0.57, 0.63, 0.68, 0.73, 0.78, 0.82, 0.86, 0.9, 0.93, 0.96, 0.96],
});
/** Damage of FIAT cell (row, col): exposure 2000 + 100 k times struct_1 at the float32 depth 3.6 - 0.2 k. */
const cellDamage = (r: number, c: number) => (2000 + 100 * (r + c)) * struct1.mdr(Math.fround(3.6 - 0.2 * (r + c)));
const RTOL = 1e-12;

let kernel: ImpactKernel;
beforeAll(async () => {
  kernel = await loadKernel();
});

function fiatDir(): string {
  const dir = tempDir();
  for (const f of ['event_map.tif', 'exposure_max_damage.tif', 'vulnerability_curves.csv']) copyFileSync(join(FIAT, f), join(dir, f));
  return dir;
}

const rect = (x0: number, y0: number, x1: number, y1: number) => [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]];

describe('ibf assess with zones', () => {
  it('fills zones[] per admin zone; totals keep exposure outside every zone', async () => {
    const dir = fiatDir();
    // grid: lon 4.35..4.45, lat 51.95..52.05 (0.01 deg cells). West: columns 0-4 exactly; east: columns 5-9
    // of rows 0-4 only, and half of column 9 sticks out of the grid; "sea" lies outside the grid.
    writeJson(join(dir, 'zones.geojson'), {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { code: 'W', label: 'West' }, geometry: { type: 'Polygon', coordinates: rect(4.35, 51.95, 4.4, 52.05) } },
        { type: 'Feature', properties: { code: 'NE', label: 'North-east' }, geometry: { type: 'Polygon', coordinates: rect(4.4, 52.0, 4.46, 52.05) } },
        { type: 'Feature', properties: { code: 'SEA', label: 'Sea' }, geometry: { type: 'Polygon', coordinates: rect(5, 53, 5.1, 53.1) } },
      ],
    });
    writeJson(join(dir, 's.json'), {
      hazard: { source: 'event_map.tif', unit: 'm' },
      exposure: { source: 'exposure_max_damage.tif', unit: 'EUR' },
      vulnerability: { csv: 'vulnerability_curves.csv', column: 'struct_1' },
      zones: { source: 'zones.geojson', idProperty: 'code', nameProperty: 'label' },
    });
    const { result } = await runScenarioFile(join(dir, 's.json'), { kernel });
    const [west, ne, sea] = result.zones;
    let w = 0;
    for (let r = 0; r < 10; r++) for (let c = 0; c < 5; c++) w += cellDamage(r, c);
    let n = 0;
    for (let r = 0; r < 5; r++) for (let c = 5; c < 10; c++) n += cellDamage(r, c);
    expect(west).toMatchObject({ id: 'W', name: 'West', cells: 50 });
    expect(relClose(west!.damage[0]!, w, RTOL)).toBe(true);
    expect(ne!.cells).toBeCloseTo(25, 9);
    expect(relClose(ne!.damage[0]!, n, 1e-9)).toBe(true);
    expect(sea).toMatchObject({ id: 'SEA', cells: 0, damage: [0] });
    expect(result.warnings).toContain('zone SEA does not overlap the exposure grid');
    expect(relClose(result.totals.damage[0]!, 89641.6, 1e-6)).toBe(true);
    expect(result.grid).toMatchObject({ width: 10, height: 10, crs: 'EPSG:4326', hazardResampling: 'none', zoneRule: 'coverage' });
    expect(result.manifest.inputs.map((i) => i.role)).toContain('zones');
  });

  it('centre and all-touched rules count whole cells', async () => {
    const dir = fiatDir();
    // a zone over the centres of columns 0-1 and half of column 2
    writeJson(join(dir, 'zones.geojson'), { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { id: 'a' }, geometry: { type: 'Polygon', coordinates: rect(4.35, 51.95, 4.375, 52.05) } }] });
    const cells: Record<string, number> = {};
    for (const rule of ['coverage', 'centre', 'all-touched']) {
      writeJson(join(dir, 's.json'), {
        hazard: { source: 'event_map.tif', unit: 'm' },
        exposure: { source: 'exposure_max_damage.tif', unit: 'EUR' },
        vulnerability: { csv: 'vulnerability_curves.csv', column: 'struct_1' },
        zones: { source: 'zones.geojson', idProperty: 'id', rule },
      });
      cells[rule] = (await runScenarioFile(join(dir, 's.json'), { kernel })).result.zones[0]!.cells;
    }
    expect(cells.coverage).toBeCloseTo(25, 9);
    // the east edge at 4.375 passes through the centres of column 2: gdal_rasterize 3.6.2 (centre rule, this
    // polygon on this grid, run once here) burns columns 0-2, 30 cells; all-touched takes the same 30
    expect(cells.centre).toBe(30);
    expect(cells['all-touched']).toBe(30);
  });
});

describe('ibf assess with a hazard on another grid', () => {
  function scenario(dir: string, source: string, resampling: 'nearest' | 'bilinear') {
    writeJson(join(dir, 's.json'), {
      hazard: { source, unit: 'm', resampling },
      exposure: { source: 'exposure_max_damage.tif', unit: 'EUR' },
      vulnerability: { csv: 'vulnerability_curves.csv', column: 'struct_1' },
    });
    return join(dir, 's.json');
  }

  it('nearest: a hazard on a grid twice as fine gives the Delft-FIAT damage', async () => {
    const dir = fiatDir();
    const event = await readRaster(readFileSync(join(FIAT, 'event_map.tif')), { as: 'float32' });
    // the same depths, 2 x 2 sub-cells per cell, and one fine cell of nodata around the edge
    const fine = new Float32Array(22 * 22).fill(NaN);
    for (let r = 0; r < 20; r++) for (let c = 0; c < 20; c++) fine[(r + 1) * 22 + c + 1] = event.bands[0]![Math.floor(r / 2) * 10 + Math.floor(c / 2)]!;
    writeTif(join(dir, 'fine.tif'), { width: 22, height: 22, transform: [4.35 - 0.005, 0.005, 0, 52.05 + 0.005, 0, -0.005], crs: 'EPSG:4326' }, [fine]);
    const { result } = await runScenarioFile(scenario(dir, 'fine.tif', 'nearest'), { kernel });
    expect(relClose(result.totals.damage[0]!, 89641.6, 1e-6)).toBe(true);
    expect(result.grid!.hazardResampling).toBe('nearest');
    expect(result.warnings).toContain('the hazard was resampled (nearest) onto the exposure grid');
  });

  it('bilinear: a linear depth field on a grid shifted by half a cell is interpolated exactly', async () => {
    const dir = fiatDir();
    // hazard cell centres sit on exposure cell corners; depth 3.8 - 0.2 (i + j) is linear, so the mean of
    // the four corners is the FIAT depth 3.6 - 0.2 (row + col) at each exposure cell centre
    const depth = new Float32Array(11 * 11).map((_, k) => 3.8 - 0.2 * (Math.floor(k / 11) + (k % 11)));
    writeTif(join(dir, 'shifted.tif'), { width: 11, height: 11, transform: [4.345, 0.01, 0, 52.055, 0, -0.01], crs: 'EPSG:4326' }, [depth]);
    const { result } = await runScenarioFile(scenario(dir, 'shifted.tif', 'bilinear'), { kernel });
    expect(relClose(result.totals.damage[0]!, 89641.6, 1e-6)).toBe(true);
    expect(result.grid!.hazardResampling).toBe('bilinear');
  });
});

describe('ibf assess with URL sources', () => {
  it('reads a hazard over http (range requests) and records the URL and its sha256', async () => {
    const file = readFileSync(join(FIAT, 'event_map.tif'));
    const auth: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      auth.push(req.headers.authorization);
      const m = /bytes=(\d+)-(\d+)?/.exec(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      const end = m && m[2] !== undefined ? Math.min(file.length - 1, Number(m[2])) : file.length - 1;
      res.writeHead(m ? 206 : 200, { 'Content-Length': end - start + 1, ...(m ? { 'Content-Range': `bytes ${start}-${end}/${file.length}` } : {}) });
      res.end(file.subarray(start, end + 1));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const dir = fiatDir();
      const url = `http://user:secret@127.0.0.1:${(server.address() as AddressInfo).port}/event_map.tif`;
      writeJson(join(dir, 's.json'), {
        hazard: { source: url, unit: 'm' },
        exposure: { source: 'exposure_max_damage.tif', unit: 'EUR' },
        vulnerability: { csv: 'vulnerability_curves.csv', column: 'struct_1' },
      });
      const { result } = await runScenarioFile(join(dir, 's.json'), { kernel });
      expect(relClose(result.totals.damage[0]!, 89641.6, 1e-6)).toBe(true);
      const hazard = result.manifest.inputs.find((i) => i.role === 'hazard')!;
      expect(hazard.path).not.toContain('secret');
      // credentials in the URL travel as HTTP Basic authorization
      expect(auth[0]).toBe(`Basic ${Buffer.from('user:secret').toString('base64')}`);
      expect(hazard.sha256).toBe(createHash('sha256').update(file).digest('hex'));
    } finally {
      server.close();
    }
  });
});

describe('ibf assess across CRSs', () => {
  it('a hazard in EPSG:4326 on a UTM exposure grid gives the damage of GDAL\'s warped hazard', async () => {
    const fixtures = join(import.meta.dirname, '..', 'fixtures', 'assess-utm');
    const dir = tempDir();
    for (const f of ['exposure_utm31n.tif', 'hazard_gdalwarp_bilinear.tif', 'hazard_gdalwarp_near.tif']) copyFileSync(join(fixtures, f), join(dir, f));
    copyFileSync(join(FIAT, 'event_map.tif'), join(dir, 'event_map.tif'));
    copyFileSync(join(FIAT, 'vulnerability_curves.csv'), join(dir, 'vulnerability_curves.csv'));
    const run = async (source: string, resampling: 'nearest' | 'bilinear') => {
      writeJson(join(dir, 's.json'), {
        hazard: { source, unit: 'm', resampling },
        exposure: { source: 'exposure_utm31n.tif', unit: 'EUR' },
        vulnerability: { csv: 'vulnerability_curves.csv', column: 'struct_1' },
      });
      return (await runScenarioFile(join(dir, 's.json'), { kernel })).result;
    };
    for (const [resampling, warped] of [['bilinear', 'hazard_gdalwarp_bilinear.tif'], ['nearest', 'hazard_gdalwarp_near.tif']] as const) {
      const ours = await run('event_map.tif', resampling);
      const gdal = await run(warped, resampling);
      expect(gdal.grid!.hazardResampling).toBe('none');
      expect(ours.grid).toMatchObject({ crs: 'EPSG:32631', hazardResampling: resampling });
      // gdalwarp-exact resampling (test/fixtures/gdalwarp): the same cells, so the same sums
      expect(ours.totals.damage[0]).toBe(gdal.totals.damage[0]);
      expect(ours.totals.hazardCells[0]).toBe(960);
    }
  });
});
