/**
 * @module web/tools/precompute-demo
 * Build step (Node, loaded by scripts/web-build.mjs through Vite's module runner): runs `ibf demo`'s own
 * code (`runDemo`, src/demo) so the dashboard opens on the CLI's results, and writes beside them what the
 * page needs to show them at once: the runnable scenarios, the zones, the generator stamp, and map
 * previews (forecast: mean depth over members per lead time; risk: depth per return period, damage per
 * return period and EAD per cell), each downsampled to at most 512 cells a side, float32, gzip.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runDemo } from '../../src/demo/index.js';
import { assess } from '../../src/engine/scenario.js';
import { readRaster } from '../../src/io/geotiff.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import { loadScenario, nodeScenarioIO } from '../../src/node/run-scenario.js';
import { Downsampler, meanOfBands, previewOfBand, type Preview, type PreviewMeta } from '../src/lib/preview.js';

type Which = 'forecast' | 'risk';

export async function precomputeDemo(outDir: string, log: (line: string) => void = () => {}): Promise<{ seconds: number }> {
  const t0 = performance.now();
  const kernel = await loadKernel();
  const tmp = await mkdtemp(join(tmpdir(), 'ibf-web-demo-'));
  try {
    log('web: running ibf demo (the CLI\'s runDemo) for the precomputed results…');
    const run = await runDemo({ kernel, outDir: tmp, onStatus: (s) => log(s.trim()) });
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    const dir = run.demo.cacheDir;
    for (const which of ['forecast', 'risk'] as const) {
      await copyFile(join(tmp, which, 'result.json'), join(outDir, `${which}.json`));
      await copyFile(run[which].scenarioPath, join(outDir, `${which}.scenario.json`));
    }
    await copyFile(join(dir, 'zones.geojson'), join(outDir, 'zones.geojson'));
    await copyFile(join(dir, 'demo-cache.json'), join(outDir, 'demo-cache.json'));

    const index: Array<PreviewMeta & { scenario: Which }> = [];
    const put = async (scenario: Which, p: Preview) => {
      const file = `${scenario}-${p.id}.f32.gz`;
      await writeFile(join(outDir, file), gzipSync(Buffer.from(p.values.buffer, p.values.byteOffset, p.values.byteLength), { level: 9 }));
      const { values: _values, ...meta } = p;
      index.push({ ...meta, file, scenario });
    };
    log('web: map previews…');
    // forecast: mean flood depth over the members, per lead time (member-major, as the scenario says)
    const spec = run.demo.stamp.spec;
    const hz = await readRaster(new Uint8Array(await readFile(join(dir, 'hazard.tif'))), { as: 'float32' });
    const L = spec.leadTimes.length;
    for (let l = 0; l < L; l++) {
      const members = Array.from({ length: spec.members }, (_, m) => hz.bands[m * L + l]!);
      await put('forecast', previewOfBand(hz.grid, meanOfBands(members, hz.nodata), null, { id: `hazard-${l}`, label: `Flood depth, mean of ${spec.members} members, ${spec.leadTimes[l]}`, unit: 'm', quantity: 'hazard' }));
    }
    hz.bands.length = 0;
    const rp = await readRaster(new Uint8Array(await readFile(join(dir, 'return-periods.tif'))), { as: 'float32' });
    for (let i = 0; i < rp.bands.length; i++) {
      await put('risk', previewOfBand(rp.grid, rp.bands[i]!, rp.nodata, { id: `hazard-${i}`, label: `Flood depth, ${spec.returnPeriods[i]}-year return period`, unit: 'm', quantity: 'hazard' }));
    }
    rp.bands.length = 0;
    // risk: per-cell damage per return period and EAD, streamed tile by tile into the previews
    const { scenario } = await loadScenario(run.risk.scenarioPath);
    let damage: Downsampler[] = [];
    let ead: Downsampler | undefined;
    await assess(scenario, {
      io: nodeScenarioIO(dir),
      kernel,
      cellOutputs: { damage: true, ead: true },
      onPlan: (p) => {
        damage = p.bands.map(() => new Downsampler(p.plan.grid));
        ead = new Downsampler(p.plan.grid);
      },
      onTile: (r) => {
        r.damage?.forEach((b, i) => damage[i]!.addWindow(r.window, b));
        if (r.ead) ead!.addWindow(r.window, r.ead);
      },
    });
    const unit = scenario.exposure.unit;
    for (let i = 0; i < damage.length; i++) await put('risk', damage[i]!.preview({ id: `damage-${i}`, label: `Damage per cell, ${spec.returnPeriods[i]}-year`, unit, quantity: 'damage' }));
    await put('risk', ead!.preview({ id: 'ead', label: 'Expected annual damage per cell', unit: `${unit}/year`, quantity: 'ead' }));
    await writeFile(join(outDir, 'previews.json'), `${JSON.stringify(index)}\n`);
    return { seconds: (performance.now() - t0) / 1000 };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
