/**
 * @module web/lib/format
 * Numbers for people: compact (1.24 M), percentages and probabilities, in the page's language.
 */
const cache = new Map<string, Intl.NumberFormat>();

function fmt(lang: string, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${lang}|${JSON.stringify(opts)}`;
  let f = cache.get(key);
  if (!f) cache.set(key, (f = new Intl.NumberFormat(lang, opts)));
  return f;
}

/** 1 242 377 -> "1.242M" (en) or "1,242 M" (fr); null / NaN -> "–". */
export function compact(v: number | null | undefined, lang = 'en'): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  return fmt(lang, { notation: 'compact', maximumSignificantDigits: 4 }).format(v);
}

/** Full precision with grouping, for tables that must be checkable. */
export function full(v: number | null | undefined, lang = 'en', digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return fmt(lang, { maximumFractionDigits: digits }).format(v);
}

/** 0.8431 -> "84%". */
export function percent(p: number | null | undefined, lang = 'en'): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '–';
  return fmt(lang, { style: 'percent', maximumFractionDigits: p > 0 && p < 0.01 ? 1 : 0 }).format(p);
}

/** A cells-per-second rate, e.g. "3.4 M cells/s". */
export function rate(cellsPerSecond: number): string {
  return `${compact(cellsPerSecond)} cells/s`;
}
