/**
 * Document fuzz: valid scenario JSON, GeoJSON zones, flow JSON and damage-curve CSV, each damaged by
 * one generated edit (a field replaced by a value of another type or range, a field deleted, an unknown
 * key added; a CSV cell replaced, a row moved, a cell dropped). Every parse must either succeed (the
 * edit happened to be valid) or throw the parser's IbfError code with problems, and one of the problems
 * must name the edited field: its path (or an ancestor's) for JSON, its task for flows, its line or
 * column for CSV. Nothing else may be thrown.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { IbfError, type Problem } from '../../src/errors.js';
import { parseFlow } from '../../src/flow/document.js';
import { TaskRegistry } from '../../src/flow/registry.js';
import { readCurveCsv } from '../../src/io/curves-csv.js';
import { parseZones } from '../../src/io/zones.js';
import { parseScenario } from '../../src/model/scenario.js';
import { FuzzStats, fuzzParams, testTimeout } from './budget.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Seg = string | number;

/** Every path of `v` (root included). */
function paths(v: Json, at: Seg[] = []): Seg[][] {
  const out: Seg[][] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

type Edit = { op: 'replace'; pick: number; value: Json } | { op: 'delete'; pick: number } | { op: 'add'; pick: number; key: string };

const WRONG: Json[] = [null, true, 0, -1, 1e308, -1e308, 0.5, 2, 123456789, '', 'x', '../../etc/passwd', 'EPSG:99999', '\u0000', '💥', [], [1], [[1, 2]], {}, { a: 1 }, 'r2://other/x.tif'];
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('replace' as const), pick: fc.nat(), value: fc.constantFrom(...WRONG) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('add' as const), pick: fc.nat(), key: fc.constantFrom('colour', 'hazzard', 'sourc', '__proto__x', 'zz') }) },
);

/** Applies `e` to a copy of `doc`; returns the new document and the path edited. */
function apply(doc: Json, e: Edit): { doc: Json; path: Seg[]; key?: string } {
  const copy = structuredClone(doc);
  const all = paths(copy);
  const targets = e.op === 'replace' ? all : e.op === 'delete' ? all.filter((p) => p.length > 0 && typeof p[p.length - 1] === 'string') : all.filter((p) => { const v = get(copy, p); return !!v && typeof v === 'object' && !Array.isArray(v); });
  if (!targets.length) return { doc: copy, path: [] };
  const path = targets[e.pick % targets.length]!;
  if (e.op === 'replace') {
    if (!path.length) return { doc: e.value, path };
    (get(copy, path.slice(0, -1)) as Record<Seg, Json>)[path[path.length - 1]!] = e.value;
    return { doc: copy, path };
  }
  if (e.op === 'delete') {
    delete (get(copy, path.slice(0, -1)) as Record<string, Json>)[path[path.length - 1] as string];
    return { doc: copy, path };
  }
  (get(copy, path) as Record<string, Json>)[e.key] = 1;
  return { doc: copy, path: [...path, e.key], key: e.key };
}

function get(v: Json, p: Seg[]): Json {
  return p.reduce<Json>((x, s) => (x as Record<Seg, Json>)[s]!, v);
}

/** `a.b[0].c` as segments; '', '(document)', '(flow)' are the root. */
function segments(path: string): string[] {
  if (path === '' || path === '(document)' || path === '(flow)') return [];
  return path.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
}

/** Whether a problem's path is the edited path, an ancestor or a descendant of it. */
function related(problem: Problem, edited: Seg[]): boolean {
  const p = segments(problem.path);
  const e = edited.map(String);
  const n = Math.min(p.length, e.length);
  return p.slice(0, n).join('\u0001') === e.slice(0, n).join('\u0001');
}

/** Runs `parse`; returns 'ok' or the error's code, after checking that it is one of `codes` and lists problems. */
function outcome(parse: () => unknown, codes: string[]): { code: string; problems: Problem[] } {
  try {
    parse();
    return { code: 'ok', problems: [] };
  } catch (e) {
    if (!(e instanceof IbfError)) throw new Error(`not an IbfError: ${String(e)}`, { cause: e });
    expect(codes).toContain(e.code);
    expect(e.problems?.length ?? 0).toBeGreaterThan(0);
    return { code: e.code, problems: e.problems! };
  }
}

