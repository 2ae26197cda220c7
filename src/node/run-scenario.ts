/**
 * @module node/run-scenario
 * `ibf assess` in Node: reads a scenario file, runs `assess` (src/engine/scenario.ts) with files opened
 * by path (tiles read their own windows; nothing grid-sized is held), and writes the outputs
 * all-or-nothing: result.json, zones.csv / zones.geojson, and damage.tif / ead.tif streamed tile by tile
 * into the staging folder while the run goes on.
 */
import { dirname, resolve } from 'node:path';
import { IbfError } from '../errors.js';
import { assess, type AssessOptions, type PlannedAssessment, type ScenarioIO } from '../engine/scenario.js';
import { sha256Hex } from '../engine/manifest.js';
import type { ManifestInput } from '../engine/result.js';
import type { AssessResult } from '../engine/result.js';
import type { Progress } from '../engine/run.js';
import type { TileResult } from '../engine/tile.js';
import { httpByteSource, withoutCredentials } from '../io/http.js';
import { fileByteSource, fileTiffSink, hashFile, readFileBytes } from '../io/node.js';
import { createTiledGeoTiff, type TiledGeoTiffWriter } from '../io/tiff-stream.js';
import { zonesCsv, zonesGeoJson } from '../io/zones-out.js';
import type { ImpactKernel } from '../kernels/types.js';
import { bandsMeaning, parseScenario, type Scenario } from '../model/scenario.js';
import { createNodePool } from '../pool/node.js';
import type { PoolLogger } from '../pool/pool.js';
import { parseJson } from './json.js';
import { openOutputStage, type OutputStage } from './outputs.js';

export interface RunScenarioOptions {
  kernel: ImpactKernel;
  /**
   * Worker threads for the tiles (default 0: this thread). Jobs under {@link POOL_MIN_CELL_BANDS}
   * cell-bands run on this thread anyway: starting workers would cost more than it saves.
   */
  workers?: number;
  /** Folder for the outputs; nothing is written without it. */
  outDir?: string;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  logger?: PoolLogger;
  /** Cells per tile (whole units); results do not depend on it. */
  tileCells?: number;
  /** Smallest job (cells x bands) for which `workers` starts a pool; default {@link POOL_MIN_CELL_BANDS}. */
  minPoolCellBands?: number;
}

export interface RunScenarioOutput {
  result: AssessResult;
  written: string[];
  phases: { read: number; resample: number; kernel: number; reduce: number; wall: number };
}

/** Smallest job (cells x bands) for which `workers` starts a pool. */
export const POOL_MIN_CELL_BANDS = 2 ** 22;

/** Largest URL source a scenario reads (bytes). */
const MAX_URL_BYTES = 2 ** 31;

/** GeoTIFF tile size of damage.tif / ead.tif: divides the engine's units (1024 x 128). */
const OUTPUT_TILE = 128;

/**
 * The whole file at an http(s) URL (range reads with retries; see io/http.ts): the manifest hashes the
 * exact bytes used, and tiles then read windows from memory.
 */
async function readUrl(url: string): Promise<Uint8Array> {
  const src = await httpByteSource(url);
  try {
    if (src.size > MAX_URL_BYTES) {
      throw new IbfError('E_LIMIT', `${src.name} has ${src.size} bytes; a scenario reads URL sources whole, up to ${MAX_URL_BYTES} bytes`, {
        hint: 'Download the file first, or cut the area of interest out of it (gdal_translate -projwin).',
      });
    }
    return new Uint8Array(await src.read(0, src.size));
  } finally {
    await src.close();
  }
}

/** Files named in a scenario, relative to its folder (or URLs), as `assess` reads them. */
export function nodeScenarioIO(dir: string): ScenarioIO {
  const inputs = new Map<string, Promise<ManifestInput>>();
  const record = (key: string, make: () => Promise<ManifestInput>) => {
    if (!inputs.has(key)) inputs.set(key, make());
    return inputs.get(key)!;
  };
  const urlBytes = new Map<string, Promise<Uint8Array>>();
  const fromUrl = (role: string, url: string) => {
    let p = urlBytes.get(url);
    if (!p) urlBytes.set(url, (p = readUrl(url)));
    void record(url, async () => {
      const b = await p!;
      return { role, path: withoutCredentials(url), sha256: await sha256Hex(b), bytes: b.byteLength };
    }).catch(() => {});
    return p;
  };
  const isUrl = (ref: string) => /^https?:\/\//i.test(ref);
  return {
    async raster(role, ref) {
      if (isUrl(ref)) return { source: { kind: 'bytes', bytes: await fromUrl(role, ref) }, name: withoutCredentials(ref) };
      const abs = resolve(dir, ref);
      await record(abs, async () => ({ role, path: ref, ...(await hashFile(abs)) }));
      return { source: { kind: 'path', path: abs }, name: ref };
    },
    async text(role, ref) {
      const bytes = isUrl(ref) ? await fromUrl(role, ref) : await readFileBytes(resolve(dir, ref));
      if (!isUrl(ref)) await record(resolve(dir, ref), async () => ({ role, path: ref, sha256: await sha256Hex(bytes), bytes: bytes.byteLength }));
      return new TextDecoder().decode(bytes);
    },
    async inputs() {
      const settled = await Promise.allSettled(inputs.values());
      return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    },
    openPath: fileByteSource,
  };
}

