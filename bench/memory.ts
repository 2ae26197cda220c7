/**
 * Memory bench (issue #4): peak RSS of `runScenarioFile` on country-sized tiled GeoTIFFs, each case in its
 * own child process (so the peak is that run's alone: `process.resourceUsage().maxRSS` at the end of the
 * child; it counts every thread of the process, workers included), against the 1.5 GB target.
 *
 * Cases (files seeded and cached in bench/.cache, written tile by tile with the streaming writer, never
 * held whole; 20 admin-like zones; jrc-flood-europe-residential; 2 workers; outputs into an outDir,
 * removed after the case):
 * - single: 16384 x 16384 float32 hazard x exposure (1 GiB each, 256 x 256 tiles, uncompressed), damage.tif
 *   streamed (1 band, 1 GiB).
 * - ensemble: the same exposure, a 51-member hazard (bands.type ensemble, one lead time) on a 4x coarser
 *   grid (4096 x 4096 x 51, 3.4 GB), `hazard.resampling: nearest` (the aggregated path). result.json and
 *   zones are written but not damage.tif (`outputs.damageRaster: false`): 51 float32 bands of 16384 x 16384
 *   are 55 GB of disk; BENCH_MEM_ENS_DAMAGE=1 writes it. BENCH_MEM_ENS_SIZE=8192 runs it on an 8192 exposure.
 *
 * Run: npm run build && node dist/bench/memory.js   (BENCH_MEM_SIZE=8192 for a quick run; BENCH_MEM_CASES=single)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKernel } from '../src/kernels/load-node.js';
import { runScenarioFile } from '../src/node/run-scenario.js';
import { benchGrid, cachedRaster, cachedText, cachePath, cpuBetween, cpuMark, depthFill, fileMB, GEN, table, valueFill, zonesGeoJson } from './files.js';

const SIZE = Number(process.env.BENCH_MEM_SIZE ?? 16384);
const ENS_SIZE = Number(process.env.BENCH_MEM_ENS_SIZE ?? SIZE);
const ENS_DAMAGE = process.env.BENCH_MEM_ENS_DAMAGE === '1';
const CASES = (process.env.BENCH_MEM_CASES ?? 'single,ensemble').split(',');
const WORKERS = 2;
const TARGET_MB = 1500;
const MEMBERS = 51;
const FACTOR = 4;

interface CaseReport {
  name: string;
  cells: number;
  bands: number;
  maxRssMB: number;
  wallMs: number;
  phases: { read: number; resample: number; kernel: number; reduce: number; wall: number };
  damageMB: number | null;
  written: string[];
  tiles?: number;
  cpu: { own: number; others: number | null };
}

/** Files of a case (generated when missing) and its scenario path. */
async function prepare(name: string): Promise<{ scenario: string; size: number; bands: number; gen: string[] }> {
  const gen: string[] = [];
  const note = (r: { path: string; generated: boolean; ms: number }) => {
    if (r.generated) gen.push(`${r.path.replace(/.*\//, '')} ${(r.ms / 1000).toFixed(0)} s`);
    return r.path;
  };
  const size = name === 'ensemble' ? ENS_SIZE : SIZE;
  const grid = benchGrid(size);
  const exposure = note(await cachedRaster(`mem-exposure-${size}-${GEN}.tif`, grid, 1, valueFill, 53, { unit: 'EUR', quantity: 'asset value' }));
  const zones = `mem-zones-${size}-${GEN}.geojson`;
  cachedText(zones, () => JSON.stringify(zonesGeoJson(grid, 5, 4, 54)));
  let hazard: string;
  let extra: object = {};
  if (name === 'single') {
    hazard = note(await cachedRaster(`mem-hazard-${size}-${GEN}.tif`, grid, 1, depthFill(), 52, { unit: 'm', quantity: 'flood depth' }));
  } else {
    hazard = note(await cachedRaster(`mem-hazard${MEMBERS}-${size / FACTOR}-${GEN}.tif`, benchGrid(size, FACTOR), MEMBERS, depthFill(FACTOR), 55, { unit: 'm', quantity: 'flood depth, ensemble' }));
    extra = { resampling: 'nearest', bands: { type: 'ensemble', members: MEMBERS, leadTimes: ['24-hour'] } };
  }
  const scenario = {
    name: `bench memory ${name} ${size}x${size}`,
    hazard: { source: hazard.replace(/.*\//, ''), unit: 'm', ...extra },
    exposure: { source: exposure.replace(/.*\//, ''), unit: 'EUR' },
    vulnerability: 'jrc-flood-europe-residential',
    zones: { source: zones, idProperty: 'id', nameProperty: 'name' },
    ...(name === 'ensemble' && !ENS_DAMAGE ? { outputs: { damageRaster: false } } : {}),
  };
  const path = cachePath(`mem-scenario-${name}-${size}-${GEN}.json`);
  writeFileSync(path, `${JSON.stringify(scenario, null, 2)}\n`);
  return { scenario: path, size, bands: name === 'ensemble' ? MEMBERS : 1, gen };
}

/** The child: one run, then its report as the last line of stdout. */
async function child(name: string, scenario: string, size: number, bands: number): Promise<void> {
  const outDir = cachePath(`mem-out-${name}`);
  rmSync(outDir, { recursive: true, force: true });
  const kernel = await loadKernel();
  let tiles = 0;
  const m0 = cpuMark();
  const out = await runScenarioFile(scenario, { kernel, workers: WORKERS, outDir, onProgress: (p) => void (tiles = p.tilesTotal) });
  const m1 = cpuMark();
  const wallMs = m1.t - m0.t;
  const damage = join(outDir, 'damage.tif');
  const report: CaseReport = {
    name, cells: size * size, bands, maxRssMB: (process.resourceUsage().maxRSS * 1024) / 1e6, wallMs, phases: out.phases,
    damageMB: existsSync(damage) ? fileMB(damage) : null, written: out.written.map((p) => p.replace(/.*\//, '')), tiles, cpu: cpuBetween(m0, m1),
  };
  rmSync(outDir, { recursive: true, force: true });
  console.log(JSON.stringify(report));
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--case');
  if (i >= 0) {
    const [name, scenario, size, bands] = process.argv.slice(i + 1);
    await child(name!, scenario!, Number(size), Number(bands));
    return;
  }
  console.log(`memory bench: ${WORKERS} workers, peak RSS per case in its own process (target < ${TARGET_MB} MB); node ${process.version}`);
  const self = fileURLToPath(import.meta.url);
  const reports: CaseReport[] = [];
  for (const name of CASES) {
    const p = await prepare(name);
    if (p.gen.length) console.log(`  generated: ${p.gen.join(', ')}`);
    const r = spawnSync(process.execPath, [...process.execArgv, self, '--case', name, p.scenario, String(p.size), String(p.bands)], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    if (r.status !== 0) {
      console.log(`  case ${name} FAILED (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${r.stderr}`);
      process.exitCode = 1;
      continue;
    }
    // the engine's MaxListenersExceededWarning (one AbortSignal listener per queued tile) is counted, not echoed
    const lines = r.stderr.split('\n').filter((l) => l.trim());
    const maxListeners = lines.filter((l) => l.includes('MaxListenersExceededWarning')).length;
    const other = lines.filter((l) => !l.includes('MaxListenersExceededWarning') && !l.includes('--trace-warnings'));
    if (maxListeners) console.log(`  case ${name}: ${maxListeners} MaxListenersExceededWarning on stderr`);
    if (other.length) console.log(`  case ${name} stderr: ${other.slice(0, 5).join(' | ')}`);
    reports.push(JSON.parse(r.stdout.trim().split('\n').pop()!) as CaseReport);
  }
  const s = (ms: number) => (ms / 1000).toFixed(1);
  const rows = reports.map((c) => {
    const side = Math.round(Math.sqrt(c.cells));
    return [
      c.name, `${side}x${side}x${c.bands}`, c.maxRssMB.toFixed(0), c.maxRssMB < TARGET_MB ? 'yes' : 'NO', s(c.wallMs), (c.cells / (c.wallMs / 1000) / 1e6).toFixed(1),
      ((c.cells * c.bands) / (c.wallMs / 1000) / 1e6).toFixed(1), s(c.phases.wall), s(c.phases.read), s(c.phases.resample), s(c.phases.kernel), s(c.phases.reduce),
      c.damageMB === null ? '-' : c.damageMB.toFixed(0), String(c.tiles ?? ''), c.cpu.own.toFixed(2), c.cpu.others === null ? '-' : c.cpu.others.toFixed(2),
    ];
  });
  console.log(`\n${table(['case', 'cells x bands', 'peak RSS MB', `< ${TARGET_MB}`, 'wall s', 'M cells/s', 'M cell-bands/s', 'tiles wall s', 'read s', 'resample s', 'kernel s', 'reduce s', 'damage.tif MB', 'tiles', 'cores used', 'others'], rows)}`);
  console.log('(wall: the whole runScenarioFile call incl. hashing inputs and writing outputs; read / resample / kernel summed over tiles across workers;');
  console.log(' cores used: the case\'s process, all threads, on average; others: every other process on the machine meanwhile)');
  const busy = Math.max(0, ...reports.map((c) => c.cpu.others ?? 0));
  if (busy > 0.15) console.log(`WARNING: other processes used up to ${busy.toFixed(2)} cores during these cases: times are not clean (peak RSS is)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
