/**
 * The one fixed case the runtime tests (browser.test.ts, workerd.test.ts) send to a real runtime:
 * two mdr curves and a small impactZonal pass, its wire form (typed arrays as base64 of their raw
 * bytes, so NaN and -0 survive JSON), the expected result from the ReferenceKernel in Node, and a
 * bit-for-bit comparison (Object.is). runner.mjs is the runtime side of the same wire format.
 */
import { Buffer } from 'node:buffer';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DamageFunction, type DamageFunctionSpec } from '../../src/model/damage-function.js';
import { ReferenceKernel } from '../../src/kernels/reference.js';
import { NO_ZONE, type ImpactInputs } from '../../src/kernels/types.js';

/** The repository root (with a trailing slash). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Throws a readable error when the built files the runtimes load are missing. */
export function assertBuilt(): void {
  const need = ['build/ibf.simd.wasm', 'dist/src/kernels/load-browser.js', 'dist/src/kernels/load-edge.js', 'dist/src/model/damage-function.js'];
  const missing = need.filter((f) => !existsSync(ROOT + f));
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run \`npm run build\` before these tests`);
}

/** CLIMADA `ImpfTropCyclone.from_emanuel_usa()` at 120 m/s. */
export const EMANUEL_USA_120 = 0.8769633232141456;

const emanuel = DamageFunction.fromEmanuel();
const table = DamageFunction.fromTable({ unit: 'm', intensity: [0, 0.5, 1, 2, 3], mdd: [0, 0.1, 0.3, 0.6, 0.8], paa: [0.5, 0.6, 0.8, 1, 1] });
const step = DamageFunction.fromStep([0, 1.2, 5], { unit: 'm', mdd: [0.05, 0.7] });

/** Emanuel USA at 30, 35, ..., 120 m/s (index 18 = 120 m/s); the table curve around and between its knots. */
export const MDR_CASES = [
  { curve: emanuel, xs: Float32Array.from({ length: 19 }, (_, i) => 30 + 5 * i) },
  { curve: table, xs: new Float32Array([-1, -0, 0, 0.1, 0.25, 0.5, 0.7, 1, 1.3, 2, 2.5, 3, 4, Infinity, NaN]) },
];

function impactInputs(): ImpactInputs {
  const n = 300;
  let s = 0x9e3779b9; // mulberry32: deterministic everywhere
  const rnd = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hazard = new Float32Array(2 * n);
  const exposure = new Float64Array(n);
  const zones = new Uint32Array(n);
  const weights = new Float32Array(n);
  const classes = new Uint8Array(n);
  const fraction = new Float32Array(2 * n); // one hazard fraction band per hazard band
  for (let i = 0; i < n; i++) {
    hazard[i] = i % 37 === 5 ? NaN : i % 41 === 7 ? -9999 : rnd() * 3.5 - 0.3; // band 0: depth (m), some dry
    hazard[n + i] = i % 29 === 3 ? NaN : rnd() * 5; // band 1
    exposure[i] = i % 23 === 11 ? -1 : i % 31 === 13 ? NaN : Math.round(rnd() * 1e5) / 7; // -1 = exposure nodata
    zones[i] = i % 17 === 9 ? NO_ZONE : i < 120 ? 0 : i < 200 ? 1 : (i >> 3) & 1;
    weights[i] = i % 19 === 2 ? 0 : rnd();
    classes[i] = rnd() < 0.3 ? 1 : 0;
    fraction[i] = i % 43 === 4 ? NaN : rnd();
    fraction[n + i] = i % 47 === 6 ? 0 : rnd();
  }
  return {
    hazard, nBands: 2, cells: n, exposure, zones, nZones: 2, weights, classes,
    curves: [table, step], threshold: 0.5, hazardNodata: -9999, exposureNodata: -1, damage: true,
    fraction, fractionStride: n,
  };
}

export const IMPACT = impactInputs();

type Typed = Float32Array | Float64Array | Uint32Array | Uint8Array;

export const toB64 = (a: Typed): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const bytes = (b64: string): ArrayBuffer => Uint8Array.from(Buffer.from(b64, 'base64')).buffer;

/** The JSON sent to the runtime (see runner.mjs). */
export function wireCase() {
  const spec = (c: DamageFunction): DamageFunctionSpec => c.spec;
  const i = IMPACT;
  return {
    mdr: MDR_CASES.map((c) => ({ curve: spec(c.curve), xs: toB64(c.xs) })),
    impact: {
      nBands: i.nBands, cells: i.cells, nZones: i.nZones, threshold: i.threshold,
      hazardNodata: i.hazardNodata, exposureNodata: i.exposureNodata, damage: i.damage,
      curves: i.curves.map(spec),
      hazard: toB64(i.hazard), exposure: toB64(i.exposure), zones: toB64(i.zones!),
      weights: toB64(i.weights!), classes: toB64(i.classes!),
      fraction: toB64(i.fraction!), fractionStride: i.fractionStride,
    },
  };
}

/** What runner.mjs returns, as JSON. */
export interface WireResult {
  kernel: string;
  userAgent: string;
  mdr: string[];
  impact: { stats: string; zoneStats: string; damage: string };
}

export interface CaseResult {
  mdr: Float64Array[];
  stats: Float64Array;
  zoneStats: Float64Array;
  damage: Float32Array;
}

export function decodeResult(r: WireResult): CaseResult {
  return {
    mdr: r.mdr.map((m) => new Float64Array(bytes(m))),
    stats: new Float64Array(bytes(r.impact.stats)),
    zoneStats: new Float64Array(bytes(r.impact.zoneStats)),
    damage: new Float32Array(bytes(r.impact.damage)),
  };
}

/** The same case computed by the TypeScript twin in Node. */
export function expectedResult(): CaseResult {
  const ref = new ReferenceKernel();
  const p = ref.impactZonal(IMPACT);
  return { mdr: MDR_CASES.map((c) => ref.mdr(c.curve, c.xs)), stats: p.stats, zoneStats: p.zoneStats, damage: p.damage! };
}

/** Every place where `got` and `want` differ by Object.is (empty when bitwise equal; -0 !== 0). */
export function bitDiffs(got: CaseResult, want: CaseResult): string[] {
  const out: string[] = [];
  const cmp = (label: string, a: ArrayLike<number>, b: ArrayLike<number>) => {
    if (a.length !== b.length) out.push(`${label}: length ${a.length} !== ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!Object.is(a[i], b[i])) out.push(`${label}[${i}]: ${Object.is(a[i], -0) ? '-0' : a[i]} !== ${Object.is(b[i], -0) ? '-0' : b[i]}`);
    }
  };
  want.mdr.forEach((m, k) => cmp(`mdr${k}`, got.mdr[k] ?? [], m));
  cmp('stats', got.stats, want.stats);
  cmp('zoneStats', got.zoneStats, want.zoneStats);
  cmp('damage', got.damage, want.damage);
  return out;
}