/** Reads and validates a scenario file; every problem in one error. */
export async function loadScenario(path: string): Promise<{ scenario: Scenario; bytes: Uint8Array; dir: string }> {
  const bytes = await readFileBytes(path);
  const doc = parseJson(bytes, path, 'A scenario is a JSON object; see README "Scenario" for an example.');
  return { scenario: parseScenario(doc, path), bytes, dir: dirname(resolve(path)) };
}

/** The streamed per-cell rasters of a run (damage.tif, ead.tif) in the staging folder. */
class RasterOutputs {
  private writers: Array<{ name: string; w: TiledGeoTiffWriter; pick: (r: TileResult) => Float32Array[] | undefined }> = [];

  constructor(private readonly stage: OutputStage) {}

  async open(p: PlannedAssessment, s: Scenario): Promise<void> {
    const { plan, bands } = p;
    if (plan.cellOutputs.damage) {
      const sink = await fileTiffSink(this.stage.path('damage.tif'));
      const w = createTiledGeoTiff(sink, { grid: plan.grid, nBands: plan.nBands, nodata: NaN, tileSize: OUTPUT_TILE, bandNames: bands.map((b) => b.name), metadata: { unit: s.exposure.unit, quantity: 'damage' } });
      this.writers.push({ name: 'damage.tif', w, pick: (r) => r.damage });
    }
    if (plan.cellOutputs.ead) {
      const sink = await fileTiffSink(this.stage.path('ead.tif'));
      const w = createTiledGeoTiff(sink, { grid: plan.grid, nBands: 1, nodata: NaN, tileSize: OUTPUT_TILE, bandNames: ['ead'], metadata: { unit: `${s.exposure.unit}/year`, quantity: 'expected annual damage', method: plan.cellOutputs.ead.method } });
      this.writers.push({ name: 'ead.tif', w, pick: (r) => (r.ead ? [r.ead] : undefined) });
    }
  }

  async write(r: TileResult): Promise<void> {
    for (const { w, pick } of this.writers) {
      const bands = pick(r);
      if (bands) await w.writeWindow(r.window, bands);
    }
  }

  async close(): Promise<void> {
    for (const { name, w } of this.writers) {
      await w.close();
      this.stage.add(name);
    }
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.writers.map(({ w }) => w.abort()));
  }
}

/** Runs the scenario at `path` and returns its result (and writes outputs when `outDir` is set). */
export async function runScenarioFile(path: string, opts: RunScenarioOptions): Promise<RunScenarioOutput> {
  const { scenario: s, bytes: scenarioBytes, dir } = await loadScenario(path);
  const meaning = bandsMeaning(s);
  const stage = opts.outDir ? await openOutputStage(opts.outDir) : undefined;
  const rasters = stage ? new RasterOutputs(stage) : undefined;
  let pool: ReturnType<typeof createNodePool> | undefined;
  try {
    const aopts: AssessOptions = {
      io: nodeScenarioIO(dir),
      kernel: opts.kernel,
      signal: opts.signal,
      onProgress: opts.onProgress,
      logger: opts.logger,
      tileCells: opts.tileCells,
      scenarioSha256: await sha256Hex(scenarioBytes),
      cellOutputs: { damage: Boolean(stage) && s.outputs?.damageRaster !== false, ead: Boolean(stage) && meaning.type === 'return-periods' },
      onPlan: async (p) => {
        const { grid, nBands } = p.plan;
        if ((opts.workers ?? 0) > 0 && grid.width * grid.height * nBands >= (opts.minPoolCellBands ?? POOL_MIN_CELL_BANDS)) {
          pool = createNodePool({ size: opts.workers, kernel: opts.kernel.name, logger: opts.logger });
          aopts.pool = pool;
        }
        await rasters?.open(p, s);
      },
      onTile: rasters ? (r) => rasters.write(r) : undefined,
    };
    // onPlan makes the pool once the plan shows the job is large enough; assess reads aopts.pool after it
    const out = await assess(s, aopts);
    let written: string[] = [];
    if (stage) {
      opts.signal?.throwIfAborted();
      await rasters!.close();
      const { result } = out;
      await stage.write('result.json', `${JSON.stringify(result, null, 2)}\n`);
      if (out.planned.zones && result.zones.length) {
        await stage.write('zones.csv', zonesCsv(result));
        await stage.write('zones.geojson', `${JSON.stringify(zonesGeoJson(result, out.planned.zones))}\n`);
      }
      written = await stage.commit();
    }
    return { result: out.result, written, phases: out.phases };
  } catch (e) {
    await rasters?.abort();
    await stage?.abort();
    throw e;
  } finally {
    await pool?.close();
  }
}
