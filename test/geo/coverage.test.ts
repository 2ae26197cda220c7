/**
 * Zone coverage (src/geo/coverage.ts) against published oracles and exact identities, for every kernel
 * implementation: the TypeScript twin, WASM scalar and WASM SIMD (one suite, STYLE.md 1).
 *
 * Oracles (each value's source is named where it is used):
 * - exactextract's own Python tests (/work/shared/data/exactextract-analytic/expected.json): exact coverage
 *   fractions and the weighted statistics built on them.
 * - geoblaze / rasterstats / rasterio on MapSPAM rice (/work/shared/data/geoblaze-mapspam-rice/expected.json):
 *   cell-centre and all-touched counts and sums.
 * - snail's Oxford polygons (/work/shared/data/snail-aqueduct-oxford): sub-cell polygons; areas from GEOS.
 * - GDAL 3.6.2 gdal_rasterize on hand-made ties and lattice polygons (test/fixtures/zones/, generator there).
 * - Identities (fast-check, seeded): sum of weights = polygon area; whole-cell polygons give exact 0 / 1.
 *
 * Tolerances: coverage fractions are computed in f64 and returned as f32; sums of f64 weights match areas to
 * 1e-9 relative, f32 weights to 1e-6. Sums of cell values match the oracles' rounded decimals to 1e-6.
 * The three implementations agree bit for bit (same f64 operations in the same order).
 *
 * Row spans (`coverageSpans`, the zonal fast path) are checked against the dense windows: the same cells
 * with the same f32 weights, bit for bit, for every implementation and rule, on every fixture here and on
 * random scenes; and the twin's spans against both WASM builds, bit for bit (tolerance: none).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { coverageSpans, coverageWindow, zoneRings, type CoverageSpans } from '../../src/geo/coverage.js';
import { pointTransform } from '../../src/geo/crs.js';
import { readRaster, readRasterInfo } from '../../src/io/geotiff.js';
import { parseZones } from '../../src/io/zones.js';
import {
  MODE_SPANS, RULE_CODES, SLIVER, SPAN_BYTES, bitWords, coverageCore, coverageLayout, rasterizeCoverage, rasterizeSpans, spanCapacity,
  type CoverageInput,
} from '../../src/kernels/coverage.js';
import { rasterizeCoverageWasm, rasterizeSpansWasm, type CoverageExports } from '../../src/kernels/coverage-wasm.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import type { WasmKernel } from '../../src/kernels/wasm.js';
import type { Grid } from '../../src/model/grid.js';
import type { Raster } from '../../src/model/raster.js';
import type { CoverageWindow, Zone, ZoneRule } from '../../src/model/zones.js';

const DATA = '/work/shared/data';
const EE = `${DATA}/exactextract-analytic`;
const SPAM = `${DATA}/geoblaze-mapspam-rice`;
const SNAIL = `${DATA}/snail-aqueduct-oxford`;
const FIX = join(import.meta.dirname, '..', 'fixtures', 'zones');
const json = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));
const bytes = (path: string) => new Uint8Array(readFileSync(path));
const RULES: ZoneRule[] = ['coverage', 'centre', 'all-touched'];

interface Impl {
  name: string;
  make: () => Promise<WasmKernel | null>;
}
const IMPLS: Impl[] = [
  { name: 'TypeScript twin', make: async () => null },
  { name: 'WASM scalar', make: async () => (await loadKernel('wasm-scalar')) as WasmKernel },
  { name: 'WASM SIMD', make: async () => (await loadKernel('wasm-simd')) as WasmKernel },
];

/** Weight of grid cell (col, row) in a window (0 outside it). */
function weightAt(w: CoverageWindow | null, col: number, row: number): number {
  if (!w || col < w.x0 || row < w.y0 || col >= w.x0 + w.width || row >= w.y0 + w.height) return 0;
  return w.weights[(row - w.y0) * w.width + (col - w.x0)]!;
}

/** Cells with a non-zero weight, as grid indices row * width + col. */
function cellsOf(w: CoverageWindow | null, gridWidth: number): number[] {
  const out: number[] = [];
  if (!w) return out;
  for (let r = 0; r < w.height; r++) {
    for (let c = 0; c < w.width; c++) if (w.weights[r * w.width + c]! !== 0) out.push((w.y0 + r) * gridWidth + w.x0 + c);
  }
  return out;
}

/**
 * Zonal statistics from weights (the test's helper, exactextract's definitions): over valid cells
 * (not nodata) with weight > 0, sum = sum of w * v, count = sum of w, mean = sum / count; `cells` counts
 * every cell with weight > 0, valid or not. `at(col, row)` gives the raster value; `extra` an optional
 * second weight (exactextract's weighted statistics).
 */
