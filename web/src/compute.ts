/**
 * @module web/compute
 * A scenario assessed in this browser: the engine's `assess` with the tiles on the Comlink worker pool
 * (src/pool/browser.ts, one Web Worker per core), files as Blobs (dropped, or made by the demo generator)
 * and rasters at http(s) URLs read with range requests (COGs: only the windows the tiles need). Per-cell
 * outputs (damage per band when small enough, EAD for return periods) are streamed into GeoTIFFs and
 * into downsampled previews tile by tile, so memory follows the tiles, not the raster.
 */
import { IbfError } from '../../src/errors.js';
import { sha256Hex } from '../../src/engine/manifest.js';
import type { AssessResult, ManifestInput } from '../../src/engine/result.js';
import { assess, type ScenarioIO } from '../../src/engine/scenario.js';
import type { Progress } from '../../src/engine/run.js';
import { createTiledGeoTiff, memoryTiffSink, type TiledGeoTiffWriter, type MemoryTiffSink } from '../../src/io/tiff-stream.js';
import { httpByteSource, withoutCredentials } from '../../src/io/http.js';
import { readRasterInfo, type RasterInfo } from '../../src/io/geotiff.js';
import type { ImpactKernel } from '../../src/kernels/types.js';
import type { Scenario } from '../../src/model/scenario.js';
import type { Pool } from '../../src/pool/pool.js';
import { memberBands, type Layout } from './lib/metrics.js';
import { Downsampler, type Preview } from './lib/preview.js';

/** Most cells x bands of per-cell damage kept (GeoTIFF in memory and previews): 16 M = 64 MB of float32. */
export const DAMAGE_CELL_BANDS = 16 * 1024 * 1024;
/** Tile size of the damage GeoTIFFs: divides the engine's units (1024 x 128), as `ibf assess` writes them. */
const OUTPUT_TILE = 128;

const isUrl = (ref: string) => /^https?:\/\//i.test(ref);
const isData = (ref: string) => /^data:/i.test(ref);
/** The file name a scenario path refers to (dropped files are matched by name). */
export const baseName = (ref: string) => ref.split(/[\\/]/).pop() ?? ref;

/**
 * How `assess` reaches the scenario's files here: a dropped / generated file by its name, a `data:` URL
 * inline, an http(s) URL by range requests (rasters) or whole (text). Files and `data:` URLs are hashed
 * into the manifest as the CLI does; URL rasters are read in windows, so the manifest holds the sha256
 * of their URL and size instead, and the result says so in `warnings`.
 */
