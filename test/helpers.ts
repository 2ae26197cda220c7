/** Shared test helpers: paths to ../shared/data and the repo, temporary folders, GeoTIFF fixtures on disk. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { IbfError } from '../src/errors.js';
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

/** The IbfError `f` throws (fails the test when it throws something else or nothing). */
export function thrown(f: () => unknown): IbfError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(IbfError);
    return e as IbfError;
  }
  throw new Error('expected an IbfError');
}

/** The IbfError `p` rejects with (fails the test when it rejects with something else or resolves). */
export async function ibfError(p: Promise<unknown>): Promise<IbfError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IbfError);
    return e as IbfError;
  }
  throw new Error('expected the promise to reject');
}

/** Every file under `dir` (relative path, sorted -> bytes); empty when `dir` does not exist. */
export function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!existsSync(dir)) return out;
  for (const f of (readdirSync(dir, { recursive: true }) as string[]).sort()) {
    const p = join(dir, f);
    try {
      out.set(f, readFileSync(p));
    } catch {
      // a folder
    }
  }
  return out;
}
