/**
 * @module flow/ibf/ingest
 * Steps 1 and 2 of the IBF flow, runtime-neutral: finding the inputs (templates filled, wildcards
 * matched, URLs downloaded by the environment) and checking them all at once before any cell is
 * computed. File access is the environment's ({@link IbfFlowEnv}: Node in io-node.ts).
 *
 * What ingest finds is data (file facts: where, size, sha256); a template that matches nothing is
 * recorded, not thrown, so that validate can list every missing lead time in one error.
 */
import { IbfError, type Problem } from '../../errors.js';
import type { ManifestInput } from '../../engine/result.js';
import type { ScenarioIO } from '../../engine/scenario.js';
import type { SourceRef } from '../../engine/sources.js';
import { leadTimeLabel, parseLeadTime } from '../../engine/trigger.js';
import { inUnit } from '../../model/units.js';
import { writeGeoTiff, type RasterInfo } from '../../io/geotiff.js';
import { withoutCredentials } from '../../io/http.js';
import type { Raster } from '../../model/raster.js';
import type { ImpactKernel } from '../../kernels/types.js';
import { parseZones, zonesDocument } from '../../io/zones.js';
import { pointTransform } from '../../geo/crs.js';
import type { Zones } from '../../model/zones.js';
import type { Pool } from '../../pool/pool.js';
import { resolveCurve } from '../../engine/vulnerability.js';
import { compileGlob, expandUrl, fillTemplate, hasMagic, selectMatches, unescapeGlob, type Glob } from './glob.js';
import { parseImpactsCsv, type ImpactRecord } from './impacts.js';
import type { ForecastConfig, IbfFlowConfig } from './schema.js';

/** A file as ingest found it. */
export interface FileFacts {
  /** Where it is read from: an absolute path (URLs are downloaded first). */
  location: string;
  /** As written in the flow (a relative path or a URL without credentials), for manifests and messages. */
  name: string;
  bytes: number;
  sha256: string;
}

/** What a runtime gives the IBF flow. */
export interface IbfFlowEnv {
  kernel: ImpactKernel;
  /** Local paths (relative to the flow file, `/`-separated) that `glob` matches. */
  listFiles(glob: Glob): Promise<string[]>;
  /** A local file or an http(s) URL (downloaded); null when it does not exist (no such file, HTTP 404). */
  fetchFile(ref: string, signal: AbortSignal): Promise<FileFacts | null>;
  readText(file: FileFacts): Promise<string>;
  rasterInfo(file: FileFacts): Promise<RasterInfo>;
  /** How `assess` reads these inputs (keys are the refs the flow writes into its scenarios). */
  scenarioIO(inputs: Record<string, AssessInput>, signal: AbortSignal): ScenarioIO;
  /** A worker pool for a job of `cellBands` cells x bands, or undefined to run on this thread. */
  pool?(cellBands: number): Pool | undefined;
  /** Overrides `manifest.createdAt` of results (reproducible outputs, e.g. from SOURCE_DATE_EPOCH). */
  createdAt?: string;
}

/** What an assessment reads for one role: a file, or member files stacked into one multi-band raster. */
export type AssessInput = { kind: 'file'; file: FileFacts } | { kind: 'stack'; files: FileFacts[]; band: number; name: string };

/** How one environment reaches the files of a flow's inputs (see {@link inputsScenarioIO}). */
export interface InputReaders {
  /** Where the tiles read a single file from (a path in Node, the bytes in memory). */
  fileSource(file: FileFacts): SourceRef;
  readText(file: FileFacts): Promise<string>;
  /** A stack of member files as one multi-band GeoTIFF (stackMembers). */
  stack(input: Extract<AssessInput, { kind: 'stack' }>, signal: AbortSignal): Promise<Uint8Array>;
  /** Hint of the error for a reference that is not among the inputs. */
  missingHint: string;
  openPath?: ScenarioIO['openPath'];
}

/**
 * The ScenarioIO of one assessment of a flow: scenario references are keys of `inputs` (files or
 * stacks of member files, already validated); every file read is recorded once per role for the manifest.
 */
