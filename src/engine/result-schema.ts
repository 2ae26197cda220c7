/**
 * @module engine/result-schema
 * The JSON Schema (draft 2020-12) of the result document `e4drr-ibf/result@1`, a validator for the
 * subset of JSON Schema it uses, and a compile-time proof that the schema and the TypeScript type
 * {@link AssessResult} describe the same document.
 *
 * The schema is written here as a constant (runtime-neutral: Node, browser and workerd import it the
 * same way); `schema/result-1.schema.json` in the package is this constant serialised, and a test
 * fails when the file and the constant differ (`npx vitest run -u test/engine/result-schema.test.ts`
 * rewrites it).
 *
 * How schema and type stay in step: {@link ResultDocument} is the type the schema describes, derived
 * from the constant by {@link FromSchema}. The `_InStep*` checks at the end of this file make `tsc`
 * fail when a field is added to, removed from, made optional in or retyped in `AssessResult` (or any
 * type it uses) without the same change here, naming the field paths that differ.
 */
import type { Problem } from '../errors.js';
import { RESULT_SCHEMA, type AssessResult } from './result.js';

/** The `$id` of the result schema: where the published package serves `schema/result-1.schema.json`. */
export const RESULT_SCHEMA_ID = 'https://unpkg.com/e4drr-ibf/schema/result-1.schema.json';

export type JsonType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

/**
 * The subset of JSON Schema 2020-12 that {@link validateJson} implements. Any other keyword in a
 * schema is refused (the validator throws) rather than silently ignored; `format` is an annotation.
 */
export interface JsonSchema {
  readonly $schema?: string;
  readonly $id?: string;
  readonly $defs?: { readonly [name: string]: JsonSchema };
  /** Only local references `#/$defs/<name>`. */
  readonly $ref?: string;
  readonly $comment?: string;
  readonly title?: string;
  readonly description?: string;
  /** Annotation only (not asserted), as in 2020-12's default vocabulary. */
  readonly format?: string;
  readonly type?: JsonType | readonly JsonType[];
  readonly const?: string | number | boolean | null;
  readonly enum?: readonly (string | number | boolean | null)[];
  readonly properties?: { readonly [name: string]: JsonSchema };
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
}

/** Keywords {@link validateJson} understands (assertions and annotations). */
export const SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set<keyof JsonSchema>([
  '$schema', '$id', '$defs', '$ref', '$comment', 'title', 'description', 'format', 'type', 'const', 'enum', 'properties',
  'required', 'additionalProperties', 'items', 'minItems', 'maxItems', 'minimum', 'maximum', 'pattern', 'anyOf', 'oneOf',
]);

// ---------------------------------------------------------------------------------------------------
// The schema

const num = (description: string) => ({ type: 'number', description }) as const;
const int = (description: string, minimum = 0) => ({ type: 'integer', minimum, description }) as const;
const str = (description: string) => ({ type: 'string', description }) as const;
const perBand = (description: string) => ({ type: 'array', description, items: { type: 'number' } }) as const;
const perBandOrNull = (description: string) => ({ type: 'array', description, items: { type: ['number', 'null'] } }) as const;
const probability = (description: string) => ({ type: 'number', minimum: 0, maximum: 1, description }) as const;
const sha256 = (description: string) => ({ type: 'string', pattern: '^[0-9a-f]{64}$', description }) as const;
const arrayOf = <R extends string>(ref: R, description: string) => ({ type: 'array', description, items: { $ref: ref } }) as const;