export function browserIO(files: ReadonlyMap<string, Blob>): ScenarioIO & { urlRasters: string[] } {
  const inputs = new Map<string, Promise<ManifestInput>>();
  const urlRasters: string[] = [];
  const record = (key: string, make: () => Promise<ManifestInput>) => {
    if (!inputs.has(key)) inputs.set(key, make());
    return inputs.get(key)!;
  };
  const fileOf = (role: string, ref: string): Blob => {
    const f = files.get(ref) ?? files.get(baseName(ref));
    if (!f) {
      throw new IbfError('E_INPUT_NOT_FOUND', `the scenario's ${role} "${ref}" is not among the files given`, {
        hint: `Drop ${baseName(ref)} together with the scenario, or give an http(s) URL. Files here: ${[...files.keys()].join(', ') || 'none'}.`,
      });
    }
    return f;
  };
  const hashBlob = (role: string, ref: string, blob: Blob) =>
    record(`${role}:${ref}`, async () => ({ role, path: ref, sha256: await sha256Hex(await blob.arrayBuffer()), bytes: blob.size }));
  const dataBlob = async (ref: string) => {
    const res = await fetch(ref).catch((cause: unknown) => {
      throw new IbfError('E_INPUT_FORMAT', 'a data: URL in the scenario cannot be read', { cause, hint: 'Write it as data:<type>;base64,<bytes>.' });
    });
    return res.blob();
  };
  return {
    urlRasters,
    async raster(role, ref) {
      if (isUrl(ref)) {
        const name = withoutCredentials(ref);
        urlRasters.push(name);
        await record(`${role}:${ref}`, async () => {
          const head = await fetch(ref, { method: 'HEAD' }).catch(() => null);
          const bytes = Number(head?.headers.get('content-length') ?? 0) || 0;
          return { role, path: name, sha256: await sha256Hex(`${name}\n${bytes}`), bytes };
        });
        return { source: { kind: 'url', url: ref }, name };
      }
      const blob = isData(ref) ? await dataBlob(ref) : fileOf(role, ref);
      await hashBlob(role, isData(ref) ? `data:${role}` : ref, blob);
      return { source: { kind: 'bytes', bytes: blob }, name: isData(ref) ? `${role} (data: URL)` : ref };
    },
    async text(role, ref) {
      if (isUrl(ref)) {
        const res = await fetch(ref);
        if (!res.ok) throw new IbfError('E_INPUT_NOT_FOUND', `${withoutCredentials(ref)} answered ${res.status}`, { hint: 'Check the URL; the server must allow this page (CORS).' });
        const bytes = new Uint8Array(await res.arrayBuffer());
        await record(`${role}:${ref}`, async () => ({ role, path: withoutCredentials(ref), sha256: await sha256Hex(bytes), bytes: bytes.byteLength }));
        return new TextDecoder().decode(bytes);
      }
      const blob = isData(ref) ? await dataBlob(ref) : fileOf(role, ref);
      await hashBlob(role, isData(ref) ? `data:${role}` : ref, blob);
      return blob.text();
    },
    async inputs() {
      const settled = await Promise.allSettled(inputs.values());
      return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    },
  };
}

export interface BrowserRun {
  result: AssessResult;
  seconds: number;
  /** Per-cell damage (one band per hazard band) and EAD, as GeoTIFF bytes, when they were kept. */
  damageTiff?: Uint8Array;
  eadTiff?: Uint8Array;
  /** Downsampled per-cell damage per band and EAD, for the map. */
  previews: Preview[];
  /** Why no per-cell damage was kept, if it was not. */
  damageNote?: string;
}

export interface RunOptions {
  kernel: ImpactKernel;
  pool?: Pool;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** sha256 of the scenario document bytes, for the manifest. */
  scenarioSha256?: string;
}

