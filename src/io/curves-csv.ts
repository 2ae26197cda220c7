/**
 * @module io/curves-csv
 * Damage-curve CSV readers producing {@link DamageFunction}s (mdd = the curve's damage fraction, paa = 1).
 *
 * Two layouts, told apart by content:
 * - **Delft-FIAT**: `#UNIT=meter` line, other `#key,v1,v2` lines (e.g. `#method,mean,max`, one value per
 *   curve column), a header whose first column is the intensity (e.g. `water depth`), one column per curve.
 * - **Plain / nismod-snail**: any number of `#` comment lines, a comma- or tab-separated header, an intensity
 *   column (named `intensity`, or the first) and a damage column (named; default `damage_ratio` / `damage`);
 *   other columns are ignored.
 *
 * Damage values are fractions in [0, 1]. Intensity is in the curve's unit, taken from `#UNIT=`, from a
 * bracketed unit in the intensity header (`inundation_depth_(m)`), or from the `unit` option.
 * Every problem (unknown column, non-numeric cell, NaN, decreasing intensity, damage outside [0, 1], missing
 * unit) is reported at once, with the CSV line and column.
 */
import { IbfError, type Problem } from '../errors.js';
import { normalizeUnit } from '../model/units.js';
import { DamageFunction, validateDamageFunction } from '../model/damage-function.js';

export interface CurveCsvOptions {
  /** Damage column to read. Default: `damage_ratio`, `damage`, `mdd`, or the only non-intensity column. */
  column?: string;
  /** Intensity column. Default: `intensity` when present, else the first column. */
  intensityColumn?: string;
  /** Intensity unit (`m`, `ft`, `m/s`, ...) when the file does not say; must agree when it does. */
  unit?: string;
  /** Name of the CSV for messages (file path, catalog id). */
  name?: string;
  /** Hazard type to record on the functions, e.g. `flood`. */
  hazard?: string;
}

/** All curves of one CSV by column name, with what the file says about them. */
export interface CurveTable extends Map<string, DamageFunction> {
  /** Intensity unit, normalised (`m`, `ft`, ...). */
  unit: string;
  /** Header of the intensity column, e.g. `water depth`. */
  intensityColumn: string;
  /** `#` lines other than `#UNIT=`, without the `#`, in file order. */
  comments: string[];
  /** Per-curve items from `#key,v1,v2,...` lines that have one value per curve column, e.g. `{ method: 'mean' }`. */
  columnMetadata: Record<string, Record<string, string>>;
}

export { normalizeUnit };

const DAMAGE_NAMES = ['damage_ratio', 'damage', 'mdd', 'damage_fraction', 'mdr'];

interface Row {
  line: number;
  cells: string[];
}

interface Parsed {
  name: string;
  header: string[];
  headerLine: number;
  rows: Row[];
  comments: string[];
  fileUnit: string | null;
  fiat: boolean;
  /** `#key,v1,...` lines split into cells. */
  keyed: string[][];
}

/** Splits one CSV line on `delim`, honouring double quotes (`"a,b"`, `""` for a quote). */
function splitLine(line: string, delim: string): string[] {
  if (!line.includes('"')) return line.split(delim).map((c) => c.trim());
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delim) out.push(cur.trim()), (cur = '');
    else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