export function inputsScenarioIO(inputs: Record<string, AssessInput>, signal: AbortSignal, r: InputReaders): ScenarioIO {
  const read: ManifestInput[] = [];
  const seen = new Set<string>();
  const record = (role: string, f: FileFacts) => {
    if (seen.has(`${role}\n${f.name}`)) return;
    seen.add(`${role}\n${f.name}`);
    read.push({ role, path: f.name, sha256: f.sha256, bytes: f.bytes });
  };
  const input = (ref: string) => {
    const i = inputs[ref];
    if (!i) throw new IbfError('E_INPUT_NOT_FOUND', `${ref} is not among the flow's inputs`, { hint: r.missingHint });
    return i;
  };
  return {
    async raster(role, ref) {
      const i = input(ref);
      if (i.kind === 'file') {
        record(role, i.file);
        return { source: r.fileSource(i.file), name: i.file.name };
      }
      for (const f of i.files) record(role, f);
      return { source: { kind: 'bytes', bytes: await r.stack(i, signal) }, name: i.name };
    },
    async text(role, ref) {
      const i = input(ref);
      if (i.kind !== 'file') throw new IbfError('E_INPUT_FORMAT', `${ref} is a raster stack, not a text file`);
      record(role, i.file);
      return r.readText(i.file);
    },
    inputs: () => read,
    ...(r.openPath ? { openPath: r.openPath } : {}),
  };
}

/** One lead time's forecast, as ingest found it. */
export interface IngestedLead {
  leadTime: string;
  leadTimeHours: number;
  /** The filled template(s), for messages. */
  pattern: string;
  /** Member files in member order (one file: its bands are the members). */
  files: FileFacts[];
  /** Templates or URLs that gave nothing. */
  missing: string[];
  /** The source matches files (wildcards or {member}) rather than naming them. */
  glob: boolean;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** The lead times of a flow, with labels and hours, in the flow's order. */
export function flowLeads(f: ForecastConfig): Array<{ leadTime: string; leadTimeHours: number; raw: string | number }> {
  return f.leadTimes.map((lt, i) => ({ leadTime: leadTimeLabel(lt), leadTimeHours: parseLeadTime(lt, `forecast.leadTimes[${i}]`), raw: lt }));
}

/** A lead-time label as a task name. */
export function leadSlug(label: string): string {
  return label.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[.-]+/, '') || 'lead';
}

/** Finds the files of one template (filled), as members in order; `missing` when nothing was there. */
async function resolveOne(filled: string, f: ForecastConfig, env: IbfFlowEnv, signal: AbortSignal, path: string): Promise<{ files: FileFacts[]; missing: string[]; glob?: boolean }> {
  if (isUrl(filled)) {
    const files: FileFacts[] = [];
    const missing: string[] = [];
    for (const m of expandUrl(filled, f.members, path)) {
      const got = await env.fetchFile(m.path, signal);
      if (got) files.push(got);
      else missing.push(m.path);
    }
    return { files, missing };
  }
  if (!hasMagic(filled)) {
    const got = await env.fetchFile(unescapeGlob(filled), signal);
    return got ? { files: [got], missing: [] } : { files: [], missing: [unescapeGlob(filled)] };
  }
  const glob = compileGlob(filled, path);
  const matches = selectMatches(glob, await env.listFiles(glob), path);
  const files: FileFacts[] = [];
  for (const m of matches) {
    signal.throwIfAborted();
    const got = await env.fetchFile(m.path, signal);
    if (got) files.push(got);
  }
  return { files, missing: files.length ? [] : [unescapeGlob(filled)], glob: true };
}

