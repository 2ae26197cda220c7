/**
 * What the file-based benches (e2e.ts, memory.ts) share: seeded GeoTIFF, zones and scenario files in a
 * cache folder (bench/.cache, git-ignored; BENCH_CACHE overrides), generated once and reused when present.
 *
 * Rasters are written with the streaming writer (createTiledGeoTiff + fileTiffSink: 256 x 256 tiles,
 * uncompressed, float32) one window at a time, so a 16384 x 16384 x 51 file is never held whole. The
 * sink writes a temporary file and renames it on close, so a file in the cache is always complete.
 * Every value is a function of the seed and the cell (row, column, band), never of the write order.
 * File names carry the generator version (GEN): bump it when the data changes.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileTiffSink } from '../src/io/node.js';
import { createTiledGeoTiff } from '../src/io/tiff-stream.js';
import type { Grid } from '../src/model/grid.js';
import { lcg } from './common.js';

/** Generator version: part of every cached file name. */
export const GEN = 'v1';

/** The package root (where package.json is), whether this runs from bench/ (tsx) or dist/bench/ (built). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the bench');
    dir = up;
  }
  return dir;
}

export const CACHE_DIR = resolve(process.env.BENCH_CACHE ?? join(packageRoot(), 'bench', '.cache'));

export function cachePath(name: string): string {
  mkdirSync(CACHE_DIR, { recursive: true });
  return join(CACHE_DIR, name);
}

/** A square grid of `size` cells over lon 10..18 E, lat 40..48 N (EPSG:4326), `factor` times coarser. */
export function benchGrid(size: number, factor = 1): Grid {
  const cell = 8 / size;
  return { width: size / factor, height: size / factor, transform: [10, cell * factor, 0, 48, 0, -cell * factor], crs: 'EPSG:4326' };
}

/** Fills window cells: `bands[b][r * w + c]` for cell (x0 + c, y0 + r), with `rnd` seeded for this window. */
export type WindowFill = (x0: number, y0: number, w: number, h: number, bands: Float32Array[], rnd: () => number) => void;

/**
 * `path` in the cache, or, when missing, a tiled float32 GeoTIFF written window by window (rows of 256
 * tiles, at most ~16 M cell-bands per window). Returns the path and whether it was generated now.
 */
export async function cachedRaster(name: string, grid: Grid, nBands: number, fill: WindowFill, seed: number, meta: Record<string, string>): Promise<{ path: string; generated: boolean; ms: number }> {
  const path = cachePath(name);
  if (existsSync(path)) return { path, generated: false, ms: 0 };
  const t0 = performance.now();
  const tile = 256;
  const w = createTiledGeoTiff(await fileTiffSink(path), { grid, nBands, nodata: NaN, tileSize: tile, metadata: { generator: `e4drr-ibf bench ${GEN}`, seed: String(seed), ...meta } });
  const colsPer = Math.max(tile, Math.min(grid.width, Math.floor((16 * 2 ** 20) / (tile * nBands) / tile) * tile));
  try {
    for (let y0 = 0; y0 < grid.height; y0 += tile) {
      for (let x0 = 0; x0 < grid.width; x0 += colsPer) {
        const ww = Math.min(colsPer, grid.width - x0);
        const hh = Math.min(tile, grid.height - y0);
        const bands = Array.from({ length: nBands }, () => new Float32Array(ww * hh));
        fill(x0, y0, ww, hh, bands, lcg((seed * 1_000_003 + y0 * 7919 + x0) >>> 0));
        await w.writeWindow([x0, y0, x0 + ww, y0 + hh], bands);
      }
    }
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  }
  return { path, generated: true, ms: performance.now() - t0 };
}

/**
 * Flood depth (m) on a grid `size` cells across (the exposure grid; a coarser hazard passes its own
 * cells and `factor`): a smooth field of dry and wet areas, per-band shift for ensemble members, noise,
 * 3% nodata (NaN).
 */
export function depthFill(factor = 1): WindowFill {
  return (x0, y0, w, h, bands, rnd) => {
    const sc = new Float64Array(w);
    for (let b = 0; b < bands.length; b++) {
      const out = bands[b]!;
      const shift = 1 + 0.02 * b;
      for (let c = 0; c < w; c++) sc[c] = Math.sin(((x0 + c) * factor) / 300 + 0.3 * b);
      for (let r = 0; r < h; r++) {
        const cr = 3 * shift * Math.cos(((y0 + r) * factor) / 211);
        for (let c = 0; c < w; c++) {
          const u = rnd();
          out[r * w + c] = u < 0.03 ? NaN : Math.max(0, sc[c]! * cr + rnd() - 0.5);
        }
      }
    }
  };
}

/** Asset value (EUR) per cell, 500..10000, 5% nodata (NaN). */
export const valueFill: WindowFill = (_x0, _y0, w, h, bands, rnd) => {
  const out = bands[0]!;
  for (let i = 0; i < w * h; i++) out[i] = rnd() < 0.05 ? NaN : 500 + 9500 * rnd() * rnd();
};

/**
 * About `nx` x `ny` admin-like zones partitioning the grid's extent (inset by 1% of it, so border cells
 * are in no zone): a jittered lattice whose edges are cut into 12 jittered segments, each edge shared by
 * its two zones (no gaps, no overlaps). GeoJSON in EPSG:4326, `id` and `name` properties.
 */
