/**
 * @module flow/ibf/impacts
 * Historical impact records, the observations a trigger's skill is measured against: a CSV with a
 * header and one row per observed impact, at least three columns (any order, any others ignored):
 *
 *     date,zone,impact
 *     2019-03-15,MOZ,1200
 *     2019-03-16,MWI,60
 *
 * - date: the day the impact was observed, ISO 8601 (`2019-03-15`, or a date-time whose UTC day counts);
 * - zone: the zone id, as the zones' `idProperty` gives it (a place code such as `MW3` or `MOZ`);
 * - impact: the observed impact, a number >= 0 in the unit the flow measures it in (people affected,
 *   houses damaged, ...): only records with impact >= `evaluate.minImpact` count as events.
 *
 * Comma, semicolon or tab separated (guessed from the header), RFC 4180 quotes, a UTF-8 BOM and blank
 * or `#` lines allowed. Column names are matched case-insensitively; defaults: `date`; `zone`, `zone_id`,
 * `zoneid`, `pcode`, `placecode`, `place_code`; `impact`, `observed_impact`, `value`. Every problem
 * (bad date, number, unknown zone) is reported at once, with its line.
 */
import { IbfError, type Problem } from '../../errors.js';

export interface ImpactRecord {
  /** UTC day, `YYYY-MM-DD`. */
  date: string;
  /** Days since 1970-01-01 (UTC). */
  day: number;
  zone: string;
  /** Observed impact (the records' unit), >= 0. */
  impact: number;
  /** 1-based line in the file. */
  line: number;
}

export interface ImpactColumns {
  date?: string;
  zone?: string;
  impact?: string;
}

export interface ParseImpactsOptions {
  /** File name for messages. */
  name?: string;
  /** Column names (default: the aliases in the module header). */
  columns?: ImpactColumns;
  /** Known zone ids: a record of another zone is a problem. */
  zoneIds?: ReadonlySet<string>;
  /** Where the CSV is configured, for problem paths (default `impacts`). */
  path?: string;
}

const ALIASES: Record<keyof ImpactColumns, string[]> = {
  date: ['date'],
  zone: ['zone', 'zone_id', 'zoneid', 'pcode', 'placecode', 'place_code'],
  impact: ['impact', 'observed_impact', 'value'],
};

/** At most this many problems are listed one by one. */
const MAX_LISTED = 50;

const MS_PER_DAY = 86_400_000;

/** Days since 1970-01-01 of a `YYYY-MM-DD` (or ISO date-time) text, or undefined when it is not one. */
export function parseDay(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
  if (m[4] === undefined) return ms / MS_PER_DAY;
  const full = Date.parse(text.trim().replace(' ', 'T') + (m[7] ? '' : 'Z'));
  return Number.isNaN(full) ? undefined : Math.floor(full / MS_PER_DAY);
}

/** `YYYY-MM-DD` of a day number. */
export function dayString(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Splits CSV text into rows of fields (RFC 4180 quotes), each with its 1-based line. */
export function csvRows(text: string, delimiter: string): Array<{ line: number; fields: string[] }> {
  const rows: Array<{ line: number; fields: string[] }> = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let sawQuote = false;
  const endRow = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0]!.trim() === '' && !sawQuote)) rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
    sawQuote = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field.trim() === '') {
      quoted = true;
      sawQuote = true;
      field = '';
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else field += c;
  }
  if (field !== '' || fields.length > 0 || sawQuote) endRow();
  return rows;
}

function guessDelimiter(headerLine: string): string {
  const counts = [',', ';', '\t'].map((d) => [d, headerLine.split(d).length - 1] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0]![1] > 0 ? counts[0]![0] : ',';
}

/**
 * Parses historical impact records. Throws `E_INPUT_FORMAT` listing every problem (with lines) when the
 * header lacks a column or any row is bad; returns the records in file order otherwise.
 */
export function parseImpactsCsv(text: string, opts: ParseImpactsOptions = {}): ImpactRecord[] {
  const name = opts.name ?? 'impacts.csv';
  const where = opts.path ?? 'impacts';
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = body.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trimStart().startsWith('#')) ?? '';
  const rows = csvRows(body, guessDelimiter(firstLine)).filter((r) => !(r.fields.length >= 1 && r.fields[0]!.trimStart().startsWith('#')));
  const fail = (problems: Problem[]) => {
    const listed = problems.slice(0, MAX_LISTED);
    if (problems.length > MAX_LISTED) listed.push({ path: where, message: `... and ${problems.length - MAX_LISTED} more problems` });
    return IbfError.fromProblems('E_INPUT_FORMAT', `${name} is not a valid impact table`, listed, 'Give a CSV with a header and columns date (YYYY-MM-DD), zone (the zone id) and impact (a number >= 0); docs/IBF-FLOW.md "Evaluate".');
  };
  if (rows.length === 0) throw fail([{ path: where, message: `${name} is empty; it needs a header (date,zone,impact) and one row per observed impact` }]);
  const header = rows[0]!.fields.map((h) => h.trim().toLowerCase());
  const problems: Problem[] = [];
  const col = (key: keyof ImpactColumns): number => {
    const wanted = opts.columns?.[key];
    const names = wanted !== undefined ? [wanted.trim().toLowerCase()] : ALIASES[key];
    const i = header.findIndex((h) => names.includes(h));
    if (i < 0) {
      problems.push({
        path: `${where}.columns.${key}`,
        message: `${name} has no ${key} column (looked for ${names.map((n) => `"${n}"`).join(', ')}; the header is ${rows[0]!.fields.map((h) => `"${h.trim()}"`).join(', ')})`,
      });
    }
    return i;
  };
  const [ci, zi, ii] = [col('date'), col('zone'), col('impact')];
  if (problems.length) throw fail(problems);
  const records: ImpactRecord[] = [];
  for (const { line, fields } of rows.slice(1)) {
    const at = `${name}:${line}`;
    if (fields.length < header.length) {
      problems.push({ path: at, message: `has ${fields.length} field${fields.length === 1 ? '' : 's'}, the header ${header.length}` });
      continue;
    }
    const dateText = fields[ci]!.trim();
    const zone = fields[zi]!.trim();
    const impactText = fields[ii]!.trim();
    const day = parseDay(dateText);
    const impact = impactText === '' ? NaN : Number(impactText);
    let ok = true;
    if (day === undefined) {
      problems.push({ path: at, message: `date "${dateText}" is not a date; write YYYY-MM-DD` });
      ok = false;
    }
    if (zone === '') {
      problems.push({ path: at, message: 'has no zone id' });
      ok = false;
    } else if (opts.zoneIds && !opts.zoneIds.has(zone)) {
      problems.push({ path: at, message: `zone "${zone}" is not among the zones (${[...opts.zoneIds].slice(0, 8).join(', ')}${opts.zoneIds.size > 8 ? ', ...' : ''})` });
      ok = false;
    }
    if (!(Number.isFinite(impact) && impact >= 0)) {
      problems.push({ path: at, message: `impact "${impactText}" is not a number >= 0` });
      ok = false;
    }
    if (ok) records.push({ date: dayString(day!), day: day!, zone, impact, line });
  }
  if (problems.length) throw fail(problems);
  return records;
}