/** Finds the forecast files of one lead time issued on `date`; `source` overrides the flow's (hindcasts). */
export async function ingestLead(
  f: ForecastConfig, lead: { leadTime: string; leadTimeHours: number; raw: string | number }, date: Date, env: IbfFlowEnv, signal: AbortSignal, source: ForecastConfig['source'] = f.source,
): Promise<IngestedLead> {
  const values = { lead: lead.leadTime, leadHours: lead.leadTimeHours, date };
  let templates: Array<[string, string]>;
  if (typeof source === 'string') templates = [[source, 'forecast.source']];
  else {
    const v = source[String(lead.raw)] ?? source[lead.leadTime];
    templates = v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((s, i) => [s, Array.isArray(v) ? `forecast.source.${lead.leadTime}[${i}]` : `forecast.source.${lead.leadTime}`]);
  }
  const files: FileFacts[] = [];
  const missing: string[] = [];
  const patterns: string[] = [];
  let glob = false;
  for (const [t, path] of templates) {
    const filled = fillTemplate(t, values, path);
    patterns.push(unescapeGlob(filled));
    const r = await resolveOne(filled, f, env, signal, path);
    files.push(...r.files);
    missing.push(...r.missing);
    glob ||= Boolean(r.glob) || /\{member/.test(t);
  }
  return { leadTime: lead.leadTime, leadTimeHours: lead.leadTimeHours, pattern: patterns.join(', ') || '(no source for this lead time)', files, missing, glob };
}

/** One input file that must exist (exposure, zones, impacts). */
export async function ingestFile(ref: string, env: IbfFlowEnv, signal: AbortSignal): Promise<{ ref: string; file: FileFacts | null }> {
  return { ref, file: await env.fetchFile(ref, signal) };
}

/** One lead time, ready to assess. */
export interface LeadPlan {
  leadTime: string;
  leadTimeHours: number;
  members: number;
  hazard: AssessInput;
  /** 1-based bands of the hazard file (one file holding every lead time). */
  select?: number[];
}

/** What validate hands on: everything an assessment needs, checked. */
export interface ValidatedInputs {
  /** Forecast date, ISO 8601. */
  date: string;
  leads: LeadPlan[];
  exposure: FileFacts;
  zones: FileFacts;
  zoneIds: Array<{ id: string; name?: string }>;
  /** Text inputs of the damage function (curve CSVs), by the name the flow gives. */
  curveFiles: Record<string, FileFacts>;
  impacts?: ImpactRecord[];
  /** Per hindcast issue date, the lead times up to the trigger's maxLeadTime. */
  hindcast?: Array<{ date: string; leads: LeadPlan[] }>;
  warnings: string[];
}

/** Bounding box [xmin, ymin, xmax, ymax] of a zone's outer rings. */
function zoneBox(z: Zones['zones'][number]): [number, number, number, number] {
  const b: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const poly of z.polygons) {
    const ring = poly[0]!;
    for (let i = 0; i + 1 < ring.length; i += 2) {
      b[0] = Math.min(b[0], ring[i]!);
      b[1] = Math.min(b[1], ring[i + 1]!);
      b[2] = Math.max(b[2], ring[i]!);
      b[3] = Math.max(b[3], ring[i + 1]!);
    }
  }
  return b;
}

/** The ids of the zones whose extent a raster's grid does not cover (one cell of slack). */
export function uncoveredZones(info: RasterInfo, zones: Zones): string[] {
  const g = info.grid;
  const [x0, dx, rx, y0, ry, dy] = g.transform;
  if (rx !== 0 || ry !== 0) return []; // rotated grids: the engine's own plan checks them
  const ext = [Math.min(x0, x0 + g.width * dx), Math.min(y0, y0 + g.height * dy), Math.max(x0, x0 + g.width * dx), Math.max(y0, y0 + g.height * dy)];
  const slack = [Math.abs(dx), Math.abs(dy)];
  let toGrid: ((x: number, y: number) => [number, number]) | undefined;
  if (g.crs && g.crs !== zones.crs) toGrid = pointTransform(zones.crs, g.crs, 'the zones');
  const out: string[] = [];
  for (const z of zones.zones) {
    let [a, b, c, d] = zoneBox(z);
    if (!Number.isFinite(a)) continue;
    if (toGrid) {
      // corners and edge midpoints: enough for the near-linear transforms between EPSG:4326 and UTM / 3857
      const pts = [[a, b], [c, b], [a, d], [c, d], [(a + c) / 2, b], [(a + c) / 2, d], [a, (b + d) / 2], [c, (b + d) / 2]].map(([x, y]) => toGrid!(x!, y!));
      [a, b, c, d] = [Math.min(...pts.map((p) => p[0])), Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[1]))];
    }
    if (a < ext[0]! - slack[0]! || b < ext[1]! - slack[1]! || c > ext[2]! + slack[0]! || d > ext[3]! + slack[1]!) out.push(z.id);
  }
  return out;
}

const gridKey = (i: RasterInfo) => JSON.stringify([i.grid.width, i.grid.height, i.grid.transform, i.grid.crs]);

