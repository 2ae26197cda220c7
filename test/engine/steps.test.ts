/**
 * The assessment as independent steps (src/engine/steps.ts), as a Cloudflare Workflow runs it: plan,
 * tile batches that share nothing (each with its own ScenarioIO, its partial sent through JSON), then
 * finish. The result must be the bits `assess()` gives for the same scenario.
 *
 * Data: exposure is a 1200 x 720 window (60..160 E, 50 N..10 S) of MapSPAM 2005 rice physical area
 * (../shared/data/geoblaze-mapspam-rice, hectares, nodata -9999), zones the 32 Natural Earth countries
 * (countries-110m.geojson, Russia's rings crossing themselves as they do there) that touch it, curves Delft-FIAT's struct_1 / struct_2 table
 * (fiat-synthetic-grid/vulnerability_curves.csv) and the JRC catalog. The hazards are made up here
 * (smooth depth fields, written as GeoTIFFs); only equality with `assess()` is asserted, so the
 * expected numbers come from the engine's one-pass path, not from an outside tool.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExactSum } from '../../src/engine/exact-sum.js';
import { Reducer, fromJsonNumber, toJsonNumber, type ReducerState } from '../../src/engine/reduce.js';
import type { AssessResult } from '../../src/engine/result.js';
import { assess } from '../../src/engine/scenario.js';
import { finishAssessment, planAssessment, runTileBatch, tileBatches, type BatchPartial } from '../../src/engine/steps.js';
import type { TileResult } from '../../src/engine/tile.js';
import { readRaster } from '../../src/io/geotiff.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import { STAT, STATS_PER_BAND, STATS_PER_ZONE, type ImpactKernel } from '../../src/kernels/types.js';
import type { Scenario } from '../../src/model/scenario.js';
import { loadScenario, nodeScenarioIO } from '../../src/node/run-scenario.js';
import { FIAT, SHARED, ibfError, tempDir, writeJson, writeTif } from '../helpers.js';
import { bitDiff, withoutCreatedAt } from '../bits.js';

const C0 = 2880; // 60 E
const R0 = 480; // 50 N
const W = 1200;
const H = 720;
let kernel: ImpactKernel;
let dir: string;

/** Deterministic shuffle (mulberry32). */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}



/** A smooth made-up depth field (m) on a `w` x `h` grid, one per band. */
const depth = (w: number, h: number, b: number, scale = 1) =>
  new Float32Array(w * h).map((_, i) => {
    const x = i % w;
    const y = Math.floor(i / w);
    return scale * (0.4 + 0.25 * b) * (2.2 + 2 * Math.sin(x / (37 * scale) + b) * Math.cos(y / (23 * scale))) - 0.3;
  });

