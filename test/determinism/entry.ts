/**
 * The runtime-neutral engine as one module for the determinism test: bundled by vite (determinism.test.ts)
 * and loaded as is by headless Chromium and by workerd. Each runtime passes its own kernel.
 */
import { memoryObjectStore } from '../../src/api/memory.js';
import { apiScenarioIO } from '../../src/api/sources.js';
import { assess } from '../../src/engine/scenario.js';
import type { ImpactKernel } from '../../src/kernels/types.js';
import { parseScenario } from '../../src/model/scenario.js';

export { loadKernelFromUrl } from '../../src/kernels/load-browser.js';
export { loadKernelFromModule } from '../../src/kernels/load-edge.js';

/** Assesses a scenario whose sources are data: URLs; the result as JSON text (doubles round-trip exactly). */
export async function runScenario(doc: Record<string, unknown>, kernel: ImpactKernel, tileCells?: number): Promise<string> {
  const io = apiScenarioIO({ config: { bucket: 'det', limits: { maxBodyBytes: 1 << 30, maxUploadBytes: 1 << 30, syncCellBands: 1e12, maxCellBands: 1e12, ratePerMinute: 1, stepTimeoutMs: 1e9 }, allowHosts: [] }, store: memoryObjectStore() }, 'det');
  const out = await assess(parseScenario(doc), { io, kernel, tileCells, scenarioSha256: '0'.repeat(64) });
  return JSON.stringify(out.result);
}