/**
 * Checks one lead time's files and turns them into what the assessment reads. `allInOne`: the one file
 * holds every lead time (`nLeads` of them, position `leadIndex`). Problems go to `problems`.
 */
async function planLead(
  lead: IngestedLead, f: ForecastConfig, env: IbfFlowEnv, problems: Problem[], where: string, zones: Zones | undefined, allInOne: { nLeads: number; leadIndex: number } | undefined,
): Promise<LeadPlan | undefined> {
  const at = `${where}.${lead.leadTime}`;
  if (lead.files.length === 0) {
    problems.push({
      path: at,
      message: lead.glob ? `empty ensemble at ${lead.leadTime}: no member file matches ${lead.pattern}` : `missing lead time ${lead.leadTime}: ${lead.missing.join(', ') || lead.pattern} does not exist`,
    });
    return undefined;
  }
  if (lead.missing.length) problems.push({ path: at, message: `${lead.missing.length} member file(s) missing: ${lead.missing.slice(0, 5).join(', ')}${lead.missing.length > 5 ? ', ...' : ''}` });
  let infos: RasterInfo[];
  try {
    infos = await Promise.all(lead.files.map((file) => env.rasterInfo(file)));
  } catch (e) {
    problems.push({ path: at, message: (e as Error).message.split('\n')[0]! });
    return undefined;
  }
  let plan: LeadPlan | undefined;
  if (lead.files.length === 1 && allInOne) {
    const n = infos[0]!.bandCount;
    const L = allInOne.nLeads;
    if (n % L !== 0) {
      problems.push({ path: at, message: `${lead.files[0]!.name} holds every lead time but its ${n} bands are not ${L} lead times x members` });
      return undefined;
    }
    const M = n / L;
    const l = allInOne.leadIndex;
    const select = Array.from({ length: M }, (_, m) => ((f.order ?? 'member-major') === 'member-major' ? m * L + l : l * M + m) + 1);
    plan = { leadTime: lead.leadTime, leadTimeHours: lead.leadTimeHours, members: M, hazard: { kind: 'file', file: lead.files[0]! }, select };
  } else if (lead.files.length === 1) {
    plan = { leadTime: lead.leadTime, leadTimeHours: lead.leadTimeHours, members: infos[0]!.bandCount, hazard: { kind: 'file', file: lead.files[0]! } };
    if (f.band !== undefined) problems.push({ path: 'forecast.band', message: `applies to one-member-per-file forecasts; ${lead.files[0]!.name} holds all ${infos[0]!.bandCount} members of ${lead.leadTime}` });
  } else {
    const band = f.band ?? 1;
    const key = gridKey(infos[0]!);
    const odd = lead.files.filter((_, i) => gridKey(infos[i]!) !== key).map((x) => x.name);
    const short = lead.files.filter((_, i) => infos[i]!.bandCount < band).map((x) => x.name);
    if (odd.length) problems.push({ path: at, message: `member files are on different grids: ${odd.slice(0, 3).join(', ')} differ from ${lead.files[0]!.name}` });
    if (short.length) problems.push({ path: at, message: `member files without band ${band}: ${short.slice(0, 3).join(', ')}` });
    if (odd.length || short.length) return undefined;
    plan = { leadTime: lead.leadTime, leadTimeHours: lead.leadTimeHours, members: lead.files.length, hazard: { kind: 'stack', files: lead.files, band, name: lead.pattern } };
  }
  if (plan.members === 0) problems.push({ path: at, message: `empty ensemble: ${lead.pattern} has no members` });
  else if (f.members !== undefined && plan.members !== f.members) {
    problems.push({ path: at, message: `${plan.members} members at ${lead.leadTime}, but forecast.members is ${f.members}` });
  }
  if (zones) {
    try {
      const out = uncoveredZones(infos[0]!, zones);
      if (out.length) problems.push({ path: at, message: `the forecast grid of ${lead.files[0]!.name} does not cover the zones ${out.slice(0, 8).join(', ')}${out.length > 8 ? ', ...' : ''}` });
    } catch (e) {
      problems.push({ path: at, message: (e as Error).message.split('\n')[0]! });
    }
  }
  return plan;
}

