/**
 * @module model/raster
 * A raster: a grid plus one or more bands of cell values in row-major order, and a nodata rule.
 */
import type { Grid } from './grid.js';

/** Typed arrays a band may be held in once decoded. Kernels take Float32Array hazard and Float64Array exposure. */
export type BandArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

export interface Raster<T extends BandArray = BandArray> {
  grid: Grid;
  /** One array per band, each `grid.width * grid.height` long, row-major (row 0 at the top). */
  bands: T[];
  /**
   * The value that marks a cell without data, or null when every finite value is data.
   * NaN cells are always nodata, whatever this says.
   */
  nodata: number | null;
  /** Band descriptions from the file, when present. */
  bandNames?: string[];
}

/** True when `v` is nodata under `nodata` (NaN always is). */
export function isNodata(v: number, nodata: number | null): boolean {
  return v !== v || (nodata !== null && v === nodata);
}
