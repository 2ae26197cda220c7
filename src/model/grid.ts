/**
 * @module model/grid
 * A raster grid: size in cells, a north-up affine transform, and a CRS.
 */
import { IbfError, type Problem } from '../errors.js';

/**
 * GDAL-ordered geotransform: `[originX, pixelWidth, rowRotation, originY, colRotation, pixelHeight]`.
 * Cell (col, row) has its top-left corner at `originX + col*pixelWidth`, `originY + row*pixelHeight`
 * (pixelHeight is negative for north-up rasters). Units are those of the CRS (degrees or metres).
 */
export type GeoTransform = readonly [number, number, number, number, number, number];

export interface Grid {
  /** Columns (cells along x). */
  width: number;
  /** Rows (cells along y). */
  height: number;
  transform: GeoTransform;
  /** `EPSG:4326` style code, or null when the file carries none. */
  crs: string | null;
}

/** Relative tolerance for comparing transforms: GeoTIFF tags carry ~15 significant digits. */
export const TRANSFORM_RTOL = 1e-9;

export function cellCount(grid: Grid): number {
  return grid.width * grid.height;
}

/** Centre of cell (col, row) in CRS units. */
export function cellCenter(grid: Grid, col: number, row: number): [number, number] {
  const [x0, dx, , y0, , dy] = grid.transform;
  return [x0 + (col + 0.5) * dx, y0 + (row + 0.5) * dy];
}

function close(a: number, b: number, scale: number): boolean {
  return Math.abs(a - b) <= TRANSFORM_RTOL * Math.max(Math.abs(scale), Math.abs(a), Math.abs(b), 1e-300);
}

/**
 * Lists every difference between two grids that must be identical for cell-by-cell overlay.
 * Origins are compared relative to the cell size, so 1e-9 of a cell is the tolerance.
 */
export function gridDifferences(a: Grid, b: Grid, nameA = 'a', nameB = 'b'): Problem[] {
  const problems: Problem[] = [];
  if (a.width !== b.width || a.height !== b.height) {
    problems.push({
      path: `${nameB}.size`,
      message: `${nameB} is ${b.width}x${b.height} cells but ${nameA} is ${a.width}x${a.height}`,
    });
  }
  const ta = a.transform;
  const tb = b.transform;
  const labels = ['origin x', 'cell width', 'row rotation', 'origin y', 'column rotation', 'cell height'];
  for (let i = 0; i < 6; i++) {
    const scale = i === 0 || i === 3 ? Math.abs(ta[1]) + Math.abs(ta[5]) : 0;
    if (!close(ta[i]!, tb[i]!, scale)) {
      problems.push({
        path: `${nameB}.transform[${i}]`,
        message: `${labels[i]} of ${nameB} is ${tb[i]} but ${nameA} has ${ta[i]}`,
      });
    }
  }
  if (a.crs && b.crs && a.crs !== b.crs) {
    problems.push({ path: `${nameB}.crs`, message: `${nameB} is in ${b.crs} but ${nameA} is in ${a.crs}` });
  }
  return problems;
}

/** Throws one `E_GRID_MISMATCH` listing every difference, or returns silently. */
export function assertSameGrid(a: Grid, b: Grid, nameA: string, nameB: string): void {
  const problems = gridDifferences(a, b, nameA, nameB);
  if (problems.length > 0) {
    throw IbfError.fromProblems(
      'E_GRID_MISMATCH',
      `${nameA} and ${nameB} are not on the same grid`,
      problems,
      'Resample one raster onto the other grid first (e.g. gdalwarp -tr/-te/-t_srs matching the exposure grid).',
    );
  }
}

/** True when the transform has no rotation terms (the only kind the engine overlays). */
export function isNorthUp(grid: Grid): boolean {
  return grid.transform[2] === 0 && grid.transform[4] === 0;
}

/** True when two grids are identical for cell-by-cell overlay (no resampling needed). */
export function sameGrid(a: Grid, b: Grid): boolean {
  return gridDifferences(a, b).length === 0;
}

/** `grid` with `crs` filled in when it has none (a file without a CRS is taken to share its partner's). */
export function withCrs(grid: Grid, crs: string | null | undefined): Grid {
  return grid.crs === null && crs ? { ...grid, crs } : grid;
}
