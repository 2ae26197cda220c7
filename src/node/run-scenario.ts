/**
 * @module node/run-scenario
 * `ibf assess` in Node: reads a scenario file and the files it names (paths relative to it), runs the
 * assessment, builds the result with its manifest, and writes the outputs all-or-nothing.
 */
import { dirname, resolve } from 'node:path';
import { IbfError } from '../errors.js';
import { assessRasters, type AssessRastersOutput } from '../engine/assess.js';
import { curveHash, sha256Hex } from '../engine/manifest.js';
import { RESULT_SCHEMA, type AssessResult, type ManifestInput, type ResultBand } from '../engine/result.js';
import { resolveClassed, resolveCurve } from '../engine/vulnerability.js';
import { readRaster, writeGeoTiff } from '../io/geotiff.js';
import { readFileBytes } from '../io/node.js';
import type { ImpactKernel } from '../kernels/types.js';
import { assertSameGrid } from '../model/grid.js';
import { inUnit } from '../model/units.js';
import { ProblemCollector } from '../engine/problems.js';
import type { Raster } from '../model/raster.js';
import { bandsMeaning, isClassed, parseScenario, type Scenario } from '../model/scenario.js';
import { ENGINE, VERSION } from '../version.js';
import { publishOutputs } from './outputs.js';

export interface RunScenarioOptions {
  kernel: ImpactKernel;
  /** Folder for result.json and damage.tif; nothing is written without it. */
  outDir?: string;
  signal?: AbortSignal;
  onProgress?: (p: { cellsDone: number; cellsTotal: number }) => void;
}

export interface RunScenarioOutput {
  result: AssessResult;
  written: string[];
  damage?: Raster<Float32Array>;
}

/** Reads and validates a scenario file; every problem in one error. */
export async function loadScenario(path: string): Promise<{ scenario: Scenario; bytes: Uint8Array; dir: string }> {
  const bytes = await readFileBytes(path);
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    throw new IbfError('E_INPUT_FORMAT', `${path} is not valid JSON: ${(cause as Error).message}`, {
      cause,
      hint: 'A scenario is a JSON object; see README "Scenario" for an example.',
    });
  }
  return { scenario: parseScenario(doc, path), bytes, dir: dirname(resolve(path)) };
}

function bandList(s: Scenario, hazard: Raster, select: number[] | undefined): ResultBand[] {
  const m = bandsMeaning(s);
  const problems: string[] = [];
  const n = hazard.bands.length;
  if (m.names && m.names.length !== n) problems.push(`hazard.bands.names has ${m.names.length} names for ${n} bands`);
  if (m.frequencies && m.frequencies.length !== n) problems.push(`hazard.bands.frequencies has ${m.frequencies.length} values for ${n} bands`);
  if (m.returnPeriods && m.returnPeriods.length !== n) problems.push(`hazard.bands.returnPeriods has ${m.returnPeriods.length} values for ${n} bands`);
  if (m.type === 'event' && n !== 1) problems.push(`hazard.bands.type is "event" but the hazard has ${n} bands (use "events", "ensemble" or "return-periods", or hazard.select)`);
  if (problems.length) {
    throw IbfError.fromProblems('E_SCENARIO_INVALID', 'the scenario does not fit the hazard raster', problems.map((message) => ({ path: 'hazard.bands', message })));
  }
  return hazard.bands.map((_, i) => {
    const band = select ? select[i]! : i + 1;
    const name = m.names?.[i] || hazard.bandNames?.[i] || `band_${band}`;
    return {
      index: i,
      band,
      name,
      ...(m.frequencies ? { frequency: m.frequencies[i]! } : {}),
      ...(m.returnPeriods ? { returnPeriod: m.returnPeriods[i]! } : {}),
    };
  });
}

