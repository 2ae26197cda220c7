/**
 * The tiled engine: results are the same bits for any tile size and pool size (units summed exactly),
 * tiles read their own windows from files, progress reports every tile, and a cancelled run publishes
 * nothing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExactSum, exactSum } from '../../src/engine/exact-sum.js';
import { planTiles, unitsOf, UNIT_HEIGHT, UNIT_WIDTH } from '../../src/engine/tiling.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import { runScenarioFile } from '../../src/node/run-scenario.js';
import { readRaster } from '../../src/io/geotiff.js';
import { readFileSync } from 'node:fs';
import { tempDir, writeJson, writeTif } from '../helpers.js';

/** Independent oracle: the exact sum of doubles in [2^-60, 2^60) as a BigInt of 2^-112 units, rounded by Number(). */
function bigSum(xs: number[]): number {
  const SCALE = 112;
  let s = 0n;
  for (const x of xs) {
    const neg = x < 0;
    const a = Math.abs(x);
    let e = Math.floor(Math.log2(a));
    while (a * 2 ** (52 - e) >= 2 ** 53) e++;
    while (a * 2 ** (52 - e) < 2 ** 52) e--;
    // a = m * 2^(e-52) with m a 53-bit integer (exact: scaling by powers of two)
    const m = BigInt(a * 2 ** (52 - e));
    const sh = BigInt(e - 52 + SCALE);
    const v = m << sh;
    s += neg ? -v : v;
  }
  return Number(s) * 2 ** -SCALE;
}

describe('ExactSum', () => {
  it('matches math.fsum on its classic cases', () => {
    expect(exactSum(Array(10).fill(0.1))).toBe(1);
    expect(exactSum([1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50])).toBe(1e-100);
    expect(exactSum([2 ** 53, -0.5, -(2 ** -54)])).toBe(2 ** 53 - 1);
    expect(exactSum([1, 1e-16, 1e-16])).toBe(1.0000000000000002);
    expect(exactSum([])).toBe(0);
    expect(exactSum([Infinity, 1])).toBe(Infinity);
    expect(exactSum([Infinity, -Infinity])).toBeNaN();
  });

  it('equals an exact BigInt sum, rounded once, in any order and any grouping', () => {
    const value = fc.double({ min: 2 ** -60, max: 2 ** 59, noNaN: true }).chain((a) => fc.boolean().map((neg) => (neg ? -a : a)));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 60 }), fc.nat(), (xs, cut) => {
        const want = bigSum(xs);
        expect(exactSum(xs)).toBe(want);
        expect(exactSum([...xs].reverse())).toBe(want);
        // two partial sums merged exactly = one sum (the reduce step's property)
        const k = cut % (xs.length + 1);
        const a = new ExactSum();
        const b = new ExactSum();
        xs.slice(0, k).forEach((x) => a.add(x));
        xs.slice(k).forEach((x) => b.add(x));
        b.addSum(a);
        expect(b.value()).toBe(want);
      }),
      { numRuns: 400 },
    );
  });
});

describe('planTiles', () => {
  it('covers the grid with tiles of whole units, each unit once', () => {
    for (const [w, h, cells] of [[5000, 700, 2 ** 20], [1000, 100, 1], [3000, 3000, undefined], [UNIT_WIDTH, UNIT_HEIGHT, 1]] as const) {
      const tiles = planTiles(w, h, { tileCells: cells });
      const seen = new Uint8Array(Math.ceil(w / UNIT_WIDTH) * Math.ceil(h / UNIT_HEIGHT));
      let cellsSeen = 0;
      for (const t of tiles) {
        expect(t[0] % UNIT_WIDTH).toBe(0);
        expect(t[1] % UNIT_HEIGHT).toBe(0);
        for (const u of unitsOf(t, w, h)) {
          seen[(u[1] / UNIT_HEIGHT) * Math.ceil(w / UNIT_WIDTH) + u[0] / UNIT_WIDTH]! += 1;
          cellsSeen += (u[2] - u[0]) * (u[3] - u[1]);
        }
      }
      expect([...seen].every((s) => s === 1)).toBe(true);
      expect(cellsSeen).toBe(w * h);
    }
  });

  it('aligns tile heights to exposure blocks made of whole units', () => {
    const tiles = planTiles(8192, 8192, { tileCells: 2048 * 600, block: { width: 512, height: 512 } });
    for (const t of tiles) expect(t[1] % 512).toBe(0);
  });
});

