/**
 * @module engine/tiling
 * How the target grid is cut: into fixed *units* (the grain of summation) and *tiles* (the grain of work).
 *
 * A unit is a fixed rectangle of the grid, {@link UNIT_WIDTH} x {@link UNIT_HEIGHT} cells from the grid's
 * top-left corner (clipped at the right and bottom edges). The kernel sums each unit's cells (and each
 * zone's cells within the unit) from zero, in row-major order within the unit; the engine adds those
 * unit sums exactly (src/engine/exact-sum.ts). Because units do not depend on the tiling, a result is
 * the same bits for every tile size, tile order and worker count.
 *
 * A tile is a rectangle of whole units: one task of the map phase, read from the sources as one window
 * per layer. Tile sizes are chosen so that a tile's working set (every hazard band as float32, exposure as
 * float64, per-cell damage when asked for) stays around {@link TILE_BYTES}, and tile edges fall on the
 * exposure file's block edges when its blocks are a whole number of units (so no block is decoded twice).
 */
import { IbfError } from '../errors.js';
import type { CellWindow } from '../geo/resample.js';

/** Unit width in cells (a multiple of every common COG block width: 256, 512, 1024). */
export const UNIT_WIDTH = 1024;
/** Unit height in cells. */
export const UNIT_HEIGHT = 128;
/** Working-set bytes a tile aims at (hazard bands, exposure, damage). */
export const TILE_BYTES = 48 * 2 ** 20;

/** Units of a `width` x `height` grid, row-major: their windows `[x0, y0, x1, y1)`. */
export function unitWindow(width: number, height: number, ux: number, uy: number): CellWindow {
  const x0 = ux * UNIT_WIDTH;
  const y0 = uy * UNIT_HEIGHT;
  return [x0, y0, Math.min(width, x0 + UNIT_WIDTH), Math.min(height, y0 + UNIT_HEIGHT)];
}

/** The units inside `tile` (a window of whole units), row-major. */
export function unitsOf(tile: CellWindow, width: number, height: number): CellWindow[] {
  const out: CellWindow[] = [];
  for (let uy = tile[1] / UNIT_HEIGHT; uy * UNIT_HEIGHT < tile[3]; uy++) {
    for (let ux = tile[0] / UNIT_WIDTH; ux * UNIT_WIDTH < tile[2]; ux++) out.push(unitWindow(width, height, ux, uy));
  }
  return out;
}

export interface TilingOptions {
  /** Cells per tile to aim at (rounded to whole units). Default: from {@link TILE_BYTES} and the band count. */
  tileCells?: number;
  /** Hazard bands per cell (sizes the default). */
  nBands?: number;
  /** Per-cell damage kept per band (sizes the default). */
  damage?: boolean;
  /** Block size of the exposure file, to align tile edges with. */
  block?: { width: number; height: number };
}

/** Default cells per tile for `nBands` bands: the working set near {@link TILE_BYTES}. */
export function defaultTileCells(nBands: number, damage = false): number {
  const bytesPerCell = 4 * nBands * (damage ? 2 : 1) + 8 + 16;
  return Math.max(UNIT_WIDTH * UNIT_HEIGHT, Math.floor(TILE_BYTES / bytesPerCell));
}

/**
 * Cuts a `width` x `height` grid into tiles of whole units, row-major (tile order = reduce order).
 * Tiles are as wide as the grid when a full row of units fits the budget, else a whole number of units
 * wide; heights are a whole number of units (and of exposure blocks when those are whole units).
 */
export function planTiles(width: number, height: number, opts: TilingOptions = {}): CellWindow[] {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new IbfError('E_USAGE', `cannot tile a ${width} x ${height} grid`, { hint: 'Grid sizes are positive integers.' });
  }
  const budget = opts.tileCells ?? defaultTileCells(opts.nBands ?? 1, opts.damage);
  if (!(budget > 0)) throw new IbfError('E_USAGE', `tileCells must be > 0, got ${budget}`, { hint: 'Leave tileCells out for the default.' });
  const unitsX = Math.ceil(width / UNIT_WIDTH);
  const unitsY = Math.ceil(height / UNIT_HEIGHT);
  const unitCells = Math.min(width, UNIT_WIDTH) * UNIT_HEIGHT;
  const budgetUnits = Math.max(1, Math.floor(budget / unitCells));
  // exposure blocks a whole number of units high: tiles are whole blocks high (narrower if need be)
  const bh = opts.block?.height ?? 0;
  const per = bh > UNIT_HEIGHT && bh % UNIT_HEIGHT === 0 ? Math.min(bh / UNIT_HEIGHT, unitsY) : 1;
  const ux = Math.max(1, Math.min(unitsX, Math.floor(budgetUnits / per)));
  const uy = Math.min(unitsY, per * Math.max(1, Math.floor(budgetUnits / (ux * per))));
  const tiles: CellWindow[] = [];
  for (let ty = 0; ty < unitsY; ty += uy) {
    for (let tx = 0; tx < unitsX; tx += ux) {
      tiles.push([tx * UNIT_WIDTH, ty * UNIT_HEIGHT, Math.min(width, (tx + ux) * UNIT_WIDTH), Math.min(height, (ty + uy) * UNIT_HEIGHT)]);
    }
  }
  return tiles;
}
