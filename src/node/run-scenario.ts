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
import { resolveClassed, resolveCurve, type ClassedCurves } from '../engine/vulnerability.js';
import { readRaster, readRasterInfo, writeGeoTiff } from '../io/geotiff.js';
import { readFileBytes } from '../io/node.js';
import { httpByteSource } from '../io/http.js';
import type { ImpactKernel } from '../kernels/types.js';
import { withCrs, type Grid } from '../model/grid.js';
import { readAligned, type AlignedRaster } from '../engine/align.js';
import type { DamageFunction } from '../model/damage-function.js';
import { coverageWindow } from '../geo/coverage.js';
import { parseZones } from '../io/zones.js';
import { inUnit } from '../model/units.js';
import { ProblemCollector } from '../engine/problems.js';
import { checkDerivation, derivationSpec, derive, eadRaster } from '../engine/metrics.js';
import type { DerivationSpec } from '../engine/derive/index.js';
import type { Zones } from '../model/zones.js';
import { validateResult } from '../engine/result-schema.js';
import { zonesCsv, zonesGeoJson } from '../io/zones-out.js';
import type { Raster } from '../model/raster.js';
import { bandsMeaning, isClassed, parseScenario, type Scenario } from '../model/scenario.js';
import { ENGINE, VERSION } from '../version.js';
import { publishOutputs } from './outputs.js';
import { createNodePool } from '../pool/node.js';
import { parseJson } from './json.js';

const ZONES_HINT = 'Zones must be a GeoJSON FeatureCollection of Polygon / MultiPolygon features.';