/** Fields of `totals` and of every `zones[]` entry (Totals). */
const totalsProperties = {
  cells: num('Cells with valid exposure, weighted by zone coverage (a fraction of a cell counts as that fraction).'),
  exposedValue: num('Sum of exposure over those cells (exposure unit).'),
  damage: perBand('Per band: expected damage, the sum of exposure x mean damage ratio (exposure unit). CLIMADA at_event.'),
  affectedValue: perBand('Per band: exposure where intensity >= the affected threshold (exposure unit; people for population).'),
  maxIntensity: perBandOrNull('Per band: highest intensity over cells with valid exposure (hazard unit); null where no cell has data.'),
  meanIntensity: perBandOrNull('Per band: mean intensity over cells with hazard and exposure, weighted by zone coverage (hazard unit); null where none.'),
  footprintValue: perBand('Per band: exposure where intensity > 0, the hazard footprint (exposure unit).'),
  hazardCells: perBand('Per band: cells where both hazard and exposure have data (weighted by zone coverage).'),
  eai: num('Event sets, per zone: expected annual impact, sum over events of damage x frequency (exposure unit / year). CLIMADA eai_exp.'),
  aai: num('Event sets, totals: average annual impact (exposure unit / year). CLIMADA aai_agg.'),
  exceedanceCurve: arrayOf('#/$defs/exceedancePoint', 'Event sets, totals: the exceedance frequency curve (CLIMADA calc_freq_curve), return periods ascending.'),
  ead: num('Return-period maps: expected annual damage (exposure unit / year), integrated as eadMethod says.'),
  ensemble: arrayOf('#/$defs/ensembleStats', 'Ensembles: per lead time, the distribution of damage over the members.'),
  exceedance: arrayOf('#/$defs/exceedanceEntry', 'Ensembles: per lead time, metric and threshold, the share of members at or above the threshold.'),
  trigger: arrayOf('#/$defs/triggerEntry', 'Ensembles with a trigger rule: per lead time, probability, triggered, alert level and severity.'),
} as const;

const totalsRequired = ['cells', 'exposedValue', 'damage', 'affectedValue', 'maxIntensity', 'meanIntensity', 'footprintValue', 'hazardCells'] as const;