beforeAll(async () => {
  kernel = await loadKernel();
  dir = tempDir('ibf-steps-');
  const rice = await readRaster(readFileSync(join(SHARED, 'geoblaze-mapspam-rice', 'spam2005v2r0_physical-area_rice_total.tif')));
  const t = rice.grid.transform;
  const src = rice.bands[0]!;
  const crop = new Float64Array(W * H);
  for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) crop[r * W + c] = src[(R0 + r) * rice.grid.width + C0 + c]!;
  const grid = { width: W, height: H, transform: [t[0] + C0 * t[1], t[1], 0, t[3] + R0 * t[5], 0, t[5]] as const, crs: 'EPSG:4326' };
  writeTif(join(dir, 'rice.tif'), grid, [crop], rice.nodata);
  copyFileSync(join(FIAT, 'vulnerability_curves.csv'), join(dir, 'curves.csv'));

  // countries touching the window
  const countries = JSON.parse(readFileSync(join(SHARED, 'natural-earth-world-atlas', 'countries-110m.geojson'), 'utf8'));
  const [x0, y1] = [grid.transform[0], grid.transform[3]];
  const [x1, y0] = [x0 + W * grid.transform[1], y1 + H * grid.transform[5]];
  const features = countries.features.filter((f: { geometry: { type: string; coordinates: number[][][] | number[][][][] } }) => {
    const polys = (f.geometry.type === 'MultiPolygon' ? f.geometry.coordinates : [f.geometry.coordinates]) as number[][][][];
    const pts = polys.flat(2);
    return Math.min(...pts.map((p) => p[0]!)) < x1 && Math.max(...pts.map((p) => p[0]!)) > x0 && Math.min(...pts.map((p) => p[1]!)) < y1 && Math.max(...pts.map((p) => p[1]!)) > y0;
  });
  expect(features.length).toBe(32);
  writeJson(join(dir, 'countries.geojson'), { type: 'FeatureCollection', features });

  // per-cell hazards on the exposure grid: two events, their fraction (0..1, some nodata), a class raster
  writeTif(join(dir, 'events.tif'), grid, [depth(W, H, 0), depth(W, H, 1)], -9999);
  writeTif(join(dir, 'fraction.tif'), grid, [new Float32Array(W * H).map((_, i) => (i % 17 === 0 ? -1 : ((i * 7919) % 101) / 100))], -1);
  writeTif(join(dir, 'classes.tif'), grid, [new Float32Array(W * H).map((_, i) => (i % 11 === 0 ? 255 : 1 + ((i + Math.floor(i / W)) % 3)))], 255);
  // a 4x coarser ensemble (5 members x 2 lead times), shifted by half a coarse cell: nearest, aggregated
  const cw = W / 4 + 2;
  const ch = H / 4 + 2;
  const coarse = { width: cw, height: ch, transform: [x0 - 2 * t[1], 4 * t[1], 0, y1 - 2 * t[5], 0, 4 * t[5]] as const, crs: 'EPSG:4326' };
  writeTif(join(dir, 'ensemble.tif'), coarse, Array.from({ length: 10 }, (_, b) => depth(cw, ch, b % 5 + (b % 2) * 0.5, 0.25)));
  // return-period maps on a grid offset by a third of a cell: bilinear
  const off = { width: W + 1, height: H + 1, transform: [x0 - t[1] / 3, t[1], 0, y1 - t[5] / 3, 0, t[5]] as const, crs: 'EPSG:4326' };
  writeTif(join(dir, 'rp.tif'), off, [0, 1, 2, 3].map((b) => depth(W + 1, H + 1, b)), -9999);

  const common = {
    exposure: { source: 'rice.tif', unit: 'ha' },
    zones: { source: 'countries.geojson', idProperty: 'id', nameProperty: 'name', selfIntersections: 'accept' },
    affectedThreshold: 0.5,
  };
  writeJson(join(dir, 'per-cell.json'), {
    ...common,
    hazard: { source: 'events.tif', unit: 'm', bands: { type: 'events', frequencies: [0.1, 0.02] }, fraction: 'fraction.tif' },
    vulnerability: { csv: 'curves.csv', column: 'struct_1' },
  });
  writeJson(join(dir, 'classed.json'), {
    ...common,
    hazard: { source: 'events.tif', unit: 'm', select: [2] },
    vulnerability: { classes: 'classes.tif', curves: { '1': { csv: 'curves.csv', column: 'struct_1' }, '2': { csv: 'curves.csv', column: 'struct_2' }, default: 'jrc-flood-asia-residential' } },
  });
  writeJson(join(dir, 'ensemble.json'), {
    ...common,
    hazard: { source: 'ensemble.tif', unit: 'm', resampling: 'nearest', bands: { type: 'ensemble', members: 5, leadTimes: ['24-hour', '48-hour'] } },
    vulnerability: 'jrc-flood-asia-agriculture',
    quantiles: [0.5, 0.9],
    trigger: { metric: 'damage', threshold: 2000, pMin: 0.6, maxLeadTime: '2-day', alertClasses: [{ level: 'low', threshold: 500, pMin: 0.2 }, { level: 'high', threshold: 2000, pMin: 0.6 }] },
  });
  writeJson(join(dir, 'return-periods.json'), {
    ...common,
    hazard: { source: 'rp.tif', unit: 'm', bands: { type: 'return-periods', returnPeriods: [2, 10, 50, 100] } },
    vulnerability: { csv: 'curves.csv', column: 'struct_2' },
    exceedanceCurve: { returnPeriods: [5, 25, 250] },
  });
}, 60_000);

const TILE_CELLS = 1; // one unit (1024 x 128 cells) per tile: 2 x 6 = 12 tiles

