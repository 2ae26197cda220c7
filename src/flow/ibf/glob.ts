/**
 * @module flow/ibf/glob
 * Source templates of the IBF flow: a path or URL with placeholders and (for local paths) glob
 * wildcards, e.g. `forecast/{date}/{lead}/member_{member}.tif` or `forecast/{lead}/*.tif`.
 *
 * Placeholders (filled before matching):
 *   {lead}        the lead time as written in the flow (`24-hour`); {leadHours} its hours (`24`)
 *   {date}        the forecast date, `YYYY-MM-DD`; {YYYY} {MM} {DD} {HH} its parts (UTC, zero-padded)
 * Placeholders that match (never filled):
 *   {member}      one or more digits, the ensemble member number (files sort by it)
 *   {member:N}    exactly N digits (`{member:2}` matches `07`); in a URL, expanded to 0 .. members - 1
 * Wildcards (local paths only; a URL has none: `?` and `*` are literal there):
 *   *  any characters but `/`      ?  one character but `/`      ** (a whole segment) any folders
 *   {a,b,c}  any of the alternatives (which may hold wildcards)  \x  the character x literally
 *
 * Node 20 has no `fs.glob`; this module is the matcher (pure, runtime-neutral) and node.ts walks folders
 * with it. Matching is case-sensitive and on `/`-separated paths.
 */
import { IbfError, type Problem } from '../../errors.js';

/** Values that fill a template's placeholders. */
export interface TemplateValues {
  /** Lead-time label as written in the flow. */
  lead?: string;
  leadHours?: number;
  /** The forecast date (UTC). */
  date?: Date;
}

