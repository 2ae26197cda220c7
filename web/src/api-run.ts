/**
 * @module web/api-run
 * The page's scenario sent to the IBF API: files small enough travel inline as `data:` URLs in the JSON
 * body, larger rasters are uploaded first (`PUT /v1/data/<key>`, scope `upload`) and named by their
 * `r2://` source; URLs go as they are (the API's own allow-list decides). Then `POST /v1/assess`: the
 * result at once, or a job (202) that is polled until it finishes.
 */
import { IbfError } from '../../src/errors.js';
import { sha256Hex } from '../../src/engine/manifest.js';
import type { AssessResult } from '../../src/engine/result.js';
import { api, jobResult, type ApiTarget, type JobView } from './lib/api.js';
import { baseName } from './compute.js';

/** Inline a file up to this size (bytes), and all inline files together up to INLINE_TOTAL (the API's JSON body limit is 1 MiB by default). */
const INLINE_ONE = 256 * 1024;
const INLINE_TOTAL = 640 * 1024;

const isRemote = (ref: string) => /^(https?:|data:|r2:)/i.test(ref);

function dataUrl(blob: Blob, type: string): Promise<string> {
  return new Promise((ok, fail) => {
    const r = new FileReader();
    r.onload = () => ok(String(r.result).replace(/^data:[^;,]*/, `data:${type}`));
    r.onerror = () => fail(r.error);
    r.readAsDataURL(blob);
  });
}

/** An object key the API accepts (segments of letters, digits, `.`, `_`, `-`, starting alphanumeric). */
export function objectKey(sha: string, name: string): string {
  const clean = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'file';
  return `web/${sha.slice(0, 16)}/${clean}`;
}

export interface ApiRunOptions {
  signal?: AbortSignal;
  onStatus?: (text: string) => void;
}

/** Sends `doc` (sources: names of `files`, or URLs) to the API; returns its result. */
export async function runOnApi(doc: Record<string, unknown>, files: ReadonlyMap<string, Blob>, target: ApiTarget, opts: ApiRunOptions = {}): Promise<AssessResult> {
  const out = JSON.parse(JSON.stringify(doc)) as Record<string, any>;
  let inline = 0;
  const place = async (ref: string, kind: 'raster' | 'text', type: string): Promise<string> => {
    if (isRemote(ref)) return ref;
    const blob = files.get(ref) ?? files.get(baseName(ref));
    if (!blob) throw new IbfError('E_INPUT_NOT_FOUND', `the scenario's "${ref}" is not among the files given`, { hint: `Drop ${baseName(ref)} first.` });
    if (blob.size <= INLINE_ONE && inline + blob.size <= INLINE_TOTAL) {
      inline += blob.size;
      return dataUrl(blob, type);
    }
    if (kind === 'text') throw new IbfError('E_LIMIT', `${ref} (${blob.size} bytes) is too large to send inline`, { hint: 'Host it at an https URL the API allows, or make it smaller.' });
    const key = objectKey(await sha256Hex(await blob.arrayBuffer()), baseName(ref));
    opts.onStatus?.(`Uploading ${baseName(ref)} (${(blob.size / 2 ** 20).toFixed(1)} MB)…`);
    const { body } = await api<{ source: string }>(target, `/v1/data/${key}`, { method: 'PUT', body: blob, headers: { 'content-type': 'image/tiff' }, signal: opts.signal });
    return body.source;
  };
  out.hazard.source = await place(out.hazard.source, 'raster', 'image/tiff');
  if (typeof out.hazard.fraction === 'string') out.hazard.fraction = await place(out.hazard.fraction, 'raster', 'image/tiff');
  else if (out.hazard.fraction?.source) out.hazard.fraction.source = await place(out.hazard.fraction.source, 'raster', 'image/tiff');
  if (typeof out.hazard.bands?.frequencies === 'string') out.hazard.bands.frequencies = await place(out.hazard.bands.frequencies, 'text', 'text/csv');
  out.exposure.source = await place(out.exposure.source, 'raster', 'image/tiff');
  if (out.zones?.source) out.zones.source = await place(out.zones.source, 'text', 'application/geo+json');
  const v = out.vulnerability;
  if (v && typeof v === 'object') {
    if (typeof v.csv === 'string') v.csv = await place(v.csv, 'text', 'text/csv');
    if (v.classes) {
      if (typeof v.classes === 'string') v.classes = await place(v.classes, 'raster', 'image/tiff');
      else v.classes.source = await place(v.classes.source, 'raster', 'image/tiff');
      for (const c of Object.values(v.curves ?? {}) as Array<Record<string, unknown>>) if (c && typeof c.csv === 'string') c.csv = await place(c.csv, 'text', 'text/csv');
    }
  }
  opts.onStatus?.('Sent; the API is computing…');
  const { status, body } = await api<AssessResult | JobView>(target, '/v1/assess', { method: 'POST', body: JSON.stringify(out), headers: { 'content-type': 'application/json' }, signal: opts.signal });
  if (status === 200) return body as AssessResult;
  const job = body as JobView;
  opts.onStatus?.(`The API runs it as job ${job.id}…`);
  return jobResult(target, job.id, {
    signal: opts.signal,
    onStatus: (j) => opts.onStatus?.(`Job ${j.id}: ${j.status}${j.progress ? `, ${j.progress.tilesDone} of ${j.progress.tilesTotal} tiles` : ''}`),
  });
}