/** What a Workflow does: every step with its own IO (a fresh isolate), partials through JSON. */
async function stepped(s: Scenario, batches: number, seed: number): Promise<{ result: AssessResult; partials: BatchPartial[] }> {
  const summary = JSON.parse(JSON.stringify(await planAssessment(s, { io: nodeScenarioIO(dir), kernel, tileCells: TILE_CELLS, batches })));
  expect(summary.batches).toEqual(tileBatches(summary.tiles, { batches }));
  const partials: BatchPartial[] = [];
  for (const range of summary.batches) {
    const p = await runTileBatch(s, { io: nodeScenarioIO(dir), kernel, tileCells: TILE_CELLS }, range);
    const text = JSON.stringify(p);
    expect(text.length).toBeLessThan(512 * 1024);
    partials.push(JSON.parse(text));
  }
  const result = await finishAssessment(s, { io: nodeScenarioIO(dir), kernel, tileCells: TILE_CELLS, scenarioSha256: 'ab'.repeat(32) }, shuffled(partials, seed));
  return { result, partials };
}

describe('steps give the bits of assess()', () => {
  for (const name of ['per-cell', 'classed', 'ensemble', 'return-periods']) {
    it(`${name}: 1, 2, 3 and 7 batches, partials through JSON, merged in shuffled order`, async () => {
      const { scenario: s } = await loadScenario(join(dir, `${name}.json`));
      const want = (await assess(s, { io: nodeScenarioIO(dir), kernel, tileCells: TILE_CELLS, scenarioSha256: 'ab'.repeat(32) })).result;
      const summary = await planAssessment(s, { io: nodeScenarioIO(dir), kernel, tileCells: TILE_CELLS });
      expect(summary).toMatchObject({ tiles: 12, cells: W * H, grid: { width: W, height: H }, zones: 32 });
      // the plan's warnings; the result adds the count of cells without a class
      expect(summary.warnings).toEqual(want.warnings.filter((w) => !/cells have no class/.test(w)));
      expect(summary.batches).toBeUndefined();
      // what the Workflow asks: one tile per batch, at most 5 batches (its step limit)
      const capped = await planAssessment(s, { io: nodeScenarioIO(dir), kernel, tileCells: TILE_CELLS, maxTilesPerBatch: 1, maxBatches: 5 });
      expect(capped.batches).toEqual(tileBatches(12, { batches: 5 }));
      for (const [k, n] of [1, 2, 3, 7].entries()) {
        const { result, partials } = await stepped(s, n, 1 + k);
        expect(partials.length).toBe(n);
        expect(bitDiff(result.totals, want.totals)).toEqual([]);
        expect(bitDiff(result.zones, want.zones)).toEqual([]);
        expect(bitDiff(withoutCreatedAt(result), withoutCreatedAt(want))).toEqual([]);
      }
      // the sums are not trivial: damage somewhere, every zone listed
      expect(want.totals.damage.every((d) => d > 0)).toBe(true);
      expect(want.zones.length).toBe(32);
      if (name === 'classed') expect(want.warnings.join()).toMatch(/cells have no class/);
      if (name === 'ensemble') {
        expect(want.grid?.aggregated).toBe(true);
        expect(want.zones.some((z) => z.trigger?.some((t) => t.triggered))).toBe(true);
      }
      if (name === 'return-periods') expect(want.grid?.hazardResampling).toBe('bilinear');
    }, 240_000);
  }
});

