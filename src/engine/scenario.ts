/**
 * @module engine/scenario
 * `assess(scenario, opts)`: a scenario document to an `e4drr-ibf/result@1`, runtime-neutral.
 *
 *   plan    every input opened and checked (headers only: grids, bands, CRSs), curves and zones
 *           resolved, class values and fraction ranges scanned, every problem reported at once before
 *           any tile runs; the exposure grid is the target grid, cut into tiles (src/engine/tiling.ts)
 *   map     each tile reads its own windows and sums its units (src/engine/tile.ts), here or on a pool
 *   reduce  unit sums added exactly (src/engine/reduce.ts)
 *   derive  EAD, eai/aai and exceedance curve, ensemble statistics, exceedance, triggers
 *
 * File access is the caller's ({@link ScenarioIO}: Node paths, browser Blobs, edge R2 objects), so the
 * same function runs everywhere. Per-cell outputs (damage, EAD) reach `onTile` tile by tile.
 */
import { IbfError } from '../errors.js';
import { coverageSpans } from '../geo/coverage.js';
import { planResample } from '../geo/resample.js';
import { parseFrequencyCsv } from '../io/frequencies-csv.js';
import { parseZones, zonesDocument } from '../io/zones.js';
import type { ImpactKernel } from '../kernels/types.js';
import type { DamageFunction } from '../model/damage-function.js';
import { sameGrid, withCrs, type Grid } from '../model/grid.js';
import { bandsMeaning, isClassed, type Scenario } from '../model/scenario.js';
import { inUnit } from '../model/units.js';
import type { Zones } from '../model/zones.js';
import type { Pool, PoolLogger } from '../pool/pool.js';
import { ENGINE, VERSION } from '../version.js';
import { totalsOf } from './assess.js';
import type { DerivationSpec } from './derive/index.js';
import { curveHash } from './manifest.js';
import { checkDerivation, derivationSpec, derive } from './metrics.js';
import type { AlignedLayer, AssessPlan, ClassLayer, HazardLayer, LayerMethod, ZoneSpans } from './plan.js';
import { ProblemCollector } from './problems.js';
import { validateResult } from './result-schema.js';
import { RESULT_SCHEMA, type AssessResult, type ManifestInput, type ResultBand } from './result.js';
import { runPlan, type PlanOutput, type Progress } from './run.js';
import { SourceCache, type LayerRef, type PathOpener, type SourceRef } from './sources.js';
import { aligned, type TileResult } from './tile.js';
import { planTiles } from './tiling.js';
import { resolveCurve } from './vulnerability.js';
import type { RasterInfo } from '../io/geotiff.js';


/** How `assess` reaches the files a scenario names (paths relative to the scenario, or URLs). */
export interface ScenarioIO {
  /** A raster: where tiles read it from. Records it for the manifest. */
  raster(role: string, ref: string): Promise<{ source: SourceRef; name: string }>;
  /** A text file (curves CSV, zones GeoJSON, frequencies CSV). Records it for the manifest. */
  text(role: string, ref: string): Promise<string>;
  /** What was read, for the manifest. */
  inputs(): ManifestInput[] | Promise<ManifestInput[]>;
  /** Opens file paths for tiles run on this thread (Node). */
  openPath?: PathOpener;
}

export interface AssessOptions {
  io: ScenarioIO;
  kernel: ImpactKernel;
  /** Worker pool for the tiles; without one they run on this thread. */
  pool?: Pool;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  logger?: PoolLogger;
  /** Cells per tile (whole units); results do not depend on it. */
  tileCells?: number;
  /** Per-cell outputs the tiles compute and hand to `onTile` (EAD only for return-period maps). */
  cellOutputs?: { damage?: boolean; ead?: boolean };
  /** Called once the plan stands, before any tile runs (open output writers here). */
  onPlan?: (p: PlannedAssessment) => void | Promise<void>;
  onTile?: (r: TileResult) => void | Promise<void>;
  /** sha256 of the scenario document, for the manifest. */
  scenarioSha256?: string;
}