const SCENARIO: Json = {
  name: 'fuzz',
  hazard: { source: 'hazard.tif', unit: 'm', bands: { type: 'return-periods', returnPeriods: [2, 10, 100] }, nodata: -9999 },
  exposure: { source: 'exposure.tif', unit: 'EUR' },
  vulnerability: { intensity: [0, 0.5, 1, 2], mdd: [0, 0.2, 0.5, 1], unit: 'm' },
  zones: { source: 'zones.geojson', idProperty: 'id', nameProperty: 'name' },
  affectedThreshold: 0.1,
};

const square = (x: number, y: number, d: number) => [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]];
const ZONES: Json = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { id: 'A', name: 'Alpha' }, geometry: { type: 'Polygon', coordinates: square(30, -10, 0.5) } },
    { type: 'Feature', properties: { id: 'B', name: 'Beta' }, geometry: { type: 'MultiPolygon', coordinates: [square(31, -10, 0.5), square(32, -10, 0.25)] } },
  ],
};

const FLOW: Json = {
  name: 'daily',
  params: { country: 'MWI' },
  schedule: '0 6 * * *',
  concurrency: { max: 4, tags: { download: 2 } },
  tasks: [
    { name: 'fetch', type: 'noop', tags: ['download'], retry: { count: 2, backoff: { initialMs: 10 } }, timeoutMs: 1000 },
    { name: 'assess', params: { threshold: 3 }, tasks: [{ name: 'impact', type: 'noop', inputs: { raster: 'fetch' }, cache: true, trigger: { task: 'fetch', is: 'Completed' } }] },
    { name: 'publish', type: 'noop', after: ['assess'] },
  ],
};
const registry = new TaskRegistry().register('noop', { schema: z.object({ country: z.string().optional(), threshold: z.number().optional() }), run: () => 1 });