const FILLED = ['lead', 'leadHours', 'date', 'YYYY', 'MM', 'DD', 'HH'] as const;
const MEMBER = /^member(?::([1-9]\d?))?$/;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DD` of a date (UTC). */
export function isoDay(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** Problems of a template: unknown placeholders, unclosed braces, a trailing backslash (none when fine). */
export function templateProblems(template: string, path: string, opts: { url?: boolean } = {}): Problem[] {
  const problems: Problem[] = [];
  let depth = 0;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '\\') {
      if (i + 1 >= template.length) problems.push({ path, message: `"${template}" ends with a backslash; write \\\\ for a literal one` });
      i++;
    } else if (c === '{') {
      const close = findClose(template, i);
      if (close < 0) {
        problems.push({ path, message: `"${template}" has a "{" at ${i + 1} without its "}"` });
        break;
      }
      const inner = template.slice(i + 1, close);
      if (!topLevelComma(inner)) {
        if (!(FILLED as readonly string[]).includes(inner) && !MEMBER.test(inner)) {
          problems.push({ path, message: `unknown placeholder {${inner}} in "${template}"; use {lead}, {leadHours}, {date}, {YYYY}, {MM}, {DD}, {HH}, {member} or {member:N}, or {a,b} for alternatives` });
        }
        i = close;
      } else depth++;
    } else if (c === '}') {
      if (depth === 0) problems.push({ path, message: `"${template}" has a "}" at ${i + 1} without its "{"` });
      else depth--;
    }
  }
  if (opts.url && /\*\*/.test(template)) problems.push({ path, message: `"${template}" is a URL: it cannot hold wildcards (list the files, or use {member:N})` });
  return problems;
}

/** Index of the `}` closing the `{` at `open` (nested braces and escapes respected), or -1. */
function findClose(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Whether `s` has a comma outside nested braces (then `{s}` is a list of alternatives). */
function topLevelComma(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) return true;
  }
  return false;
}

/** Splits `s` at its top-level commas. */
function alternatives(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/**
 * Fills the value placeholders of `template` ({lead}, {leadHours}, {date} and its parts); the member
 * placeholder, alternatives and wildcards are left as they are. A placeholder without a value throws
 * `E_FLOW_INVALID` naming `path`.
 */
export function fillTemplate(template: string, values: TemplateValues, path = 'source'): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '\\') {
      out += template.slice(i, i + 2);
      i++;
      continue;
    }
    if (c !== '{') {
      out += c;
      continue;
    }
    const close = findClose(template, i);
    const inner = close < 0 ? '' : template.slice(i + 1, close);
    if (close < 0 || topLevelComma(inner) || MEMBER.test(inner)) {
      out += c;
      continue;
    }
    out += escapeGlob(placeholderValue(inner, values, template, path));
    i = close;
  }
  return out;
}

function placeholderValue(name: string, v: TemplateValues, template: string, path: string): string {
  const missing = (what: string) =>
    IbfError.fromProblems('E_FLOW_INVALID', 'a source template cannot be filled', [{ path, message: `"${template}" uses {${name}}, but ${what}` }]);
  switch (name) {
    case 'lead':
      if (v.lead === undefined) throw missing('this source is not per lead time');
      return v.lead;
    case 'leadHours':
      if (v.leadHours === undefined) throw missing('this source is not per lead time');
      return String(v.leadHours);
    case 'date':
    case 'YYYY':
    case 'MM':
    case 'DD':
    case 'HH': {
      const d = v.date;
      if (!d) throw missing('the run has no forecast date');
      if (name === 'date') return isoDay(d);
      if (name === 'YYYY') return String(d.getUTCFullYear());
      if (name === 'MM') return pad(d.getUTCMonth() + 1);
      if (name === 'DD') return pad(d.getUTCDate());
      return pad(d.getUTCHours());
    }
    default:
      throw IbfError.fromProblems('E_FLOW_INVALID', 'a source template is invalid', [{ path, message: `unknown placeholder {${name}} in "${template}"` }]);
  }
}

/** `s` with every wildcard character escaped, so a filled value matches only itself. */
export function escapeGlob(s: string): string {
  return s.replace(/[\\*?{},]/g, (c) => `\\${c}`);
}

/** Whether a (filled) template matches files rather than naming one: wildcards, alternatives or {member}. */
export function hasMagic(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '{') return true;
  }
  return false;
}

/** Removes the escapes of a pattern without magic: the path it names. */
export function unescapeGlob(pattern: string): string {
  return pattern.replace(/\\(.)/g, '$1');
}

/** A compiled pattern. */
export interface Glob {
  readonly pattern: string;
  /** Matches a whole `/`-separated path. */
  readonly regex: RegExp;
  /** The pattern names a member number ({member} / {member:N}). */
  readonly hasMember: boolean;
  /** Leading folders without magic (`forecast/2024-03-01/` of `forecast/2024-03-01/*.tif`), '' when none. */
  readonly base: string;
  /** Most folder levels below `base` a match can have (Infinity with `**`). */
  readonly depth: number;
}

/** Compiles a filled template into a matcher. Throws `E_FLOW_INVALID` naming `path` for a malformed one. */
export function compileGlob(pattern: string, path = 'source'): Glob {
  const problems = templateProblems(pattern, path);
  if (problems.length) throw IbfError.fromProblems('E_FLOW_INVALID', 'a source pattern is invalid', problems);
  let hasMember = false;
  const toRegex = (s: string): string => {
    let re = '';
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      if (c === '\\') {
        re += escapeRegex(s[i + 1] ?? '');
        i++;
      } else if (c === '*') {
        if (s[i + 1] === '*' && (i === 0 || s[i - 1] === '/') && (i + 2 === s.length || s[i + 2] === '/')) {
          // a whole `**` segment: any number of folders (with its slash)
          if (s[i + 2] === '/') {
            re += '(?:[^/]+/)*';
            i += 2;
          } else {
            re += '.*';
            i += 1;
          }
        } else re += '[^/]*';
      } else if (c === '?') re += '[^/]';
      else if (c === '{') {
        const close = findClose(s, i);
        const inner = s.slice(i + 1, close);
        const m = MEMBER.exec(inner);
        if (m && !topLevelComma(inner)) {
          if (hasMember) throw IbfError.fromProblems('E_FLOW_INVALID', 'a source pattern is invalid', [{ path, message: `"${pattern}" has {member} twice` }]);
          hasMember = true;
          re += m[1] ? `(?<member>\\d{${m[1]}})` : '(?<member>\\d+)';
        } else {
          re += `(?:${alternatives(inner).map(toRegex).join('|')})`;
        }
        i = close;
      } else re += escapeRegex(c);
    }
    return re;
  };
  const regex = new RegExp(`^${toRegex(pattern)}$`);
  const segments = pattern.split('/');
  let baseCount = 0;
  while (baseCount < segments.length - 1 && !hasMagic(segments[baseCount]!)) baseCount++;
  const base = segments.slice(0, baseCount).map(unescapeGlob).join('/');
  const rest = segments.slice(baseCount);
  const depth = rest.includes('**') ? Infinity : rest.length - 1;
  return { pattern, regex, hasMember, base: base && `${base}/`, depth };
}