/** What planning found: the plan and what the result needs besides the sums. */
export interface PlannedAssessment {
  plan: AssessPlan;
  scenario: Scenario;
  bands: ResultBand[];
  spec: DerivationSpec;
  zones?: Zones;
  zoneIds: Array<{ id: string; name?: string }>;
  curves: DamageFunction[];
  labels: (string | undefined)[];
  warnings: string[];
}

export interface AssessOutput {
  result: AssessResult;
  planned: PlannedAssessment;
  phases: PlanOutput['phases'];
}

function layerOf(source: SourceRef, name: string, info: RasterInfo, crs: string | null, bands: number[], as: LayerRef['as'], nodata: number | null | undefined): LayerRef {
  return { source, name, grid: withCrs(info.grid, crs ?? info.grid.crs), bands, as, ...(nodata !== undefined ? { nodata } : {}) };
}

/**
 * Hazard bands a tile holds per target cell, for sizing tiles: all of them per cell, except on the
 * aggregated path, where the bands stay on the (coarser) hazard grid.
 */
function sizingBands(h: HazardLayer, target: Grid, nBands: number): number {
  if (!h.aggregate || h.grid.crs !== target.crs) return nBands;
  const ratio = Math.abs((h.grid.transform[1] * h.grid.transform[5]) / (target.transform[1] * target.transform[5]));
  return ratio > 1 ? Math.max(1, Math.ceil(nBands / ratio)) : nBands;
}

/**
 * Opens every input of `s`, checks it, and makes the plan. All problems are thrown together.
 * `prescan: false` skips reading the class raster and the fraction tile by tile (for steps that re-plan
 * a scenario whose plan step has scanned them already; the plan is the same).
 */
