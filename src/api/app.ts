/**
 * @module api/app
 * The HTTP API as one Hono app over the ports of api/ports.ts: the same app runs on Cloudflare Workers
 * (edge/worker.ts: R2, D1, KV, a Durable Object, a Workflow) and on Node (`ibf serve`: a folder, memory,
 * in-process jobs).
 *
 * Every request gets an id (`x-request-id`), one JSON log line, and on failure a problem+json body
 * (api/problem.ts). Routes that touch partner data need `Authorization: Bearer <key>` with a scope; a
 * browser's `Origin` must be one the key allows (CORS per key). Bodies are size-capped before they are
 * parsed; scenarios are validated by the same code as `ibf assess`, so the errors read the same.
 */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { IbfError } from '../errors.js';
import { getDefaultCatalog } from '../catalog/index.js';
import { assess } from '../engine/scenario.js';
import { zonalOfSource } from '../engine/zonal-source.js';
import { sha256Hex } from '../engine/manifest.js';
import { readRaster, readRasterInfo } from '../io/geotiff.js';
import { readStream } from '../io/byte-source.js';
import { zonesDocument } from '../io/zones.js';
import { ScenarioSchema, parseScenario, type Scenario } from '../model/scenario.js';
import { zodProblems } from '../model/zod-problems.js';
import { VERSION } from '../version.js';
import { startJob } from './jobs.js';
import { problemOf, problemResponse } from './problem.js';
import { checkObjectKey, dataKey, hashKey } from './security.js';
import { apiScenarioIO, resolveSource } from './sources.js';
import type { ApiDeps, ApiKeyRecord, JobRecord, Scope } from './ports.js';

type Env = { Variables: { requestId: string; key?: ApiKeyRecord; origin?: string } };

const JSON_TYPES = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const RASTER_TYPES = /^(?:image\/tiff|image\/geotiff|application\/octet-stream)\s*(?:;|$)/i;

/** Thrown from `onPlan` when a synchronous assessment is larger than the request budget. */
class Deferred {
  constructor(readonly cellBands: number) {}
}

/** Reads a request body, refusing past `max` bytes (Content-Length first, then while streaming). */
async function readBody(c: Context<Env>, max: number, types: RegExp, what: string): Promise<Uint8Array> {
  const type = c.req.header('content-type') ?? '';
  if (!types.test(type)) {
    throw new IbfError('E_MEDIA_TYPE', `${what} must be sent as ${types === JSON_TYPES ? 'application/json' : 'image/tiff or application/octet-stream'}, not ${JSON.stringify(type || '(no content-type)')}`);
  }
  const tooLarge = () => new IbfError('E_LIMIT', `${what} is larger than the ${max}-byte limit`, { details: { maxBytes: max } });
  const declared = Number(c.req.header('content-length'));
  if (Number.isFinite(declared) && declared > max) throw tooLarge();
  const body = c.req.raw.body ? await readStream(c.req.raw.body, max) : new Uint8Array(0);
  if (!body) throw tooLarge();
  return body;
}

async function readJson(c: Context<Env>, max: number, what: string): Promise<unknown> {
  const bytes = await readBody(c, max, JSON_TYPES, what);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch (e) {
    throw new IbfError('E_INPUT_FORMAT', `${what} is not valid JSON (${e instanceof Error ? e.message : String(e)})`, { hint: 'Send one UTF-8 JSON document.' });
  }
}

function originAllowed(key: ApiKeyRecord, origin: string): boolean {
  return key.origins.includes('*') || key.origins.includes(origin);
}

/** Scenario sources checked before a job is queued: a job must not fail later on a source it could never read. */
function checkSources(s: Scenario, deps: ApiDeps, partner: string): void {
  const refs: string[] = [s.hazard.source, s.exposure.source];
  if (s.zones) refs.push(s.zones.source);
  if (s.hazard.fraction) refs.push(typeof s.hazard.fraction === 'string' ? s.hazard.fraction : s.hazard.fraction.source);
  const v = s.vulnerability as unknown as Record<string, unknown>;
  if (v && typeof v === 'object' && 'classes' in v) {
    const c = v.classes as string | { source: string };
    refs.push(typeof c === 'string' ? c : c.source);
  }
  for (const r of refs) resolveSource(r, deps, partner);
}

