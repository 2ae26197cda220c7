/**
 * @module model/units
 * Intensity units of hazards and damage functions, and conversion between compatible ones, so a
 * curve in feet applies to depths in metres (and km/h curves to m/s winds) without silent errors.
 */
import { IbfError } from '../errors.js';
import { DamageFunction, type DamageFunctionSpec } from './damage-function.js';

/** Each unit: its quantity and the factor to the quantity's base unit (m, m/s, mm). Exact factors. */
const UNITS: Record<string, { quantity: string; toBase: number }> = {
  m: { quantity: 'length', toBase: 1 },
  cm: { quantity: 'length', toBase: 0.01 },
  mm: { quantity: 'length', toBase: 0.001 },
  ft: { quantity: 'length', toBase: 0.3048 },
  in: { quantity: 'length', toBase: 0.0254 },
  'm/s': { quantity: 'speed', toBase: 1 },
  'km/h': { quantity: 'speed', toBase: 1 / 3.6 },
  kn: { quantity: 'speed', toBase: 1852 / 3600 },
  mph: { quantity: 'speed', toBase: 0.44704 },
};

const ALIASES: Record<string, string> = {
  meter: 'm', meters: 'm', metre: 'm', metres: 'm',
  centimeter: 'cm', centimeters: 'cm', centimetre: 'cm', centimetres: 'cm',
  millimeter: 'mm', millimeters: 'mm', millimetre: 'mm', millimetres: 'mm',
  foot: 'ft', feet: 'ft', inch: 'in', inches: 'in',
  'm s-1': 'm/s', 'm s^-1': 'm/s', mps: 'm/s', 'meter per second': 'm/s', 'meters per second': 'm/s', 'metres per second': 'm/s',
  kmh: 'km/h', 'km h-1': 'km/h', kph: 'km/h', knot: 'kn', knots: 'kn', kt: 'kn', kts: 'kn',
};

/** The canonical spelling of a unit (`metre` -> `m`), or the input trimmed when unknown. */
export function normalizeUnit(unit: string): string {
  const u = unit.trim();
  const key = u.toLowerCase().replace(/\s+/g, ' ');
  return ALIASES[key] ?? (UNITS[key] ? key : u);
}

/** Factor f with value_in_`to` = f * value_in_`from`, or null when the units are not convertible. */
export function conversionFactor(from: string, to: string): number | null {
  const a = normalizeUnit(from);
  const b = normalizeUnit(to);
  if (a === b) return 1;
  const ua = UNITS[a];
  const ub = UNITS[b];
  if (!ua || !ub || ua.quantity !== ub.quantity) return null;
  return ua.toBase / ub.toBase;
}

/**
 * The damage function with its intensity axis expressed in `unit` (knots scaled; mdd, paa unchanged).
 * Throws `E_UNIT_MISMATCH` when the units measure different things or are unknown.
 */
export function inUnit(curve: DamageFunction, unit: string, what = 'damage function'): DamageFunction {
  const f = conversionFactor(curve.unit, unit);
  if (f === null) {
    throw new IbfError('E_UNIT_MISMATCH', `${what}${curve.id ? ` '${curve.id}'` : ''} is in '${curve.unit}' but the hazard is in '${unit}'`, {
      hint: `Use a damage function for the hazard's unit, or set the hazard unit correctly (known units: ${Object.keys(UNITS).join(', ')}).`,
      details: { curveUnit: curve.unit, hazardUnit: unit },
    });
  }
  if (f === 1) return curve;
  const s: DamageFunctionSpec = curve.spec;
  if (s.kind === 'table') return new DamageFunction({ ...s, unit: normalizeUnit(unit), intensity: s.intensity.map((x) => x * f) });
  return new DamageFunction({ ...s, unit: normalizeUnit(unit), vThresh: s.vThresh * f, vHalf: s.vHalf * f });
}