function zonal(w: CoverageWindow | null, at: (c: number, r: number) => number, nodata: number | null, extra?: (c: number, r: number) => number) {
  let sum = 0;
  let count = 0;
  let cells = 0;
  let valid = 0;
  let min = Infinity;
  let max = -Infinity;
  if (w) {
    for (let r = w.y0; r < w.y0 + w.height; r++) {
      for (let c = w.x0; c < w.x0 + w.width; c++) {
        const wt = weightAt(w, c, r) * (extra ? extra(c, r) : 1);
        if (!(wt > 0)) continue;
        cells++;
        const v = at(c, r);
        if (v !== v || v === nodata) continue;
        valid++;
        sum += wt * v;
        count += wt;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
  }
  return { sum, count, mean: sum / count, cells, valid, min, max };
}

const band = (r: Raster) => (c: number, row: number) => r.bands[0]![row * r.grid.width + c]!;

const rects = parseZones(json(`${EE}/rects.geojson`), { idProperty: 'id' });
const rect = (id: string): Zone => rects.zones.find((z) => z.id === id)!;

/** A FeatureCollection of one geoblaze polygon file (part-of-india.geojson is a bare Feature), id = file name. */
function geoblazeZone(file: string): Zone {
  let doc = json(`${SPAM}/${file}`);
  if (doc.type === 'Feature') doc = { type: 'FeatureCollection', features: [doc] };
  doc.features.forEach((f: any) => (f.properties = { file }));
  return parseZones(doc, { idProperty: 'file' }).zones[0]!;
}

// The MapSPAM raster is 35 MB of LZW: read once, a window around the three polygons (geoblaze bboxes:
// lon 81.5..87.1, lat 19.4..24.6 -> columns 3100..3240, rows 760..880 of the 4320 x 2160 grid).
const SPAM_WIN = [3100, 760, 3240, 880] as const;
let spamGrid: Grid;
let spamWin: Raster;
const kernels = new Map<string, WasmKernel | null>();

beforeAll(async () => {
  const file = bytes(`${SPAM}/spam2005v2r0_physical-area_rice_total.tif`);
  spamGrid = (await readRasterInfo(file)).grid;
  spamWin = await readRaster(file, { window: SPAM_WIN });
  for (const impl of IMPLS) kernels.set(impl.name, await impl.make());
});

for (const impl of IMPLS) {
  describe(`coverageWindow: ${impl.name}`, () => {
    const k = () => kernels.get(impl.name)!;
    const cover = (zone: Zone, crs: string, grid: Grid, rule: ZoneRule) => coverageWindow(zone, crs, grid, rule, k());

    describe('exactextract (python/tests/test_exact_extract.py, expected.json)', () => {
      let g3: Raster;
      beforeAll(async () => {
        g3 = await readRaster(bytes(`${EE}/grid3x3_1to9_int32.tif`));
      });

      it('coverage fractions of sq_0.5_2.5 on the 3x3 grid (test_basic_stats)', () => {
        const w = cover(rect('sq_0.5_2.5'), rects.crs, g3.grid, 'coverage')!;
        expect([w.x0, w.y0, w.width, w.height]).toEqual([0, 0, 3, 3]);
        // expected.json "coverage": [0.25, 0.5, 0.25, 0.5, 1.0, 0.5, 0.25, 0.5, 0.25] (row 0 = top, center_y 2.5)
        expect(Array.from(w.weights)).toEqual([0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25]);
        // count 4, sum 20, mean 5 (test_basic_stats)
        const s = zonal(w, band(g3), g3.nodata);
        expect([s.count, s.sum, s.mean]).toEqual([4, 20, 5]);
      });

      it('min_coverage_frac=0.49 keeps cells 1, 3, 4, 5, 7 with count 3.0 (test_min_coverage)', () => {
        const w = cover(rect('sq_0.5_2.5'), rects.crs, g3.grid, 'coverage')!;
        const kept = cellsOf(w, 3).filter((i) => w.weights[i]! >= 0.49);
        expect(kept).toEqual([1, 3, 4, 5, 7]);
        expect(kept.reduce((a, i) => a + w.weights[i]!, 0)).toBe(3);
      });

      it('coverage_weight=none is all-touched: rect_0.5_1.0_2.5_2.5 count 6, mean 3.5; sq_0.5_2.5 sum 45 (test_coverage_ignore_fraction)', () => {
        // the rectangle's lower edge lies on the cell line y = 1: the row below is touched along a line only
        const w = cover(rect('rect_0.5_1.0_2.5_2.5'), rects.crs, g3.grid, 'all-touched')!;
        const s = zonal(w, band(g3), g3.nodata);
        expect([s.count, s.mean]).toEqual([6, 3.5]);
        // "min_coverage_frac=0, coverage_weight=none": cell_id 0..8, sum 45
        const all = cover(rect('sq_0.5_2.5'), rects.crs, g3.grid, 'all-touched')!;
        expect(cellsOf(all, 3)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
        expect(zonal(all, band(g3), g3.nodata).sum).toBe(45);
      });

      it('weighted sum 8 and mean 8 with the bottom-row weights (test_weighted_stats_unequal_weights)', async () => {
        const wr = await readRaster(bytes(`${EE}/weights3x3_bottom_row_ones_int32.tif`));
        const w = cover(rect('sq_0.5_2.5'), rects.crs, g3.grid, 'coverage')!;
        const s = zonal(w, band(g3), g3.nodata, band(wr));
        expect(s.sum).toBe(8); // weighted_sum
        expect(s.mean).toBe(8); // weighted_mean
      });

      it('frac and weighted_frac of the row values (test_frac, test_weighted_frac)', async () => {
        const rows = await readRaster(bytes(`${EE}/grid3x3_rows_1_2_3_int32.tif`));
        const wts = await readRaster(bytes(`${EE}/weights3x3_rows_3_2_1_int32.tif`));
        const frac = (zone: string, weighted: boolean) => {
          const w = cover(rect(zone), rects.crs, rows.grid, 'coverage')!;
          const by = new Map<number, number>();
          let total = 0;
          for (let r = 0; r < 3; r++) {
            for (let c = 0; c < 3; c++) {
              const x = weightAt(w, c, r) * (weighted ? band(wts)(c, r) : 1);
              if (x > 0) by.set(band(rows)(c, r), (by.get(band(rows)(c, r)) ?? 0) + x);
              total += x;
            }
          }
          return Object.fromEntries([...by].sort((a, b) => a[0] - b[0]).map(([v, x]) => [v, x / total]));
        };
        expect(frac('sq_0.5_1.0', false)).toEqual({ 3: 1 });
        expect(frac('sq_0.5_2.5', false)).toEqual({ 1: 0.25, 2: 0.5, 3: 0.25 });
        expect(frac('sq_0.5_1.0', true)).toEqual({ 3: 1 });
        expect(frac('sq_0.5_2.5', true)).toEqual({ 1: 0.375, 2: 0.5, 3: 0.125 });
        // "sum": 0.75 and 8 (sum of coverage x row value)
        expect(zonal(cover(rect('sq_0.5_1.0'), rects.crs, rows.grid, 'coverage'), band(rows), null).sum).toBe(0.75);
        expect(zonal(cover(rect('sq_0.5_2.5'), rects.crs, rows.grid, 'coverage'), band(rows), null).sum).toBe(8);
      });

      it('nodata in the lower left of the 10x10 grid: sum 43.5, mean 58; an all-nodata zone sums to 0 (test_nodata)', async () => {
        const g10 = await readRaster(bytes(`${EE}/grid10x10_1to100_nodata_lowerleft_int32.tif`));
        const part = zonal(cover(rect('sq_3.5_4.5'), rects.crs, g10.grid, 'coverage'), band(g10), g10.nodata);
        expect(part.sum).toBe(43.5);
        expect(part.mean).toBe(58);
        const none = zonal(cover(rect('sq_0_3_on_10x10'), rects.crs, g10.grid, 'coverage'), band(g10), g10.nodata);
        expect(none.sum).toBe(0);
        expect(none.mean).toBeNaN();
        expect(none.cells).toBe(9);
      });

      it('full_0_3 on the grid with nodata cells: count 6, sum 27, mean 4.5 (test_default_value)', async () => {
        const g = await readRaster(bytes(`${EE}/grid3x3_default_value_case_int32.tif`));
        const s = zonal(cover(rect('full_0_3'), rects.crs, g.grid, 'coverage'), band(g), g.nodata);
        expect([s.count, s.sum, s.mean]).toEqual([6, 27, 4.5]);
      });
    });

    describe('geoblaze MapSPAM rice (expected.json, recomputed_here_with_gdal_rasterio)', () => {
      const spam = expectedJsonOnce();
      const value = (c: number, r: number) => spamWin.bands[0]![(r - SPAM_WIN[1]) * spamWin.grid.width + (c - SPAM_WIN[0])]!;
      for (const file of ['part-of-india.geojson', 'part-of-india-2.geojson', 'part-of-india-3.geojson']) {
        for (const [rule, key] of [['centre', 'cell_centre'], ['all-touched', 'all_touched']] as const) {
          it(`${file} ${rule}: count, sum, min, max and cells as rasterio`, () => {
            const w = cover(geoblazeZone(file), 'EPSG:4326', spamGrid, rule)!;
            expect(w.x0).toBeGreaterThanOrEqual(SPAM_WIN[0]);
            expect(w.y0 + w.height).toBeLessThanOrEqual(SPAM_WIN[3]);
            const s = zonal(w, value, spamWin.nodata);
            const e = spam.recomputed_here_with_gdal_rasterio[file][key];
            expect(s.valid).toBe(e.count);
            expect(s.cells).toBe(e.cells_in_polygon);
            expect(s.sum).toBeCloseTo(e.sum, 6);
            expect(s.mean).toBeCloseTo(e.mean, 6);
            expect([s.min, s.max]).toEqual([e.min, e.max]);
          });
        }
      }

      it('geoblaze published sums (centre): 3099403.8, 291490.5, 129465.7 and 420956.2 for -2 + -3', () => {
        const sum = (file: string) => zonal(cover(geoblazeZone(file), 'EPSG:4326', spamGrid, 'centre'), value, spamWin.nodata).sum;
        const pub = spam.published_geoblaze_tests;
        expect(sum('part-of-india.geojson')).toBeCloseTo(pub['part-of-india.geojson'].sum, 6);
        expect(sum('part-of-india.geojson') / 1672).toBeCloseTo(pub['part-of-india.geojson'].mean, 6);
        expect(sum('part-of-india-2.geojson')).toBeCloseTo(pub['part-of-india-2.geojson'].sum, 6);
        expect(sum('part-of-india-3.geojson')).toBeCloseTo(pub['part-of-india-3.geojson'].sum, 6);
        expect(sum('part-of-india-2.geojson') + sum('part-of-india-3.geojson')).toBeCloseTo(pub['FeatureCollection(part-of-india-2 + part-of-india-3)'].sum, 6);
      });

      it('coverage lies between centre and all-touched, and its weights sum to the polygon area in cells', () => {
        const zone = geoblazeZone('part-of-india.geojson');
        const w = cover(zone, 'EPSG:4326', spamGrid, 'coverage')!;
        const touched = cellsOf(cover(zone, 'EPSG:4326', spamGrid, 'all-touched'), spamGrid.width);
        expect(cellsOf(w, spamGrid.width)).toEqual(touched);
        const rings = zoneRings(zone, 'EPSG:4326', spamGrid)!;
        const area = Math.abs(shoelace(rings.xy, 0, rings.ringStarts[1]!));
        let sum = 0;
        for (const x of w.weights) sum += x;
        expect(Math.abs(sum - area) / area).toBeLessThan(1e-6); // f32 weights
      });
    });

    describe('snail Oxford polygons (smaller than a cell)', () => {
      let raster: Raster;
      beforeAll(async () => {
        raster = await readRaster(bytes(`${SNAIL}/inunriver_historical_WATCH_1980_rp01000.tif`));
      });
      // GEOS areas (deg^2): ogrinfo -dialect sqlite -sql "select name, ST_Area(geometry) from polygons"
      // polygons.geojson (GDAL 3.6.2); the Bodleian's hole is subtracted
      const GEOS_AREA: Record<string, number> = { 'Radcliffe Camera': 1.30154954194619e-7, 'Bodleian Library': 1.88224498995338e-7 };
      const snail = expectedJsonOnce('snail-aqueduct-oxford');
      const zones = parseZones(json(`${SNAIL}/polygons.geojson`), { idProperty: 'name' });

      it('coverage gives each polygon its area share of one cell; centre none; all-touched one cell', () => {
        const t = raster.grid.transform;
        const cellArea = Math.abs(t[1] * t[5]);
        zones.zones.forEach((zone, i) => {
          const w = cover(zone, zones.crs, raster.grid, 'coverage')!;
          expect([w.width, w.height]).toEqual([1, 1]);
          expect(w.weights[0]).toBeGreaterThan(0);
          expect(Math.abs(w.weights[0]! - GEOS_AREA[zone.id]! / cellArea) / w.weights[0]!).toBeLessThan(1e-6);
          const e = snail.polygons_cell_centre_vs_all_touched[`feature_${i}`];
          // cell_centre: count 0 -> no window
          expect(cover(zone, zones.crs, raster.grid, 'centre')).toBeNull();
          expect(e.cell_centre.cells_in_polygon).toBe(0);
          // all_touched: one cell, value 0.0
          const at = cover(zone, zones.crs, raster.grid, 'all-touched')!;
          const s = zonal(at, band(raster), raster.nodata);
          expect([s.cells, s.valid, s.sum]).toEqual([e.all_touched.cells_in_polygon, e.all_touched.count, e.all_touched.sum]);
          expect([at.x0, at.y0]).toEqual([w.x0, w.y0]);
        });
      });

      it('the f64 weight equals the GEOS area share to 1e-9', () => {
        const t = raster.grid.transform;
        for (const zone of zones.zones) {
          const w = kernelRun(k(), coverageInput(zone, zones.crs, raster.grid, 'coverage'), true)!;
          expect(Math.abs(w.weights[0]! * Math.abs(t[1] * t[5]) - GEOS_AREA[zone.id]!) / GEOS_AREA[zone.id]!).toBeLessThan(1e-9);
        }
      });
    });

    describe('GDAL gdal_rasterize, centre rule (test/fixtures/zones/gdal-centre-expected.json)', () => {
      const expected = json(join(FIX, 'gdal-centre-expected.json'));
      for (const set of expected.sets) {
        it(`${set.cases}: the same cells as ${expected.gdal}, ties included`, () => {
          const zones = parseZones(json(join(FIX, set.cases)), { idProperty: 'case' });
          expect(zones.zones.length).toBe(Object.keys(set.cells).length);
          for (const zone of zones.zones) {
            const got = cellsOf(cover(zone, zones.crs, set.grid, 'centre'), set.grid.width);
            expect(got, zone.id).toEqual(set.cells[zone.id]);
          }
        });
      }
    });

    describe('holes, parts, orientation (test/fixtures/zones/holes-and-parts.geojson)', () => {
      const zones = parseZones(json(join(FIX, 'holes-and-parts.geojson')), { idProperty: 'code' });
      const grid: Grid = { width: 10, height: 8, transform: [0, 1, 0, 8, 0, -1], crs: null };
      const at = (w: CoverageWindow | null, x: number, y: number) => weightAt(w, x, 7 - y); // cell with lower-left corner (x, y)

      it('a hole subtracts its exact area: 1.5..2.5 takes a quarter of four cells', () => {
        const w = cover(zones.zones[0]!, zones.crs, grid, 'coverage')!;
        expect([w.x0, w.y0, w.width, w.height]).toEqual([0, 4, 4, 4]);
        for (let x = 0; x < 4; x++) {
          for (let y = 0; y < 4; y++) expect(at(w, x, y), `${x},${y}`).toBe(x >= 1 && x <= 2 && y >= 1 && y <= 2 ? 0.75 : 1);
        }
        // centre: the four centres (1.5..2.5) lie on the hole's corners. GDAL (gdal_rasterize -te 0 0 10 8
        // -ts 10 8, GDAL 3.6.2) burns all but (2, 2): a centre on an edge counts when the zone lies left of
        // it or below it (in the grid's row order: above it on the map)
        const c = cover(zones.zones[0]!, zones.crs, grid, 'centre')!;
        expect([at(c, 1, 1), at(c, 2, 1), at(c, 1, 2), at(c, 2, 2)]).toEqual([1, 1, 1, 0]);
      });

      it('MultiPolygon parts add: ring with a 2x2 hole plus a triangle cut along its diagonal', () => {
        const w = cover(zones.zones[1]!, zones.crs, grid, 'coverage')!;
        expect([w.x0, w.y0, w.width, w.height]).toEqual([0, 4, 8, 4]);
        const total = Array.from(w.weights).reduce((a, b) => a + b, 0);
        expect(total).toBe(16 - 4 + 4.5); // shoelace areas: 4x4 square - 2x2 hole + triangle 3*3/2
        // triangle (5,0) (8,0) (5,3): cells below the diagonal x + y = 8 are full, those it cuts are half
        expect([at(w, 5, 0), at(w, 6, 0), at(w, 7, 0), at(w, 5, 1), at(w, 6, 1), at(w, 5, 2)]).toEqual([1, 1, 0.5, 1, 0.5, 0.5]);
        expect([at(w, 1, 1), at(w, 2, 2), at(w, 0, 0), at(w, 4, 0)]).toEqual([0, 0, 1, 0]);
      });

      it('ring orientation in the file does not matter (shapefile order, reversed rings)', () => {
        const cw = cover(zones.zones[2]!, zones.crs, grid, 'coverage')!; // clockwise 2x2 square at (0, 5)
        expect(Array.from(cw.weights)).toEqual([1, 1, 1, 1]);
        const rev: Zone = { id: 'rev', polygons: zones.zones[0]!.polygons.map((p) => p.map(reverseRing)) };
        for (const rule of RULES) {
          const a = cover(zones.zones[0]!, zones.crs, grid, rule)!;
          const b = cover(rev, zones.crs, grid, rule)!;
          expect(Array.from(b.weights)).toEqual(Array.from(a.weights));
        }
      });

      it('overlapping parts clamp at 1; a zone outside the grid, or whose box misses all cells, is null', () => {
        const sq = (x: number, y: number, s: number) => [Float64Array.from([x, y, x + s, y, x + s, y + s, x, y + s, x, y])];
        const overlap: Zone = { id: 'o', polygons: [sq(0, 0, 2), sq(1, 0, 2)] };
        const w = cover(overlap, 'EPSG:4326', grid, 'coverage')!;
        expect(Array.from(w.weights)).toEqual([1, 1, 1, 1, 1, 1]);
        expect(cover({ id: 'far', polygons: [sq(20, 20, 3)] }, 'EPSG:4326', grid, 'coverage')).toBeNull();
        expect(cover({ id: 'west', polygons: [sq(-5, 0, 5)] }, 'EPSG:4326', grid, 'all-touched')).toBeNull(); // touches x = 0 only
        // an L around the grid's top-right corner (x 0..10, y 0..8): its box overlaps cell (9, 7), its arms
        // (above y = 8, right of x = 10) do not
        const ell: Zone = { id: 'L', polygons: [[Float64Array.from([9, 8.2, 10.5, 8.2, 10.5, 7, 11, 7, 11, 8.5, 9, 8.5])]] };
        expect(zoneRings(ell, 'EPSG:4326', grid)).not.toBeNull();
        for (const rule of RULES) expect(cover(ell, 'EPSG:4326', grid, rule)).toBeNull();
        // tiny polygon inside one cell: coverage yes, centre no
        expect(cover({ id: 't', polygons: [sq(3.2, 3.2, 0.1)] }, 'EPSG:4326', grid, 'centre')).toBeNull();
        expect(cover({ id: 't', polygons: [sq(3.2, 3.2, 0.1)] }, 'EPSG:4326', grid, 'coverage')!.weights[0]).toBeCloseTo(0.01, 7);
      });

      it('all-touched ignores slivers below 1e-9 of a cell, counts larger ones', () => {
        const sq = (x0: number, y0: number, x1: number, y1: number) => [Float64Array.from([x0, y0, x1, y0, x1, y1, x0, y1])];
        const just = cover({ id: 's', polygons: [sq(1, 1, 3 + 1e-12, 3)] }, 'EPSG:4326', grid, 'all-touched')!;
        expect(just.width).toBe(2); // the column right of x = 3 gets 2e-12 of a cell: not touched
        const cov = cover({ id: 's', polygons: [sq(1, 1, 3 + 1e-12, 3)] }, 'EPSG:4326', grid, 'coverage')!;
        expect(Array.from(cov.weights)).toEqual([1, 1, 1, 1]);
        const more = cover({ id: 's', polygons: [sq(1, 1, 3 + 1e-6, 3)] }, 'EPSG:4326', grid, 'all-touched')!;
        expect(more.width).toBe(3);
      });
    });

    describe('CRS: zones are transformed into the grid CRS', () => {
      const merc = parseZones(json(join(FIX, 'mercator-legacy-crs.geojson')), { idProperty: 'ADM_PCODE' });
      const zone = merc.zones[0]!;

      it('same CRS: a 20 km square with a 5 km hole on a 1 km Web Mercator grid covers 375 km^2', () => {
        const grid: Grid = { width: 40, height: 40, transform: [10010000, 1000, 0, 2690000, 0, -1000], crs: 'EPSG:3857' };
        const w = cover(zone, merc.crs, grid, 'coverage')!;
        const sum = Array.from(w.weights).reduce((a, b) => a + b, 0);
        expect(sum * 1e6).toBeCloseTo(20000 * 20000 - 5000 * 5000, 0);
      });

      it('to EPSG:4326 and UTM 46N: weights x cell area = shoelace area of the transformed vertices', () => {
        for (const [crs, cell] of [['EPSG:4326', 1 / 120], ['EPSG:32646', 500]] as const) {
          // a grid around the transformed zone, one cell of margin
          const tf0 = pointTransform(merc.crs, crs);
          const ring0 = zone.polygons[0]![0]!;
          let [minX, maxY] = [Infinity, -Infinity];
          for (let i = 0; i < ring0.length; i += 2) {
            const [x, y] = tf0(ring0[i]!, ring0[i + 1]!);
            minX = Math.min(minX, x);
            maxY = Math.max(maxY, y);
          }
          const transform = [minX - cell, cell, 0, maxY + cell, 0, -cell] as const;
          const grid: Grid = { width: 60, height: 60, transform, crs };
          expect(cover(zone, merc.crs, grid, 'coverage')!.width).toBeLessThan(58);
          const w = kernelRun(k(), coverageInput(zone, merc.crs, grid, 'coverage'), true)!;
          const sum = sumOf(w.weights);
          const tf = pointTransform(merc.crs, crs);
          const [outer, hole] = zone.polygons[0]!.map((ring) => {
            const xy = new Float64Array(ring.length);
            for (let i = 0; i < ring.length; i += 2) [xy[i], xy[i + 1]] = tf(ring[i]!, ring[i + 1]!);
            return Math.abs(shoelace(xy, 0, ring.length / 2));
          });
          const area = outer! - hole!;
          expect(Math.abs(sum * Math.abs(transform[1] * transform[5]) - area) / area, crs).toBeLessThan(1e-9);
        }
      });
    });

    describe('coverageSpans: the cells and f32 weights of coverageWindow, bit for bit', () => {
      const same = (zone: Zone, crs: string, grid: Grid) => {
        for (const rule of RULES) {
          const w = cover(zone, crs, grid, rule);
          const sp = coverageSpans(zone, crs, grid, rule, k());
          expect(spanCells(sp), `${zone.id} ${rule}`).toEqual(windowCells(w));
          if (w) expect([sp!.x0, sp!.y0, sp!.width, sp!.height], `${zone.id} ${rule}`).toEqual([w.x0, w.y0, w.width, w.height]);
          checkSpans(sp);
        }
      };
      it('exactextract rectangles on the 3x3 and 10x10 grids', async () => {
        for (const file of ['grid3x3_1to9_int32.tif', 'grid10x10_1to100_nodata_lowerleft_int32.tif']) {
          const g = (await readRasterInfo(bytes(`${EE}/${file}`))).grid;
          for (const zone of rects.zones) same(zone, rects.crs, g);
        }
      });
      it('the geoblaze polygons on the MapSPAM grid, and the snail polygons smaller than a cell', async () => {
        for (const file of ['part-of-india.geojson', 'part-of-india-2.geojson', 'part-of-india-3.geojson']) same(geoblazeZone(file), 'EPSG:4326', spamGrid);
        const g = (await readRasterInfo(bytes(`${SNAIL}/inunriver_historical_WATCH_1980_rp01000.tif`))).grid;
        const zones = parseZones(json(`${SNAIL}/polygons.geojson`), { idProperty: 'name' });
        for (const zone of zones.zones) same(zone, zones.crs, g);
      });
      it('GDAL tie cases, holes and parts', () => {
        const expected = json(join(FIX, 'gdal-centre-expected.json'));
        for (const set of expected.sets) {
          const zones = parseZones(json(join(FIX, set.cases)), { idProperty: 'case' });
          for (const zone of zones.zones) same(zone, zones.crs, set.grid);
        }
        const hp = parseZones(json(join(FIX, 'holes-and-parts.geojson')), { idProperty: 'code' });
        for (const zone of hp.zones) same(zone, hp.crs, { width: 10, height: 8, transform: [0, 1, 0, 8, 0, -1], crs: null });
      });
      it('a zone outside the grid gives null, as coverageWindow', () => {
        const far: Zone = { id: 'far', polygons: [[Float64Array.from([20, 20, 23, 20, 23, 23, 20, 23])]] };
        const grid: Grid = { width: 10, height: 8, transform: [0, 1, 0, 8, 0, -1], crs: null };
        for (const rule of RULES) expect(coverageSpans(far, 'EPSG:4326', grid, rule, k())).toBeNull();
      });
      it('a comb whose every cell is its own span fits the span capacity', () => {
        // 40 teeth, each cutting its cells at a different fraction: ~2 spans per cell of the strip
        const pts: number[] = [0, 0];
        for (let i = 0; i < 40; i++) pts.push(i + 0.5, 3 + (i % 7) / 10, i + 1, 0.01 * i);
        pts.push(40, -1, 0, -1);
        const zone: Zone = { id: 'comb', polygons: [[Float64Array.from(pts)]] };
        const grid: Grid = { width: 40, height: 5, transform: [0, 1, 0, 4, 0, -1], crs: null };
        same(zone, 'EPSG:4326', grid);
        expect(coverageSpans(zone, 'EPSG:4326', grid, 'coverage', k())!.length).toBeGreaterThan(100);
      });
    });

    describe('errors', () => {
      const zone = rect('sq_0.5_2.5');
      const grid: Grid = { width: 3, height: 3, transform: [0, 1, 0, 3, 0, -1], crs: 'EPSG:4326' };
      const code = (f: () => unknown) => {
        try {
          f();
        } catch (e) {
          expect(e).toBeInstanceOf(IbfError);
          return (e as IbfError).code;
        }
        return 'none';
      };
      it('rotated grid and unknown rule: E_USAGE; unsupported or failing CRS: E_CRS_UNKNOWN', () => {
        expect(code(() => cover(zone, 'EPSG:4326', { ...grid, transform: [0, 1, 0.1, 3, 0, -1] }, 'coverage'))).toBe('E_USAGE');
        expect(code(() => cover(zone, 'EPSG:4326', grid, 'center' as ZoneRule))).toBe('E_USAGE');
        expect(code(() => cover(zone, 'EPSG:4326', { ...grid, crs: 'EPSG:27700' }, 'coverage'))).toBe('E_CRS_UNKNOWN');
        const pole: Zone = { id: 'pole', polygons: [[Float64Array.from([0, 80, 10, 80, 10, 90, 0, 90])]] };
        expect(code(() => cover(pole, 'EPSG:4326', { ...grid, crs: 'EPSG:3857' }, 'coverage'))).toBe('E_CRS_UNKNOWN');
      });
      it('the kernel refuses malformed input with E_KERNEL (status 1 and 2)', () => {
        const good = coverageInput(zone, 'EPSG:4326', grid, 'coverage');
        const nan = { ...good, xy: good.xy.map((v, i) => (i === 3 ? NaN : v)) };
        expect(code(() => kernelRun(k(), nan, false))).toBe('E_KERNEL');
        expect(code(() => kernelRun(k(), { ...good, ringStarts: Int32Array.from([0, 9]) }, false))).toBe('E_KERNEL');
        expect(code(() => kernelRun(k(), { ...good, width: 0 }, false))).toBe('E_KERNEL');
      });
    });
  });
}

describe('coverage identities (fast-check, seeded)', () => {
  const twin = () => null;
  const wasm = () => [kernels.get('WASM scalar')!, kernels.get('WASM SIMD')!];

  it('sum of f64 weights = polygon area (shoelace) for random star polygons with holes, inside or across the grid edge', () => {
    fc.assert(
      fc.property(arbScene(false), (s) => {
        if (!zoneRings(s.zone, 'EPSG:4326', s.grid)) {
          expect(coverageWindow(s.zone, 'EPSG:4326', s.grid, 'coverage')).toBeNull();
          return;
        }
        const input = coverageInput(s.zone, 'EPSG:4326', s.grid, 'coverage');
        const res = kernelRun(twin(), input, true);
        const got = res ? sumOf(res.weights) : 0;
        // area of the rings clipped to the grid (Sutherland-Hodgman on each ring, window pixel units)
        const want = clippedArea(input);
        // 1e-9 relative, plus SLIVER for each cell an edge crosses (a fraction within 1e-9 of 0 or 1 snaps)
        expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-9 * Math.max(want, 1) + SLIVER * cellsCrossed(input));
        const f32 = coverageWindow(s.zone, 'EPSG:4326', s.grid, 'coverage');
        const sum32 = f32 ? Array.from(f32.weights).reduce((a, b) => a + b, 0) : 0;
        expect(Math.abs(sum32 - want)).toBeLessThanOrEqual(1e-6 * Math.max(want, 1));
      }),
      { seed: 20240611, numRuns: 300 },
    );
  });

  it('a polygon made of whole cells gives exactly those cells weight 1 under every rule', () => {
    fc.assert(
      fc.property(arbCellUnion(), (s) => {
        for (const rule of RULES) {
          for (const k of [null, ...wasm()]) {
            const w = coverageWindow(s.zone, 'EPSG:4326', s.grid, rule, k);
            const got = cellsOf(w, s.grid.width);
            expect(got, rule).toEqual(s.cells);
            if (w) for (const i of got) expect(weightAt(w, i % s.grid.width, Math.floor(i / s.grid.width))).toBe(1);
          }
        }
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  it('twin == WASM scalar == WASM SIMD, bit for bit (f32 and f64 weights, every rule, ties and clipping)', () => {
    fc.assert(
      fc.property(arbScene(true), (s) => {
        if (!zoneRings(s.zone, 'EPSG:4326', s.grid)) return; // box outside the grid: no kernel call
        for (const rule of RULES) {
          const input = coverageInput(s.zone, 'EPSG:4326', s.grid, rule);
          for (const f64 of [false, true]) {
            const a = kernelRun(null, input, f64);
            for (const k of wasm()) {
              const b = kernelRun(k, input, f64);
              expect(b === null, `${rule} ${k.name}`).toBe(a === null);
              if (!a || !b) continue;
              expect([b.x0, b.y0, b.width, b.height]).toEqual([a.x0, a.y0, a.width, a.height]);
              expect(Buffer.from(b.weights.buffer, b.weights.byteOffset, b.weights.byteLength).equals(Buffer.from(a.weights.buffer, a.weights.byteOffset, a.weights.byteLength)), `${rule} ${k.name} f64=${f64}`).toBe(true);
            }
          }
        }
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('spans == dense window (cells, f32 weights, box) for the twin, WASM scalar and WASM SIMD, every rule', () => {
    fc.assert(
      fc.property(arbScene(true), (s) => {
        for (const rule of RULES) {
          for (const k of [null, ...wasm()]) {
            const w = coverageWindow(s.zone, 'EPSG:4326', s.grid, rule, k);
            const sp = coverageSpans(s.zone, 'EPSG:4326', s.grid, rule, k);
            expect(spanCells(sp), `${rule} ${k?.name ?? 'ts'}`).toEqual(windowCells(w));
            if (w) expect([sp!.x0, sp!.y0, sp!.width, sp!.height]).toEqual([w.x0, w.y0, w.width, w.height]);
            checkSpans(sp);
          }
        }
      }),
      { seed: 11, numRuns: 200 },
    );
  });

  it('twin spans == WASM scalar spans == WASM SIMD spans, bit for bit, within spanCapacity', () => {
    fc.assert(
      fc.property(arbScene(true), (s) => {
        if (!zoneRings(s.zone, 'EPSG:4326', s.grid)) return;
        for (const rule of RULES) {
          const input = coverageInput(s.zone, 'EPSG:4326', s.grid, rule);
          const a = rasterizeSpans(input);
          if (a) expect(a.length).toBeLessThanOrEqual(spanCapacity(input.xy, input.ringStarts, input.width, input.height));
          for (const k of wasm()) {
            const b = rasterizeSpansWasm(k, input);
            expect(b === null, `${rule} ${k.name}`).toBe(a === null);
            if (!a || !b) continue;
            expect([b.x0, b.y0, b.width, b.height, b.length]).toEqual([a.x0, a.y0, a.width, a.height, a.length]);
            expect(Buffer.from(b.spans.buffer, b.spans.byteOffset, b.spans.byteLength).equals(Buffer.from(a.spans.buffer, a.spans.byteOffset, a.spans.byteLength)), `${rule} ${k.name}`).toBe(true);
          }
        }
      }),
      { seed: 43, numRuns: 200 },
    );
  });

  it('too little room for the spans is status 3 in the twin and both builds, never a write past it', () => {
    const zone = rect('sq_0.5_2.5');
    const grid: Grid = { width: 3, height: 3, transform: [0, 1, 0, 3, 0, -1], crs: 'EPSG:4326' };
    const input = coverageInput(zone, 'EPSG:4326', grid, 'coverage'); // 9 cells of 9 spans (weights 1/4, 1/2, 1/4 / 1/2, 1, 1/2 / ...)
    const { xy, ringStarts, width: W, height: H } = input;
    const nR = ringStarts.length - 1;
    const nV = ringStarts[nR]!;
    const guard = 0x7eadbeef;
    const twin = (cap: number) => {
      const spans = new Int32Array(4 * cap + 4).fill(guard);
      const bounds = new Int32Array(5);
      const st = coverageCore(xy, ringStarts, nR, W, H, RULE_CODES.coverage, new Int32Array(nV), new Int32Array(nV), new Int32Array(H + 1),
        new Float64Array(W + 2), new Int32Array(bitWords(W)), MODE_SPANS, null, spans, new Float32Array(spans.buffer), cap, bounds);
      expect(Array.from(spans.subarray(4 * cap))).toEqual([guard, guard, guard, guard]);
      return [st, bounds[4]];
    };
    expect(twin(9)).toEqual([0, 9]);
    expect(twin(8)[0]).toBe(3);
    for (const k of wasm()) {
      const ex = k.exports as unknown as CoverageExports;
      const run = (cap: number) => {
        const lay = coverageLayout(nV, nR, W, H, SPAN_BYTES * (cap + 1));
        const base = k.reserve(lay.bytes);
        const buf = ex.memory.buffer;
        new Float64Array(buf, base + lay.xy, 2 * nV).set(xy);
        new Int32Array(buf, base + lay.ringStarts, nR + 1).set(ringStarts);
        new Int32Array(buf, base + lay.out, 4 * cap + 4).fill(guard);
        const st = ex.coverage(base + lay.xy, base + lay.ringStarts, nR, W, H, RULE_CODES.coverage, base + lay.order, base + lay.active,
          base + lay.rowStart, base + lay.row, base + lay.bits, base + lay.out, MODE_SPANS, cap, base + lay.bounds);
        expect(Array.from(new Int32Array(ex.memory.buffer, base + lay.out + SPAN_BYTES * cap, 4)), k.name).toEqual([guard, guard, guard, guard]);
        return [st, new Int32Array(ex.memory.buffer, base + lay.bounds, 5)[4]];
      };
      expect(run(9), k.name).toEqual([0, 9]);
      expect(run(8)[0], k.name).toBe(3);
    }
  });

  it('reversing every ring changes no weight by more than 1e-12', () => {
    fc.assert(
      fc.property(arbScene(true), (s) => {
        const rev: Zone = { id: 'rev', polygons: s.zone.polygons.map((p) => p.map(reverseRing)) };
        for (const rule of RULES) {
          const a = coverageWindow(s.zone, 'EPSG:4326', s.grid, rule);
          const b = coverageWindow(rev, 'EPSG:4326', s.grid, rule);
          expect(b === null).toBe(a === null);
          if (!a || !b) continue;
          expect([b.x0, b.y0, b.width, b.height]).toEqual([a.x0, a.y0, a.width, a.height]);
          a.weights.forEach((x, i) => expect(Math.abs(x - b.weights[i]!)).toBeLessThanOrEqual(1e-12));
        }
      }),
      { seed: 5, numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// helpers

function expectedJsonOnce(folder = 'geoblaze-mapspam-rice'): any {
  return json(`${DATA}/${folder}/expected.json`);
}

/** Cells with a non-zero weight of a dense window, as [grid index, weight] in row-major order. */
function windowCells(w: CoverageWindow | null, gridWidth = 1 << 20): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (!w) return out;
  for (let r = 0; r < w.height; r++) {
    for (let c = 0; c < w.width; c++) {
      const x = w.weights[r * w.width + c]!;
      if (x !== 0) out.push([(w.y0 + r) * gridWidth + w.x0 + c, x]);
    }
  }
  return out;
}

/** The same list from row spans. */
function spanCells(s: CoverageSpans | null, gridWidth = 1 << 20): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (!s) return out;
  for (let i = 0; i < s.length; i++) {
    for (let c = s.spans[4 * i + 1]!; c < s.spans[4 * i + 2]!; c++) out.push([s.spans[4 * i]! * gridWidth + c, s.weights[4 * i + 3]!]);
  }
  return out;
}

/** Spans come row by row, left to right, non-empty, disjoint, with weights in (0, 1], inside their box, touching each side of it. */
function checkSpans(s: CoverageSpans | null): void {
  if (!s) return;
  expect(s.length).toBeGreaterThan(0);
  expect(s.spans.length).toBe(4 * s.length);
  let [r0, c0, minX, maxX, minY, maxY] = [-Infinity, -Infinity, Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < s.length; i++) {
    const [r, a, b] = [s.spans[4 * i]!, s.spans[4 * i + 1]!, s.spans[4 * i + 2]!];
    const w = s.weights[4 * i + 3]!;
    expect(b).toBeGreaterThan(a);
    expect(w > 0 && w <= 1).toBe(true);
    if (r === r0) expect(a).toBeGreaterThanOrEqual(c0);
    else expect(r).toBeGreaterThan(r0);
    [r0, c0] = [r, b];
    [minX, maxX, minY, maxY] = [Math.min(minX, a), Math.max(maxX, b), Math.min(minY, r), Math.max(maxY, r + 1)];
  }
  expect([minX, minY, maxX - minX, maxY - minY]).toEqual([s.x0, s.y0, s.width, s.height]);
}

function sumOf(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s;
}

function reverseRing(r: Float64Array): Float64Array {
  const out = new Float64Array(r.length);
  for (let i = 0; i < r.length; i += 2) {
    out[r.length - 2 - i] = r[i]!;
    out[r.length - 1 - i] = r[i + 1]!;
  }
  return out;
}

/** Signed shoelace area of vertices [s, e) of interleaved xy (closing edge implied). */
function shoelace(xy: Float64Array, s: number, e: number): number {
  let a = 0;
  for (let i = s; i < e; i++) {
    const j = i + 1 === e ? s : i + 1;
    a += xy[2 * i]! * xy[2 * j + 1]! - xy[2 * j]! * xy[2 * i + 1]!;
  }
  return a / 2;
}

function coverageInput(zone: Zone, crs: string, grid: Grid, rule: ZoneRule): CoverageInput {
  const r = zoneRings(zone, crs, grid)!;
  return { xy: r.xy, ringStarts: r.ringStarts, width: r.width, height: r.height, rule };
}

function kernelRun(k: WasmKernel | null, input: CoverageInput, f64: boolean) {
  if (f64) return k ? rasterizeCoverageWasm(k, input, { f64: true }) : rasterizeCoverage(input, { f64: true });
  return k ? rasterizeCoverageWasm(k, input) : rasterizeCoverage(input);
}

/** Upper bound of the cells the kernel's edges cross (1 + columns + rows spanned per edge). */
function cellsCrossed(input: CoverageInput): number {
  let n = 0;
  for (let k = 0; k + 1 < input.ringStarts.length; k++) {
    for (let i = input.ringStarts[k]!; i + 1 < input.ringStarts[k + 1]!; i++) {
      n += 2 + Math.ceil(Math.abs(input.xy[2 * i + 2]! - input.xy[2 * i]!)) + Math.ceil(Math.abs(input.xy[2 * i + 3]! - input.xy[2 * i + 1]!));
    }
  }
  return n;
}

/** Area inside [0, width] x [0, height] of the kernel's rings (outer positive), by Sutherland-Hodgman. */
function clippedArea(input: CoverageInput): number {
  let total = 0;
  const n = input.ringStarts.length - 1;
  for (let k = 0; k < n; k++) {
    let pts: Array<[number, number]> = [];
    for (let i = input.ringStarts[k]!; i < input.ringStarts[k + 1]! - 1; i++) pts.push([input.xy[2 * i]!, input.xy[2 * i + 1]!]);
    const edges: Array<[(p: [number, number]) => number, number]> = [
      [(p) => p[0], 0], [(p) => -p[0], -input.width], [(p) => p[1], 0], [(p) => -p[1], -input.height],
    ];
    for (const [f, lim] of edges) {
      const out: Array<[number, number]> = [];
      for (let i = 0; i < pts.length; i++) {
        const a = pts[i]!;
        const b = pts[(i + 1) % pts.length]!;
        const ia = f(a) >= lim;
        const ib = f(b) >= lim;
        if (ia) out.push(a);
        if (ia !== ib) {
          const t = (lim - f(a)) / (f(b) - f(a));
          out.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
        }
      }
      pts = out;
      if (pts.length === 0) break;
    }
    const xy = Float64Array.from(pts.flat());
    total += -shoelace(xy, 0, pts.length); // the kernel's outer rings have shoelace < 0
  }
  return total;
}

interface Scene {
  grid: Grid;
  zone: Zone;
}

/**
 * Random grids (origin, cell size, north-up or south-up) and zones of 1-2 star-shaped parts, each
 * with an optional star hole inside its inner radius; `lattice` snaps some vertices to the half-cell
 * lattice (ties for the centre rule; such polygons may self-intersect, which the kernels must still
 * treat alike).
 */
function arbScene(lattice: boolean): fc.Arbitrary<Scene> {
  const star = fc.record({
    cx: fc.double({ min: -5, max: 45, noNaN: true }),
    cy: fc.double({ min: -5, max: 35, noNaN: true }),
    r: fc.double({ min: 0.05, max: 12, noNaN: true }),
    n: fc.integer({ min: 3, max: 40 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
    hole: fc.boolean(),
    snap: lattice ? fc.boolean() : fc.constant(false),
  });
  return fc
    .record({
      w: fc.integer({ min: 1, max: 40 }),
      h: fc.integer({ min: 1, max: 30 }),
      ox: fc.double({ min: -100, max: 100, noNaN: true }),
      oy: fc.double({ min: -100, max: 100, noNaN: true }),
      dx: fc.constantFrom(1, 0.5, 0.1, 1 / 12, 30),
      southUp: fc.boolean(),
      parts: fc.array(star, { minLength: 1, maxLength: 2 }),
    })
    .map(({ w, h, ox, oy, dx, southUp, parts }) => {
      const dy = southUp ? dx : -dx;
      const grid: Grid = { width: w, height: h, transform: [ox, dx, 0, oy, 0, dy], crs: null };
      const toCrs = (px: number, py: number) => [ox + px * dx, oy + py * dy];
      // parts stay apart (their discs do not meet), as the parts of a valid MultiPolygon
      if (parts.length === 2 && Math.hypot(parts[0]!.cx - parts[1]!.cx, parts[0]!.cy - parts[1]!.cy) <= parts[0]!.r + parts[1]!.r) parts.pop();
      const polygons = parts.map((p) => {
        let s = p.seed;
        const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
        // angles (i + jitter) / n of a turn, jitter < 0.4: gaps stay below half a turn, so the outer ring is
        // star-shaped around the centre and keeps a disc of radius rmin * cos(gap / 2) free for the hole
        const ring = (rmin: number, rmax: number, snap: boolean) => {
          const angs = Array.from({ length: p.n }, (_, i) => ((i + 0.4 * rnd()) / p.n) * 2 * Math.PI);
          const out: number[] = [];
          for (const a of angs) {
            const rad = rmin + (rmax - rmin) * rnd();
            let px = p.cx + rad * Math.cos(a);
            let py = p.cy + rad * Math.sin(a);
            if (snap && rnd() < 0.7) {
              px = Math.round(px * 2) / 2;
              py = Math.round(py * 2) / 2;
            }
            out.push(...toCrs(px, py));
          }
          return Float64Array.from(out);
        };
        const rings = [ring(p.r * 0.5, p.r, p.snap)];
        const free = p.r * 0.5 * Math.cos(((1.4 / p.n) * 2 * Math.PI) / 2);
        if (p.hole && free > 0) rings.push(ring(free * 0.2, free * 0.9, p.snap));
        return rings;
      });
      return { grid, zone: { id: 'z', polygons } };
    });
}

/** Orthogonal polygons made of whole cells (a column histogram with overlapping neighbours), possibly across the grid edge. */
function arbCellUnion(): fc.Arbitrary<Scene & { cells: number[] }> {
  return fc
    .record({
      w: fc.integer({ min: 1, max: 25 }),
      h: fc.integer({ min: 1, max: 25 }),
      ox: fc.integer({ min: -50, max: 50 }),
      oy: fc.integer({ min: -50, max: 50 }),
      dx: fc.constantFrom(1, 0.5, 0.25, 2),
      southUp: fc.boolean(),
      c0: fc.integer({ min: -4, max: 20 }),
      cols: fc.array(fc.tuple(fc.integer({ min: -4, max: 22 }), fc.integer({ min: 1, max: 8 })), { minLength: 1, maxLength: 15 }),
    })
    .map(({ w, h, ox, oy, dx, southUp, c0, cols }) => {
      const lo: number[] = [];
      const hi: number[] = [];
      cols.forEach(([l, len], i) => {
        let a = l;
        let b = l + len;
        if (i > 0) {
          if (a >= hi[i - 1]!) a = hi[i - 1]! - 1;
          if (b <= lo[i - 1]!) b = lo[i - 1]! + 1;
        }
        lo.push(a);
        hi.push(b);
      });
      const n = cols.length;
      const px: Array<[number, number]> = [];
      for (let i = 0; i < n; i++) px.push([c0 + i, lo[i]!], [c0 + i + 1, lo[i]!]);
      for (let i = n - 1; i >= 0; i--) px.push([c0 + i + 1, hi[i]!], [c0 + i, hi[i]!]);
      const dy = southUp ? dx : -dx;
      const ring = Float64Array.from(px.flatMap(([x, y]) => [ox + x * dx, oy + y * dy]));
      const cells: number[] = [];
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) {
          const i = c - c0;
          if (i >= 0 && i < n && r >= lo[i]! && r < hi[i]!) cells.push(r * w + c);
        }
      }
      return { grid: { width: w, height: h, transform: [ox, dx, 0, oy, 0, dy], crs: null }, zone: { id: 'u', polygons: [[ring]] }, cells };
    });
}