/** The JSON Schema of `e4drr-ibf/result@1` (see the module doc; serialised as `schema/result-1.schema.json`). */
export const RESULT_JSON_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: RESULT_SCHEMA_ID,
  title: RESULT_SCHEMA,
  description:
    'The result of an e4drr-ibf impact assessment: per band, per admin zone and in total, with the metrics the bands call for ' +
    '(event sets: eai / aai / exceedance curve; return-period maps: EAD; ensembles: member distributions, exceedance probabilities and ' +
    'early-action triggers) and a manifest to reproduce the run. Values are float64 sums in the exposure unit, intensities in the hazard ' +
    'unit. Every per-band array has one entry per element of bands[], in the same order. Field names are a contract: extended, never renamed.',
  type: 'object',
  required: ['schema', 'units', 'bandsType', 'bands', 'zones', 'totals', 'affectedThreshold', 'warnings', 'manifest'],
  additionalProperties: false,
  properties: {
    schema: { const: RESULT_SCHEMA, description: 'Names this document format and its major version.' },
    name: str('The scenario name, when it has one.'),
    units: {
      type: 'object',
      description: 'Units of hazard intensity (e.g. "m", "m/s") and of exposure / damage values (e.g. "EUR", "people").',
      required: ['intensity', 'value'],
      additionalProperties: false,
      properties: { intensity: str('Hazard intensity unit.'), value: str('Exposure value unit (also the unit of damage).') },
    },
    bandsType: { enum: ['event', 'events', 'ensemble', 'return-periods'], description: 'What the hazard bands mean.' },
    bands: arrayOf('#/$defs/band', 'The hazard bands, in the order of every per-band array.'),
    zones: arrayOf('#/$defs/zone', 'Per admin zone, in the zones file order; empty without zones in the scenario.'),
    grid: {
      type: 'object',
      description: 'The grid everything was computed on (the exposure grid), and how inputs were brought onto it.',
      required: ['width', 'height', 'transform', 'crs', 'hazardResampling'],
      additionalProperties: false,
      properties: {
        width: int('Columns (cells).'),
        height: int('Rows (cells).'),
        transform: { type: 'array', minItems: 6, maxItems: 6, items: { type: 'number' }, description: 'GDAL geotransform [x0, dx, rx, y0, ry, dy] in CRS units.' },
        crs: { type: ['string', 'null'], description: 'EPSG:nnnn of the grid, or null when the inputs name none.' },
        hazardResampling: { enum: ['none', 'nearest', 'bilinear'], description: 'How the hazard was resampled onto the grid (none: same grid).' },
        aggregated: { type: 'boolean', description: 'True when a nearest-resampled hazard was not upsampled: exposure was summed per (hazard cell, zone) and combined with every band (same sums up to summation order).' },
        zoneRule: str('How cells count for a zone: coverage (area fraction), centre or all-touched.'),
      },
    },
    totals: { $ref: '#/$defs/totals' },
    affectedThreshold: { type: ['number', 'null'], description: 'Intensity (hazard unit) at or above which a cell counts as affected; null = any intensity > 0.' },
    eadMethod: { enum: ['loglinear', 'trapezoid'], description: 'Return-period maps: how EAD was integrated (loglinear: Delft-FIAT risk density).' },
    warnings: { type: 'array', items: { type: 'string' }, description: 'What the user should know that did not stop the run.' },
    manifest: { $ref: '#/$defs/manifest' },
  },
  $defs: {
    band: {
      type: 'object',
      required: ['index', 'band', 'name'],
      additionalProperties: false,
      properties: {
        index: int('0-based position in every per-band array.'),
        band: int('1-based band number in the hazard file (GDAL numbering).', 1),
        name: str('Band name (from the scenario, the file, or band_<n>).'),
        frequency: { type: 'number', minimum: 0, description: 'Event sets: annual frequency (1/year).' },
        returnPeriod: num('Return-period maps: return period (years).'),
      },
    },
    totals: {
      type: 'object',
      description: 'Sums over every cell of the grid (exposure outside every zone included) and the derived metrics.',
      required: totalsRequired,
      additionalProperties: false,
      properties: totalsProperties,
    },
    zone: {
      type: 'object',
      description: 'One admin zone: the fields of totals over the zone\'s (coverage-weighted) cells.',
      required: ['id', ...totalsRequired],
      additionalProperties: false,
      properties: { id: str('Zone id (the id property, as a string).'), name: str('Zone display name, when the scenario names a name property.'), ...totalsProperties },
    },
    exceedancePoint: {
      type: 'object',
      required: ['returnPeriod', 'impact'],
      additionalProperties: false,
      properties: {
        returnPeriod: num('Return period (years) = 1 / exceedance frequency.'),
        impact: num('Impact reached or exceeded once per return period (exposure unit).'),
      },
    },
    ensembleStats: {
      type: 'object',
      required: ['leadTime', 'leadTimeHours', 'members', 'mean', 'median', 'min', 'max', 'quantiles'],
      additionalProperties: false,
      properties: {
        leadTime: str('Lead time label, e.g. "24-hour".'),
        leadTimeHours: num('Lead time (hours).'),
        members: int('Ensemble members.', 1),
        mean: num('Mean damage over members (exposure unit).'),
        median: num('Median damage over members (exposure unit; numpy median).'),
        min: num('Smallest member damage (exposure unit).'),
        max: num('Largest member damage (exposure unit).'),
        quantiles: {
          type: 'array',
          description: 'numpy linear (type 7) quantiles of member damage, one per requested q.',
          items: {
            type: 'object',
            required: ['q', 'value'],
            additionalProperties: false,
            properties: { q: probability('Quantile in [0, 1].'), value: num('Damage at that quantile (exposure unit).') },
          },
        },
      },
    },
    exceedanceEntry: {
      type: 'object',
      required: ['leadTime', 'leadTimeHours', 'metric', 'threshold', 'probability', 'count', 'members'],
      additionalProperties: false,
      properties: {
        leadTime: str('Lead time label, e.g. "24-hour".'),
        leadTimeHours: num('Lead time (hours).'),
        metric: str('What was compared: damage, affectedValue, hazardMean, hazardMax.'),
        threshold: num('Threshold in the metric unit (exposure unit, or hazard unit for hazardMean / hazardMax).'),
        probability: probability('Members at or above the threshold / members, in [0, 1].'),
        count: int('Members at or above the threshold.'),
        members: int('Ensemble members.', 1),
      },
    },
    triggerEntry: {
      type: 'object',
      required: ['leadTime', 'leadTimeHours', 'probability', 'triggered', 'alertLevel', 'severity', 'count', 'members'],
      additionalProperties: false,
      properties: {
        leadTime: str('Lead time label, e.g. "24-hour".'),
        leadTimeHours: num('Lead time (hours).'),
        probability: probability('probability(metric >= rule threshold) = count / members, in [0, 1].'),
        triggered: { type: 'boolean', description: 'probability >= pMin and lead time <= maxLeadTime.' },
        alertLevel: { enum: ['none', 'low', 'medium', 'high'], description: 'The most severe alert class that holds at this lead time.' },
        severity: probability('IBF severity of the alert level: none 0, low 0.3, medium 0.7, high 1.0.'),
        count: int('Members at or above the rule threshold.'),
        members: int('Ensemble members.', 1),
      },
    },
    manifest: {
      type: 'object',
      description: 'What is needed to reproduce the run exactly.',
      required: ['engine', 'kernel', 'createdAt', 'inputs', 'curves'],
      additionalProperties: false,
      properties: {
        engine: {
          type: 'object',
          required: ['name', 'version'],
          additionalProperties: false,
          properties: { name: str('Engine name.'), version: str('Engine version.') },
        },
        kernel: { enum: ['ts', 'wasm-scalar', 'wasm-simd'], description: 'Which kernel computed the numbers.' },
        createdAt: { type: 'string', format: 'date-time', description: 'When the result was made (ISO 8601, UTC).' },
        inputs: arrayOf('#/$defs/manifestInput', 'Every input file read, sorted by role then path.'),
        curves: {
          type: 'array',
          description: 'Each damage function used, in the hazard unit.',
          items: {
            type: 'object',
            required: ['id', 'unit', 'sha256'],
            additionalProperties: false,
            properties: {
              id: { type: ['string', 'null'], description: 'Catalog or curve id; null for an unnamed curve.' },
              unit: str('Intensity unit of the curve.'),
              sha256: sha256('sha256 (hex) of the curve\'s canonical JSON.'),
              class: str('Classed vulnerability: the class value this curve is used for.'),
            },
          },
        },
        scenarioSha256: sha256('sha256 (hex) of the scenario document bytes, when it came from a file.'),
      },
    },
    manifestInput: {
      type: 'object',
      required: ['role', 'path', 'sha256', 'bytes'],
      additionalProperties: false,
      properties: {
        role: str('hazard, exposure, vulnerability, classes, zones ...'),
        path: str('As written in the scenario (relative paths stay relative; URLs without credentials).'),
        sha256: sha256('sha256 (hex) of the bytes read.'),
        bytes: int('Size of the input (bytes).'),
      },
    },
  },
} as const satisfies JsonSchema;