export interface RunScenarioOptions {
  kernel: ImpactKernel;
  /**
   * Worker threads for the kernel passes (default 0: this thread). Jobs under {@link POOL_MIN_CELL_BANDS}
   * cell-bands run on this thread anyway: starting workers would cost more than it saves.
   */
  workers?: number;
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

/** Smallest job (cells x bands) for which `workers` starts a pool. */
export const POOL_MIN_CELL_BANDS = 2 ** 22;

/** Largest URL source a scenario reads (bytes). */
const MAX_URL_BYTES = 2 ** 31;

/**
 * The whole file at an http(s) URL (range reads with retries; see io/http.ts). The assessment decodes
 * every cell anyway, and the manifest hashes the exact bytes used.
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

/** A URL as it may be written into a manifest: no user name or password. */
function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

/** Reads and validates a scenario file; every problem in one error. */
export async function loadScenario(path: string): Promise<{ scenario: Scenario; bytes: Uint8Array; dir: string }> {
  const bytes = await readFileBytes(path);
  const doc = parseJson(bytes, path, 'A scenario is a JSON object; see README "Scenario" for an example.');
  return { scenario: parseScenario(doc, path), bytes, dir: dirname(resolve(path)) };
}

function bandList(s: Scenario, hazard: Raster, select: number[] | undefined): ResultBand[] {
  const m = bandsMeaning(s);
  const problems: string[] = [];
  const n = hazard.bands.length;
  if (m.names && m.names.length !== n) problems.push(`hazard.bands.names has ${m.names.length} names for ${n} bands`);
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

/**
 * The files `--out` writes: result.json; zones.csv and zones.geojson with zones; damage.tif unless the
 * scenario turns it off; ead.tif for return-period maps.
 */
function outputFiles(result: AssessResult, out: AssessRastersOutput, s: Scenario, spec: DerivationSpec, zones: Zones | undefined): Record<string, ArrayBuffer | string> {
  const files: Record<string, ArrayBuffer | string> = { 'result.json': `${JSON.stringify(result, null, 2)}\n` };
  if (zones && result.zones.length) {
    files['zones.csv'] = zonesCsv(result);
    files['zones.geojson'] = `${JSON.stringify(zonesGeoJson(result, zones))}\n`;
  }
  if (out.damage && s.outputs?.damageRaster !== false) {
    files['damage.tif'] = writeGeoTiff({ ...out.damage, bandNames: result.bands.map((b) => b.name) }, { metadata: { unit: s.exposure.unit, quantity: 'damage' } });
  }
  const ead = out.damage ? eadRaster(out.damage.bands, spec) : null;
  if (ead) {
    const method = spec.ead?.method ?? 'loglinear';
    files['ead.tif'] = writeGeoTiff({ grid: out.damage!.grid, bands: [ead], nodata: NaN, bandNames: ['ead'] }, { metadata: { unit: `${s.exposure.unit}/year`, quantity: 'expected annual damage', method } });
  }
  return files;
}

/** Runs the scenario at `path` and returns its result (and writes outputs when `outDir` is set). */
export async function runScenarioFile(path: string, opts: RunScenarioOptions): Promise<RunScenarioOutput> {
  const { scenario: s, bytes: scenarioBytes, dir } = await loadScenario(path);
  const inputs: ManifestInput[] = [];
  const files = new Map<string, Uint8Array>();
  const read = async (role: string, rel: string): Promise<Uint8Array> => {
    const url = /^https?:\/\//i.test(rel);
    const abs = url ? rel : resolve(dir, rel);
    let bytes = files.get(abs);
    if (!bytes) {
      bytes = url ? await readUrl(rel) : await readFileBytes(abs);
      files.set(abs, bytes);
      inputs.push({ role, path: url ? withoutCredentials(rel) : rel, sha256: await sha256Hex(bytes), bytes: bytes.byteLength });
    }
    return bytes;
  };
  const readText = async (rel: string, role = 'vulnerability') => new TextDecoder().decode(await read(role, rel));

  // Every input is loaded and checked before anything is computed; all problems are reported together.
  const problems = new ProblemCollector();
  const select = s.hazard.select;
  const v = s.vulnerability;
  const hazardRead = {
    as: 'float32' as const,
    bands: select?.map((b) => b - 1),
    ...(s.hazard.nodata !== undefined ? { nodata: s.hazard.nodata } : {}),
  };
  const [hazardBytes, exposure, vulnerability, zones] = await Promise.all([
    problems.attempt('hazard', () => read('hazard', s.hazard.source)),
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
      return { classes: { bytes: await read('classes', src.source), name: src.source, nodata: src.nodata } };
    }),
    s.zones ? problems.attempt('zones', async () => parseZones(parseJson(await readText(s.zones!.source, 'zones'), s.zones!.source, ZONES_HINT), { idProperty: s.zones!.idProperty, nameProperty: s.zones!.nameProperty, name: s.zones!.source, selfIntersections: s.zones!.selfIntersections })) : undefined,
  ]);
  // Hazard and class rasters come onto the exposure grid: resampled when their grids differ, and then only
  // the source window the exposure grid needs is decoded. The exposure's CRS comes from the hazard when
  // the exposure file has none.
  const method = s.hazard.resampling ?? 'bilinear';
  let target: Grid | undefined;
  let aligned: AlignedRaster | undefined;
  if (hazardBytes && exposure) {
    const r = await problems.attempt('hazard', async () => {
      const info = await readRasterInfo(hazardBytes, { name: s.hazard.source });
      const t = withCrs(exposure.grid, info.grid.crs);
      // nearest without a class raster: the bands stay on the hazard grid, assessRasters aggregates (engine/aggregate.ts)
      const deferNearest = method === 'nearest' && !isClassed(v);
      return { t, a: await readAligned(hazardBytes, t, { name: s.hazard.source, method, kernel: opts.kernel, read: hazardRead, deferNearest }) };
    });
    target = r?.t;
    aligned = r?.a;
  } else if (hazardBytes) {
    // the exposure failed: still read the hazard, so that its own problems are reported too
    await problems.attempt('hazard', () => readRaster(hazardBytes, { ...hazardRead, name: s.hazard.source }));
  }
  const onGrid = aligned?.raster;
  const bands = onGrid ? await problems.attempt('hazard.bands', () => bandList(s, onGrid, select)) : undefined;
  // what the bands mean and what to derive from them (frequencies, return periods, ensemble layout, trigger)
  if (onGrid) await problems.attempt('hazard.bands', () => checkDerivation(s, onGrid.bands.length));
  let classed: ClassedCurves | undefined;
  const classFile = vulnerability && 'classes' in vulnerability ? vulnerability.classes : undefined;
  if (target && classFile && isClassed(v)) {
    const grid = target;
    classed = await problems.attempt('vulnerability.classes', async () => {
      const c = await readAligned(classFile.bytes, grid, { name: classFile.name, method: 'nearest', kernel: opts.kernel, read: { bands: [0], ...(classFile.nodata !== undefined ? { nodata: classFile.nodata } : {}) } });
      return resolveClassed(v, c.raster, readText);
    });
  }
  const curvesToCheck: DamageFunction[] = classed?.curves ?? (vulnerability && 'curves' in vulnerability ? vulnerability.curves ?? [] : []);
  for (const c of curvesToCheck) await problems.attempt('vulnerability', () => inUnit(c, s.hazard.unit));
  const rule = s.zones?.rule ?? 'coverage';
  const zoneWindows = zones && target
    ? await problems.attempt('zones', () => zones.zones.map((z) => ({ id: z.id, ...(z.name !== undefined ? { name: z.name } : {}), window: coverageWindow(z, zones.crs, target, rule, opts.kernel) })))
    : undefined;
  problems.throwIfAny();

