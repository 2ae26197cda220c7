/**
 * Resampling onto a target grid (issue #3, section 2): gdalwarp 3.6 outputs (test/fixtures/gdalwarp,
 * commands in its README.md and cases.json), the conventions one by one, the TypeScript twin against the
 * WASM scalar and SIMD builds bit for bit, tiling, and the errors.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers.js';
import { IbfError } from '../../src/errors.js';
import { readRaster } from '../../src/io/geotiff.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import { ReferenceResampleKernel, SEG_FIELDS, type CoordSegments, type ResampleKernel, type ResampleSource } from '../../src/kernels/resample.js';
import { WasmResampleKernel } from '../../src/kernels/resample-wasm.js';
import { WasmKernel } from '../../src/kernels/wasm.js';
import { approxRows } from '../../src/geo/approx-transform.js';
import { planResample, resampleKernel, resampleRaster, type CellWindow } from '../../src/geo/resample.js';
import type { Grid } from '../../src/model/grid.js';
import type { Raster } from '../../src/model/raster.js';

const DIR = join(REPO, 'test', 'fixtures', 'gdalwarp');
interface Case { name: string; method: 'nearest' | 'bilinear'; errorThreshold: number; src: string; out: string; command: string }
const manifest = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as { gdal: string; cases: Case[] };

async function fixture(file: string): Promise<Raster<Float32Array>> {
  return (await readRaster(new Uint8Array(readFileSync(join(DIR, file))), { as: 'float32', name: file })) as Raster<Float32Array>;
}

/**
 * GDAL 3.6 treats NaN as data when a band's nodata is a number, so a NaN tap poisons a bilinear sum
 * (even at weight 0); this engine treats NaN as nodata always. Feeding NaN cells as +Inf reproduces
 * GDAL's view exactly: every poisoned sum becomes non-finite, which is mapped back to NaN.
 */
function asGdalSees(src: Raster<Float32Array>): Raster<Float32Array> {
  if (src.nodata === null || Number.isNaN(src.nodata)) return src;
  return { ...src, bands: src.bands.map((b) => b.map((v) => (Number.isNaN(v) ? Infinity : v))) };
}
const finiteOrNaN = (r: Raster<Float32Array>) => r.bands.map((b) => b.map((v) => (Number.isFinite(v) ? v : NaN)));

/** Cells whose float32 bits differ (all NaNs count as equal), with the largest difference in float32 ulps. */
function compareBits(a: readonly Float32Array[], b: readonly Float32Array[]): { differ: number; maxUlp: number; first?: string } {
  let differ = 0;
  let maxUlp = 0;
  let first: string | undefined;
  a.forEach((x, band) => {
    const y = b[band]!;
    expect(x.length).toBe(y.length);
    const xi = new Int32Array(x.buffer, x.byteOffset, x.length);
    const yi = new Int32Array(y.buffer, y.byteOffset, y.length);
    for (let i = 0; i < x.length; i++) {
      if (xi[i] === yi[i] || (Number.isNaN(x[i]) && Number.isNaN(y[i]))) continue;
      differ++;
      first ??= `band ${band} cell ${i}: ${x[i]} vs ${y[i]}`;
      maxUlp = Math.max(maxUlp, Number.isNaN(x[i]) || Number.isNaN(y[i]) ? Infinity : Math.abs(xi[i]! - yi[i]!));
    }
  });
  return { differ, maxUlp, ...(first ? { first } : {}) };
}

const KERNELS: Array<{ name: string; make: () => Promise<unknown> }> = [
  { name: 'TypeScript twin', make: async () => undefined },
  { name: 'WASM scalar', make: () => loadKernel('wasm-scalar') },
  { name: 'WASM SIMD', make: () => loadKernel('wasm-simd') },
];

/**
 * Tolerance against gdalwarp, in float32 ulps per cell: 0 for both methods (every fixture matches bit
 * for bit). Across CRSs proj4js and PROJ could disagree in the last bits of a coordinate (~1e-12 pixel);
 * that would show here as a 1-ulp bilinear difference at a rounding tie, never more.
 */
const TOLERANCE_ULP = { nearest: 0, bilinear: 0 };