function parse(text: string, name: string): Parsed {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const comments: string[] = [];
  const commentRaw: string[] = [];
  let fileUnit: string | null = null;
  let header: string[] | null = null;
  let headerLine = 0;
  let delim = ',';
  const rows: Row[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      const body = line.slice(1).trim();
      const unit = /^unit\s*=\s*(.*)$/i.exec(body);
      if (unit) fileUnit = unit[1]!.replace(/[,\t;]+$/, '').trim();
      else {
        comments.push(body);
        commentRaw.push(body);
      }
      return;
    }
    if (!header) {
      delim = line.includes('\t') ? '\t' : line.includes(',') ? ',' : line.includes(';') ? ';' : ',';
      header = splitLine(line, delim);
      headerLine = i + 1;
      return;
    }
    rows.push({ line: i + 1, cells: splitLine(line, delim) });
  });
  if (!header) {
    throw new IbfError('E_INPUT_FORMAT', `${name}: no header row found`, {
      hint: 'A damage-curve CSV needs a header row (e.g. "intensity,damage_ratio") followed by one row per intensity knot.',
    });
  }
  const keyed = commentRaw.map((c) => splitLine(c, delim)).filter((c) => c.length > 1);
  return { name, header, headerLine, rows, comments, fileUnit, fiat: fileUnit !== null, keyed };
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Resolves the unit from the option, the `#UNIT=` line or the intensity header; pushes a problem when it cannot. */
function resolveUnit(p: Parsed, intensityName: string, opt: string | undefined, problems: Problem[]): string {
  const fromHeader = /[([]\s*([^()[\]]+?)\s*[)\]]\s*$/.exec(intensityName)?.[1];
  const fileUnit = p.fileUnit !== null && p.fileUnit !== '' ? normalizeUnit(p.fileUnit) : fromHeader ? normalizeUnit(fromHeader) : null;
  const given = opt !== undefined && opt.trim() !== '' ? normalizeUnit(opt) : null;
  if (given && fileUnit && given !== fileUnit) {
    problems.push({ path: `${p.name}:unit`, message: `the unit option says '${given}' but the file says '${fileUnit}'` });
  }
  const unit = given ?? fileUnit;
  if (!unit) {
    problems.push({
      path: `${p.name}:unit`,
      message: `the intensity unit is missing (add a '#UNIT=meter' line, a unit in the header such as 'depth (m)', or pass the unit option)`,
    });
    return '';
  }
  return unit;
}

function columnIndex(header: string[], name: string): number {
  const exact = header.indexOf(name);
  return exact >= 0 ? exact : header.findIndex((h) => h.toLowerCase() === name.toLowerCase());
}

interface Column {
  values: number[];
  /** Indices of cells that failed to parse (their problems are already listed). */
  bad: Set<number>;
}

function readColumn(p: Parsed, col: number, problems: Problem[], onFormat: () => void): Column {
  const label = p.header[col]!;
  const values: number[] = [];
  const bad = new Set<number>();
  p.rows.forEach((r, i) => {
    const cell = r.cells[col];
    const at = `${p.name}:${r.line}:${label}`;
    if (cell === undefined) {
      problems.push({ path: at, message: `line ${r.line} has ${r.cells.length} cells; column '${label}' (number ${col + 1}) is missing` });
      onFormat();
    } else if (/^[+-]?nan$/i.test(cell)) {
      problems.push({ path: at, message: `is NaN; every knot needs a number` });
    } else if (!NUMBER.test(cell)) {
      problems.push({ path: at, message: cell === '' ? 'is empty; expected a number' : `is ${JSON.stringify(cell)}; expected a number` });
      onFormat();
    } else {
      values.push(Number(cell));
      return;
    }
    values.push(NaN);
    bad.add(i);
  });
  return { values, bad };
}

/** Builds one function and returns its problems with CSV lines, instead of the spec's array indices. */
function buildCurve(
  p: Parsed,
  intensity: Column,
  intensityCol: number,
  damageCol: number,
  unit: string,
  opts: CurveCsvOptions,
  problems: Problem[],
  onFormat: () => void,
): DamageFunction | null {
  const label = p.header[damageCol]!;
  const damage = readColumn(p, damageCol, problems, onFormat);
  const spec = {
    kind: 'table' as const,
    id: label,
    name: label,
    unit: unit || 'unknown',
    intensity: intensity.values,
    mdd: damage.values,
    paa: damage.values.map(() => 1),
    ...(opts.hazard ? { hazard: opts.hazard } : {}),
    ...(p.comments.length ? { provenance: { source: opts.name ?? 'damage-curve CSV', notes: p.comments.join('\n') } } : {}),
  };
  const own: Problem[] = [];
  for (const v of validateDamageFunction(spec)) {
    const m = /^(intensity|mdd)\[(\d+)\]$/.exec(v.path);
    if (!m) {
      if (v.path === 'intensity') own.push({ path: `${p.name}:${label}`, message: `${v.message.replace(/^needs/, 'needs at least 2 data rows; this curve needs')}` });
      else if (v.path !== 'unit') own.push({ path: `${p.name}:${label}.${v.path}`, message: v.message });
      continue;
    }
    const i = Number(m[2]);
    const col = m[1] === 'intensity' ? intensity : damage;
    if (col.bad.has(i)) continue; // already reported as a cell that is not a number
    const row = p.rows[i]!;
    const colName = p.header[m[1] === 'intensity' ? intensityCol : damageCol]!;
    let message = v.message;
    if (m[1] === 'intensity' && i > 0) message = `is ${intensity.values[i]}, less than ${intensity.values[i - 1]} on line ${p.rows[i - 1]!.line}; intensity must be non-decreasing`;
    own.push({ path: `${p.name}:${row.line}:${colName}`, message });
  }
  // the validator lists damage before intensity problems; intensity first reads better
  own.sort((a, b) => Number(a.path.endsWith(`:${label}`)) - Number(b.path.endsWith(`:${label}`)));
  problems.push(...own);
  if (own.length || damage.bad.size || intensity.bad.size || !unit) return null;
  return new DamageFunction(spec);
}

