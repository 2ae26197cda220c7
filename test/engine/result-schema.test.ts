/**
 * The JSON Schema of `e4drr-ibf/result@1` (issue #4 section 5): every result.json that real scenarios
 * write validates; broken documents are refused with the path of each problem; the shipped
 * schema/result-1.schema.json is the constant serialised; and the schema declares every field real
 * results carry, and real results exercise every field it declares (the compile-time half of the
 * drift check lives in src/engine/result-schema.ts).
 *
 * Scenarios run on the Delft-FIAT synthetic grid (../shared/data/fiat-synthetic-grid, 10 x 10 cells,
 * EPSG:4326) and examples/fiat-grid, as test/engine/assess-metrics.test.ts does.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRaster } from '../../src/io/geotiff.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import type { ImpactKernel } from '../../src/kernels/types.js';
import { runScenarioFile } from '../../src/node/run-scenario.js';
import { RESULT_SCHEMA, type AssessResult } from '../../src/engine/result.js';
import { RESULT_JSON_SCHEMA, RESULT_SCHEMA_ID, SUPPORTED_KEYWORDS, validateJson, validateResult, type JsonSchema } from '../../src/engine/result-schema.js';
import { FIAT, REPO, tempDir, writeJson, writeTif } from '../helpers.js';

const SCHEMA_FILE = join(REPO, 'schema', 'result-1.schema.json');

let kernel: ImpactKernel;
/** Each scenario's result.json as written by `ibf assess --out`, parsed, and the result in memory. */
const runs: Array<{ name: string; written: unknown; result: AssessResult }> = [];

function fiatDir(): string {
  const dir = tempDir();
  for (const f of ['event_map.tif', 'exposure_max_damage.tif', 'risk_map_rp2_5_10_25.tif', 'vulnerability_curves.csv']) copyFileSync(join(FIAT, f), join(dir, f));
  return dir;
}

const rect = (x0: number, y0: number, x1: number, y1: number) => [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]];
/** West half and the north-east quarter of the FIAT grid (lon 4.35..4.45, lat 51.95..52.05), and one zone off the grid. */
const ZONES = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { code: 'W', label: 'West, "polder" side' }, geometry: { type: 'Polygon', coordinates: rect(4.35, 51.95, 4.4, 52.05) } },
    { type: 'Feature', properties: { code: 'NE', label: 'North-east' }, geometry: { type: 'Polygon', coordinates: rect(4.4, 52.0, 4.45, 52.05) } },
    { type: 'Feature', properties: { code: 'SEA', label: 'Sea' }, geometry: { type: 'Polygon', coordinates: rect(5, 53, 5.1, 53.1) } },
  ],
};
const base = {
  exposure: { source: 'exposure_max_damage.tif', unit: 'EUR' },
  vulnerability: { csv: 'vulnerability_curves.csv', column: 'struct_1' },
};

