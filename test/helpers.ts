/** Shared test helpers: paths to ../shared/data and the repo, temporary folders, GeoTIFF fixtures on disk. */
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeGeoTiff } from '../src/io/geotiff.js';
import type { Grid } from '../src/model/grid.js';

export const REPO = resolve(import.meta.dirname, '..');
export const SHARED = resolve(REPO, '..', 'shared', 'data');
export const FIAT = join(SHARED, 'fiat-synthetic-grid');

export function expectedJson(folder: string): Record<string, any> {
  return JSON.parse(readFileSync(join(SHARED, folder, 'expected.json'), 'utf8'));
}

export function tempDir(prefix = 'ibf-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a float32 GeoTIFF with `bands` on `grid` to `path`. */
export function writeTif(path: string, grid: Grid, bands: Float32Array[] | Float64Array[], nodata: number | null = null): void {
  writeFileSync(path, new Uint8Array(writeGeoTiff({ grid, bands, nodata })));
}

export function writeJson(path: string, doc: unknown): void {
  writeFileSync(path, JSON.stringify(doc, null, 2));
}

export function listFiles(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** |a - b| <= rtol * |b| */
export function relClose(a: number, b: number, rtol: number): boolean {
  return Math.abs(a - b) <= rtol * Math.abs(b);
}
