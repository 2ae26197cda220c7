/**
 * @module web/widget/local-worker
 * The widget's `mode="local"`: computes a small scenario in a worker of the embedding page, with the
 * engine's own `assess` on this thread (no pool) and the WASM kernel streamed from beside this script.
 * Sources are URLs relative to the scenario's URL, or `data:` URLs; each is fetched whole (a small scenario).
 */
import { isIbfError } from '../../src/errors.js';
import { sha256Hex } from '../../src/engine/manifest.js';
import type { ManifestInput } from '../../src/engine/result.js';
import { assess, type ScenarioIO } from '../../src/engine/scenario.js';
import { loadKernelFromUrl } from '../../src/kernels/load-browser.js';
import { parseScenario } from '../../src/model/scenario.js';
import scalarUrl from '../../build/ibf.scalar.wasm?url';
import simdUrl from '../../build/ibf.simd.wasm?url';

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<{ scenario: string }>) => void) | null; postMessage(m: unknown): void };

async function bytesOf(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url.startsWith('data:') ? 'a data: URL' : url} answered HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

scope.onmessage = async (e) => {
  try {
    const base = e.data.scenario;
    const text = new TextDecoder().decode(await bytesOf(base));
    const scenario = parseScenario(JSON.parse(text), base);
    const inputs: ManifestInput[] = [];
    const get = async (role: string, ref: string) => {
      const b = await bytesOf(new URL(ref, base).href);
      inputs.push({ role, path: ref.startsWith('data:') ? `data:${role}` : ref, sha256: await sha256Hex(b), bytes: b.byteLength });
      return b;
    };
    const io: ScenarioIO = {
      raster: async (role, ref) => ({ source: { kind: 'bytes', bytes: await get(role, ref) }, name: ref.startsWith('data:') ? role : ref }),
      text: async (role, ref) => new TextDecoder().decode(await get(role, ref)),
      inputs: () => inputs,
    };
    const abs = (u: string) => new URL(u, import.meta.url).href;
    const kernel = await loadKernelFromUrl({ simd: abs(simdUrl), scalar: abs(scalarUrl) });
    const { result } = await assess(scenario, { io, kernel, scenarioSha256: await sha256Hex(text) });
    scope.postMessage({ result });
  } catch (err) {
    scope.postMessage({ error: { code: isIbfError(err) ? err.code : undefined, message: (err as Error)?.message ?? String(err) } });
  }
};