/** A scenario on disk whose grid is not a whole number of units (edge units are clipped). */
function scenarioOnDisk(opts: { nearest?: boolean; classes?: boolean } = {}) {
  const dir = tempDir();
  const W = 2600;
  const H = 300;
  const grid = { width: W, height: H, transform: [30, 0.001, 0, 2, 0, -0.001] as const, crs: 'EPSG:4326' };
  const nb = 3;
  if (opts.nearest) {
    // hazard 4x coarser, shifted by half a coarse cell: nearest resampling onto the exposure grid
    const hg = { width: W / 4 + 2, height: H / 4 + 2, transform: [30 - 0.002, 0.004, 0, 2 + 0.002, 0, -0.004] as const, crs: 'EPSG:4326' };
    const n = hg.width * hg.height;
    writeTif(join(dir, 'hazard.tif'), hg, Array.from({ length: nb }, (_, b) => new Float32Array(n).map((_, i) => ((i * 7919 + b * 31) % 400) / 100)));
  } else {
    writeTif(join(dir, 'hazard.tif'), grid, Array.from({ length: nb }, (_, b) => new Float32Array(W * H).map((_, i) => ((i * 7919 + b * 31) % 400) / 100 - 0.3)), -9999);
  }
  writeTif(join(dir, 'exposure.tif'), grid, [new Float64Array(W * H).map((_, i) => (i % 13 === 0 ? NaN : 10 + ((i * 104729) % 1000) / 7))]);
  writeJson(join(dir, 'zones.geojson'), {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', properties: { id: 'a' }, geometry: { type: 'Polygon', coordinates: [[[30.1, 1.75], [31.7, 1.82], [32.3, 1.9], [30.1, 1.99], [30.1, 1.75]]] } },
      { type: 'Feature', properties: { id: 'b' }, geometry: { type: 'Polygon', coordinates: [[[30.0005, 1.7003], [32.6, 1.7003], [32.6, 1.95], [30.0005, 1.95], [30.0005, 1.7003]]] } },
    ],
  });
  let vulnerability: unknown = 'jrc-flood-africa-residential';
  if (opts.classes) {
    writeTif(join(dir, 'classes.tif'), grid, [new Float32Array(W * H).map((_, i) => (i % 7 === 0 ? -1 : 1 + (i % 3)))], -1);
    vulnerability = { classes: 'classes.tif', curves: { '1': 'jrc-flood-africa-residential', '2': 'jrc-flood-africa-agriculture', default: 'jrc-flood-africa-industrial' } };
  }
  writeJson(join(dir, 's.json'), {
    hazard: { source: 'hazard.tif', unit: 'm', bands: { type: 'return-periods', returnPeriods: [10, 50, 100] }, ...(opts.nearest ? { resampling: 'nearest' } : {}) },
    exposure: { source: 'exposure.tif', unit: 'USD' },
    vulnerability,
    zones: { source: 'zones.geojson', idProperty: 'id' },
    affectedThreshold: 0.5,
  });
  return { dir, scenario: join(dir, 's.json') };
}

const numbers = (r: { totals: unknown; zones: unknown }) => JSON.stringify({ totals: r.totals, zones: r.zones });

describe('the same bits for every tile size and pool size', () => {
  for (const variant of [{}, { classes: true }, { nearest: true }]) {
    it(`per ${variant.nearest ? 'hazard cell (aggregated nearest)' : variant.classes ? 'cell with classes' : 'cell'}`, async () => {
      const { scenario, dir } = scenarioOnDisk(variant);
      const kernel = await loadKernel();
      const runs = [
        { tileCells: 1 },
        { tileCells: UNIT_WIDTH * UNIT_HEIGHT * 2 },
        { tileCells: 3 * UNIT_WIDTH * UNIT_HEIGHT },
        { tileCells: 2 ** 30 },
        { tileCells: UNIT_WIDTH * UNIT_HEIGHT, workers: 2, big: true },
      ];
      const results: string[] = [];
      const eads: Buffer[] = [];
      for (const [i, r] of runs.entries()) {
        const out = join(dir, `out${i}`);
        // workers start only for large jobs: minPoolCellBands 0 makes this small one run on two
        const res = await runScenarioFile(scenario, { kernel, tileCells: r.tileCells, workers: r.workers ?? 0, outDir: out, ...(r.big ? { minPoolCellBands: 0 } : {}) });
        results.push(numbers(res.result));
        const ead = await readRaster(readFileSync(join(out, 'ead.tif')));
        eads.push(Buffer.from(ead.bands[0]!.buffer));
      }
      for (const r of results) expect(r).toBe(results[0]);
      for (const e of eads) expect(e.equals(eads[0]!)).toBe(true);
      const first = JSON.parse(results[0]!);
      expect(first.totals.damage.every((d: number) => d > 0)).toBe(true);
      expect(first.zones[0].damage[0]).toBeGreaterThan(0);
    }, 120_000);
  }
});

describe('progress and cancellation', () => {
  it('reports every tile with a rate and time left; a cancelled run leaves no outputs', async () => {
    const { scenario, dir } = scenarioOnDisk();
    const kernel = await loadKernel();
    const seen: Array<{ tilesDone: number; tilesTotal: number; cellsDone: number; etaSeconds: number | null }> = [];
    await runScenarioFile(scenario, { kernel, tileCells: 1, onProgress: (p) => seen.push(p) });
    expect(seen.length).toBe(seen[0]!.tilesTotal);
    expect(seen.map((p) => p.tilesDone)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.at(-1)!.cellsDone).toBe(2600 * 300);
    expect(seen.at(-1)!.etaSeconds).toBe(0);

    const out = join(dir, 'cancelled');
    const ac = new AbortController();
    const run = runScenarioFile(scenario, {
      kernel, tileCells: 1, outDir: out, signal: ac.signal,
      onProgress: (p) => {
        if (p.tilesDone === 2) ac.abort(new Error('stop'));
      },
    });
    await expect(run).rejects.toThrow('stop');
    // the output folder may exist, but holds nothing: no file, no staging folder
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  }, 60_000);
});