export function zonesGeoJson(grid: Grid, nx: number, ny: number, seed: number): object {
  const t = grid.transform;
  const W = grid.width * t[1];
  const H = grid.height * -t[5];
  const lon0 = t[0] + 0.01 * W;
  const lat0 = t[3] - 0.01 * H;
  const dx = (0.98 * W) / nx;
  const dy = (0.98 * H) / ny;
  const rnd = lcg(seed);
  // lattice points, interior ones jittered by up to 25% of a cell
  const P: [number, number][][] = [];
  for (let j = 0; j <= ny; j++) {
    P.push([]);
    for (let i = 0; i <= nx; i++) {
      const inner = i > 0 && i < nx && j > 0 && j < ny;
      const jx = inner ? (rnd() - 0.5) * 0.5 * dx : 0;
      const jy = inner ? (rnd() - 0.5) * 0.5 * dy : 0;
      P[j]!.push([lon0 + i * dx + jx, lat0 - j * dy + jy]);
    }
  }
  const SEG = 12;
  const edges = new Map<string, [number, number][]>();
  /** Points from lattice point a to b (excluding b), the same line for both zones sharing it. */
  const edge = (a: [number, number], b: [number, number], key: string, border: boolean): [number, number][] => {
    let pts = edges.get(key);
    if (!pts) {
      const r = lcg(seed + 17 + [...key].reduce((h, ch) => (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0, 7));
      pts = [];
      const [ax, ay] = a;
      const [bx, by] = b;
      const len = Math.hypot(bx - ax, by - ay);
      const nxp = -(by - ay) / len;
      const nyp = (bx - ax) / len;
      for (let k = 0; k < SEG; k++) {
        const f = k / SEG;
        const off = border ? 0 : (r() - 0.5) * 0.15 * len * Math.sin(Math.PI * f); // tapered: no crossing near corners
        pts.push([ax + f * (bx - ax) + off * nxp, ay + f * (by - ay) + off * nyp]);
      }
      pts.push(b);
      edges.set(key, pts);
    }
    return pts;
  };
  const run = (i0: number, j0: number, i1: number, j1: number): [number, number][] => {
    const forward = j0 < j1 || (j0 === j1 && i0 < i1);
    const [a, b] = forward ? [[i0, j0], [i1, j1]] : [[i1, j1], [i0, j0]];
    const border = (j0 === j1 && (j0 === 0 || j0 === ny)) || (i0 === i1 && (i0 === 0 || i0 === nx));
    const pts = edge(P[a[1]!]![a[0]!]!, P[b[1]!]![b[0]!]!, `${a}-${b}`, border);
    const seq = forward ? pts : [...pts].reverse();
    return seq.slice(0, -1);
  };
  const features = [];
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      // counter-clockwise in lon/lat (y up): top-left -> bottom-left -> bottom-right -> top-right
      const ring = [...run(i, j, i, j + 1), ...run(i, j + 1, i + 1, j + 1), ...run(i + 1, j + 1, i + 1, j), ...run(i + 1, j, i, j)];
      ring.push(ring[0]!);
      const id = `Z${String(j * nx + i + 1).padStart(2, '0')}`;
      features.push({ type: 'Feature', properties: { id, name: `Zone ${id}` }, geometry: { type: 'Polygon', coordinates: [ring] } });
    }
  }
  return { type: 'FeatureCollection', features };
}

/** Writes `text` to `name` in the cache unless the file is there; returns its path. */
export function cachedText(name: string, text: () => string): string {
  const path = cachePath(name);
  if (!existsSync(path)) writeFileSync(path, text());
  return path;
}

/** Size of a file in MB (10^6 bytes). */
export function fileMB(path: string): number {
  return statSync(path).size / 1e6;
}

/** Compares two results' numbers bit for bit (Object.is: NaN = NaN, 0 != -0); returns the first difference. */
export function firstDifference(a: unknown, b: unknown, at = ''): string | null {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) ? null : `${at}: ${a} vs ${b}`;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${at}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${at}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join() !== kb.join()) return `${at}: keys ${ka.join()} vs ${kb.join()}`;
    for (const k of ka) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : `${at}: ${String(a)} vs ${String(b)}`;
}

/** Numbers `firstDifference` compares in `a`. */
export function countNumbers(a: unknown): number {
  if (typeof a === 'number') return 1;
  if (Array.isArray(a)) return a.reduce((s: number, v) => s + countNumbers(v), 0);
  if (a && typeof a === 'object') return Object.values(a).reduce((s: number, v) => s + countNumbers(v), 0);
  return 0;
}

/** A fixed-width text table: header row, then rows; numbers right-aligned. */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[], isHead: boolean) => r.map((v, i) => (i === 0 || isHead ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!, true), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map((r) => line(r, false))].join('\n');
}

/** Machine-wide busy CPU time (/proc/stat, Linux) and this process's CPU time (all its threads), now. */
export interface CpuMark {
  t: number;
  machineBusyS: number | null;
  ownS: number;
}

export function cpuMark(): CpuMark {
  let machineBusyS: number | null = null;
  try {
    // cpu  user nice system idle iowait irq softirq steal ... (USER_HZ = 100 ticks per second)
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    machineBusyS = (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / 100;
  } catch {
    // not Linux: no machine-wide figure
  }
  const u = process.cpuUsage();
  return { t: performance.now(), machineBusyS, ownS: (u.user + u.system) / 1e6 };
}

/** Between two marks: cores this process used, and cores other processes used (null off Linux), on average. */
export function cpuBetween(a: CpuMark, b: CpuMark): { own: number; others: number | null } {
  const s = (b.t - a.t) / 1000;
  const own = (b.ownS - a.ownS) / s;
  const others = a.machineBusyS === null || b.machineBusyS === null ? null : Math.max(0, (b.machineBusyS - a.machineBusyS) / s - own);
  return { own, others };
}