export async function planScenario(s: Scenario, opts: Pick<AssessOptions, 'io' | 'kernel' | 'tileCells' | 'cellOutputs' | 'signal'>, cache: SourceCache, { prescan: scan = true }: { prescan?: boolean } = {}): Promise<PlannedAssessment> {
  const { io, kernel } = opts;
  const problems = new ProblemCollector();
  const v = s.vulnerability;
  const meaning = bandsMeaning(s);
  const readText = (rel: string) => io.text('vulnerability', rel);
  const open = async (role: string, spec: string | { source: string; nodata?: number | null }) => {
    const src = typeof spec === 'string' ? { source: spec } : spec;
    const { source, name } = await io.raster(role, src.source);
    const probe: LayerRef = { source, name, grid: { width: 0, height: 0, transform: [0, 1, 0, 0, 0, -1], crs: null }, bands: [], as: 'native', ...(src.nodata !== undefined ? { nodata: src.nodata } : {}) };
    const info = (await cache.reader(probe)).info;
    return { source, name, info, nodata: src.nodata };
  };
  const bandProblem = (what: string, n: number, max: number) =>
    new IbfError('E_SCENARIO_INVALID', `${what}: band ${n} does not exist (the file has ${max})`, { hint: 'Band numbers start at 1, as GDAL counts them.' });

  const [hz, ex, fr, cl, vuln, zones, freqCsv] = await Promise.all([
    problems.attempt('hazard', async () => {
      const h = await open('hazard', { source: s.hazard.source, nodata: s.hazard.nodata });
      for (const b of s.hazard.select ?? []) if (b > h.info.bandCount) throw bandProblem('hazard.select', b, h.info.bandCount);
      return h;
    }),
    problems.attempt('exposure', async () => {
      const e = await open('exposure', { source: s.exposure.source, nodata: s.exposure.nodata });
      const b = s.exposure.band ?? 1;
      if (b > e.info.bandCount) throw bandProblem('exposure.band', b, e.info.bandCount);
      return e;
    }),
    s.hazard.fraction ? problems.attempt('hazard.fraction', () => open('fraction', s.hazard.fraction!)) : undefined,
    isClassed(v) ? problems.attempt('vulnerability.classes', () => open('classes', v.classes)) : undefined,
    problems.attempt('vulnerability', async () => {
      if (!isClassed(v)) return { curves: [await resolveCurve(v, readText)], labels: [undefined] as (string | undefined)[], curveOf: [] as Array<[number, number]>, defaultCurve: -1 };
      const keys = Object.keys(v.curves);
      if (keys.length > 255) throw new IbfError('E_SCENARIO_INVALID', `vulnerability.curves has ${keys.length} classes; at most 255 are supported`);
      const curveOf: Array<[number, number]> = [];
      let defaultCurve = -1;
      const bad: string[] = [];
      keys.forEach((k, i) => {
        if (k === 'default') defaultCurve = i;
        else if (!/^-?\d+(\.\d+)?$/.test(k.trim())) bad.push(k);
        else curveOf.push([Number(k), i]);
      });
      if (bad.length) {
        throw IbfError.fromProblems('E_SCENARIO_INVALID', 'vulnerability classes are invalid', bad.map((k) => ({ path: `vulnerability.curves.${k}`, message: `class key '${k}' is not a number (use the class raster's values, or "default")` })));
      }
      const curves = await Promise.all(keys.map((k) => resolveCurve(v.curves[k]!, readText, `vulnerability.curves.${k}`)));
      return { curves, labels: keys as (string | undefined)[], curveOf, defaultCurve };
    }),
    s.zones
      ? problems.attempt('zones', async () => {
          const doc = zonesDocument(await io.text('zones', s.zones!.source), s.zones!.source);
          return parseZones(doc, { idProperty: s.zones!.idProperty, nameProperty: s.zones!.nameProperty, name: s.zones!.source, selfIntersections: s.zones!.selfIntersections });
        })
      : undefined,
    typeof meaning.frequencies === 'string' ? problems.attempt('hazard.bands.frequencies', async () => parseFrequencyCsv(await io.text('frequencies', meaning.frequencies as string), meaning.frequencies as string)) : undefined,
  ]);

  // the grids: the exposure grid is the target (its CRS from the hazard when it has none)
  let target: Grid | undefined;
  let hazard: HazardLayer | undefined;
  let method: LayerMethod = 'none';
  const select = s.hazard.select?.map((b) => b - 1);
  if (hz && ex) {
    target = withCrs(ex.info.grid, hz.info.grid.crs);
    const hGrid = withCrs(hz.info.grid, target.crs);
    method = sameGrid(target, hGrid) ? 'none' : s.hazard.resampling ?? 'bilinear';
    const layer = layerOf(hz.source, hz.name, hz.info, target.crs, select ?? Array.from({ length: hz.info.bandCount }, (_, i) => i), 'float32', hz.nodata);
    if (method !== 'none') await problems.attempt('hazard', () => planResample(layer.grid, target!, { method: method as 'nearest' | 'bilinear' }));
    hazard = { ...layer, method, aggregate: method === 'nearest' && !isClassed(v) };
  }
  const nBands = hazard?.bands.length ?? 0;
  let fraction: AlignedLayer | undefined;
  if (fr && hazard && hz) {
    fraction = await problems.attempt('hazard.fraction', () => {
      const grid = withCrs(fr.info.grid, hazard!.grid.crs);
      if (!sameGrid(grid, hazard!.grid)) {
        throw new IbfError('E_GRID_MISMATCH', `${fr.name} is not on the hazard's grid (${grid.width} x ${grid.height} vs ${hazard!.grid.width} x ${hazard!.grid.height}, or another transform)`, {
          hint: 'The fraction belongs to the hazard: write it on the same grid as the hazard file (gdalwarp -te ... -tr ...).',
        });
      }
      const n = fr.info.bandCount;
      const bands = n === 1 ? [0] : n === hz.info.bandCount ? hazard!.bands : null;
      if (!bands) {
        throw new IbfError('E_SCENARIO_INVALID', `${fr.name} has ${n} bands; a fraction has 1 band (for every hazard band) or one per hazard band (${hz.info.bandCount})`, { hint: 'Give one fraction band, or as many as the hazard file has.' });
      }
      return { ...layerOf(fr.source, fr.name, fr.info, hazard!.grid.crs, bands, 'float32', fr.nodata), method };
    });
  }
  let classes: ClassLayer | undefined;
  if (cl && target && vuln) {
    const cGrid = withCrs(cl.info.grid, target.crs);
    const cMethod: LayerMethod = sameGrid(target, cGrid) ? 'none' : 'nearest';
    classes = { ...layerOf(cl.source, cl.name, cl.info, target.crs, [0], 'native', cl.nodata), method: cMethod, curveOf: vuln.curveOf, defaultCurve: vuln.defaultCurve };
    if (cMethod !== 'none') await problems.attempt('vulnerability.classes', () => planResample(classes!.grid, target!, { method: 'nearest' }));
  }

  // what the bands mean, and what to derive from them
  let scenario = s;
  if (freqCsv && hz) {
    await problems.attempt('hazard.bands.frequencies', () => {
      const bandNumbers = (select ?? Array.from({ length: hz.info.bandCount }, (_, i) => i)).map((b) => b + 1);
      const missing = bandNumbers.filter((b) => !freqCsv.has(b));
      if (missing.length) throw new IbfError('E_SCENARIO_INVALID', `${meaning.frequencies as string} has no frequency for band(s) ${missing.join(', ')}`, { hint: 'Give one row band,frequency for every hazard band used.' });
      scenario = { ...s, hazard: { ...s.hazard, bands: { ...meaning, frequencies: bandNumbers.map((b) => freqCsv.get(b)!) } } };
    });
  }
  let bands: ResultBand[] | undefined;
  if (hazard && hz) {
    bands = await problems.attempt('hazard.bands', () => bandList(scenario, hz.info, hazard!.bands));
    if (typeof bandsMeaning(scenario).frequencies !== 'string') await problems.attempt('hazard.bands', () => checkDerivation(scenario, nBands));
  }
  const curves = vuln?.curves ?? [];
  for (const c of curves) await problems.attempt('vulnerability', () => inUnit(c, s.hazard.unit));
  const rule = s.zones?.rule ?? 'coverage';
  let zoneSpans: ZoneSpans[] | undefined;
  if (zones && target) {
    zoneSpans = await problems.attempt('zones', () =>
      zones.zones.map((z) => {
        const sp = coverageSpans(z, zones.crs, target!, rule, kernel);
        const box: [number, number, number, number] | null = sp ? [sp.x0, sp.y0, sp.x0 + sp.width, sp.y0 + sp.height] : null;
        return { box, spans: sp ? sp.spans : new Int32Array(0) };
      }),
    );
  }
  problems.throwIfAny();

  const spec = derivationSpec(scenario, nBands);
  const rp = spec.bands.type === 'return-periods' ? spec.bands.returnPeriods : undefined;
  const wantEad = Boolean(opts.cellOutputs?.ead) && rp !== undefined;
  const plan: AssessPlan = {
    grid: target!,
    tiles: planTiles(target!.width, target!.height, { tileCells: opts.tileCells, nBands: sizingBands(hazard!, target!, nBands), damage: Boolean(opts.cellOutputs?.damage) || wantEad, block: ex!.info.block }),
    nBands,
    exposure: layerOf(ex!.source, ex!.name, ex!.info, target!.crs, [(s.exposure.band ?? 1) - 1], 'float64', ex!.nodata),
    hazard: hazard!,
    ...(fraction ? { fraction } : {}),
    ...(classes ? { classes } : {}),
    curves: curves.map((c) => inUnit(c, s.hazard.unit).spec),
    threshold: s.affectedThreshold ?? Number.MIN_VALUE,
    zones: zoneSpans ?? [],
    cellOutputs: {
      damage: Boolean(opts.cellOutputs?.damage),
      ead: wantEad ? { returnPeriods: [...rp!], method: spec.ead?.method ?? 'loglinear' } : null,
    },
  };
  if (scan) await prescan(plan, opts, cache);

  const warnings: string[] = [];
  if (method !== 'none') warnings.push(`the hazard was resampled (${method}) onto the exposure grid`);
  warnings.push(...(zones?.warnings ?? []));
  zones?.zones.forEach((z, i) => {
    if (!zoneSpans![i]!.box) warnings.push(`zone ${z.id} does not overlap the exposure grid`);
  });
  return {
    plan, scenario, bands: bands!, spec, zones,
    zoneIds: (zones?.zones ?? []).map((z) => ({ id: z.id, ...(z.name !== undefined ? { name: z.name } : {}) })),
    curves: curves.map((c) => inUnit(c, s.hazard.unit)), labels: vuln?.labels ?? [undefined], warnings,
  };
}