/** Whether every lead time came from the same single file (then it holds all of them). */
function allInOneFile(leads: readonly IngestedLead[]): boolean {
  if (leads.length < 2) return false;
  const first = leads[0]!.files;
  return leads.every((l) => l.files.length === 1 && first.length === 1 && l.files[0]!.location === first[0]!.location);
}

export interface IngestResults {
  date: string;
  leads: IngestedLead[];
  exposure: { ref: string; file: FileFacts | null };
  zones: { ref: string; file: FileFacts | null };
  impacts?: { ref: string; file: FileFacts | null };
  hindcast?: Array<{ date: string; leads: IngestedLead[] }>;
}

/**
 * Step 2: checks every input and lists every problem in one `E_SCENARIO_INVALID`: missing lead times,
 * empty ensembles, member counts, grids that do not cover the zones, unreadable zones, impact rows,
 * the damage function, missing hindcast forecasts. Reads headers only.
 */
export async function validateInputs(c: IbfFlowConfig, got: IngestResults, env: IbfFlowEnv, signal: AbortSignal): Promise<ValidatedInputs> {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const need = (what: string, r: { ref: string; file: FileFacts | null }) => {
    if (!r.file) problems.push({ path: `${what}.source`, message: `${r.ref} does not exist` });
    return r.file ?? undefined;
  };
  const exposure = need('exposure', got.exposure);
  const zonesFile = need('zones', got.zones);
  let zones: Zones | undefined;
  if (zonesFile) {
    try {
      const doc = zonesDocument(await env.readText(zonesFile), zonesFile.name);
      zones = parseZones(doc, { idProperty: c.zones.idProperty, nameProperty: c.zones.nameProperty, name: zonesFile.name, selfIntersections: c.zones.selfIntersections });
      if (zones.zones.length === 0) problems.push({ path: 'zones.source', message: `${zonesFile.name} has no zones` });
    } catch (e) {
      const err = e as IbfError;
      if (err.problems?.length) problems.push(...err.problems.map((p) => ({ path: `zones${p.path ? `.${p.path}` : ''}`, message: p.message })));
      else problems.push({ path: 'zones.source', message: err.message.split('\n')[0]! });
    }
  }
  if (exposure) {
    try {
      const info = await env.rasterInfo(exposure);
      const band = c.exposure.band ?? 1;
      if (band > info.bandCount) problems.push({ path: 'exposure.band', message: `${exposure.name} has ${info.bandCount} band(s), no band ${band}` });
      if (zones) {
        const out = uncoveredZones(info, zones);
        if (out.length) problems.push({ path: 'exposure.source', message: `the exposure grid of ${exposure.name} does not cover the zones ${out.slice(0, 8).join(', ')}` });
      }
    } catch (e) {
      problems.push({ path: 'exposure.source', message: (e as Error).message.split('\n')[0]! });
    }
  }
  // the damage function(s): catalog ids, curve files and units, as the engine will resolve them
  const curveFiles: Record<string, FileFacts> = {};
  try {
    const curve = await resolveCurve(c.vulnerability, async (rel) => {
      const file = await env.fetchFile(rel, signal);
      if (!file) throw new IbfError('E_INPUT_NOT_FOUND', `${rel} does not exist`);
      curveFiles[rel] = file;
      return env.readText(file);
    });
    inUnit(curve, c.forecast.unit);
  } catch (e) {
    const err = e as IbfError;
    if (err.problems?.length) problems.push(...err.problems.map((p) => ({ path: p.path.startsWith('vulnerability') ? p.path : 'vulnerability', message: p.message })));
    else problems.push({ path: 'vulnerability', message: err.message.split('\n')[0]! });
  }
  const all = allInOneFile(got.leads);
  const leads: LeadPlan[] = [];
  for (const [i, lead] of got.leads.entries()) {
    signal.throwIfAborted();
    const p = await planLead(lead, c.forecast, env, problems, 'forecast', zones, all ? { nLeads: got.leads.length, leadIndex: i } : undefined);
    if (p) leads.push(p);
  }
  let impacts: ImpactRecord[] | undefined;
  if (got.impacts) {
    const file = need('impacts', got.impacts);
    if (file) {
      try {
        impacts = parseImpactsCsv(await env.readText(file), { name: file.name, columns: c.impacts?.columns, zoneIds: zones ? new Set(zones.zones.map((z) => z.id)) : undefined });
      } catch (e) {
        const err = e as IbfError;
        problems.push(...(err.problems ?? [{ path: 'impacts.source', message: err.message }]));
      }
    }
  }
  let hindcast: ValidatedInputs['hindcast'];
  if (got.hindcast) {
    hindcast = [];
    const missing: string[] = [];
    for (const h of got.hindcast) {
      const plans: LeadPlan[] = [];
      const own: Problem[] = [];
      const allH = allInOneFile(h.leads);
      for (const [i, lead] of h.leads.entries()) {
        signal.throwIfAborted();
        if (lead.files.length === 0) {
          missing.push(`${h.date} ${lead.leadTime}`);
          continue;
        }
        const p = await planLead(lead, c.forecast, env, own, `evaluate.hindcast.${h.date}`, undefined, allH ? { nLeads: h.leads.length, leadIndex: i } : undefined);
        if (p) plans.push(p);
      }
      problems.push(...own);
      hindcast.push({ date: h.date, leads: plans });
    }
    if (missing.length) {
      problems.push({ path: 'evaluate.hindcast', message: `no hindcast forecast for ${missing.length} issue date / lead time pair(s): ${missing.slice(0, 6).join('; ')}${missing.length > 6 ? '; ...' : ''}` });
    }
  }
  if (problems.length) {
    throw IbfError.fromProblems('E_SCENARIO_INVALID', `the inputs of flow ${c.name} are not usable`, problems, 'Fix the inputs listed (or the flow file); nothing was assessed.');
  }
  return {
    date: got.date, leads, exposure: exposure!, zones: zonesFile!, zoneIds: zones!.zones.map((z) => ({ id: z.id, ...(z.name !== undefined ? { name: z.name } : {}) })),
    curveFiles, ...(impacts ? { impacts } : {}), ...(hindcast ? { hindcast } : {}), warnings,
  };
}