// ---------------------------------------------------------------------------------------------------
// Validation

/** Problems listed before one summary line. */
const MAX_PROBLEMS = 100;

export interface ValidateOptions {
  /** The document holding `$defs` for `$ref` (default: the schema itself). */
  root?: JsonSchema;
  /** Problems listed before a summary line (default 100). */
  maxProblems?: number;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

/** The JSON type of a value as JSON.stringify would write it (NaN and Infinity become null). */
function jsonTypeOf(v: unknown): JsonType | 'non-json' {
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isFinite(v) ? 'number' : 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (Array.isArray(v)) return 'array';
  if (isPlainObject(v)) return 'object';
  return 'non-json';
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isFinite(v) ? `the number ${v}` : `${v}, which JSON cannot hold (JSON.stringify writes null)`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'boolean') return `${v}`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} (JSON.stringify writes it as an object, not an array)`;
  if (isPlainObject(v)) return 'an object';
  return `a ${typeof v}, which is not a JSON value`;
}

const matchesType = (v: unknown, t: JsonType): boolean => {
  const j = jsonTypeOf(v);
  return t === 'integer' ? j === 'number' && Number.isInteger(v) : j === t;
};

const literal = (v: unknown) => JSON.stringify(v);

const childPath = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;

class Collector {
  readonly items: Problem[] = [];
  more = 0;
  constructor(private readonly max: number) {}
  add(path: string, message: string): void {
    if (this.items.length < this.max) this.items.push({ path, message });
    else this.more++;
  }
  get count(): number {
    return this.items.length + this.more;
  }
}

function resolveRef(ref: string, root: JsonSchema): JsonSchema {
  const m = /^#\/\$defs\/([^/]+)$/.exec(ref);
  const target = m ? root.$defs?.[m[1]!] : undefined;
  if (!target) throw new Error(`JSON Schema: cannot resolve $ref ${JSON.stringify(ref)}; only "#/$defs/<name>" of the root schema is supported`);
  return target;
}

function check(schema: JsonSchema, v: unknown, path: string, root: JsonSchema, out: Collector): void {
  for (const k of Object.keys(schema)) {
    if (!SUPPORTED_KEYWORDS.has(k)) throw new Error(`JSON Schema keyword ${JSON.stringify(k)} at ${path || '(root)'} is not supported by this validator; supported: ${[...SUPPORTED_KEYWORDS].join(', ')}`);
  }
  if (schema.$ref !== undefined) check(resolveRef(schema.$ref, root), v, path, root, out);
  if (schema.type !== undefined) {
    const types: readonly JsonType[] = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((t) => matchesType(v, t))) {
      out.add(path, `is ${describe(v)}; expected ${types.map((t) => (t === 'null' ? 'null' : `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`)).join(' or ')}`);
      return;
    }
  }
  if (schema.const !== undefined && v !== schema.const) {
    out.add(path, `is ${describe(v)}; expected ${literal(schema.const)}`);
    return;
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => e === v)) {
    out.add(path, `is ${describe(v)}; expected one of ${schema.enum.map(literal).join(', ')}`);
    return;
  }
  if (typeof v === 'number' && Number.isFinite(v)) {
    if (schema.minimum !== undefined && v < schema.minimum) out.add(path, `is ${v}; expected a number >= ${schema.minimum}`);
    if (schema.maximum !== undefined && v > schema.maximum) out.add(path, `is ${v}; expected a number <= ${schema.maximum}`);
  }
  if (typeof v === 'string' && schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(v)) {
    out.add(path, `is ${describe(v)}, which does not match /${schema.pattern}/`);
  }
  if (Array.isArray(v)) {
    if (schema.minItems !== undefined && v.length < schema.minItems) out.add(path, `has ${v.length} items; expected at least ${schema.minItems}`);
    if (schema.maxItems !== undefined && v.length > schema.maxItems) out.add(path, `has ${v.length} items; expected at most ${schema.maxItems}`);
    if (schema.items !== undefined) v.forEach((item, i) => check(schema.items!, item, childPath(path, i), root, out));
  }
  if (isPlainObject(v)) {
    // a property whose value is undefined is absent, as JSON.stringify writes it
    const present = (k: string) => Object.hasOwn(v, k) && v[k] !== undefined;
    for (const k of schema.required ?? []) if (!present(k)) out.add(childPath(path, k), 'is required but missing');
    const props = schema.properties ?? {};
    for (const k of Object.keys(v)) {
      if (!present(k)) continue;
      const sub = Object.hasOwn(props, k) ? props[k] : undefined;
      if (sub) check(sub, v[k], childPath(path, k), root, out);
      else if (schema.additionalProperties === false) out.add(childPath(path, k), `is not a field of this object (allowed: ${Object.keys(props).join(', ')})`);
      else if (typeof schema.additionalProperties === 'object') check(schema.additionalProperties, v[k], childPath(path, k), root, out);
    }
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    const results = alternatives.map((alt) => {
      const c = new Collector(Number.MAX_SAFE_INTEGER);
      check(alt, v, path, root, c);
      return c.items;
    });
    const passing = results.filter((r) => r.length === 0).length;
    if (schema.anyOf && passing === 0 || schema.oneOf && passing !== 1) {
      if (schema.oneOf && passing > 1) {
        out.add(path, `matches ${passing} of the oneOf alternatives; expected exactly one`);
      } else {
        // report the closest alternative's problems, so nested paths stay precise: prefer one whose
        // own type matched (no problem at this path itself), then the fewest problems
        const score = (r: Problem[]) => [r.filter((p) => p.path === path).length, r.length] as const;
        const best = results.reduce((a, b) => {
          const [sa, na] = score(a);
          const [sb, nb] = score(b);
          return sb < sa || (sb === sa && nb < na) ? b : a;
        });
        for (const p of best) out.add(p.path, p.message);
      }
    }
  }
}

/**
 * Validates `doc` against a schema in the supported subset and returns every problem (empty when
 * valid), each with the dotted path of the offending field (`zones[2].damage[0]`; the root is `""`).
 * The document is checked as JSON.stringify would write it: properties whose value is undefined are
 * absent, NaN and Infinity are null. Throws (a plain Error: a bug in the schema, not in the document)
 * on a keyword outside {@link SUPPORTED_KEYWORDS} or an unresolvable `$ref`.
 */
export function validateJson(schema: JsonSchema, doc: unknown, options: ValidateOptions = {}): Problem[] {
  const out = new Collector(options.maxProblems ?? MAX_PROBLEMS);
  check(schema, doc, '', options.root ?? schema, out);
  const problems = out.items;
  if (out.more > 0) problems.push({ path: '', message: `... and ${out.more} more problem${out.more === 1 ? '' : 's'}` });
  return problems;
}

/**
 * Validates a result document (an {@link AssessResult} in memory, or a parsed result.json) against
 * `e4drr-ibf/result@1`: every missing required field, wrong type, value outside its range or enum,
 * and unknown field, with its path. Empty when valid.
 */
export function validateResult(doc: unknown, options: Omit<ValidateOptions, 'root'> = {}): Problem[] {
  return validateJson(RESULT_JSON_SCHEMA, doc, options);
}

// ---------------------------------------------------------------------------------------------------
// The type the schema describes, and the proof that it is AssessResult

type DefsOf<S> = S extends { readonly $defs: infer D } ? D : {};
type RequiredOf<S> = S extends { readonly required: readonly (infer R)[] } ? R : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

type FromType<T, S, D> = T extends 'null' ? null
  : T extends 'string' ? string
  : T extends 'number' | 'integer' ? number
  : T extends 'boolean' ? boolean
  : T extends 'array' ? (S extends { readonly items: infer I } ? FromNode<I, D>[] : unknown[])
  : T extends 'object' ? (S extends { readonly properties: infer P } ? FromObject<P, RequiredOf<S>, D> : Record<string, unknown>)
  : never;

type FromObject<P, R, D> = Simplify<
  { -readonly [K in keyof P as K extends R ? K : never]: FromNode<P[K], D> } & { -readonly [K in keyof P as K extends R ? never : K]?: FromNode<P[K], D> }
>;

type FromNode<S, D> = S extends { readonly $ref: `#/$defs/${infer N}` } ? (N extends keyof D ? FromNode<D[N], D> : never)
  : S extends { readonly const: infer C } ? C
  : S extends { readonly enum: readonly (infer E)[] } ? E
  : S extends { readonly anyOf: readonly (infer A)[] } ? (A extends unknown ? FromNode<A, D> : never)
  : S extends { readonly oneOf: readonly (infer A)[] } ? (A extends unknown ? FromNode<A, D> : never)
  : S extends { readonly type: readonly (infer T)[] } ? (T extends unknown ? FromType<T, S, D> : never)
  : S extends { readonly type: infer T } ? FromType<T, S, D>
  : unknown;