/**
 * Class values without a curve and fraction values outside [0, 1], found by reading those layers tile by
 * tile before any assessment tile runs (so a bad cell in the last tile does not waste the run).
 */
async function prescan(plan: AssessPlan, opts: Pick<AssessOptions, 'kernel' | 'signal'>, cache: SourceCache): Promise<void> {
  if (!plan.classes && !plan.fraction) return;
  const unknown = new Set<number>();
  const known = new Set(plan.classes?.curveOf.map(([v]) => v) ?? []);
  let bad = 0;
  let badExample: number | undefined;
  const ms = { read: 0, resample: 0, kernel: 0 };
  for (const T of plan.tiles) {
    opts.signal?.throwIfAborted();
    if (plan.classes && plan.classes.defaultCurve < 0) {
      const r = await aligned(plan.classes, plan.grid, T, { kernel: opts.kernel, cache }, ms);
      const band = r.bands[0]!;
      const nd = r.nodata;
      for (let i = 0; i < band.length; i++) {
        const c = band[i]!;
        if (c !== c || (nd !== null && (c === nd || c === Math.fround(nd))) || known.has(c)) continue;
        if (unknown.size < 20) unknown.add(c);
      }
    }
    if (plan.fraction) {
      // the fraction lives on the hazard grid; its window under this tile
      const r = await aligned(plan.fraction, plan.grid, T, { kernel: opts.kernel, cache }, ms);
      const nd = r.nodata;
      for (const band of r.bands) {
        for (let i = 0; i < band.length; i++) {
          const f = band[i]!;
          if (f !== f || (nd !== null && (f === nd || f === Math.fround(nd)))) continue;
          if (!(f >= 0 && f <= 1)) {
            bad++;
            badExample ??= f;
          }
        }
      }
    }
  }
  const problems = new ProblemCollector();
  if (unknown.size) {
    await problems.attempt('vulnerability.classes', () => {
      throw new IbfError('E_SCENARIO_INVALID', `the class raster has values with no curve: ${[...unknown].sort((a, b) => a - b).join(', ')}`, {
        hint: `Add a curve for each class value under vulnerability.curves (have: ${plan.classes!.curveOf.map(([v]) => v).join(', ')}), or a "default" curve.`,
      });
    });
  }
  if (bad) {
    await problems.attempt('hazard.fraction', () => {
      throw new IbfError('E_SCENARIO_INVALID', `${plan.fraction!.name} has ${bad} cell(s) outside 0..1 (e.g. ${badExample})`, {
        hint: 'A hazard fraction is the share of a cell the hazard reaches, between 0 and 1; rescale it (a percentage divided by 100) or set those cells to nodata.',
      });
    });
  }
  problems.throwIfAny();
}