/** Most bytes of member bands one lead time is stacked into. */
export const MAX_STACK_BYTES = 2 ** 31;

/**
 * The member files of one lead time as one multi-band GeoTIFF (members in order), for environments that
 * hand `assess` one raster per lead time. `first` is the first member's header; `readBand` decodes the
 * input's band of one member. Other members' nodata becomes the first member's (or NaN when it has none).
 */
export async function stackMembers(
  input: Extract<AssessInput, { kind: 'stack' }>,
  first: RasterInfo,
  readBand: (f: FileFacts) => Promise<Raster>,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const need = first.grid.width * first.grid.height * 4 * input.files.length;
  if (need > MAX_STACK_BYTES) {
    throw new IbfError('E_LIMIT', `stacking ${input.files.length} member files of ${first.grid.width} x ${first.grid.height} cells needs ${need} bytes; at most ${MAX_STACK_BYTES}`, {
      hint: 'Give each lead time as one multi-band file (one band per member) instead of one file per member.',
    });
  }
  const bands: Float32Array[] = [];
  let nodata: number | null = null;
  for (const f of input.files) {
    signal.throwIfAborted();
    const r = await readBand(f);
    if (bands.length === 0) nodata = r.nodata;
    const b = r.bands[0]!;
    const out = b instanceof Float32Array ? b : Float32Array.from(b as ArrayLike<number>);
    if (r.nodata !== nodata && r.nodata !== null) for (let i = 0; i < out.length; i++) if (out[i] === r.nodata) out[i] = nodata ?? NaN;
    bands.push(out);
  }
  return new Uint8Array(writeGeoTiff({ grid: first.grid, bands, nodata: nodata ?? null }));
}

/**
 * GET `url` for an environment's download: the response, or null when the server says the
 * file is not there (404, 410). Other statuses and network failures are `E_HTTP`; an abort rejects with
 * the signal's reason.
 */
export async function getDownload(doFetch: typeof fetch, url: string, signal: AbortSignal): Promise<Response | null> {
  const name = withoutCredentials(url);
  let res: Response;
  try {
    res = await doFetch(url, { signal });
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    throw new IbfError('E_HTTP', `GET ${name} failed: ${(e as Error).message}`, { cause: e });
  }
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new IbfError('E_HTTP', `GET ${name} answered ${res.status}`, { details: { url: name, status: res.status } });
  }
  return res;
}
