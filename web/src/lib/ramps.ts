/**
 * @module web/lib/ramps
 * Colour ramps computed here (no download): viridis and cividis (matplotlib's, sampled at even steps and
 * interpolated linearly in sRGB), both perceptually ordered and readable with colour-vision deficiencies,
 * and the alert-level colours (ColorBrewer YlOrBr, ordered by lightness) with their text labels.
 */
import type { AlertLevel } from '../../../src/engine/trigger.js';

export type RampName = 'viridis' | 'cividis';

const STOPS: Record<RampName, string[]> = {
  viridis: ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'],
  cividis: ['#00224e', '#123570', '#3b496c', '#575d6d', '#707173', '#8a8678', '#a59c74', '#c3b369', '#e1cc55', '#fee838'],
};

const hex = (s: string): [number, number, number] => [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16)];

const tables = new Map<RampName, Uint8ClampedArray>();

/** 256 RGB triplets of `name` (index 0 = low). */
export function rampTable(name: RampName): Uint8ClampedArray {
  let t = tables.get(name);
  if (t) return t;
  const stops = STOPS[name].map(hex);
  t = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(x));
    const f = x - k;
    for (let c = 0; c < 3; c++) t[i * 3 + c] = Math.round(stops[k]![c]! + (stops[k + 1]![c]! - stops[k]![c]!) * f);
  }
  tables.set(name, t);
  return t;
}

/** CSS colour of `t` in [0, 1] on ramp `name`. */
export function rampColour(name: RampName, t: number): string {
  const tab = rampTable(name);
  const i = Math.max(0, Math.min(255, Math.round((Number.isFinite(t) ? t : 0) * 255))) * 3;
  return `rgb(${tab[i]},${tab[i + 1]},${tab[i + 2]})`;
}

/** CSS gradient of a ramp, for legends. */
export function rampGradient(name: RampName): string {
  return `linear-gradient(to right, ${STOPS[name].join(', ')})`;
}

export const ALERT_ORDER: readonly AlertLevel[] = ['none', 'low', 'medium', 'high'];

/** Fill colours of the alert levels: light to dark, so order reads without hue. */
export const ALERT_COLOURS: Readonly<Record<AlertLevel, string>> = { none: '#f2f2f2', low: '#fed98e', medium: '#fe9929', high: '#993404' };

/** Text colour readable on each alert fill. */
export const ALERT_TEXT: Readonly<Record<AlertLevel, string>> = { none: '#222', low: '#222', medium: '#222', high: '#fff' };

/** Colour for "no data" zones and cells. */
export const NO_DATA_COLOUR = '#bdbdbd';

/**
 * Maps a value onto [0, 1] for a ramp: linear from 0 (or the minimum when negative) to the maximum, or
 * square-root when the values span orders of magnitude (damage is heavy-tailed).
 */
export interface Scale {
  domain: [number, number];
  kind: 'linear' | 'sqrt';
  at(v: number): number;
  /** Inverse of `at`, for legend ticks. */
  invert(t: number): number;
}

export function scaleFor(values: Iterable<number | null>, kind?: 'linear' | 'sqrt'): Scale {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  lo = Math.min(0, lo);
  if (hi <= lo) hi = lo + 1;
  const k = kind ?? (lo >= 0 ? 'sqrt' : 'linear');
  const span = hi - lo;
  if (k === 'sqrt') {
    return { domain: [lo, hi], kind: k, at: (v) => Math.sqrt(Math.max(0, Math.min(1, (v - lo) / span))), invert: (t) => lo + t * t * span };
  }
  return { domain: [lo, hi], kind: k, at: (v) => Math.max(0, Math.min(1, (v - lo) / span)), invert: (t) => lo + t * span };
}