function bandList(s: Scenario, info: RasterInfo, bands: number[]): ResultBand[] {
  const m = bandsMeaning(s);
  const problems: string[] = [];
  const n = bands.length;
  if (m.names && m.names.length !== n) problems.push(`hazard.bands.names has ${m.names.length} names for ${n} bands`);
  if (m.type === 'event' && n !== 1) problems.push(`hazard.bands.type is "event" but the hazard has ${n} bands (use "events", "ensemble" or "return-periods", or hazard.select)`);
  if (problems.length) {
    throw IbfError.fromProblems('E_SCENARIO_INVALID', 'the scenario does not fit the hazard raster', problems.map((message) => ({ path: 'hazard.bands', message })));
  }
  const freqs = typeof m.frequencies === 'string' ? undefined : m.frequencies;
  return bands.map((b, i) => ({
    index: i,
    band: b + 1,
    name: m.names?.[i] || info.bandNames?.[b] || `band_${b + 1}`,
    ...(freqs ? { frequency: freqs[i]! } : {}),
    ...(m.returnPeriods ? { returnPeriod: m.returnPeriods[i]! } : {}),
  }));
}

/** Assesses scenario `s`: plan, map, reduce, derive. See the module header. */
export async function assess(s: Scenario, opts: AssessOptions): Promise<AssessOutput> {
  const cache = new SourceCache(opts.io.openPath);
  try {
    const planned = await planScenario(s, opts, cache);
    const { plan } = planned;
    opts.logger?.debug(`assess: ${plan.grid.width} x ${plan.grid.height} cells x ${plan.nBands} band(s) in ${plan.tiles.length} tile(s)`, {
      tiles: plan.tiles.length, hazard: plan.hazard.method, aggregated: plan.hazard.aggregate, zones: plan.zones.length,
    });
    for (const w of planned.warnings) opts.logger?.warn(w);
    await opts.onPlan?.(planned);
    const out = await runPlan(planned.plan, { kernel: opts.kernel, pool: opts.pool, cache, signal: opts.signal, onProgress: opts.onProgress, onTile: opts.onTile, logger: opts.logger });
    const result = await buildResult(planned, out, opts);
    return { result, planned, phases: out.phases };
  } finally {
    await cache.close();
  }
}

