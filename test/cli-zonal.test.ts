/**
 * `ibf zonal` end to end against the peers' numbers: exactextract (coverage rule, python/tests via
 * ../shared/data/exactextract-analytic) and geoblaze / rasterstats (centre and all-touched, via
 * ../shared/data/geoblaze-mapspam-rice), on the real files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { unionWindow, zonalStatsOfWindows } from '../src/engine/zonal.js';
import { coverageWindow } from '../src/geo/coverage.js';
import { readRaster, readRasterInfo } from '../src/io/geotiff.js';
import { parseZones } from '../src/io/zones.js';
import { loadKernel } from '../src/kernels/load-node.js';
import { runZonal } from '../src/node/run-zonal.js';
import { SHARED, expectedJson, relClose, tempDir } from './helpers.js';

const EE = join(SHARED, 'exactextract-analytic');
const GB = join(SHARED, 'geoblaze-mapspam-rice');
const RICE = join(GB, 'spam2005v2r0_physical-area_rice_total.tif');

async function run(...argv: string[]) {
  const io = { out: '', err: '' };
  const status = await main(argv, { out: (s) => (io.out += s), err: (s) => (io.err += s), isTTY: false });
  return { status, ...io };
}

/** The geoblaze test polygons as one FeatureCollection with ids. */
function indiaZones(): string {
  const features = ['part-of-india', 'part-of-india-2', 'part-of-india-3'].map((name) => {
    const f = JSON.parse(readFileSync(join(GB, `${name}.geojson`), 'utf8'));
    const feature = f.type === 'Feature' ? f : f.features[0];
    return { ...feature, properties: { ...feature.properties, zone: name } };
  });
  const path = join(tempDir(), 'india.geojson');
  writeFileSync(path, JSON.stringify({ type: 'FeatureCollection', features }));
  return path;
}