/** Runs the scenario at `path` and returns its result (and writes outputs when `outDir` is set). */
export async function runScenarioFile(path: string, opts: RunScenarioOptions): Promise<RunScenarioOutput> {
  const { scenario: s, bytes: scenarioBytes, dir } = await loadScenario(path);
  const inputs: ManifestInput[] = [];
  const files = new Map<string, Uint8Array>();
  const read = async (role: string, rel: string): Promise<Uint8Array> => {
    const abs = resolve(dir, rel);
    let bytes = files.get(abs);
    if (!bytes) {
      bytes = await readFileBytes(abs);
      files.set(abs, bytes);
      inputs.push({ role, path: rel, sha256: await sha256Hex(bytes), bytes: bytes.byteLength });
    }
    return bytes;
  };
  const readText = async (rel: string) => new TextDecoder().decode(await read('vulnerability', rel));

  // Every input is loaded and checked before anything is computed; all problems are reported together.
  const problems = new ProblemCollector();
  const select = s.hazard.select;
  const v = s.vulnerability;
  const [hazard, exposure, vulnerability] = await Promise.all([
    problems.attempt('hazard', async () =>
      readRaster(await read('hazard', s.hazard.source), {
        name: s.hazard.source,
        as: 'float32',
        bands: select?.map((b) => b - 1),
        ...(s.hazard.nodata !== undefined ? { nodata: s.hazard.nodata } : {}),
      }),
    ),
    problems.attempt('exposure', async () =>
      readRaster(await read('exposure', s.exposure.source), {
        name: s.exposure.source,
        as: 'float64',
        bands: [(s.exposure.band ?? 1) - 1],
        ...(s.exposure.nodata !== undefined ? { nodata: s.exposure.nodata } : {}),
      }),
    ),
    problems.attempt('vulnerability', async () => {
      if (!isClassed(v)) return { curves: [await resolveCurve(v, readText)], labels: [undefined] as (string | undefined)[] };
      const src = typeof v.classes === 'string' ? { source: v.classes } : v.classes;
      const classes = await readRaster(await read('classes', src.source), {
        name: src.source,
        bands: [0],
        ...(src.nodata !== undefined ? { nodata: src.nodata } : {}),
      });
      return { classes, ...(await resolveClassed(v, classes, readText)) };
    }),
  ]);
  const bands = hazard ? await problems.attempt('hazard.bands', () => bandList(s, hazard, select)) : undefined;
  if (hazard && exposure) await problems.attempt('hazard', () => assertSameGrid(exposure.grid, hazard.grid, 'exposure', 'hazard'));
  if (exposure && vulnerability && 'classes' in vulnerability) {
    await problems.attempt('vulnerability.classes', () => assertSameGrid(exposure.grid, vulnerability.classes.grid, 'exposure', 'class raster'));
  }
  for (const c of vulnerability?.curves ?? []) await problems.attempt('vulnerability', () => inUnit(c, s.hazard.unit));
  problems.throwIfAny();

  const warnings: string[] = [];
  const { curves, labels } = vulnerability!;
  let classIndex: Uint8Array | undefined;
  let excluded: Uint8Array | undefined;
  if ('classes' in vulnerability!) {
    const r = vulnerability;
    classIndex = r.classIndex;
    excluded = r.excludedCount > 0 ? r.excluded : undefined;
    if (r.excludedCount > 0) warnings.push(`${r.excludedCount} cells have no class (class raster nodata) and were left out`);
  }

  const wantDamage = Boolean(opts.outDir) && s.outputs?.damageRaster !== false;
  const out: AssessRastersOutput = await assessRasters(
    { hazard: hazard!, hazardUnit: s.hazard.unit, exposure: exposure!, curves, classIndex, excluded, affectedThreshold: s.affectedThreshold, damageRaster: wantDamage },
    { kernel: opts.kernel, signal: opts.signal, onProgress: opts.onProgress },
  );

  const result: AssessResult = {
    schema: RESULT_SCHEMA,
    ...(s.name ? { name: s.name } : {}),
    units: { intensity: s.hazard.unit, value: s.exposure.unit },
    bandsType: bandsMeaning(s).type,
    bands: bands!,
    zones: [],
    totals: out.totals,
    affectedThreshold: s.affectedThreshold ?? null,
    warnings,
    manifest: {
      engine: { name: ENGINE, version: VERSION },
      kernel: opts.kernel.name,
      createdAt: new Date().toISOString(),
      inputs: inputs.sort((a, b) => a.role.localeCompare(b.role) || a.path.localeCompare(b.path)),
      curves: await Promise.all(
        out.curves.map(async (c, i) => ({ id: c.id ?? null, unit: c.unit, sha256: await curveHash(c), ...(labels[i] !== undefined ? { class: labels[i] } : {}) })),
      ),
      scenarioSha256: await sha256Hex(scenarioBytes),
    },
  };

  let written: string[] = [];
  if (opts.outDir) {
    opts.signal?.throwIfAborted();
    const outputs: Record<string, ArrayBuffer | string> = { 'result.json': `${JSON.stringify(result, null, 2)}\n` };
    if (out.damage) {
      outputs['damage.tif'] = writeGeoTiff({ ...out.damage, bandNames: bands!.map((b) => b.name) }, { metadata: { unit: s.exposure.unit, quantity: 'damage' } });
    }
    written = await publishOutputs(opts.outDir, outputs);
  }
  return { result, written, damage: out.damage };
}
