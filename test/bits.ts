/**
 * Bitwise comparison of result documents, runtime-neutral (used in Node, in workerd and against the
 * black-box Worker): numbers compare by their float64 bits, so NaN equals NaN and 0 differs from -0.
 */

/** Every place where `a` and `b` differ, as `$.path: a vs b` lines. */
export function bitDiff(a: unknown, b: unknown, path = '$', out: string[] = []): string[] {
  if (typeof a === 'number' && typeof b === 'number') {
    if (!Object.is(a, b)) out.push(`${path}: ${a} vs ${b}`);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}: length ${a.length} vs ${b.length}`);
    else a.forEach((x, i) => bitDiff(x, b[i], `${path}[${i}]`, out));
  } else if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join() !== kb.join()) out.push(`${path}: keys ${ka.join()} vs ${kb.join()}`);
    else for (const k of ka) bitDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, out);
  } else if (a !== b) out.push(`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  return out;
}

/** A result with its manifest time blanked: two runs of one scenario differ only there. */
export const withoutCreatedAt = <T extends { manifest: { createdAt?: string } }>(r: T): T => ({ ...r, manifest: { ...r.manifest, createdAt: '' } });