describe('document fuzz: invalid documents give IbfErrors that name the field', () => {
  const stats = new FuzzStats('documents');
  afterAll(() => stats.report());

  const jsonProperty = (name: string, base: Json, codes: string[], parse: (doc: unknown) => unknown, names: (p: Problem, path: Seg[]) => boolean) =>
    fc.asyncProperty(fc.array(editArb, { minLength: 1, maxLength: 2 }), async (edits) => {
      let doc = base;
      const edited: Seg[][] = [];
      for (const e of edits) {
        const r = apply(doc, e);
        doc = r.doc;
        edited.push(r.path);
      }
      const t0 = performance.now();
      const r = outcome(() => parse(doc), codes);
      stats.add(`${name}:${r.code}`, performance.now() - t0);
      if (r.code !== 'ok') {
        // at least one edit is named by at least one problem
        const hit = edited.some((p) => r.problems.some((pr) => names(pr, p)));
        expect(hit, `${JSON.stringify(edits)} at ${JSON.stringify(edited)} gave ${JSON.stringify(r.problems)}`).toBe(true);
      }
    });

  it('scenario JSON: E_SCENARIO_INVALID naming the field', async () => {
    expect(() => parseScenario(SCENARIO)).not.toThrow();
    await fc.assert(jsonProperty('scenario', SCENARIO, ['E_SCENARIO_INVALID'], (d) => parseScenario(d), related), fuzzParams(300, 5_000));
  }, testTimeout(5_000));

  it('GeoJSON zones: E_ZONES_INVALID / E_CRS_UNKNOWN naming the feature and field', async () => {
    const parse = (d: unknown) => parseZones(d, { idProperty: 'id', nameProperty: 'name' });
    expect(parse(ZONES).zones.length).toBe(2);
    // a duplicated id is reported at the first feature using it, and names the others in its message
    const names = (p: Problem, path: Seg[]) => related(p, path) || (path[0] === 'features' && typeof path[1] === 'number' && p.message.includes(`features[${path[1]}]`));
    await fc.assert(jsonProperty('zones', ZONES, ['E_ZONES_INVALID', 'E_CRS_UNKNOWN'], parse, names), fuzzParams(300, 5_000));
  }, testTimeout(5_000));

  it('flow JSON: E_FLOW_INVALID / E_CRON_INVALID naming the task and field', async () => {
    const parse = (d: unknown) => parseFlow(d, registry);
    expect(() => parse(FLOW)).not.toThrow();
    /** The task path (`assess/impact`) and field of an edit at a JSON path of the flow document. */
    const label = (path: Seg[]) => {
      const ids: string[] = [];
      let node = FLOW as Record<string, Json>;
      let i = 0;
      while (path[i] === 'tasks' && typeof path[i + 1] === 'number') {
        const next = (node.tasks as Json[])[path[i + 1] as number] as Record<string, Json> | undefined;
        if (!next || typeof next !== 'object') break;
        ids.push(typeof next.name === 'string' && next.name ? next.name : `tasks[${path[i + 1]}]`);
        node = next;
        i += 2;
      }
      return { task: ids.join('/'), field: path[i] === undefined ? undefined : String(path[i]) };
    };
    const names = (p: Problem, path: Seg[]) => {
      const { task, field } = label(path);
      const text = `${p.path} ${p.message}`;
      if (!task) return field === undefined || text.includes(field) || related(p, path);
      // a task's problem names the task (by id, or by position when its name was edited) or the field
      return text.includes(task) || /tasks\[\d+\]/.test(text) || (field !== undefined && text.includes(field));
    };
    await fc.assert(jsonProperty('flow', FLOW, ['E_FLOW_INVALID', 'E_CRON_INVALID'], parse, names), fuzzParams(300, 5_000));
  }, testTimeout(5_000));

  it('curve CSV: E_INPUT_FORMAT / E_CURVE_INVALID naming the line or column', async () => {
    const rowArb = fc.array(fc.tuple(fc.double({ min: 0, max: 5, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 2, maxLength: 12 });
    const cellEdit = fc.record({ row: fc.nat(), col: fc.nat({ max: 1 }), value: fc.constantFrom('abc', '', 'NaN', '-1', '2', '1e999', '0x10', '1,5', '"', ' ') });
    const editArbCsv = fc.oneof(
      cellEdit.map((c) => ({ kind: 'cell' as const, ...c })),
      fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
      fc.record({ kind: fc.constant('drop' as const), row: fc.nat() }),
      fc.record({ kind: fc.constant('header' as const), value: fc.constantFrom('intensity,intensity', 'depth;damage', '', 'intensity', 'intensity,damage_ratio,damage_ratio') }),
    );
    await fc.assert(
      fc.asyncProperty(rowArb, editArbCsv, async (rows, edit) => {
        const sorted = [...rows].sort((a, b) => a[0] - b[0]).map(([x, y]) => [String(x), String(y)]);
        let header = 'intensity,damage_ratio';
        const lines = sorted.map((r) => [...r]);
        let line = 0; // the CSV line the edit touched (1-based), 0: the header
        if (edit.kind === 'cell') {
          const r = edit.row % lines.length;
          lines[r]![edit.col] = edit.value;
          line = r + 2;
        } else if (edit.kind === 'swap') {
          const a = edit.a % lines.length;
          const b = edit.b % lines.length;
          [lines[a], lines[b]] = [lines[b]!, lines[a]!];
          line = Math.min(a, b) + 2;
        } else if (edit.kind === 'drop') {
          const r = edit.row % lines.length;
          lines[r] = lines[r]!.slice(0, 1);
          line = r + 2;
        } else header = edit.value;
        const text = [header, ...lines.map((l) => l.join(','))].join('\n');
        const t0 = performance.now();
        const r = outcome(() => readCurveCsv(text, { name: 'curve.csv', unit: 'm' }), ['E_INPUT_FORMAT', 'E_CURVE_INVALID']);
        stats.add(`csv:${r.code}`, performance.now() - t0);
        if (r.code !== 'ok') {
          const ok = r.problems.some((p) => p.path.startsWith('curve.csv') && (line === 0 || /:(\d+)/.test(p.path) || /line \d+/.test(p.message) || /intensity|damage/.test(p.path)));
          expect(ok, `${JSON.stringify(edit)} on ${JSON.stringify(text)} gave ${JSON.stringify(r.problems)}`).toBe(true);
        }
      }),
      fuzzParams(300, 5_000),
    );
  }, testTimeout(5_000));
});