async function run(name: string, scenarioPath: string): Promise<void> {
  const out = tempDir();
  const { result, written } = await runScenarioFile(scenarioPath, { kernel, outDir: out });
  expect(written.some((w) => w.endsWith('result.json'))).toBe(true);
  runs.push({ name, written: JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')), result });
}

beforeAll(async () => {
  kernel = await loadKernel();
  // 1. the bundled example: one flood event, no zones
  await run('single event (examples/fiat-grid)', join(REPO, 'examples', 'fiat-grid', 'scenario.json'));

  // 2. return-period maps with zones: EAD per zone and in total, ead.tif
  let dir = fiatDir();
  writeJson(join(dir, 'zones.geojson'), ZONES);
  writeJson(join(dir, 's.json'), {
    name: 'return periods, zones',
    ...base,
    hazard: { source: 'risk_map_rp2_5_10_25.tif', unit: 'm', bands: { type: 'return-periods', returnPeriods: [2, 5, 10, 25], names: ['rp2', 'rp5', 'rp10', 'rp25'] } },
    zones: { source: 'zones.geojson', idProperty: 'code', nameProperty: 'label' },
    ead: { method: 'trapezoid' },
    affectedThreshold: 0.5,
  });
  await run('return-period maps with zones', join(dir, 's.json'));

  // 3. an event set with frequencies: eai per zone, aai and the exceedance curve in total
  dir = fiatDir();
  writeJson(join(dir, 'zones.geojson'), ZONES);
  writeJson(join(dir, 's.json'), {
    ...base,
    hazard: { source: 'risk_map_rp2_5_10_25.tif', unit: 'm', bands: { type: 'events', frequencies: [0.5, 0.2, 0.1, 0.04] } },
    zones: { source: 'zones.geojson', idProperty: 'code', rule: 'centre' },
    exceedanceCurve: { returnPeriods: [10, 20] },
  });
  await run('event set with frequencies', join(dir, 's.json'));

  // 4. a small ensemble (5 members x 2 lead times, member-major) with quantiles, exceedance and a trigger
  dir = fiatDir();
  const event = await readRaster(readFileSync(join(FIAT, 'event_map.tif')), { as: 'float32' });
  const bands: Float32Array[] = [];
  for (let m = 0; m < 5; m++) for (let l = 0; l < 2; l++) bands.push(Float32Array.from(event.bands[0]!, (v) => v * (0.5 + m / 4 + l / 2)));
  writeTif(join(dir, 'ens.tif'), event.grid, bands);
  writeJson(join(dir, 'zones.geojson'), ZONES);
  writeJson(join(dir, 's.json'), {
    ...base,
    hazard: { source: 'ens.tif', unit: 'm', bands: { type: 'ensemble', members: 5, leadTimes: ['24-hour', '48-hour'] } },
    zones: { source: 'zones.geojson', idProperty: 'code', nameProperty: 'label' },
    quantiles: [0.1, 0.5, 0.9],
    exceedance: [{ metric: 'hazardMax', thresholds: [1, 3] }],
    trigger: { metric: 'damage', threshold: 20_000, pMin: 0.6, maxLeadTime: '1-day', alertClasses: [{ level: 'low', threshold: 10_000, pMin: 0.2 }, { level: 'medium', threshold: 20_000, pMin: 0.6 }] },
  });
  await run('ensemble with a trigger', join(dir, 's.json'));

  // 5. classed vulnerability (manifest.curves[].class) on a hazard resampled from a finer grid
  dir = fiatDir();
  writeTif(join(dir, 'classes.tif'), event.grid, [new Float32Array(100).map((_, i) => (i % 10 < 5 ? 1 : 2))]);
  const fine = new Float32Array(20 * 20).map((_, k) => event.bands[0]![Math.floor(Math.floor(k / 20) / 2) * 10 + Math.floor((k % 20) / 2)]!);
  writeTif(join(dir, 'fine.tif'), { width: 20, height: 20, transform: [4.35, 0.005, 0, 52.05, 0, -0.005], crs: 'EPSG:4326' }, [fine]);
  writeJson(join(dir, 's.json'), {
    hazard: { source: 'fine.tif', unit: 'm', resampling: 'nearest' },
    exposure: base.exposure,
    vulnerability: { classes: 'classes.tif', curves: { '1': { csv: 'vulnerability_curves.csv', column: 'struct_1' }, '2': { csv: 'vulnerability_curves.csv', column: 'struct_2' } } },
  });
  await run('classed vulnerability, resampled hazard', join(dir, 's.json'));

  // 6. a hazard on a 2x coarser grid, nearest, no classes: aggregated per (hazard cell, zone) (grid.aggregated)
  dir = fiatDir();
  const coarse = new Float32Array(5 * 5).map((_, k) => event.bands[0]![2 * Math.floor(k / 5) * 10 + 2 * (k % 5)]!);
  writeTif(join(dir, 'coarse.tif'), { width: 5, height: 5, transform: [4.35, 0.02, 0, 52.05, 0, -0.02], crs: 'EPSG:4326' }, [coarse]);
  writeJson(join(dir, 'zones.geojson'), ZONES);
  writeJson(join(dir, 's.json'), { ...base, hazard: { source: 'coarse.tif', unit: 'm', resampling: 'nearest' }, zones: { source: 'zones.geojson', idProperty: 'code' } });
  await run('coarser hazard, nearest, aggregated', join(dir, 's.json'));
});

describe('every result.json real scenarios write is a valid e4drr-ibf/result@1', () => {
  it('runs each kind of scenario', () => {
    expect(runs.map((r) => r.name)).toHaveLength(6);
    expect(runs.map((r) => (r.written as AssessResult).bandsType)).toEqual(['event', 'return-periods', 'events', 'ensemble', 'event', 'event']);
    expect(runs.map((r) => (r.written as AssessResult).grid?.aggregated)).toEqual([undefined, undefined, undefined, undefined, undefined, true]);
  });

  it('validates the written documents and the results in memory', () => {
    for (const r of runs) {
      expect({ name: r.name, problems: validateResult(r.written) }).toEqual({ name: r.name, problems: [] });
      expect({ name: r.name, problems: validateResult(r.result) }).toEqual({ name: r.name, problems: [] });
    }
  });

  it('validates them against the shipped schema file too', () => {
    const fromFile = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as JsonSchema;
    for (const r of runs) expect(validateJson(fromFile, r.written)).toEqual([]);
  });
});

describe('the shipped schema file', () => {
  it('is RESULT_JSON_SCHEMA serialised (vitest -u rewrites schema/result-1.schema.json)', async () => {
    await expect(`${JSON.stringify(RESULT_JSON_SCHEMA, null, 2)}\n`).toMatchFileSnapshot(SCHEMA_FILE);
  });

  it('is draft 2020-12 with an $id, the result schema name as title, and only keywords the validator implements', () => {
    expect(RESULT_JSON_SCHEMA.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(RESULT_JSON_SCHEMA.$id).toBe(RESULT_SCHEMA_ID);
    expect(RESULT_JSON_SCHEMA.title).toBe(RESULT_SCHEMA);
    const bad: string[] = [];
    const walk = (s: JsonSchema, at: string) => {
      for (const k of Object.keys(s)) if (!SUPPORTED_KEYWORDS.has(k)) bad.push(`${at}: ${k}`);
      for (const k of s.required ?? []) if (!s.properties || !Object.hasOwn(s.properties, k)) bad.push(`${at}: required "${k}" has no property schema`);
      if (s.$ref !== undefined && !/^#\/\$defs\/(\w+)$/.test(s.$ref)) bad.push(`${at}: $ref ${s.$ref}`);
      if (s.$ref !== undefined && !Object.hasOwn(RESULT_JSON_SCHEMA.$defs, s.$ref.slice('#/$defs/'.length))) bad.push(`${at}: unresolved ${s.$ref}`);
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${at}.properties.${k}`);
      for (const [k, v] of Object.entries(s.$defs ?? {})) walk(v, `${at}.$defs.${k}`);
      if (s.items) walk(s.items, `${at}.items`);
      for (const [i, v] of (s.anyOf ?? s.oneOf ?? []).entries()) walk(v, `${at}.anyOf[${i}]`);
    };
    walk(RESULT_JSON_SCHEMA, '#');
    expect(bad).toEqual([]);
  });
});

/** Field paths of a JSON value, array positions as `[]`: `zones[].damage`, `manifest.curves[].class`. */
function presentPaths(v: unknown, at = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const item of v) presentPaths(item, `${at}[]`, out);
  else if (typeof v === 'object' && v !== null) {
    for (const [k, child] of Object.entries(v)) {
      const p = at ? `${at}.${k}` : k;
      out.add(p);
      presentPaths(child, p, out);
    }
  }
  return out;
}

/** Field paths the schema declares, following $ref, items and nullable alternatives. */
function declaredPaths(s: JsonSchema, at = '', out = new Set<string>(), root: JsonSchema = s): Set<string> {
  if (s.$ref) return declaredPaths(root.$defs![s.$ref.slice('#/$defs/'.length)]!, at, out, root);
  if (s.items) declaredPaths(s.items, `${at}[]`, out, root);
  for (const alt of s.anyOf ?? s.oneOf ?? []) declaredPaths(alt, at, out, root);
  for (const [k, child] of Object.entries(s.properties ?? {})) {
    const p = at ? `${at}.${k}` : k;
    out.add(p);
    declaredPaths(child, p, out, root);
  }
  return out;
}

describe('schema and results cannot drift apart silently', () => {
  /** Typed on both totals and zones (Totals extends DerivedMetrics), but produced on one of them only. */
  const TYPED_NOT_PRODUCED = ['totals.eai', 'zones[].aai', 'zones[].exceedanceCurve', 'zones[].exceedanceCurve[].returnPeriod', 'zones[].exceedanceCurve[].impact'];

  it('declares every field real results carry', () => {
    const declared = declaredPaths(RESULT_JSON_SCHEMA);
    const undeclared = new Set<string>();
    for (const r of runs) for (const p of presentPaths(r.written)) if (!declared.has(p)) undeclared.add(p);
    expect([...undeclared]).toEqual([]);
  });

  it('declares no field that no real result carries (except those typed on totals and zones alike)', () => {
    const present = new Set<string>();
    for (const r of runs) for (const p of presentPaths(r.written)) present.add(p);
    const never = [...declaredPaths(RESULT_JSON_SCHEMA)].filter((p) => !present.has(p));
    expect(never.sort()).toEqual([...TYPED_NOT_PRODUCED].sort());
  });
});

describe('validateResult refuses broken documents, with the path of every problem', () => {
  const doc = (): Record<string, any> => structuredClone(runs[3]!.written) as Record<string, any>; // the ensemble, with zones

  it('a missing required field', () => {
    const d = doc();
    delete d.totals.damage;
    delete d.zones[1].id;
    delete d.manifest;
    expect(validateResult(d)).toEqual([
      // per object: its missing fields first, then its fields in document order
      { path: 'manifest', message: 'is required but missing' },
      { path: 'zones[1].id', message: 'is required but missing' },
      { path: 'totals.damage', message: 'is required but missing' },
    ]);
  });

  it('a wrong type', () => {
    const d = doc();
    d.zones[0].cells = '50';
    d.totals.damage[1] = null;
    d.totals.maxIntensity[0] = 'deep';
    d.zones[2].trigger[0].triggered = 'yes';
    d.grid.crs = 4326;
    const problems = validateResult(d);
    expect(problems.map((p) => p.path)).toEqual(['zones[0].cells', 'zones[2].trigger[0].triggered', 'totals.damage[1]', 'totals.maxIntensity[0]', 'grid.crs']);
    expect(problems[0]!.message).toBe('is the string "50"; expected a number');
    expect(problems[3]!.message).toBe('is the string "deep"; expected a number or null');
    expect(problems[4]!.message).toBe('is the number 4326; expected a string or null');
  });

  it('an unknown field, at the top level and inside', () => {
    const d = doc();
    d.extra = 1;
    d.zones[0].trigger[1].confidence = 0.9;
    const problems = validateResult(d);
    expect(problems.map((p) => p.path)).toEqual(['zones[0].trigger[1].confidence', 'extra']);
    expect(problems[1]!.message).toMatch(/^is not a field of this object \(allowed: schema, name, units/);
  });

  it('values outside their enum, const, range or pattern', () => {
    const d = doc();
    d.schema = 'e4drr-ibf/result@2';
    d.zones[0].trigger[0].alertLevel = 'severe';
    d.zones[0].exceedance[0].probability = 1.5;
    d.bands[0].band = 0;
    d.manifest.inputs[0].sha256 = 'not-a-hash';
    d.grid.transform = [0, 1, 0, 0, 0];
    expect(validateResult(d)).toEqual([
      { path: 'schema', message: 'is the string "e4drr-ibf/result@2"; expected "e4drr-ibf/result@1"' },
      { path: 'bands[0].band', message: 'is 0; expected a number >= 1' },
      { path: 'zones[0].trigger[0].alertLevel', message: 'is the string "severe"; expected one of "none", "low", "medium", "high"' },
      { path: 'zones[0].exceedance[0].probability', message: 'is 1.5; expected a number <= 1' },
      { path: 'grid.transform', message: 'has 5 items; expected at least 6' },
      { path: 'manifest.inputs[0].sha256', message: 'is the string "not-a-hash", which does not match /^[0-9a-f]{64}$/' },
    ]);
  });

  it('checks an in-memory result as JSON.stringify writes it: NaN is null, undefined is absent', () => {
    const r = structuredClone(runs[1]!.result) as AssessResult;
    (r as { name?: string }).name = undefined; // optional: absent when undefined
    r.totals.ead = NaN;
    r.zones[0]!.maxIntensity[0] = Infinity; // null is allowed there
    r.totals.damage = Float64Array.from(r.totals.damage) as unknown as number[];
    expect(validateResult(r)).toEqual([
      { path: 'totals.damage', message: 'is a Float64Array (JSON.stringify writes it as an object, not an array); expected an array' },
      { path: 'totals.ead', message: 'is NaN, which JSON cannot hold (JSON.stringify writes null); expected a number' },
    ]);
  });

  it('lists at most maxProblems, then a summary line', () => {
    const d = doc();
    d.totals.damage = d.totals.damage.map(String);
    const problems = validateResult(d, { maxProblems: 3 });
    expect(problems).toHaveLength(4);
    expect(problems[3]).toEqual({ path: '', message: `... and ${d.totals.damage.length - 3} more problems` });
    expect(validateResult('result')).toEqual([{ path: '', message: 'is the string "result"; expected an object' }]);
  });
});

describe('validateJson (the subset of JSON Schema the result schema uses)', () => {
  it('anyOf / oneOf: the closest alternative\'s problems, or the count of matches', () => {
    const s: JsonSchema = {
      $defs: { point: { type: 'object', required: ['x'], properties: { x: { type: 'number' } }, additionalProperties: false } },
      type: 'object',
      properties: {
        p: { anyOf: [{ type: 'null' }, { $ref: '#/$defs/point' }] },
        q: { oneOf: [{ type: 'number' }, { type: 'integer' }] },
      },
    };
    expect(validateJson(s, { p: null, q: 1.5 })).toEqual([]);
    expect(validateJson(s, { p: { x: 'a' } })).toEqual([{ path: 'p.x', message: 'is the string "a"; expected a number' }]);
    expect(validateJson(s, { q: 2 })).toEqual([{ path: 'q', message: 'matches 2 of the oneOf alternatives; expected exactly one' }]);
    expect(validateJson(s, { 'odd key': 1, p: { x: 1, 'y z': 2 } })).toEqual([{ path: 'p["y z"]', message: 'is not a field of this object (allowed: x)' }]);
  });

  it('refuses keywords it does not implement and $refs it cannot resolve, instead of ignoring them', () => {
    expect(() => validateJson({ type: 'string', maxLength: 3 } as JsonSchema, 'abcd')).toThrow(/keyword "maxLength" at \(root\) is not supported/);
    expect(() => validateJson({ $ref: 'other.json#/x' }, 1)).toThrow(/cannot resolve \$ref "other.json#\/x"/);
  });
});