describe(`gdalwarp fixtures (${manifest.gdal})`, () => {
  it('the fixture set is complete and the default -et runs really differ from -et 0', async () => {
    expect(manifest.cases).toHaveLength(24);
    // the approximation is observable: these pairs differ, and each side is matched below
    for (const name of ['4326-to-32633', '32633-to-4326']) {
      for (const m of ['nearest', 'bilinear']) {
        const a = await fixture(`${name}.${m}.tif`);
        const b = await fixture(`${name}.${m}.et0.tif`);
        expect(compareBits(a.bands, b.bands).differ).toBeGreaterThan(50);
      }
    }
  });

  for (const k of KERNELS) {
    describe(k.name, () => {
      for (const c of manifest.cases) {
        it(`${c.out}: equal to \`${c.command.replace(/^gdalwarp -overwrite -q -of GTiff -ot Float32 /, '')}\``, async () => {
          const kernel = await k.make();
          const src = await fixture(c.src);
          const gdal = await fixture(c.out);
          const ours = resampleRaster(asGdalSees(src), gdal.grid, { method: c.method, errorThreshold: c.errorThreshold, kernel });
          expect(ours.grid).toEqual(gdal.grid);
          const cmp = compareBits(finiteOrNaN(ours), gdal.bands);
          expect(cmp.maxUlp, cmp.first).toBeLessThanOrEqual(TOLERANCE_ULP[c.method]);
          expect(cmp.differ, cmp.first).toBe(0);
        });
      }
    });
  }

  it("gdalwarp's edge retry is needed: without it, approximate coordinates just outside the source lose cells", async () => {
    const src = asGdalSees(await fixture('src-4326.tif'));
    const gdal = await fixture('4326-coarser-larger.nearest.tif');
    const plan = planResample(src.grid, gdal.grid, { method: 'nearest' });
    const T = gdal.grid;
    const noRetry = approxRows(plan.transform, T.width, 0, T.height, { maxError: 0.125 });
    const out = src.bands.map(() => new Float32Array(T.width * T.height));
    new ReferenceResampleKernel().resample({ ...src, width: src.grid.width, height: src.grid.height, segments: noRetry, col0: 0, col1: T.width, method: 'nearest', out });
    expect(compareBits(finiteOrNaN({ grid: T, bands: out, nodata: NaN }), gdal.bands).differ).toBe(24);
    expect(compareBits(finiteOrNaN(plan.run(src)), gdal.bands).differ).toBe(0);
  });

  it('with NaN as nodata (this engine), cells differ from gdalwarp only next to NaN source cells', async () => {
    // GDAL lets a NaN tap poison a bilinear sum (GDAL NaN, ours a value from the valid taps), and counts a
    // NaN centre as valid for the other bands' centre rule (GDAL a value, ours nodata). Both happen only
    // within the filter's reach of a NaN source cell: checked with a dilated NaN indicator, sampled nearest.
    let poisoned = 0;
    for (const c of manifest.cases) {
      const src = await fixture(c.src);
      const gdal = await fixture(c.out);
      const ours = resampleRaster(src, gdal.grid, { method: c.method, errorThreshold: c.errorThreshold });
      expect(ours.nodata).toBeNaN();
      const plan = planResample(src.grid, gdal.grid, { method: c.method });
      const reach = Math.max(...plan.radius) + 1;
      const { width: W, height: H } = src.grid;
      const near = new Float32Array(W * H);
      for (let r = 0; r < H; r++) {
        for (let q = 0; q < W; q++) {
          if (!src.bands.some((b) => Number.isNaN(b[r * W + q]))) continue;
          for (let j = Math.max(0, r - reach); j <= Math.min(H - 1, r + reach); j++) {
            for (let i = Math.max(0, q - reach); i <= Math.min(W - 1, q + reach); i++) near[j * W + i] = 1;
          }
        }
      }
      const nearNaN = resampleRaster({ grid: src.grid, bands: [near], nodata: null }, gdal.grid, { method: 'nearest', errorThreshold: c.errorThreshold }).bands[0]!;
      ours.bands.forEach((b, band) => {
        const g = gdal.bands[band]!;
        for (let i = 0; i < b.length; i++) {
          if (Object.is(b[i], g[i]) || (Number.isNaN(b[i]) && Number.isNaN(g[i]))) continue;
          expect(Number.isNaN(b[i]) || Number.isNaN(g[i]), `${c.out} band ${band} cell ${i}: ${b[i]} vs ${g[i]}`).toBe(true);
          expect(nearNaN[i], `${c.out} band ${band} cell ${i}`).toBe(1);
          if (Number.isNaN(g[i])) poisoned++;
        }
      });
      if (Number.isNaN(src.nodata)) expect(compareBits(ours.bands, gdal.bands).differ).toBe(0);
    }
    expect(poisoned).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------
// conventions, on hand-made grids

const g = (width: number, height: number, x0 = 0, y0 = 0, dx = 1, dy = -1, crs: string | null = 'EPSG:32633'): Grid => ({
  width, height, transform: [x0, dx, 0, y0, 0, dy], crs,
});
const ramp = (w: number, h: number, f = (c: number, r: number) => 10 * r + c) =>
  Float32Array.from({ length: w * h }, (_, i) => f(i % w, Math.floor(i / w)));

describe('conventions', () => {
  const src: Raster<Float32Array> = { grid: g(4, 3, 0, 3), bands: [ramp(4, 3)], nodata: null };

  it('samples at cell centres: a target shifted by half a source pixel interpolates halfway (bilinear) and takes the right pixel at a tie (nearest)', () => {
    const target = g(3, 3, 0.5, 3);
    const bil = resampleRaster(src, target, { method: 'bilinear' }).bands[0]!;
    // centre of target col 0 is at source x = 1.0: halfway between pixels 0 and 1
    expect(Array.from(bil.subarray(0, 3))).toEqual([0.5, 1.5, 2.5]);
    const near = resampleRaster(src, target, { method: 'nearest' }).bands[0]!;
    // x = 1.0 exactly lies on the edge between pixel 0 and 1: trunc(x + 1e-10) takes pixel 1
    expect(Array.from(near.subarray(0, 3))).toEqual([1, 2, 3]);
  });

  it('the outer half pixel clamps to the edge value, and the source edge itself is outside (x + 1e-10 > width)', () => {
    // target cells of a quarter source pixel along the first row, from x = 0 to x = 4 (the source width)
    const target = g(16, 1, 0, 3, 0.25, -1);
    const bil = resampleRaster(src, target, { method: 'bilinear' }).bands[0]!;
    // centres at 0.125, 0.375 (left outer half) -> value of pixel 0; at 3.625, 3.875 -> pixel 3
    expect(bil[0]).toBe(0);
    expect(bil[1]).toBe(0);
    expect(bil[2]).toBe(0.125);
    expect(bil[14]).toBe(3);
    expect(bil[15]).toBe(3);
    // a target cell centred exactly on the right edge (x = 4) is outside the source
    const edge = resampleRaster(src, g(1, 1, 3.5, 3, 1, -1), { method: 'nearest' }).bands[0]!;
    expect(edge[0]).toBeNaN();
    const inside = resampleRaster(src, g(1, 1, 3.4999, 3, 1, -1), { method: 'nearest' }).bands[0]!;
    expect(inside[0]).toBe(3);
  });

  it('bilinear drops nodata taps and renormalises; nearest keeps the nodata cell nodata', () => {
    const bands = [ramp(4, 3)];
    bands[0]![1] = -9999; // pixel (1, 0)
    const s: Raster<Float32Array> = { grid: src.grid, bands, nodata: -9999 };
    // target centre at source (1.25, 0.75): taps (0,0) (1,0) (0,1) (1,1) with weights .25*.75 ... ; containing pixel (1,0) is nodata
    const target = g(1, 1, 0.75, 2.75, 1, -1);
    expect(resampleRaster(s, target, { method: 'nearest' }).bands[0]![0]).toBeNaN();
    // one band: the containing pixel is nodata in every band -> nodata (GDAL's unified centre rule)
    expect(resampleRaster(s, target, { method: 'bilinear' }).bands[0]![0]).toBeNaN();
    // centre at (0.75, 0.75): containing pixel (0, 0) valid; taps (0,0) w=.5625 (1,0) nodata (0,1) w=.1875 (1,1) w=.0625
    const t2 = g(1, 1, 0.25, 2.75, 1, -1);
    const v = resampleRaster(s, t2, { method: 'bilinear' }).bands[0]![0]!;
    expect(v).toBe(Math.fround((0 * 0.5625 + 10 * 0.1875 + 11 * 0.0625) / (0.5625 + 0.1875 + 0.0625)));
  });

  it('multi-band bilinear: a cell is nodata only where its containing pixel is nodata in every band (GDAL 3.6)', () => {
    const b0 = ramp(4, 3);
    const b1 = ramp(4, 3, (c, r) => 100 + c + r);
    b0[5] = NaN; // pixel (1, 1) nodata in band 0 only
    b0[6] = -1; b1[6] = -1; // pixel (2, 1) nodata in both
    const s: Raster<Float32Array> = { grid: src.grid, bands: [b0, b1], nodata: -1 };
    const out = resampleRaster(s, g(2, 1, 1.25, 2.25, 1, -1), { method: 'bilinear' });
    // cell 0: centre (1.75, 1.25) in pixel (1, 1): band 0 from its valid taps, band 1 normally
    const w = [0.1875, 0.0625, 0.5625, 0.1875]; // taps (1,0) (2,0) (1,1) (2,1) around (1.75, 1.25)
    expect(out.bands[0]![0]).toBe(Math.fround((1 * w[0]! + 2 * w[1]!) / (w[0]! + w[1]!)));
    expect(out.bands[1]![0]).toBe(Math.fround((101 * w[0]! + 102 * w[1]! + 102 * w[2]!) / (w[0]! + w[1]! + w[2]!)));
    // cell 1: centre (2.75, 1.25) in pixel (2, 1), nodata in both bands
    expect(out.bands[0]![1]).toBeNaN();
    expect(out.bands[1]![1]).toBeNaN();
  });

  it('decimating bilinear widens the triangle filter by 1 / scale (GDAL GWKResample), snapping 1/2.03 to 1/2', () => {
    const s: Raster<Float32Array> = { grid: g(40, 40, 0, 40), bands: [ramp(40, 40, (c, r) => Math.sin(c / 3) + r * 0.1)], nodata: null };
    const exact = planResample(s.grid, g(10, 10, 0, 40, 4, -4), { method: 'bilinear' });
    expect(exact.scale).toEqual([0.25, 0.25]);
    expect(exact.radius).toEqual([4, 4]);
    const snapped = planResample(s.grid, g(19, 19, 0, 40, 2.03, -2.03), { method: 'bilinear' });
    expect(snapped.scale).toEqual([0.5, 0.5]);
    // one cell by hand: centre at source (2, 2); taps -1..4 (clipped at the edge) with tri((i - d) / 4)
    const out = exact.run(s).bands[0]!;
    const x = 2;
    const ix = Math.floor(x - 0.5);
    const d = x - 0.5 - ix;
    let acc = 0;
    let ws = 0;
    for (let j = -ix; j <= 4; j++) {
      const w1 = Math.max(0, 1 - Math.abs((j - d) * 0.25));
      let la = 0;
      let lw = 0;
      for (let i = -ix; i <= 4; i++) {
        const w2 = Math.max(0, 1 - Math.abs((i - d) * 0.25));
        la += s.bands[0]![(ix + j) * 40 + ix + i]! * w2;
        lw += w2;
      }
      acc += la * w1;
      ws += lw * w1;
    }
    expect(out[0]).toBe(Math.fround(acc / ws));
  });

  it('a target entirely outside the source is all nodata; a target larger than the source is nodata outside it', () => {
    const far = resampleRaster(src, g(3, 3, 100, 100), { method: 'bilinear' });
    expect(far.bands[0]!.every(Number.isNaN)).toBe(true);
    const big = resampleRaster(src, g(6, 5, -1, 4), { method: 'nearest' }).bands[0]!;
    expect(big[0]).toBeNaN(); // centre (-0.5, -0.5)
    expect(big[6 + 1]).toBe(0); // centre (0.5, 0.5)
    expect(big[6 * 3 + 4]).toBe(23);
    expect(big[6 * 4 + 5]).toBeNaN();
  });
});

// ---------------------------------------------------------------------------------------------------
// the kernels against each other

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Random segments over `rows` rows of `width` columns, mixing interpolated runs, exact cells, edges, NaN. */
function randomSegments(rnd: () => number, width: number, rows: number, W: number, H: number): CoordSegments {
  const cols: number[] = [];
  const segs: number[] = [];
  const rowStarts = [0];
  const coord = (n: number) => {
    const u = rnd();
    if (u < 0.05) return 0; // exactly on the first edge
    if (u < 0.1) return n; // exactly on the last edge
    if (u < 0.13) return n - 1e-11; // inside the 1e-10 slack
    if (u < 0.16) return Math.floor(rnd() * n) + 0.5; // a pixel centre
    if (u < 0.19) return Math.floor(rnd() * n) + 1; // a pixel edge
    return -1.5 + rnd() * (n + 3);
  };
  for (let r = 0; r < rows; r++) {
    let c = 0;
    while (c < width) {
      const len = 1 + Math.floor(rnd() * 9);
      const exact = rnd() < 0.3;
      cols.push(c);
      const nan = rnd() < 0.03;
      segs.push(c - (exact ? 0 : Math.floor(rnd() * 3)), nan ? NaN : coord(W), coord(H), exact ? 0 : (rnd() - 0.5) * 0.7, exact ? 0 : (rnd() - 0.5) * 0.3);
      c += len;
    }
    rowStarts.push(cols.length);
  }
  return { cols: Int32Array.from(cols), segs: Float64Array.from(segs), rows: Int32Array.from(rowStarts) };
}

describe('twin == WASM scalar == WASM SIMD, bit for bit', () => {
  it('on random geometry, nodata, NaN, edges, windows, offsets and scales', async () => {
    const impls: ResampleKernel[] = [
      new ReferenceResampleKernel(),
      resampleKernel(await loadKernel('wasm-scalar')),
      resampleKernel(await loadKernel('wasm-simd')),
    ];
    expect(impls.map((k) => k.name)).toEqual(['ts', 'wasm-scalar', 'wasm-simd']);
    const rnd = lcg(42);
    const scales: Array<[number, number]> = [[1, 1], [3.5, 2], [0.95, 1.2], [0.4166, 0.5], [1, 0.3], [0.97, 0.9]];
    for (let trial = 0; trial < 60; trial++) {
      const W = 1 + Math.floor(rnd() * 12);
      const H = 1 + Math.floor(rnd() * 9);
      const nB = 1 + Math.floor(rnd() * 3);
      const nodata = rnd() < 0.7 ? -9999 : null;
      const bands = Array.from({ length: nB }, () => Float32Array.from({ length: W * H }, () => {
        const u = rnd();
        return u < 0.1 && nodata !== null ? nodata : u < 0.15 ? NaN : u < 0.17 ? -0 : (rnd() - 0.3) * 50;
      }));
      const width = 1 + Math.floor(rnd() * 20);
      const rows = 1 + Math.floor(rnd() * 4);
      const segments = randomSegments(rnd, width, rows, W, H);
      const col0 = Math.floor(rnd() * width);
      const col1 = col0 + 1 + Math.floor(rnd() * (width - col0));
      const method = rnd() < 0.3 ? 'nearest' : 'bilinear';
      const scale = scales[trial % scales.length]!;
      const off = rnd() < 0.3 ? [0.5 * Math.floor(rnd() * 3), Math.floor(rnd() * 2)] : [0, 0];
      const results = impls.map((k) => {
        const out = bands.map(() => new Float32Array((col1 - col0) * rows).fill(7));
        k.resample({ bands, width: W, height: H, nodata, segments, col0, col1, offX: off[0], offY: off[1], method, scale, out });
        return out;
      });
      for (const r of results.slice(1)) {
        const cmp = compareBits(r, results[0]!);
        expect(cmp.differ, `trial ${trial} ${method} scale ${scale}: ${cmp.first}`).toBe(0);
      }
      // NaN output bits are canonical enough: every nodata cell is NaN, and no cell was left unwritten
      for (const b of results[0]!) expect(b.includes(7)).toBe(false);
    }
  });

  it('keeps -0 as the scalar path does (sums start at +0)', async () => {
    const bands = [Float32Array.from([-0, -0, -0, -0])];
    const seg: CoordSegments = { cols: Int32Array.from([0]), segs: Float64Array.from([0, 0.7, 0.7, 0.3, 0.2]), rows: Int32Array.from([0, 1]) };
    const outs = await Promise.all(KERNELS.map(async (k) => {
      const out = [new Float32Array(4)];
      resampleKernel(await k.make()).resample({ bands, width: 2, height: 2, nodata: null, segments: seg, col0: 0, col1: 4, method: 'bilinear', out });
      return out;
    }));
    for (const o of outs) expect(compareBits(o, outs[0]!).differ).toBe(0);
    expect(Object.is(outs[0]![0]![0], 0)).toBe(true);
  });

  it('a staged WASM source refuses strips after the kernel was opened again', async () => {
    const k = resampleKernel(await loadKernel('wasm-simd'));
    const src: ResampleSource = { bands: [new Float32Array(4)], width: 2, height: 2, nodata: null };
    const run = k.open(src);
    k.open(src);
    const segments: CoordSegments = { cols: Int32Array.from([0]), segs: Float64Array.from([0, 0.5, 0.5, 0, 0]), rows: Int32Array.from([0, 1]) };
    expect(() => run({ segments, col0: 0, col1: 1, method: 'nearest', out: [new Float32Array(1)] })).toThrow(/no longer staged/);
  });
});

// ---------------------------------------------------------------------------------------------------
// approximate transformer, plans and tiles

describe('approximate transformer', () => {
  it('same CRS: one interpolated segment per row (exact ends); -et 0: one exact segment per cell', () => {
    const plan = planResample(g(10, 10, 0, 10), g(50, 3, 0.1, 9.9, 0.2, -0.2), { method: 'nearest' });
    const approx = approxRows(plan.transform, 50, 0, 3, { maxError: 0.125 });
    expect(Array.from(approx.rows)).toEqual([0, 1, 2, 3]);
    const exact = approxRows(plan.transform, 50, 0, 3, { maxError: 0 });
    expect(exact.rows[3]).toBe(150);
    // narrow rows (5 cells or fewer) are always exact, as in GDAL
    expect(approxRows(plan.transform, 5, 0, 1, { maxError: 0.125 }).rows[1]).toBe(5);
  });

  it('across CRSs the interpolated coordinates stay near the exact ones and rows are subdivided where needed', () => {
    const plan = planResample(g(100, 100, 14, 46, 0.02, -0.02, 'EPSG:4326'), g(400, 2, 300000, 5200000, 500, -500, 'EPSG:32633'), { method: 'nearest' });
    const approx = approxRows(plan.transform, 400, 0, 2, { maxError: 0.125 });
    expect(approx.rows[1]).toBeGreaterThan(1);
    const xs = Float64Array.from({ length: 400 }, (_, c) => c + 0.5);
    const ys = new Float64Array(400).fill(0.5);
    plan.transform(xs, ys, 0, 400);
    let worst = 0;
    for (let k = 0; k < approx.rows[1]!; k++) {
      const end = k + 1 < approx.rows[1]! ? approx.cols[k + 1]! : 400;
      const [anchor, x0, y0, dx, dy] = approx.segs.subarray(SEG_FIELDS * k, SEG_FIELDS * k + 5);
      for (let c = approx.cols[k]!; c < end; c++) {
        worst = Math.max(worst, Math.abs(x0! + dx! * (c - anchor!) - xs[c]!) + Math.abs(y0! + dy! * (c - anchor!) - ys[c]!));
      }
    }
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThan(0.25);
  });
});

describe('approximate transformer: failures', () => {
  /** A curved transform that fails (NaN) on cells whose centre is in [lo, hi). */
  const failing = (lo: number, hi: number) => (xs: Float64Array, ys: Float64Array, from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const px = xs[i]!;
      if (px >= lo && px < hi) { xs[i] = NaN; ys[i] = NaN; continue; }
      xs[i] = 0.5 * px + 0.002 * px * px;
      ys[i] = ys[i]! + 0.01 * px * px;
    }
  };
  const coords = (s: CoordSegments, width: number) => {
    const x = new Float64Array(width);
    for (let k = 0; k < s.rows[1]!; k++) {
      const end = k + 1 < s.rows[1]! ? s.cols[k + 1]! : width;
      for (let c = s.cols[k]!; c < end; c++) x[c] = s.segs[SEG_FIELDS * k + 1]! + s.segs[SEG_FIELDS * k + 3]! * (c - s.segs[SEG_FIELDS * k]!);
    }
    return x;
  };

  it('a failing end cell makes the whole row exact; failing cells stay NaN (nodata)', () => {
    const s = approxRows(failing(59, 61), 61, 0, 1, { maxError: 0.125 });
    expect(s.rows[1]).toBe(61);
    const x = coords(s, 61);
    expect(x[60]).toBeNaN();
    expect(x[10]).toBe(0.5 * 10.5 + 0.002 * 10.5 * 10.5);
  });

  it('a failing midpoint of a half makes the subdivided run exact, as GDAL does', () => {
    // width 61: middle cell 30; halves 0..29 (middle 14) and 30..60 (middle 45); cell 14 fails
    const s = approxRows(failing(14, 15), 61, 0, 1, { maxError: 0.001 });
    expect(s.rows[1]).toBe(61);
    expect(coords(s, 61)[14]).toBeNaN();
    // and through the kernel, a NaN coordinate is a nodata cell
    const out = [new Float32Array(61)];
    new ReferenceResampleKernel().resample({ bands: [new Float32Array(100 * 100).fill(1)], width: 100, height: 100, nodata: null, segments: s, col0: 0, col1: 61, method: 'bilinear', out });
    expect(out[0]![14]).toBeNaN();
    expect(out[0]![13]).toBe(1);
  });
});

describe('plans and tiles', () => {
  it('tiles (source window + target window) give exactly the cells of the whole run, across CRSs and kernels', async () => {
    const src = await fixture('src-4326.tif');
    const gdal = await fixture('4326-to-32633.bilinear.tif');
    for (const kernel of [undefined, await loadKernel('wasm-simd')]) {
      for (const method of ['nearest', 'bilinear'] as const) {
        const plan = planResample(src.grid, gdal.grid, { method });
        const whole = plan.run(src, { kernel });
        const T = gdal.grid;
        for (const [tw, th] of [[16, 16], [7, 30], [45, 5]] as const) {
          for (let y = 0; y < T.height; y += th) {
            for (let x = 0; x < T.width; x += tw) {
              const win: CellWindow = [x, y, Math.min(T.width, x + tw), Math.min(T.height, y + th)];
              const sw = plan.sourceWindow(win);
              const ww = win[2] - win[0];
              const expected = whole.bands.map((b) => {
                const o = new Float32Array(ww * (win[3] - win[1]));
                for (let r = win[1]; r < win[3]; r++) o.set(b.subarray(r * T.width + win[0], r * T.width + win[2]), (r - win[1]) * ww);
                return o;
              });
              if (!sw) {
                expect(expected.every((b) => b.every(Number.isNaN))).toBe(true);
                continue;
              }
              const t = src.grid.transform;
              const part: Raster<Float32Array> = {
                grid: { ...src.grid, width: sw[2] - sw[0], height: sw[3] - sw[1], transform: [t[0] + sw[0] * t[1], t[1], 0, t[3] + sw[1] * t[5], 0, t[5]] },
                bands: src.bands.map((b) => {
                  const o = new Float32Array((sw[2] - sw[0]) * (sw[3] - sw[1]));
                  for (let r = sw[1]; r < sw[3]; r++) o.set(b.subarray(r * src.grid.width + sw[0], r * src.grid.width + sw[2]), (r - sw[1]) * (sw[2] - sw[0]));
                  return o;
                }),
                nodata: src.nodata,
              };
              const tile = plan.run(part, { srcWindow: sw, targetWindow: win, kernel });
              expect(tile.grid.transform[0]).toBeCloseTo(T.transform[0] + win[0] * T.transform[1], 6);
              expect(compareBits(tile.bands, expected).differ).toBe(0);
            }
          }
        }
      }
    }
  });

  it('strips: any strip height gives the same bits', () => {
    const src: Raster<Float32Array> = { grid: g(30, 20, 0, 20), bands: [ramp(30, 20, (c, r) => Math.cos(c / 4) * r)], nodata: null };
    const plan = planResample(src.grid, g(70, 45, 0.3, 19.7, 0.41, -0.43), { method: 'bilinear' });
    const whole = plan.run(src);
    for (const stripCells of [1, 70, 333]) expect(compareBits(plan.run(src, { stripCells }).bands, whole.bands).differ).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------
// the public entry

describe('resampleRaster', () => {
  const src: Raster<Float32Array> = { grid: g(4, 3, 0, 3), bands: [ramp(4, 3)], nodata: null };

  it('returns the input itself when the grids match and it is already float32 with NaN nodata', () => {
    expect(resampleRaster(src, { ...src.grid }, { method: 'bilinear' })).toBe(src);
    const nan: Raster<Float32Array> = { ...src, nodata: NaN };
    expect(resampleRaster(nan, src.grid, { method: 'nearest' })).toBe(nan);
  });

  it('same grid, other nodata or type: an exact float32 copy with nodata as NaN; the plan gives the same values', () => {
    const bands = [Uint8Array.from([1, 2, 255, 4, 5, 6, 7, 8, 9, 10, 11, 12])];
    const classes: Raster = { grid: src.grid, bands, nodata: 255, bandNames: ['class'] };
    const out = resampleRaster(classes, src.grid, { method: 'nearest' });
    expect(out.bands[0]).toBeInstanceOf(Float32Array);
    expect(Array.from(out.bands[0]!)).toEqual([1, 2, NaN, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(out.nodata).toBeNaN();
    expect(out.bandNames).toEqual(['class']);
    for (const method of ['nearest', 'bilinear'] as const) {
      const viaPlan = planResample(classes.grid, src.grid, { method }).run(classes);
      expect(compareBits(viaPlan.bands, out.bands).differ).toBe(0);
    }
  });

  it('refuses unknown and missing CRSs with E_CRS_UNKNOWN; one unknown CRS on both sides needs no transform', () => {
    const bng = { ...src, grid: { ...src.grid, crs: 'EPSG:27700' } };
    expect(() => resampleRaster(bng, g(2, 2, 0, 2, 1, -1, 'EPSG:4326'), { method: 'nearest' })).toThrow(expect.objectContaining({ code: 'E_CRS_UNKNOWN' }));
    expect(resampleRaster(bng, { ...g(2, 2, 0.5, 2.5), crs: 'EPSG:27700' }, { method: 'nearest' }).bands[0]![0]).toBe(11);
    const none = { ...src, grid: { ...src.grid, crs: null } };
    try {
      resampleRaster(none, g(2, 2), { method: 'nearest' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(IbfError);
      expect((e as IbfError).code).toBe('E_CRS_UNKNOWN');
      expect((e as IbfError).hint).toMatch(/srcCrs/);
    }
    // srcCrs names the missing CRS
    expect(resampleRaster(none, g(2, 2, 0.5, 2.5), { method: 'nearest', srcCrs: 'EPSG:32633' }).bands[0]![0]).toBe(11);
  });

  it('refuses rotated grids (E_GRID_MISMATCH) and bad options (E_USAGE), listing every problem', () => {
    const rotated: Grid = { width: 2, height: 2, transform: [0, 1, 0.1, 3, 0, -1], crs: 'EPSG:32633' };
    try {
      resampleRaster({ ...src, grid: { ...src.grid, transform: [0, 1, 0, 3, 0.2, -1] } }, rotated, { method: 'nearest' });
      expect.unreachable();
    } catch (e) {
      expect((e as IbfError).code).toBe('E_GRID_MISMATCH');
      expect((e as IbfError).problems).toHaveLength(2);
      expect((e as IbfError).message).toMatch(/rotated/);
    }
    try {
      resampleRaster(src, g(2, 2), { method: 'cubic' as 'nearest', errorThreshold: -1 });
      expect.unreachable();
    } catch (e) {
      expect((e as IbfError).code).toBe('E_USAGE');
      expect((e as IbfError).problems).toHaveLength(2);
    }
    expect(() => resampleRaster({ ...src, bands: [new Float32Array(5)] }, g(2, 2, 0.5, 2.5), { method: 'nearest' })).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
    expect(() => resampleRaster(src, g(2, 2, 0.5, 2.5), { method: 'nearest', kernel: {} })).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
  });

  it('refuses a target that is too large with E_LIMIT before allocating anything', () => {
    const huge = g(200_000, 200_000, 0, 3, 1e-5, -1e-5);
    const t0 = performance.now();
    expect(() => resampleRaster(src, huge, { method: 'bilinear' })).toThrow(expect.objectContaining({ code: 'E_LIMIT' }));
    expect(() => resampleRaster(src, g(100, 100, 0.5, 2.5), { method: 'nearest', maxCells: 9999 })).toThrow(/exceeds the limit of 9999 cells/);
    // a bilinear filter wider than the kernel's tap scratch (target 600 times coarser): E_LIMIT, nearest is fine
    const fine: Raster<Float32Array> = { grid: g(1200, 1200, 0, 1200), bands: [new Float32Array(1200 * 1200)], nodata: null };
    expect(() => resampleRaster(fine, g(2, 2, 0, 1200, 600, -600), { method: 'bilinear' })).toThrow(expect.objectContaining({ code: 'E_LIMIT' }));
    expect(resampleRaster(fine, g(2, 2, 0, 1200, 600, -600), { method: 'nearest' }).bands[0]).toEqual(new Float32Array(4));
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('accepts every kernel flavour: nothing, a loadKernel() kernel (ts or WASM), or a ResampleKernel', async () => {
    const target = g(3, 2, 0.3, 2.8, 0.9, -0.9);
    const ref = resampleRaster(src, target, { method: 'bilinear' });
    for (const k of ['ts', 'wasm-scalar', 'wasm-simd'] as const) {
      const kernel = await loadKernel(k);
      expect(compareBits(resampleRaster(src, target, { method: 'bilinear', kernel }).bands, ref.bands).differ).toBe(0);
    }
    const wasm = (await loadKernel('wasm-simd')) as WasmKernel;
    const wrapped = new WasmResampleKernel(wasm);
    expect(resampleKernel(wrapped)).toBe(wrapped);
    expect(compareBits(resampleRaster(src, target, { method: 'bilinear', kernel: wrapped }).bands, ref.bands).differ).toBe(0);
  });
});
