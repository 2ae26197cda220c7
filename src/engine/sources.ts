/**
 * @module engine/sources
 * Where a layer of an assessment plan comes from, in a form that crosses to a worker: a file path (Node),
 * a URL, bytes or a Blob (browser uploads; a Blob is cloned by reference), or a raster already decoded.
 * A tile opens the layer itself and decodes only its window (`openGeoTiff` keeps the parsed header and
 * block table, so each further window costs the blocks it touches).
 */
import { IbfError } from '../errors.js';
import { openGeoTiff, type ByteInput, type GeoTiffReader } from '../io/geotiff.js';
import { httpByteSource } from '../io/http.js';
import type { CellWindow } from '../geo/resample.js';
import type { Grid } from '../model/grid.js';
import type { BandArray, Raster } from '../model/raster.js';

export type SourceRef =
  | { kind: 'path'; path: string }
  | { kind: 'url'; url: string }
  | { kind: 'bytes'; bytes: Uint8Array | Blob }
  /** Decoded cells: `raster` is the window of the layer's grid whose top-left cell is `origin` (column, row). */
  | { kind: 'raster'; raster: Raster; origin: readonly [number, number] };

/** One layer of a plan: a source, its grid, and how to read it. */
export interface LayerRef {
  source: SourceRef;
  /** Name for messages (file path, URL without credentials). */
  name: string;
  /** The layer's own grid (CRS filled in). */
  grid: Grid;
  /** 0-based bands of the file to read, in this order. */
  bands: number[];
  /** Overrides the file's nodata; undefined = the file's. */
  nodata?: number | null;
  as: 'float32' | 'float64' | 'native';
}

/** Opens a path source; only the Node runtime has one (src/node). */
export type PathOpener = (path: string) => Promise<ByteInput & { close?(): Promise<void> }>;

/** Per-runtime state a tile reads through: opened files stay open across tiles of one plan. */
export class SourceCache {
  private readers = new Map<string, Promise<GeoTiffReader>>();
  private closers: Array<() => Promise<void>> = [];

  constructor(private readonly openPath?: PathOpener) {}

  private key(layer: LayerRef): string | null {
    const s = layer.source;
    if (s.kind === 'path') return `path:${s.path}:${layer.nodata}`;
    if (s.kind === 'url') return `url:${s.url}:${layer.nodata}`;
    return null;
  }

  private async open(layer: LayerRef): Promise<GeoTiffReader> {
    const s = layer.source;
    const nodataOpt = layer.nodata !== undefined ? { nodata: layer.nodata } : {};
    let input: ByteInput;
    if (s.kind === 'bytes') input = s.bytes;
    else if (s.kind === 'url') {
      const src = await httpByteSource(s.url);
      this.closers.push(() => src.close());
      input = src;
    } else if (s.kind === 'path') {
      if (!this.openPath) {
        throw new IbfError('E_USAGE', `${layer.name}: file paths can only be read in Node`, { hint: 'In the browser or on the edge, pass the file as bytes, a Blob or a URL.' });
      }
      const src = await this.openPath(s.path);
      if (src.close) this.closers.push(() => src.close!());
      input = src;
    } else throw new IbfError('E_USAGE', `${layer.name}: not a file source`);
    return openGeoTiff(input, { name: layer.name, ...nodataOpt });
  }

  /** The opened file of `layer` (opened once per cache). */
  reader(layer: LayerRef): Promise<GeoTiffReader> {
    const key = this.key(layer);
    if (key === null) return this.open(layer);
    let r = this.readers.get(key);
    if (!r) {
      r = this.open(layer);
      // a failed open is not cached: a retried tile tries again
      r.catch(() => this.readers.delete(key));
      this.readers.set(key, r);
    }
    return r;
  }

  async close(): Promise<void> {
    const closers = this.closers;
    this.closers = [];
    this.readers.clear();
    await Promise.allSettled(closers.map((c) => c()));
  }
}

/** Copies cells `window` out of a decoded raster that is the window of its layer's grid at `origin`. */
function sliceRaster(raster: Raster, origin: readonly [number, number], window: CellWindow, bands: number[], name: string, into?: BandArray[]): Raster {
  const [x0, y0, x1, y1] = window;
  const ox = x0 - origin[0];
  const oy = y0 - origin[1];
  const w = x1 - x0;
  const h = y1 - y0;
  if (ox < 0 || oy < 0 || ox + w > raster.grid.width || oy + h > raster.grid.height) {
    throw new IbfError('E_USAGE', `${name}: window [${window.join(', ')}] is outside the decoded cells`);
  }
  const t = raster.grid.transform;
  const grid: Grid = { width: w, height: h, transform: [t[0] + ox * t[1], t[1], 0, t[3] + oy * t[5], 0, t[5]], crs: raster.grid.crs };
  const out = bands.map((b, j) => {
    const src = raster.bands[b];
    if (!src) throw new IbfError('E_USAGE', `${name}: band ${b + 1} does not exist`);
    const dst = into?.[j] ?? new (src.constructor as new (n: number) => BandArray)(w * h);
    for (let r = 0; r < h; r++) {
      const from = (oy + r) * raster.grid.width + ox;
      dst.set(src.subarray(from, from + w) as never, r * w);
    }
    return dst;
  });
  return { grid, bands: out, nodata: raster.nodata, ...(raster.bandNames ? { bandNames: bands.map((b) => raster.bandNames![b]!) } : {}) };
}

/**
 * Reads `window` (cells of the layer's grid) of `layer`, its bands in the layer's type; into the arrays
 * `into` when given (one per band, window-sized, of the layer's float type: a tile's reused buffers).
 */
export async function readLayerWindow(layer: LayerRef, window: CellWindow, cache: SourceCache, into?: BandArray[]): Promise<Raster> {
  const s = layer.source;
  if (s.kind === 'raster') {
    const r = sliceRaster(s.raster, s.origin, window, layer.bands, layer.name, into);
    return layer.nodata !== undefined ? { ...r, nodata: layer.nodata } : r;
  }
  const reader = await cache.reader(layer);
  const r = await reader.read({ window, bands: layer.bands, as: layer.as, ...(into ? { into } : {}) });
  return { ...r, grid: { ...r.grid, crs: layer.grid.crs } };
}

/** `layer` with a decoded source cut down to `window` (what a tile needs), so a worker is sent only that. */
export function layerForWindow(layer: LayerRef, window: CellWindow | null): LayerRef {
  const s = layer.source;
  if (s.kind !== 'raster') return layer;
  if (!window) return { ...layer, source: { kind: 'raster', raster: { ...s.raster, bands: s.raster.bands.map(() => new Float32Array(0)), grid: { ...s.raster.grid, width: 0, height: 0 } }, origin: [0, 0] } };
  const bands = Array.from({ length: s.raster.bands.length }, (_, i) => i);
  const raster = sliceRaster(s.raster, s.origin, window, bands, layer.name);
  return { ...layer, source: { kind: 'raster', raster, origin: [window[0], window[1]] } };
}