/** CSV line of a problem path `name:line:column`, or -1 for file-level problems. */
function lineOf(p: Problem): number {
  const m = /:(\d+):[^:]*$/.exec(p.path);
  return m ? Number(m[1]) : -1;
}

function fail(name: string, unsorted: Problem[], format: boolean): never {
  // file-level problems first, then by line (stable: intensity before damage on one line)
  const problems = unsorted.map((p, i) => ({ p, i })).sort((a, b) => lineOf(a.p) - lineOf(b.p) || a.i - b.i).map((x) => x.p);
  const percent = problems.some((p) => /must be in \[0, 1\]/.test(p.message));
  const unit = problems.some((p) => p.path.endsWith(':unit'));
  const hints = [
    percent ? 'Damage must be a fraction in [0, 1]: divide percentages by 100.' : '',
    unit ? "State the intensity unit: add '#UNIT=meter' (or m/s, ft, ...) at the top, or pass the unit option." : '',
    format ? 'Check the delimiter (comma or tab), the header names and that every cell of the intensity and damage columns is a number.' : '',
  ].filter(Boolean);
  throw IbfError.fromProblems(format ? 'E_INPUT_FORMAT' : 'E_CURVE_INVALID', `damage-curve CSV ${name} is invalid`, problems, hints.join(' ') || undefined);
}

/** Duplicate column names make a column choice ambiguous. Columns with an empty name are ignored. */
function headerProblems(p: Parsed, problems: Problem[]): boolean {
  const seen = new Set<string>();
  let bad = false;
  for (const h of p.header) {
    if (h === '') continue;
    if (seen.has(h)) {
      problems.push({ path: `${p.name}:${p.headerLine}`, message: `column '${h}' appears more than once in the header` });
      bad = true;
    }
    seen.add(h);
  }
  return bad;
}

function intensityIndex(p: Parsed, opts: CurveCsvOptions, problems: Problem[]): number {
  if (opts.intensityColumn !== undefined) {
    const i = columnIndex(p.header, opts.intensityColumn);
    if (i < 0) problems.push({ path: `${p.name}:${p.headerLine}`, message: `no intensity column '${opts.intensityColumn}'; the columns are ${p.header.map((h) => `'${h}'`).join(', ')}` });
    return i;
  }
  const named = p.fiat ? -1 : columnIndex(p.header, 'intensity');
  return named >= 0 ? named : 0;
}

/** What both readers start with: the parsed text, its problems so far, the intensity column. */
interface Reading {
  name: string;
  p: Parsed;
  problems: Problem[];
  /** Index of the intensity column, or -1. */
  ii: number;
  /** True once a structural problem (header, columns, cells) makes the error E_INPUT_FORMAT. */
  format: boolean;
  onFormat: () => void;
}

function begin(text: string, opts: CurveCsvOptions): Reading {
  const name = opts.name ?? 'CSV';
  const p = parse(text, name);
  const problems: Problem[] = [];
  const r: Reading = { name, p, problems, ii: -1, format: false, onFormat: () => (r.format = true) };
  if (headerProblems(p, problems)) r.format = true;
  r.ii = intensityIndex(p, opts, problems);
  return r;
}

/**
 * Reads every curve of a Delft-FIAT vulnerability CSV (`#UNIT=` line, intensity first, one column per curve).
 * Throws one `E_CURVE_INVALID` / `E_INPUT_FORMAT` listing every problem of every curve.
 */
