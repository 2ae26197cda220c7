/**
 * @module web/engine-worker
 * The dashboard's assessments run here, off the page's thread: planning (zone coverage), the reduction,
 * the per-cell previews and GeoTIFFs, with the tiles on a pool of Web Workers started from this worker
 * (src/pool/browser.ts, one per core). The page sends the scenario and its files (Blobs travel by
 * reference) and gets progress, then the result; Cancel terminates this worker and its pool.
 */
import { parseScenario } from '../../src/model/scenario.js';
import { loadKernelFromUrl } from '../../src/kernels/load-browser.js';
import type { ImpactKernel } from '../../src/kernels/types.js';
import { createBrowserPool } from '../../src/pool/browser.js';
import type { Pool } from '../../src/pool/pool.js';
import { runInBrowser, type BrowserRun } from './compute.js';
import { serve } from './lib/rpc.js';

export interface RunRequest {
  doc: Record<string, unknown>;
  files: Record<string, Blob>;
  scenarioSha256: string;
  workers: number;
  /** Absolute URLs of the kernels and of the pool's worker script. */
  wasm: { simd: string; scalar: string };
  poolWorker: string;
}

export type EngineOps = { run: [RunRequest, BrowserRun] };

let kernel: Promise<ImpactKernel> | undefined;
let pool: { size: number; pool: Pool } | undefined;

serve<EngineOps>(globalThis as never, {
  async run(req, progress) {
    const scenario = parseScenario(req.doc, 'the scenario');
    kernel ??= loadKernelFromUrl(req.wasm);
    if (!pool || pool.size !== req.workers) {
      void pool?.pool.close();
      pool = { size: req.workers, pool: createBrowserPool({ size: req.workers, wasm: req.wasm, url: req.poolWorker }) };
    }
    const run = await runInBrowser(scenario, new Map(Object.entries(req.files)), { kernel: await kernel, pool: pool.pool, onProgress: progress, scenarioSha256: req.scenarioSha256 });
    const transfer: Transferable[] = run.previews.map((p) => p.values.buffer as ArrayBuffer);
    for (const t of [run.damageTiff, run.eadTiff]) if (t) transfer.push(t.buffer as ArrayBuffer);
    return { value: run, transfer };
  },
});