describe('ibf zonal', () => {
  it('coverage rule: exactextract sums, means and the nodata case', async () => {
    const ee = expectedJson('exactextract-analytic');
    const out = await runZonal(join(EE, 'grid3x3_1to9_int32.tif'), join(EE, 'rects.geojson'), { rule: 'coverage' });
    const sq = out.rows.find((r) => r.id === 'sq_0.5_2.5')!;
    const basic = ee['grid3x3_1to9 x sq_0.5_2.5 (test_basic_stats, lines 61-120)'];
    expect(sq.count).toBeCloseTo(basic.count, 12);
    expect(sq.sum).toBeCloseTo(basic.sum, 12);
    expect(sq.stdev).toBeCloseTo(basic.stdev, 12);
    const nd = ee['grid10x10_1to100_nodata_lowerleft (test_nodata)'];
    const out10 = await runZonal(join(EE, 'grid10x10_1to100_nodata_lowerleft_int32.tif'), join(EE, 'rects.geojson'), { rule: 'coverage' });
    const partly = out10.rows.find((r) => r.id === 'sq_3.5_4.5')!;
    expect(partly.sum).toBeCloseTo(nd['sq_3.5_4.5 (partly nodata)'].sum, 12);
    expect(partly.mean).toBeCloseTo(nd['sq_3.5_4.5 (partly nodata)'].mean, 12);
    const none = out10.rows.find((r) => r.id === 'sq_0_3_on_10x10')!;
    expect(none.sum).toBe(0);
    expect(none.mean).toBeNull();
  });

  it('centre and all-touched rules: geoblaze / rasterstats numbers on MapSPAM', async () => {
    const gb = expectedJson('geoblaze-mapspam-rice').recomputed_here_with_gdal_rasterio;
    const zones = indiaZones();
    for (const rule of ['centre', 'all-touched'] as const) {
      const key = rule === 'centre' ? 'cell_centre' : 'all_touched';
      const out = await runZonal(RICE, zones, { rule, idProperty: 'zone' });
      for (const row of out.rows) {
        const want = gb[`${row.id}.geojson`][key];
        expect(row.count).toBe(want.count);
        expect(relClose(row.sum, want.sum, 1e-9)).toBe(true);
        expect(row.max).toBe(want.max);
      }
    }
  });

  it('gives the rows of the dense-window path bit for bit (row spans read the same cells in the same order)', async () => {
    const zonesPath = indiaZones();
    const zones = parseZones(JSON.parse(readFileSync(zonesPath, 'utf8')), { idProperty: 'zone' });
    const file = new Uint8Array(readFileSync(RICE));
    const grid = (await readRasterInfo(file)).grid;
    const kernel = await loadKernel();
    for (const rule of ['coverage', 'centre', 'all-touched'] as const) {
      const windows = zones.zones.map((z) => coverageWindow(z, zones.crs, grid, rule, kernel));
      const union = unionWindow(windows)!;
      const r = await readRaster(file, { window: union });
      const want = zonalStatsOfWindows(r, zones, windows, { offsetX: union[0], offsetY: union[1], scale: 0.5 });
      const out = await runZonal(RICE, zonesPath, { rule, idProperty: 'zone', scale: 0.5, kernel });
      expect(out.rows, rule).toEqual(want);
    }
  });

  it('reads a raster over http with range requests, only the window the zones need', async () => {
    const file = readFileSync(RICE);
    let served = 0;
    const server = createServer((req, res) => {
      const m = /bytes=(\d+)-(\d+)?/.exec(req.headers.range ?? '');
      if (!m) {
        res.writeHead(200, { 'Content-Length': file.length });
        served += file.length;
        res.end(file);
        return;
      }
      const start = Number(m[1]);
      const end = Math.min(file.length - 1, m[2] === undefined ? file.length - 1 : Number(m[2]));
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${file.length}`, 'Content-Length': end - start + 1, 'Accept-Ranges': 'bytes' });
      served += end - start + 1;
      res.end(file.subarray(start, end + 1));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rice.tif`;
      const out = await runZonal(url, indiaZones(), { rule: 'centre', idProperty: 'zone' });
      const gb = expectedJson('geoblaze-mapspam-rice').recomputed_here_with_gdal_rasterio;
      expect(relClose(out.rows[0]!.sum, gb['part-of-india.geojson'].cell_centre.sum, 1e-9)).toBe(true);
      // the three Indian polygons span ~75 of 2160 rows: a small fraction of the file is fetched
      expect(served / file.length).toBeLessThan(0.1);
    } finally {
      server.close();
    }
  });

  it('prints CSV and JSON with the chosen stats', async () => {
    const csv = await run('zonal', join(EE, 'grid3x3_1to9_int32.tif'), join(EE, 'rects.geojson'), '--stats', 'count,sum', '--csv');
    expect(csv.status).toBe(0);
    expect(csv.out.split('\n')[0]).toBe('id,count,sum');
    expect(csv.out).toContain('sq_0.5_2.5,4,20');
    const json = await run('zonal', join(EE, 'grid3x3_1to9_int32.tif'), join(EE, 'rects.geojson'), '--rule', 'centre', '--json');
    const doc = JSON.parse(json.out);
    expect(doc.rule).toBe('centre');
    expect(doc.zones.find((z: { id: string }) => z.id === 'full_0_3').count).toBe(9);
  });

  it('refuses bad options and names the properties a zones file has', async () => {
    expect((await run('zonal', RICE)).status).toBe(2);
    expect((await run('zonal', RICE, 'z.geojson', '--rule', 'fuzzy')).err).toContain('--rule');
    expect((await run('zonal', RICE, 'z.geojson', '--stats', 'median')).err).toContain('median');
    const r = await run('zonal', join(EE, 'grid3x3_1to9_int32.tif'), join(EE, 'rects.geojson'), '--id-property', 'ADM2_PCODE');
    expect(r.status).toBe(2);
    expect(r.err).toContain('E_ZONES_INVALID');
    expect(r.err).toContain('id');
  });
});
