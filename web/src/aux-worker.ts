/**
 * @module web/aux-worker
 * The dashboard's helper worker (the tiles run on the src/pool workers): generates the demo rasters and
 * reads downsampled previews of hazard rasters, so neither ever blocks the page.
 */
import type { DemoSpec } from '../../src/demo/generate.js';
import { openGeoTiff } from '../../src/io/geotiff.js';
import { httpByteSource } from '../../src/io/http.js';
import { generateDemo, type GeneratedDemo } from './demo-gen.js';
import { Downsampler, meanOfBands, type Preview } from './lib/preview.js';
import { serve } from './lib/rpc.js';

export interface PreviewGroup {
  id: string;
  label: string;
  /** 0-based bands averaged into this layer (members of a lead time), or one band. */
  bands: number[];
}

export type AuxOps = {
  demo: [{ spec: DemoSpec; generator: number; zonesText: string }, GeneratedDemo];
  preview: [{ source: Blob | string; name: string; unit: string; groups: PreviewGroup[]; nodata?: number | null; maxSize?: number }, Preview[]];
};

async function previews(a: AuxOps['preview'][0]): Promise<Preview[]> {
  const closeables: Array<() => Promise<void>> = [];
  try {
    let input: Blob | Awaited<ReturnType<typeof httpByteSource>> = a.source as Blob;
    if (typeof a.source === 'string') {
      const src = await httpByteSource(a.source);
      closeables.push(() => src.close());
      input = src;
    }
    const reader = await openGeoTiff(input, { name: a.name, ...(a.nodata !== undefined ? { nodata: a.nodata } : {}) });
    const info = reader.info;
    const maxSize = a.maxSize ?? 512;
    // the smallest overview still at least maxSize cells a side (COGs), else the full image
    let overview: number | undefined;
    info.overviews.forEach((o, i) => {
      if (Math.max(o.width, o.height) >= maxSize) overview = i;
    });
    const out: Preview[] = [];
    for (const g of a.groups) {
      const bands = [];
      let grid = info.grid;
      for (const b of g.bands) {
        const r = await reader.read({ bands: [b], as: 'float32', ...(overview !== undefined ? { overview } : {}) });
        grid = r.grid;
        bands.push(r.bands[0] as Float32Array);
      }
      const values = bands.length === 1 ? bands[0]! : meanOfBands(bands, info.nodata);
      const d = new Downsampler(grid, maxSize);
      d.addWindow([0, 0, grid.width, grid.height], values, bands.length === 1 ? info.nodata : null);
      out.push(d.preview({ id: g.id, label: g.label, unit: a.unit, quantity: 'hazard' }));
    }
    return out;
  } finally {
    for (const c of closeables) await c().catch(() => {});
  }
}

serve<AuxOps>(globalThis as never, {
  async demo(a, progress) {
    const g = await generateDemo(a.spec, a.generator, a.zonesText, progress);
    const transfer = [...g.previews.forecast, ...g.previews.risk].map((p) => p.values.buffer as ArrayBuffer);
    return { value: g, transfer };
  },
  async preview(a) {
    const value = await previews(a);
    return { value, transfer: value.map((p) => p.values.buffer as ArrayBuffer) };
  },
});