function escapeRegex(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** One path a pattern matched. */
export interface GlobMatch {
  path: string;
  /** The member number, when the pattern has {member}. */
  member?: number;
}

/** Whether `path` matches; with its member number. */
export function matchGlob(glob: Glob, path: string): GlobMatch | null {
  const m = glob.regex.exec(path);
  if (!m) return null;
  const member = m.groups?.member;
  return member === undefined ? { path } : { path, member: Number(member) };
}

/** Compares paths with runs of digits as numbers (`m2` before `m10`), for members without {member}. */
export function naturalCompare(a: string, b: string): number {
  const ra = a.split(/(\d+)/);
  const rb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i]!;
    const y = rb[i]!;
    if (x === y) continue;
    if (i % 2 === 1) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    }
    return x < y ? -1 : 1;
  }
  return ra.length - rb.length;
}

/**
 * The paths of `candidates` that match, ordered as members: by member number with {member}, else
 * naturally (`m2` before `m10`). Two paths with the same member number are an error naming `path`.
 */
export function selectMatches(glob: Glob, candidates: Iterable<string>, path = 'source'): GlobMatch[] {
  const hits: GlobMatch[] = [];
  for (const c of candidates) {
    const m = matchGlob(glob, c);
    if (m) hits.push(m);
  }
  if (glob.hasMember) {
    hits.sort((a, b) => a.member! - b.member! || naturalCompare(a.path, b.path));
    for (let i = 1; i < hits.length; i++) {
      if (hits[i]!.member === hits[i - 1]!.member) {
        throw IbfError.fromProblems('E_FLOW_INVALID', 'ensemble members are ambiguous', [
          { path, message: `member ${hits[i]!.member} matches both ${hits[i - 1]!.path} and ${hits[i]!.path}` },
        ]);
      }
    }
  } else hits.sort((a, b) => naturalCompare(a.path, b.path));
  return hits;
}

/**
 * Expands a filled URL template: alternatives become several URLs and {member:N} / {member} becomes
 * members 0 .. `members` - 1 (zero-padded to N digits). Wildcards are not expanded (a URL cannot be
 * listed). Throws `E_FLOW_INVALID` when {member} is used without a member count.
 */
export function expandUrl(template: string, members: number | undefined, path = 'source'): GlobMatch[] {
  const expand = (s: string): string[] => {
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      if (c === '\\') {
        i++;
        continue;
      }
      if (c !== '{') continue;
      const close = findClose(s, i);
      const inner = s.slice(i + 1, close);
      if (MEMBER.test(inner) && !topLevelComma(inner)) continue;
      const head = s.slice(0, i);
      const tails = expand(s.slice(close + 1));
      return alternatives(inner).flatMap((alt) => expand(alt).flatMap((a) => tails.map((t) => head + a + t)));
    }
    return [s];
  };
  const out: GlobMatch[] = [];
  for (const url of expand(template)) {
    const m = /\{member(?::([1-9]\d?))?\}/.exec(url);
    if (!m) {
      out.push({ path: unescapeGlob(url) });
      continue;
    }
    if (members === undefined) {
      throw IbfError.fromProblems('E_FLOW_INVALID', 'a URL template needs the member count', [
        { path, message: `"${template}" has {member}, which a URL cannot list; give forecast.members` },
      ]);
    }
    const width = m[1] ? Number(m[1]) : 0;
    for (let k = 0; k < members; k++) out.push({ path: unescapeGlob(url.replace(m[0], String(k).padStart(width, '0'))), member: k });
  }
  return out;
}