  const warnings: string[] = [];
  const curves = classed?.curves ?? (vulnerability as { curves: DamageFunction[] }).curves;
  const labels: (string | undefined)[] = classed?.labels ?? [undefined];
  const classIndex = classed?.classIndex;
  const excluded = classed && classed.excludedCount > 0 ? classed.excluded : undefined;
  if (classed && classed.excludedCount > 0) warnings.push(`${classed.excludedCount} cells have no class (class raster nodata) and were left out`);
  const resampled = aligned!.resampled;
  if (resampled) warnings.push(`the hazard was resampled (${method}) onto the exposure grid`);
  warnings.push(...(zones?.warnings ?? []));
  for (const z of zoneWindows ?? []) if (!z.window) warnings.push(`zone ${z.id} does not overlap the exposure grid`);

  const meaning = bandsMeaning(s);
  const wantDamage = Boolean(opts.outDir) && (s.outputs?.damageRaster !== false || meaning.type === 'return-periods');
  const cellBands = target!.width * target!.height * onGrid!.bands.length;
  const pool = (opts.workers ?? 0) > 0 && cellBands >= POOL_MIN_CELL_BANDS ? createNodePool({ size: opts.workers, kernel: opts.kernel.name }) : undefined;
  let out: AssessRastersOutput;
  try {
    out = await assessRasters(
      { hazard: onGrid!, hazardUnit: s.hazard.unit, exposure: { ...exposure!, grid: target! }, curves, classIndex, excluded, affectedThreshold: s.affectedThreshold, damageRaster: wantDamage, zones: zoneWindows, nearest: aligned!.nearest },
      { kernel: opts.kernel, signal: opts.signal, onProgress: opts.onProgress, pool },
    );
  } finally {
    await pool?.close();
  }

  const spec = derivationSpec(s, out.totals.damage.length);
  const result: AssessResult = {
    schema: RESULT_SCHEMA,
    ...(s.name ? { name: s.name } : {}),
    units: { intensity: s.hazard.unit, value: s.exposure.unit },
    bandsType: bandsMeaning(s).type,
    bands: bands!,
    zones: out.zones.map((z) => ({ ...z, ...derive(z, spec, { totals: false }) })),
    totals: { ...out.totals, ...derive(out.totals, spec, { totals: true, curveReturnPeriods: s.exceedanceCurve?.returnPeriods }) },
    ...(meaning.type === 'return-periods' ? { eadMethod: spec.ead?.method ?? 'loglinear' } : {}),
    grid: { width: target!.width, height: target!.height, transform: [...target!.transform], crs: target!.crs, hazardResampling: resampled ? method : 'none', ...(out.aggregated ? { aggregated: true } : {}), ...(s.zones ? { zoneRule: rule } : {}) },
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

  // the document must be what e4drr-ibf/result@1 promises (schema/result-1.schema.json); a mismatch is our bug
  const resultProblems = validateResult(result);
  if (resultProblems.length) throw IbfError.fromProblems('E_KERNEL', 'the result does not match e4drr-ibf/result@1', resultProblems);

  let written: string[] = [];
  if (opts.outDir) {
    opts.signal?.throwIfAborted();
    written = await publishOutputs(opts.outDir, outputFiles(result, out, s, spec, zones));
  }
  return { result, written, damage: out.damage };
}