/**
 * The result document from the plan and the reduced sums (slot 0 the totals, slot z + 1 zone z): derive
 * (EAD, eai/aai, ensemble statistics, triggers), the manifest (inputs `io` recorded, curves), and a check
 * against the result schema.
 */
export async function buildResult(p: PlannedAssessment, out: Pick<PlanOutput, 'partials' | 'excludedCells'>, opts: Pick<AssessOptions, 'io' | 'kernel' | 'scenarioSha256'>): Promise<AssessResult> {
  const s = p.scenario;
  const meaning = bandsMeaning(s);
  const spec = p.spec;
  const totals = totalsOf(out.partials[0]!);
  const warnings = [...(out.excludedCells > 0 ? [`${out.excludedCells} cells have no class (class raster nodata) and were left out`] : []), ...p.warnings];
  const g = p.plan.grid;
  const inputs = [...(await opts.io.inputs())];
  const result: AssessResult = {
    schema: RESULT_SCHEMA,
    ...(s.name ? { name: s.name } : {}),
    units: { intensity: s.hazard.unit, value: s.exposure.unit },
    bandsType: meaning.type,
    bands: p.bands,
    zones: p.zoneIds.map((z, i) => {
      const t = totalsOf(out.partials[i + 1]!);
      return { ...z, ...t, ...derive(t, spec, { totals: false }) };
    }),
    totals: { ...totals, ...derive(totals, spec, { totals: true, curveReturnPeriods: s.exceedanceCurve?.returnPeriods }) },
    ...(meaning.type === 'return-periods' ? { eadMethod: spec.ead?.method ?? 'loglinear' } : {}),
    grid: {
      width: g.width, height: g.height, transform: [...g.transform], crs: g.crs, hazardResampling: p.plan.hazard.method,
      ...(p.plan.hazard.aggregate ? { aggregated: true } : {}), ...(s.zones ? { zoneRule: s.zones.rule ?? 'coverage' } : {}),
    },
    affectedThreshold: s.affectedThreshold ?? null,
    warnings,
    manifest: {
      engine: { name: ENGINE, version: VERSION },
      kernel: opts.kernel.name,
      createdAt: new Date().toISOString(),
      inputs: inputs.sort((a, b) => a.role.localeCompare(b.role) || a.path.localeCompare(b.path)),
      curves: await Promise.all(p.curves.map(async (c, i) => ({ id: c.id ?? null, unit: c.unit, sha256: await curveHash(c), ...(p.labels[i] !== undefined ? { class: p.labels[i] } : {}) }))),
      ...(opts.scenarioSha256 ? { scenarioSha256: opts.scenarioSha256 } : {}),
    },
  };
  // the document must be what e4drr-ibf/result@1 promises (schema/result-1.schema.json); a mismatch is our bug
  const problems = validateResult(result);
  if (problems.length) throw IbfError.fromProblems('E_KERNEL', 'the result does not match e4drr-ibf/result@1', problems);
  return result;
}