export function jobView(j: JobRecord) {
  return {
    id: j.id, status: j.status, createdAt: j.createdAt, updatedAt: j.updatedAt, ...(j.name ? { name: j.name } : {}),
    ...(j.cellBands !== undefined ? { cellBands: j.cellBands } : {}), ...(j.progress ? { progress: j.progress } : {}), ...(j.error ? { error: j.error } : {}),
    links: { self: `/v1/jobs/${j.id}`, result: `/v1/jobs/${j.id}/result` },
  };
}

const ErrorSchema = z.object({
  type: z.string(), title: z.string(), status: z.number().int(), detail: z.string(), code: z.string(), hint: z.string().optional(),
  problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(), requestId: z.string(),
});
const JobSchema = z.object({
  id: z.string(), status: z.enum(['queued', 'running', 'succeeded', 'failed']), createdAt: z.string(), updatedAt: z.string(), name: z.string().optional(),
  cellBands: z.number().optional(), progress: z.object({ tilesDone: z.number(), tilesTotal: z.number() }).optional(),
  links: z.object({ self: z.string(), result: z.string() }),
});
export const ZonalRequestSchema = z.strictObject({
  raster: z.string().min(1).describe('r2://<bucket>/<key>, an allowed https URL, or a data: URL'),
  zones: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).describe('GeoJSON FeatureCollection, inline or as a source'),
  band: z.number().int().min(1).optional(),
  rule: z.enum(['coverage', 'centre', 'all-touched']).optional(),
  idProperty: z.string().optional(),
  nameProperty: z.string().optional(),
  nodata: z.number().nullable().optional(),
  scale: z.number().optional(),
});

const problems = (...codes: number[]) =>
  Object.fromEntries(codes.map((s) => [String(s), { description: 'problem+json', content: { 'application/problem+json': { schema: ErrorSchema } } }]));
const bearer = [{ bearer: [] as string[] }];

/** Registers the routes' documentation (schemas from zod) in the app's OpenAPI registry. */
function document(app: OpenAPIHono<Env>): void {
  const r = app.openAPIRegistry;
  r.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'An API key; scopes read, run, upload.' });
  const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
  r.registerPath({ method: 'get', path: '/healthz', summary: 'Liveness', responses: { 200: { description: 'ok', ...json(z.object({ ok: z.boolean(), version: z.string() })) } } });
  r.registerPath({
    method: 'post', path: '/v1/assess', summary: 'Assess a scenario; synchronous when it fits the request budget, else a job (202)', security: bearer,
    request: { body: { required: true, ...json(ScenarioSchema) } },
    responses: { 200: { description: 'the result (e4drr-ibf/result@1)', ...json(z.record(z.string(), z.unknown())) }, 202: { description: 'queued as a job', ...json(JobSchema) }, ...problems(400, 401, 403, 413, 415, 422, 429) },
  });
  r.registerPath({
    method: 'post', path: '/v1/jobs', summary: 'Queue a scenario as a job (a Cloudflare Workflow on the edge)', security: bearer,
    request: { body: { required: true, ...json(ScenarioSchema) } },
    responses: { 202: { description: 'queued', ...json(JobSchema) }, ...problems(400, 401, 403, 413, 415, 422, 429) },
  });
  const id = z.object({ id: z.string() });
  r.registerPath({ method: 'get', path: '/v1/jobs/{id}', summary: 'A job and its progress', security: bearer, request: { params: id }, responses: { 200: { description: 'the job', ...json(JobSchema) }, ...problems(401, 403, 404, 429) } });
  r.registerPath({
    method: 'get', path: '/v1/jobs/{id}/result', summary: 'The result of a finished job', security: bearer, request: { params: id },
    responses: { 200: { description: 'the result (e4drr-ibf/result@1)', ...json(z.record(z.string(), z.unknown())) }, ...problems(401, 403, 404, 409, 422, 429) },
  });
  r.registerPath({
    method: 'post', path: '/v1/zonal', summary: 'Zonal statistics of a raster band over zones', security: bearer, request: { body: { required: true, ...json(ZonalRequestSchema) } },
    responses: { 200: { description: 'one row per zone', ...json(z.record(z.string(), z.unknown())) }, ...problems(400, 401, 403, 413, 415, 422, 429) },
  });
  r.registerPath({ method: 'get', path: '/v1/curves', summary: 'The damage-function catalog', request: { query: z.object({ hazard: z.string().optional(), region: z.string().optional(), sector: z.string().optional() }) }, responses: { 200: { description: 'entries', ...json(z.record(z.string(), z.unknown())) } } });
  r.registerPath({ method: 'get', path: '/v1/curves/{id}', summary: 'One damage function with its knots', request: { params: id }, responses: { 200: { description: 'the curve', ...json(z.record(z.string(), z.unknown())) }, ...problems(404) } });
  r.registerPath({
    method: 'put', path: '/v1/data/{key}', summary: 'Upload a GeoTIFF / COG (then use it as r2://<bucket>/<key>)', security: bearer,
    request: { params: z.object({ key: z.string() }), body: { required: true, content: { 'image/tiff': { schema: z.string().describe('binary') } } } },
    responses: { 201: { description: 'stored', ...json(z.object({ source: z.string(), bytes: z.number(), sha256: z.string() })) }, ...problems(401, 403, 413, 415, 422, 429) },
  });
}