describe('batch coverage', () => {
  it('refuses gaps, overlaps, ranges outside the plan and partials of another plan, naming the tiles', async () => {
    const { scenario: s } = await loadScenario(join(dir, 'per-cell.json'));
    const opts = { io: nodeScenarioIO(dir), kernel, tileCells: TILE_CELLS };
    const [a, b, c] = await Promise.all(tileBatches(12, { batches: 3 }).map((r) => runTileBatch(s, opts, r)));
    expect([a!.from, a!.to, b!.from, b!.to, c!.from, c!.to]).toEqual([0, 4, 4, 8, 8, 12]);

    const gap = await ibfError(finishAssessment(s, opts, [a!, c!]));
    expect(gap.code).toBe('E_USAGE');
    expect(gap.message).toMatch(/tile\(s\) 4-7 of 12 are in no batch/);

    const [x] = await Promise.all([runTileBatch(s, opts, { from: 2, to: 5 })]);
    const overlap = await ibfError(finishAssessment(s, opts, [a!, b!, c!, x!]));
    expect(overlap.message).toMatch(/tile\(s\) 2-4 are in more than one batch \(partials\[0\], partials\[3\]; partials\[1\], partials\[3\]\)/);
    const twice = await ibfError(finishAssessment(s, opts, [a!, b!, c!, c!]));
    expect(twice.message).toMatch(/tile\(s\) 8-11 are in more than one batch \(partials\[2\], partials\[3\]\)/);

    expect((await ibfError(runTileBatch(s, opts, { from: 10, to: 13 }))).message).toMatch(/10\.\.13 is not within the plan's 12 tiles/);
    expect((await ibfError(finishAssessment(s, opts, [a!, b!, { ...c!, to: 13 }]))).message).toMatch(/partials\[2\]: tile range 8\.\.13/);

    // a partial of another tiling (or scenario) is refused, not summed
    const other = await runTileBatch(s, { ...opts, tileCells: 2 ** 30 }, { from: 0, to: 1 });
    expect(other.tiles).toBe(1);
    const wrong = await ibfError(finishAssessment(s, opts, [a!, b!, c!, other]));
    expect(wrong.message).toMatch(/partials\[3\]: belongs to another plan \(1 tiles/);
    expect((await ibfError(finishAssessment(s, opts, []))).message).toMatch(/tile\(s\) 0-11 of 12 are in no batch/);
  }, 120_000);

  it('tileBatches: contiguous, balanced, no empty batch', () => {
    expect(tileBatches(12, { batches: 7 }).map((r) => r.to - r.from)).toEqual([1, 2, 2, 1, 2, 2, 2]);
    expect(tileBatches(3, { batches: 7 })).toEqual([{ from: 0, to: 1 }, { from: 1, to: 2 }, { from: 2, to: 3 }]);
    expect(tileBatches(10, { maxTilesPerBatch: 4 })).toEqual([{ from: 0, to: 3 }, { from: 3, to: 6 }, { from: 6, to: 10 }]);
    // a step limit caps the count: the tiles are spread over fewer, larger batches, every tile once
    expect(tileBatches(10, { maxTilesPerBatch: 1, maxBatches: 4 })).toEqual([{ from: 0, to: 2 }, { from: 2, to: 5 }, { from: 5, to: 7 }, { from: 7, to: 10 }]);
    expect(tileBatches(3, { maxTilesPerBatch: 1, maxBatches: 4 })).toHaveLength(3);
    expect(() => tileBatches(5, { maxTilesPerBatch: 1, maxBatches: 0 })).toThrow(/maxBatches 0 is not usable/);
    expect(tileBatches(0, { batches: 2 })).toEqual([]);
    for (const bad of [{ batches: 0 }, { batches: 1.5 }, { maxTilesPerBatch: 0 }]) expect(() => tileBatches(5, bad)).toThrow(/not usable/);
  });
});

describe('reducer state', () => {
  /** A tile result of one record per slot, from the given values (1 band). */
  const tile = (t: number, values: number[][], excludedCells = 0): TileResult => {
    const L = STATS_PER_BAND + STATS_PER_ZONE;
    const records = new Float64Array(values.length * L);
    values.forEach((v, k) => records.set(v, k * L));
    return { tile: t, window: [0, 0, 1, 1], cells: 1, recordLength: L, records, slots: Int32Array.from(values, (_, k) => k), excludedCells, ms: { read: 0, resample: 0, kernel: 0 } };
  };

  it('survives JSON with NaN, ±Infinity and -0, and merges to the bits of one reducer', () => {
    // [exposed, damage, affected, max, cells, intensity, zone exposure, zone cells]
    const tiles = [
      tile(0, [[1e16, 0.1, 1, -0, 3, Infinity, 1, 2], [NaN, 2 ** -1074, 0, 5, 1, 1e300, 0, 0]], 2),
      tile(1, [[1, 0.2, -1, 0, 4, -Infinity, 1e-300, 3], [2, 1e300, 0, NaN, 1, 1e300, 0, 1]], 1),
      tile(2, [[-1e16, 0.3, 0, -0, 5, 1, 3, 1], [3, -1e300, 0, 4, 1, -1e300, 0, 0]]),
    ];
    const one = new Reducer(2, 1);
    tiles.forEach((t) => one.add(t));
    for (const order of [[0, 1, 2], [2, 0, 1], [1, 2, 0]]) {
      const merged = new Reducer(2, 1);
      for (const i of order) {
        const r = new Reducer(2, 1);
        r.add(tiles[i]!);
        merged.merge(JSON.parse(JSON.stringify(r.state())) as ReducerState);
      }
      // (the components may differ: an expansion is not unique; the sum it stands for is)
      for (const slot of [0, 1]) {
        const [p, q] = [merged.partial(slot), one.partial(slot)];
        expect(bitDiff([...p.stats, ...p.zoneStats], [...q.stats, ...q.zoneStats])).toEqual([]);
      }
    }
    const p0 = one.partial(0).stats;
    // 1e16 + 1 - 1e16 exactly; 0.1 + 0.2 + 0.3 rounded once; +Inf + -Inf = NaN; +0 over -0 whatever the order
    expect([p0[0], p0[1], p0[5], Object.is(p0[3], 0)]).toEqual([1, 0.6, NaN, true]);
    expect(one.partial(1).stats[1]).toBe(2 ** -1074);
    expect(one.excludedCells).toBe(3);
  });

  it('a state is as small as the slots it touched; the dense max of earlier states still merges', () => {
    // 2 000 zones x 51 members, one tile touching zone 7 only
    const r = new Reducer(2001, 51);
    const L = 51 * STATS_PER_BAND + STATS_PER_ZONE;
    const records = Float64Array.from({ length: L }, (_, i) => (i < 51 * STATS_PER_BAND && i % STATS_PER_BAND === STAT.max ? 2.5 : 1));
    r.add({ tile: 0, window: [0, 0, 1, 1], cells: 1, recordLength: L, records, slots: Int32Array.of(8), excludedCells: 0, ms: { read: 0, resample: 0, kernel: 0 } });
    const state = r.state();
    expect(state.maxAt).toHaveLength(51);
    expect(JSON.stringify(state).length).toBeLessThan(20_000); // dense maxima alone would be 2001 x 51 values
    const dense = { ...state, maxAt: undefined, max: Array.from({ length: 2001 * 51 }, (_, m) => state.maxAt.find(([i]) => i === m)?.[1] ?? '-Infinity') };
    const [a, b] = [new Reducer(2001, 51), new Reducer(2001, 51)];
    a.merge(JSON.parse(JSON.stringify(state)) as ReducerState);
    b.merge(JSON.parse(JSON.stringify(dense)) as ReducerState);
    for (const slot of [0, 8]) expect(bitDiff([...a.partial(slot).stats], [...b.partial(slot).stats])).toEqual([]);
    expect(a.partial(8).stats[3]).toBe(2.5);
  });

  it('JsonNumber round trip, and bad states refused before anything changes', () => {
    for (const x of [0, -0, 1.5, NaN, Infinity, -Infinity, 2 ** -1074, Number.MAX_VALUE]) {
      expect(Object.is(fromJsonNumber(JSON.parse(JSON.stringify(toJsonNumber(x)))), x)).toBe(true);
    }
    expect(fromJsonNumber(null)).toBeUndefined();
    expect(fromJsonNumber('1')).toBeUndefined();
    const r = new Reducer(1, 1);
    r.add(tile(0, [[1, 2, 3, 4, 5, 6, 7, 8]]));
    const before = JSON.stringify(r.state());
    const good = r.state();
    for (const bad of [
      { ...good, nSlots: 2 },
      { ...good, maxAt: [[1, 2]] },
      { ...good, maxAt: [[0, null]] },
      { ...good, maxAt: undefined },
      { ...good, maxAt: undefined, max: [] },
      { ...good, sums: [[99, [1]]] },
      { ...good, sums: [...good.sums, [0, [null]]] },
      { ...good, sums: [...good.sums, [0, ['Infinity']]] },
      { ...good, excludedCells: -1 },
    ]) {
      expect(() => r.merge(bad as ReducerState)).toThrow(/reducer state/);
    }
    expect(JSON.stringify(r.state())).toBe(before);
    const s = new ExactSum();
    s.add(1e100);
    s.add(1);
    s.add(-Infinity);
    expect(s.state()).toEqual({ parts: [1, 1e100], special: -Infinity });
  });
});
