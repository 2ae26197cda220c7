/**
 * @module engine/manifest
 * Hashes for the result manifest, with WebCrypto (Node 20, browsers and workerd all have it), so every
 * published number can be traced to the exact input bytes, curves and engine version.
 */
import type { DamageFunction } from '../model/damage-function.js';

export async function sha256Hex(data: ArrayBuffer | ArrayBufferView | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** JSON with object keys sorted, so equal curves hash equally whatever order their fields were set in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export async function curveHash(curve: DamageFunction): Promise<string> {
  const s = curve.spec;
  // the numbers that define the function, not its labels
  const defining = s.kind === 'table' ? { kind: s.kind, unit: s.unit, intensity: s.intensity, mdd: s.mdd, paa: s.paa } : { kind: s.kind, unit: s.unit, vThresh: s.vThresh, vHalf: s.vHalf, scale: s.scale };
  return sha256Hex(canonicalJson(defining));
}