export function parseFiatCurves(text: string, opts: Omit<CurveCsvOptions, 'column'> = {}): CurveTable {
  const r = begin(text, opts);
  const { name, p, problems, ii, onFormat } = r;
  if (ii < 0) fail(name, problems, true);
  const intensityName = p.header[ii]!;
  const unit = resolveUnit(p, intensityName, opts.unit, problems);
  const intensity = readColumn(p, ii, problems, onFormat);
  const curveCols = p.header.map((_, i) => i).filter((i) => i !== ii && p.header[i] !== '');
  if (curveCols.length === 0) {
    problems.push({ path: `${name}:${p.headerLine}`, message: `has only the intensity column '${intensityName}'; no curve columns` });
    onFormat();
  }
  const table = Object.assign(new Map<string, DamageFunction>(), {
    unit,
    intensityColumn: intensityName,
    comments: p.comments,
    columnMetadata: {} as Record<string, Record<string, string>>,
  });
  curveCols.forEach((c, k) => {
    const before = problems.length;
    const f = buildCurve(p, intensity, ii, c, unit, opts, problems, onFormat);
    // intensity problems are the same for every curve: keep only the first curve's copy
    if (k > 0) dedupe(problems, before, intensityName);
    if (f) table.set(p.header[c]!, f);
    table.columnMetadata[p.header[c]!] = {};
  });
  for (const cells of p.keyed) {
    // `#method,mean,max` lines up with `water depth,struct_1,struct_2`: the key sits over the intensity column
    const byColumn = ii === 0 && cells.length === p.header.length;
    if (!byColumn && cells.length !== curveCols.length + 1) continue;
    curveCols.forEach((c, k) => (table.columnMetadata[p.header[c]!]![cells[0]!] = byColumn ? cells[c]! : cells[k + 1]!));
  }
  if (problems.length) fail(name, problems, r.format);
  return table;
}

function dedupe(problems: Problem[], from: number, intensityName: string): void {
  for (let i = problems.length - 1; i >= from; i--) {
    if (problems[i]!.path.endsWith(`:${intensityName}`)) problems.splice(i, 1);
  }
}

/**
 * Reads one damage curve from a CSV in either layout (see the module header).
 * Intensity is in `unit`; damage is the fraction of value lost, in [0, 1] (mdd; paa = 1).
 * Throws one `E_INPUT_FORMAT` (structure: header, columns, non-numeric cells) or `E_CURVE_INVALID`
 * (values: NaN, decreasing intensity, damage outside [0, 1], missing unit) listing every problem.
 */
export function readCurveCsv(text: string, opts: CurveCsvOptions = {}): DamageFunction {
  const r = begin(text, opts);
  const { name, p, problems, ii, onFormat } = r;
  const candidates = p.header.map((h, i) => ({ h, i })).filter((c) => c.i !== ii && c.h !== '');
  let di = -1;
  if (opts.column !== undefined) {
    di = columnIndex(p.header, opts.column);
    if (di < 0 || di === ii) {
      problems.push({ path: `${name}:${p.headerLine}`, message: `no damage column '${opts.column}'; the columns are ${p.header.map((h) => `'${h}'`).join(', ')}` });
      di = -1;
    }
  } else {
    const named = DAMAGE_NAMES.map((n) => columnIndex(p.header, n)).find((i) => i >= 0 && i !== ii);
    if (named !== undefined) di = named;
    else if (candidates.length === 1) di = candidates[0]!.i;
    else {
      problems.push({
        path: `${name}:${p.headerLine}`,
        message: candidates.length
          ? `has ${candidates.length} curve columns (${candidates.map((c) => `'${c.h}'`).join(', ')}); pass the column option to choose one`
          : `has no damage column besides the intensity column '${p.header[ii] ?? ''}'`,
      });
    }
  }
  if (ii < 0 || di < 0) fail(name, problems, true);
  const unit = resolveUnit(p, p.header[ii]!, opts.unit, problems);
  const intensity = readColumn(p, ii, problems, onFormat);
  const f = buildCurve(p, intensity, ii, di, unit, opts, problems, onFormat);
  if (problems.length || !f) fail(name, problems, r.format);
  return f;
}
