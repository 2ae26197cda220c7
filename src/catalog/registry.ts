/**
 * @module catalog/registry
 * A registry of damage functions keyed by id, with lazy loaders (as geotiff.js `addDecoder`):
 * listing reads metadata only, {@link CurveCatalog.get} builds the curve. Unknown ids fail loudly with
 * close matches, never with a zero curve (CLIMADA issues #478, #669).
 */
import { IbfError, type Problem } from '../errors.js';
import { DamageFunction } from '../model/damage-function.js';
import { closeMatches, normalizeKey } from './keys.js';
import type { CatalogEntry, CurveFilter, CurveRegistration } from './types.js';

/** How to find ids, said in every "unknown id" error. */
export const LIST_HINT = 'List every id with `ibf curves` (or listCurves() in code); add your own with registerCurves().';

export interface RegisterOptions {
  /** Replace entries whose id is already registered (default false: a duplicate id is an error). */
  replace?: boolean;
}

export class CurveCatalog {
  readonly #curves = new Map<string, CurveRegistration>();

  /**
   * Adds curves. All registrations are checked first and every problem is reported at once
   * (`E_CURVE_INVALID`); on error nothing is added. Loaders are not called here.
   */
  register(registrations: readonly CurveRegistration[], options: RegisterOptions = {}): void {
    const problems: Problem[] = [];
    const seen = new Set<string>();
    registrations.forEach((r, i) => {
      const at = `curves[${i}]`;
      const e = r?.entry;
      if (!e || typeof e !== 'object') {
        problems.push({ path: `${at}.entry`, message: 'is missing' });
        return;
      }
      if (typeof e.id !== 'string' || !/^\S+$/.test(e.id)) problems.push({ path: `${at}.entry.id`, message: `is ${JSON.stringify(e.id)}; must be a non-empty string without spaces` });
      for (const key of ['title', 'hazard', 'unit'] as const) {
        if (typeof e[key] !== 'string' || e[key].trim() === '') problems.push({ path: `${at}.entry.${key}`, message: 'is missing' });
      }
      if (typeof e.provenance?.source !== 'string' || e.provenance.source.trim() === '') {
        problems.push({ path: `${at}.entry.provenance.source`, message: 'is missing; say where the numbers come from' });
      }
      if (typeof r.load !== 'function') problems.push({ path: `${at}.load`, message: 'must be a function returning a DamageFunction' });
      if (typeof e.id === 'string') {
        if (seen.has(e.id)) problems.push({ path: `${at}.entry.id`, message: `'${e.id}' appears twice in this call` });
        else if (this.#curves.has(e.id) && !options.replace) {
          problems.push({ path: `${at}.entry.id`, message: `'${e.id}' is already registered; pass { replace: true } to override it` });
        }
        seen.add(e.id);
      }
    });
    if (problems.length > 0) {
      throw IbfError.fromProblems('E_CURVE_INVALID', 'cannot register damage functions', problems, 'Give each curve a unique id, a title, hazard, intensity unit, provenance.source and a load() function.');
    }
    for (const r of registrations) this.#curves.set(r.entry.id, { entry: { ...r.entry }, load: r.load });
  }

  /** Entries in registration order, optionally filtered (see {@link CurveFilter} for the matching rule). */
  list(filter: CurveFilter = {}): CatalogEntry[] {
    const want = {
      hazard: filter.hazard === undefined ? undefined : normalizeKey(filter.hazard),
      region: filter.region === undefined ? undefined : normalizeKey(filter.region),
      sector: filter.sector === undefined ? undefined : normalizeKey(filter.sector),
    };
    const out: CatalogEntry[] = [];
    for (const { entry } of this.#curves.values()) {
      if (want.hazard !== undefined && normalizeKey(entry.hazard) !== want.hazard) continue;
      if (want.region !== undefined && normalizeKey(entry.region ?? '') !== want.region) continue;
      if (want.sector !== undefined && normalizeKey(entry.sector ?? '') !== want.sector) continue;
      out.push({ ...entry, provenance: { ...entry.provenance } });
    }
    return out;
  }

  has(id: string): boolean {
    return this.#curves.has(id);
  }

  /** The entry (metadata) of `id`; throws `E_CATALOG_UNKNOWN` like {@link get}. */
  entry(id: string): CatalogEntry {
    const r = this.#curves.get(id);
    if (!r) throw this.unknown(id);
    return { ...r.entry, provenance: { ...r.entry.provenance } };
  }

  /**
   * Builds the damage function `id` (a fresh instance per call). Throws `E_CATALOG_UNKNOWN` with close
   * matches for an unknown id, `E_UNIT_MISMATCH` if the loaded curve's unit disagrees with its entry,
   * `E_CURVE_INVALID` if the loader fails or returns something else.
   */
  get(id: string): DamageFunction {
    const r = this.#curves.get(id);
    if (!r) throw this.unknown(id);
    let fn: unknown;
    try {
      fn = r.load();
    } catch (cause) {
      if (cause instanceof IbfError) throw cause;
      throw new IbfError('E_CURVE_INVALID', `loading damage function '${id}' failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
        cause,
        hint: 'Fix the load() function registered for this id.',
      });
    }
    if (!(fn instanceof DamageFunction)) {
      throw new IbfError('E_CURVE_INVALID', `the loader of '${id}' returned ${fn === null ? 'null' : typeof fn}, not a DamageFunction`, {
        hint: 'load() must return DamageFunction.fromTable(...), .fromEmanuel(...) or another DamageFunction.',
      });
    }
    if (fn.unit !== r.entry.unit) {
      throw new IbfError('E_UNIT_MISMATCH', `damage function '${id}' is in '${fn.unit}' but its catalog entry says '${r.entry.unit}'`, {
        hint: 'Make the entry unit and the curve unit agree (convert the intensity knots if needed).',
        details: { id, entryUnit: r.entry.unit, curveUnit: fn.unit },
      });
    }
    return fn;
  }

  /** The `E_CATALOG_UNKNOWN` error for `id`: names curves sharing its prefix and close matches. */
  unknown(id: string): IbfError {
    const ids = [...this.#curves.keys()];
    const cut = id.lastIndexOf('-');
    const prefix = cut > 0 ? id.slice(0, cut + 1) : undefined;
    const related = prefix ? ids.filter((x) => x.startsWith(prefix)) : [];
    const close = closeMatches(id, ids).filter((x) => !related.includes(x));
    let message = `no damage function '${id}' in the catalog.`;
    if (related.length > 0) message += ` Curves that do exist under '${prefix}*': ${related.join(', ')}.`;
    if (close.length > 0) message += ` Did you mean: ${close.join(', ')}?`;
    return new IbfError('E_CATALOG_UNKNOWN', message, { hint: LIST_HINT, details: { id, related, closeMatches: close } });
  }
}