/** Assesses `scenario` over `files` in this browser. See the module header. */
export async function runInBrowser(scenario: Scenario, files: ReadonlyMap<string, Blob>, opts: RunOptions): Promise<BrowserRun> {
  const t0 = performance.now();
  const io = browserIO(files);
  let damage: { writer?: TiledGeoTiffWriter; sink?: MemoryTiffSink; previews: Downsampler[] } | undefined;
  let ead: { writer: TiledGeoTiffWriter; sink: MemoryTiffSink; preview: Downsampler } | undefined;
  let damageNote: string | undefined;
  let labels: string[] = [];
  let layout: Layout | undefined;
  const previewOf: number[] = [];
  const leadLabels = (scenario.hazard.bands?.leadTimes ?? []).map(String);
  const unit = scenario.exposure.unit;
  const isRp = scenario.hazard.bands?.type === 'return-periods';
  // per-cell damage only when small enough: decided from the headers, before the tiles are sized
  const [hz, ex] = await Promise.all([headerOf(scenario.hazard.source, files), headerOf(scenario.exposure.source, files)]);
  const nBands = scenario.hazard.select?.length ?? hz.bandCount;
  const cellBands = ex.grid.width * ex.grid.height * nBands;
  const wantDamage = cellBands <= DAMAGE_CELL_BANDS;
  // ensembles: damage previews are the mean over members per lead time
  const b = scenario.hazard.bands;
  if (b?.type === 'ensemble' && b.leadTimes?.length) layout = { members: b.members ?? Math.round(nBands / b.leadTimes.length), leads: b.leadTimes.length, order: b.order ?? 'member-major' };
  if (!wantDamage) damageNote = `per-cell damage is not kept for ${nBands} band(s) x ${ex.grid.width} x ${ex.grid.height} cells (over ${DAMAGE_CELL_BANDS / 2 ** 20} M cell-bands); the zone sums are complete`;
  const out = await assess(scenario, {
    io,
    kernel: opts.kernel,
    pool: opts.pool,
    signal: opts.signal,
    onProgress: opts.onProgress,
    scenarioSha256: opts.scenarioSha256,
    cellOutputs: { damage: wantDamage, ead: isRp },
    onPlan(p) {
      const { plan } = p;
      labels = p.bands.map((b) => (b.returnPeriod !== undefined ? `${b.returnPeriod}-year` : b.name));
      if (plan.cellOutputs.damage) {
        const sink = memoryTiffSink();
        damage = {
          sink,
          writer: createTiledGeoTiff(sink, { grid: plan.grid, nBands: plan.nBands, nodata: NaN, tileSize: OUTPUT_TILE, bandNames: p.bands.map((b) => b.name), metadata: { unit, quantity: 'damage' } }),
          previews: (layout ? Array.from({ length: layout.leads }) : p.bands).map(() => new Downsampler(plan.grid)),
        };
        // ensembles: each band's cells go into its lead time's preview (a mean over members and cells)
        if (layout) for (let l = 0; l < layout.leads; l++) for (const b of memberBands(layout, l)) previewOf[b] = l;
      }
      if (plan.cellOutputs.ead) {
        const sink = memoryTiffSink();
        ead = {
          sink,
          writer: createTiledGeoTiff(sink, { grid: plan.grid, nBands: 1, nodata: NaN, tileSize: OUTPUT_TILE, bandNames: ['ead'], metadata: { unit: `${unit}/year`, quantity: 'expected annual damage', method: plan.cellOutputs.ead.method } }),
          preview: new Downsampler(plan.grid),
        };
      }
    },
    async onTile(r) {
      if (damage && r.damage) {
        r.damage.forEach((b, i) => damage!.previews[layout ? previewOf[i]! : i]!.addWindow(r.window, b));
        await damage.writer!.writeWindow(r.window, r.damage);
      }
      if (ead && r.ead) {
        ead.preview.addWindow(r.window, r.ead);
        await ead.writer.writeWindow(r.window, [r.ead]);
      }
    },
  });
  const result = out.result;
  if (io.urlRasters.length) result.warnings.push(`read by range requests, so the manifest identifies ${io.urlRasters.join(', ')} by URL and size, not by content`);
  const previews: Preview[] = [];
  let damageTiff: Uint8Array | undefined;
  let eadTiff: Uint8Array | undefined;
  if (damage?.writer) {
    await damage.writer.close();
    damageTiff = damage.sink!.bytes();
    damage.previews.forEach((d, i) => previews.push(d.preview({ id: `damage-${i}`, label: layout ? `Damage per cell, mean of ${layout.members} members, ${leadLabels[i] ?? i + 1}` : `Damage per cell, ${labels[i]}`, unit, quantity: 'damage' })));
  }
  if (ead) {
    await ead.writer.close();
    eadTiff = ead.sink.bytes();
    previews.push(ead.preview.preview({ id: 'ead', label: 'Expected annual damage per cell', unit: `${unit}/year`, quantity: 'ead' }));
  }
  return { result, seconds: (performance.now() - t0) / 1000, damageTiff, eadTiff, previews, damageNote };
}

/** The header of a scenario raster (a dropped file, a data: URL or an http(s) URL). */
async function headerOf(ref: string, files: ReadonlyMap<string, Blob>): Promise<RasterInfo> {
  if (isUrl(ref)) {
    const src = await httpByteSource(ref);
    try {
      return await readRasterInfo(src, { name: withoutCredentials(ref) });
    } finally {
      await src.close();
    }
  }
  const blob = isData(ref) ? await (await fetch(ref)).blob() : files.get(ref) ?? files.get(baseName(ref));
  if (!blob) throw new IbfError('E_INPUT_NOT_FOUND', `the scenario's raster "${ref}" is not among the files given`, { hint: `Drop ${baseName(ref)} together with the scenario, or give an http(s) URL.` });
  return readRasterInfo(blob, { name: baseName(ref) });
}