/** The TypeScript type a schema (in the supported subset, written `as const`) describes. */
export type FromSchema<S> = FromNode<S, DefsOf<S>>;

/** The result document as {@link RESULT_JSON_SCHEMA} describes it; the same type as {@link AssessResult}. */
export type ResultDocument = FromSchema<typeof RESULT_JSON_SCHEMA>;

type IsOptional<T, K extends keyof T> = {} extends Pick<T, K> ? true : false;
/**
 * Every field path of a type, optional ones marked with `?`: `totals.damage`, `zones[].name?`,
 * `manifest.curves[].class?`. Comparing these sets finds fields missing on one side or optional on one
 * side only, which assignability alone does not (an extra optional field is assignable both ways).
 */
export type FieldPaths<T, P extends string = ''> = T extends readonly (infer E)[] ? FieldPaths<E, `${P}[]`>
  : T extends object
    ? { [K in keyof T & string]-?: `${P}${P extends '' ? '' : '.'}${K}${IsOptional<T, K> extends true ? '?' : ''}` | FieldPaths<NonNullable<T[K]>, `${P}${P extends '' ? '' : '.'}${K}`> }[keyof T & string]
    : never;

/** `U` when it is assignable to `T`; otherwise tsc reports why, field by field. */
type Satisfies<T, U extends T> = U;

// tsc fails on the next lines when the schema and AssessResult drift apart; the error names the fields.
// Same field paths (and the same optionality) on both sides:
type _InStepFields = Satisfies<
  { inTypeNotInSchema: never; inSchemaNotInType: never },
  { inTypeNotInSchema: Exclude<FieldPaths<AssessResult>, FieldPaths<ResultDocument>>; inSchemaNotInType: Exclude<FieldPaths<ResultDocument>, FieldPaths<AssessResult>> }
>;
// ... and the same value types (every AssessResult is a document, and every document an AssessResult):
type _InStepTypeToSchema = Satisfies<ResultDocument, AssessResult>;
type _InStepSchemaToType = Satisfies<AssessResult, ResultDocument>;
