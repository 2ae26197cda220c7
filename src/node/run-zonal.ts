/**
 * @module node/run-zonal
 * `ibf zonal` in Node: zonal statistics of a raster band (a file or a URL) over a GeoJSON file, through
 * the runtime-neutral engine/zonal-source.ts.
 */
import type { ByteInput } from '../io/geotiff.js';
import { openByteSource } from '../io/node.js';
import { zonalOfSource, type RunZonalOptions, type ZonalOutput } from '../engine/zonal-source.js';
import { readJsonFile } from './json.js';

export type { RunZonalOptions, ZonalOutput };

/** Zonal statistics of a raster (path, http(s) URL or bytes) over the zones in `zonesPath`. */
export async function runZonal(raster: string | ByteInput, zonesPath: string, opts: RunZonalOptions = {}): Promise<ZonalOutput> {
  // a path or an http(s) URL: only the header and the window the zones need are read (ranged reads)
  const [source, doc] = await Promise.all([typeof raster === 'string' ? openByteSource(raster) : raster, readJsonFile(zonesPath, 'Zones must be a GeoJSON FeatureCollection of Polygon / MultiPolygon features.')]);
  try {
    return await zonalOfSource(source, typeof raster === 'string' ? raster : 'raster', doc, zonesPath, opts);
  } finally {
    if (typeof raster === 'string') await (source as { close(): Promise<void> }).close();
  }
}