/** The API app over `deps`. */
export function createApi(deps: ApiDeps): OpenAPIHono<Env> {
  const { config } = deps;
  const limits = config.limits;
  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? (() => crypto.randomUUID());
  const app = new OpenAPIHono<Env>();

  // request id, CORS for public routes and errors, one log line per request
  app.use('*', async (c, next) => {
    const requestId = newId();
    c.set('requestId', requestId);
    const t0 = Date.now();
    const origin = c.req.header('origin');
    if (origin) c.set('origin', origin);
    try {
      await next();
    } finally {
      c.res.headers.set('x-request-id', requestId);
      const key = c.get('key');
      if (origin) {
        const isError = c.res.status >= 400;
        // data routes: only the key's own origins; errors and public routes: any (they reveal nothing)
        if (isError || !c.res.headers.has('access-control-allow-origin')) {
          if (isError || !key || originAllowed(key, origin)) c.res.headers.set('access-control-allow-origin', origin);
        }
        c.res.headers.append('vary', 'Origin');
        c.res.headers.set('access-control-expose-headers', 'x-request-id, retry-after, location');
      }
      deps.log({
        level: c.res.status >= 500 ? 'error' : c.res.status >= 400 ? 'warn' : 'info', msg: 'request', requestId, method: c.req.method, path: c.req.path,
        status: c.res.status, ms: Date.now() - t0, ...(key ? { keyId: key.id, partner: key.partner } : {}), ...(origin ? { origin } : {}),
      });
    }
  });

  app.onError((e, c) => {
    const body = problemOf(e, c.get('requestId') ?? 'none');
    if (body.status >= 500) deps.log({ level: 'error', msg: 'unhandled', requestId: body.requestId, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    const headers: Record<string, string> = {};
    if (e instanceof IbfError && e.code === 'E_RATE_LIMITED') headers['retry-after'] = String(e.details?.retryAfterSeconds ?? 1);
    return problemResponse(body, headers);
  });
  app.notFound((c) => problemResponse(problemOf(new IbfError('E_NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), c.get('requestId'))));

  // CORS preflight: carries no key, so any key's origin may ask; the real request is checked per key
  app.options('*', async (c) => {
    const origin = c.req.header('origin');
    if (!origin || !(await deps.keys.originAllowed(origin))) {
      throw new IbfError('E_FORBIDDEN', `origin ${origin ?? '(none)'} is not allowed to call this API`, { hint: 'Ask the operator to add your site\'s origin to your API key.' });
    }
    return c.body(null, 204, {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': 'GET, POST, PUT, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type',
      'access-control-max-age': '600',
    });
  });

  /** The request's key, checked for `scope`, origin and rate; throws the matching problem. */
  const authorize = async (c: Context<Env>, scope: Scope): Promise<ApiKeyRecord> => {
    const h = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+([\x21-\x7e]{8,512})\s*$/i.exec(h);
    if (!m) throw new IbfError('E_AUTH', h ? 'the Authorization header is not "Bearer <key>"' : 'this route needs an API key (Authorization: Bearer <key>)');
    const key = await deps.keys.byHash(await hashKey(m[1]!));
    if (!key) throw new IbfError('E_AUTH', 'the API key is not known');
    if (key.revoked) throw new IbfError('E_AUTH', `API key ${key.id} was revoked`);
    if (key.expiresAt && Date.parse(key.expiresAt) <= now().getTime()) throw new IbfError('E_AUTH', `API key ${key.id} expired at ${key.expiresAt}`);
    c.set('key', key);
    const origin = c.get('origin');
    if (origin && !originAllowed(key, origin)) throw new IbfError('E_FORBIDDEN', `API key ${key.id} may not be used from ${origin}`, { hint: 'Ask the operator to add this origin to the key, or call from an allowed site.' });
    if (!key.scopes.includes(scope)) throw new IbfError('E_FORBIDDEN', `API key ${key.id} has scopes ${key.scopes.join(', ') || '(none)'}; this route needs "${scope}"`);
    const rate = await deps.limiter.take(`key:${key.id}`, key.ratePerMinute ?? limits.ratePerMinute);
    if (!rate.ok) throw new IbfError('E_RATE_LIMITED', `API key ${key.id} is over its rate of ${key.ratePerMinute ?? limits.ratePerMinute} requests per minute`, { details: { retryAfterSeconds: rate.retryAfterSeconds } });
    return key;
  };

  const queueJob = async (key: ApiKeyRecord, s: Scenario, doc: Record<string, unknown>, cellBands?: number): Promise<JobRecord> => {
    const t = now().toISOString();
    const job: JobRecord = { id: newId(), partner: key.partner, keyId: key.id, status: 'queued', createdAt: t, updatedAt: t, ...(s.name ? { name: s.name } : {}), ...(cellBands !== undefined ? { cellBands } : {}) };
    await deps.jobs.create(job);
    await startJob(deps, job, doc);
    deps.log({ level: 'info', msg: 'job queued', job: job.id, partner: key.partner, ...(cellBands !== undefined ? { cellBands } : {}) });
    return job;
  };
  const accepted = (c: Context<Env>, job: JobRecord) => c.json(jobView(job), 202, { location: `/v1/jobs/${job.id}` });

  app.get('/healthz', (c) => c.json({ ok: true, version: VERSION }, 200, { 'access-control-allow-origin': '*' }));

  app.post('/v1/assess', async (c) => {
    const key = await authorize(c, 'run');
    const doc = await readJson(c, limits.maxBodyBytes, 'the scenario');
    const s = parseScenario(doc, 'the scenario');
    checkSources(s, deps, key.partner);
    const signal = AbortSignal.timeout(limits.stepTimeoutMs);
    try {
      const out = await assess(s, {
        io: apiScenarioIO(deps, key.partner, signal),
        kernel: await deps.kernel(),
        signal,
        tileCells: config.tileCells,
        scenarioSha256: await sha256Hex(JSON.stringify(doc)),
        onPlan: (p) => {
          const cellBands = p.plan.grid.width * p.plan.grid.height * p.plan.nBands;
          if (cellBands > limits.maxCellBands) {
            throw new IbfError('E_LIMIT', `the scenario is ${cellBands} cells x bands, more than this API's limit of ${limits.maxCellBands}`, {
              hint: 'Cut the area or the bands, or run it with the CLI (`ibf assess`).', details: { cellBands, maxCellBands: limits.maxCellBands },
            });
          }
          if (cellBands > limits.syncCellBands) throw new Deferred(cellBands);
        },
      });
      return c.json(out.result);
    } catch (e) {
      if (e instanceof Deferred) return accepted(c, await queueJob(key, s, doc as Record<string, unknown>, e.cellBands));
      if (signal.aborted && !(e instanceof IbfError)) {
        throw new IbfError('E_TASK_TIMEOUT', `the assessment took longer than the request budget of ${limits.stepTimeoutMs} ms`, { hint: 'Send it to POST /v1/jobs instead: jobs run in steps without this limit.' });
      }
      throw e;
    }
  });

  app.post('/v1/jobs', async (c) => {
    const key = await authorize(c, 'run');
    const doc = await readJson(c, limits.maxBodyBytes, 'the scenario');
    const s = parseScenario(doc, 'the scenario');
    checkSources(s, deps, key.partner);
    return accepted(c, await queueJob(key, s, doc as Record<string, unknown>));
  });

  const ownJob = async (c: Context<Env>): Promise<JobRecord> => {
    const key = await authorize(c, 'read');
    const id = c.req.param('id') ?? '';
    const job = /^[\w-]{1,64}$/.test(id) ? await deps.jobs.get(id) : null;
    // another partner's job is "not found": ids are not confirmed to strangers
    if (!job || job.partner !== key.partner) throw new IbfError('E_NOT_FOUND', `job ${JSON.stringify(id.slice(0, 64))} does not exist`);
    return job;
  };

  app.get('/v1/jobs/:id', async (c) => c.json(jobView(await ownJob(c))));

  app.get('/v1/jobs/:id/result', async (c) => {
    const job = await ownJob(c);
    if (job.status === 'failed' && job.error) {
      const e = new IbfError((job.error.code as never) ?? 'E_KERNEL', `job ${job.id} failed: ${job.error.detail}`, { hint: job.error.hint, problems: job.error.problems });
      throw e;
    }
    if (job.status !== 'succeeded' || !job.resultKey) {
      return problemResponse({ ...problemOf(new IbfError('E_NOT_FOUND', `job ${job.id} has no result yet (status ${job.status})`, { hint: 'Poll GET /v1/jobs/{id} until its status is succeeded.' }), c.get('requestId')), status: 409, title: 'Conflict' });
    }
    const bytes = await deps.store.get(job.resultKey);
    if (!bytes) throw new IbfError('E_NOT_FOUND', `the result of job ${job.id} is gone from storage`);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/json' });
  });

  app.post('/v1/zonal', async (c) => {
    const key = await authorize(c, 'run');
    const doc = await readJson(c, limits.maxBodyBytes, 'the zonal request');
    const r = ZonalRequestSchema.safeParse(doc);
    if (!r.success) {
      throw IbfError.fromProblems('E_SCENARIO_INVALID', 'the zonal request is invalid', zodProblems(r.error));
    }
    const q = r.data;
    const io = apiScenarioIO(deps, key.partner);
    const zonesDoc = typeof q.zones === 'string' ? zonesDocument(await io.text('zones', q.zones), q.zones.slice(0, 200)) : q.zones;
    const { source, name } = await io.raster('raster', q.raster);
    const bytes = source.kind === 'bytes' ? source.bytes : source.kind === 'path' ? await io.openPath!(source.path) : null;
    if (!bytes) throw new IbfError('E_SOURCE_DENIED', `${q.raster} cannot be read here`);
    const out = await zonalOfSource(bytes, name, zonesDoc, typeof q.zones === 'string' ? q.zones : 'zones', {
      band: q.band, rule: q.rule, idProperty: q.idProperty, nameProperty: q.nameProperty, nodata: q.nodata, scale: q.scale, kernel: await deps.kernel(), maxCells: limits.maxCellBands,
    });
    return c.json({ rule: out.rule, band: out.band, idProperty: out.idProperty, warnings: out.warnings, zones: out.rows });
  });

  app.get('/v1/curves', (c) => {
    const entries = getDefaultCatalog().list({ hazard: c.req.query('hazard'), region: c.req.query('region'), sector: c.req.query('sector') });
    return c.json({ curves: entries }, 200, { 'access-control-allow-origin': '*' });
  });

  app.get('/v1/curves/:id', (c) => {
    const id = c.req.param('id');
    const cat = getDefaultCatalog();
    const entry = cat.list().find((e) => e.id === id);
    if (!entry) throw new IbfError('E_NOT_FOUND', `no damage function ${JSON.stringify(id.slice(0, 100))}`, { hint: 'GET /v1/curves lists the ids.' });
    return c.json({ ...entry, curve: cat.get(id).spec }, 200, { 'access-control-allow-origin': '*' });
  });

  app.put('/v1/data/:key{.+}', async (c) => {
    const key = await authorize(c, 'upload');
    const objectKey = checkObjectKey(c.req.param('key'));
    const bytes = await readBody(c, limits.maxUploadBytes, RASTER_TYPES, 'the raster');
    // refuse what no assessment here could read: not a GeoTIFF, or a codec this runtime cannot decode
    const info = await readRasterInfo(bytes, { name: objectKey });
    const b = info.block;
    await readRaster(bytes, { name: objectKey, bands: [0], window: [0, 0, Math.min(b.width, info.grid.width), Math.min(b.height, info.grid.height)] });
    const sha256 = await sha256Hex(bytes);
    await deps.store.put(dataKey(key.partner, objectKey), bytes, { contentType: 'image/tiff', sha256 });
    deps.log({ level: 'info', msg: 'upload', partner: key.partner, key: objectKey, bytes: bytes.byteLength });
    return c.json({ source: `r2://${config.bucket}/${objectKey}`, bytes: bytes.byteLength, sha256, width: info.grid.width, height: info.grid.height, bands: info.bandCount, dataType: info.dataType }, 201);
  });

  document(app);
  app.doc31('/v1/openapi.json', { openapi: '3.1.0', info: { title: 'e4drr-ibf API', version: VERSION, description: 'Impact-based forecasting: hazard x exposure x vulnerability per admin area.' } });
  return app;
}
