/**
 * Shared by the workerd specs: keys seeded into KV, a job-sized scenario uploaded to R2 through the API,
 * polling, and a bitwise comparison of results.
 */
import { SELF, env } from 'cloudflare:test';
import { expect } from 'vitest';
import { putKey } from '../../../edge/adapters.js';
import { CASE_BUCKET, dataUrl, rasters, testKeys } from '../../api/cases.js';
export { bitDiff, withoutCreatedAt } from '../../bits.js';

export const API = 'https://api.example.org';
export const api = (path: string, init?: RequestInit) => SELF.fetch(`${API}${path}`, init);

export async function seedKeys(): Promise<Awaited<ReturnType<typeof testKeys>>['tokens']> {
  const { tokens, records } = await testKeys();
  for (const record of records) await putKey(env.KEYS, record);
  return tokens;
}

export const auth = (token: string, headers: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...headers });
export const postJson = (body: unknown, token: string): RequestInit => ({ method: 'POST', body: JSON.stringify(body), headers: auth(token, { 'content-type': 'application/json' }) });

/** Job grid: 1030 x 600 cells = 2 x 5 units of 1024 x 128, so 10 tiles (10 batch steps with BATCH_TILES = 1). */
export const JOB_W = 1030;
export const JOB_H = 600;
export const JOB_TILES = 10;

/** Three zones splitting the job grid (lon 30..40.3, lat -10..-16) west to east, not on cell edges. */
export const THIRDS = {
  type: 'FeatureCollection',
  features: [
    ['A', 30, 33.335],
    ['B', 33.335, 36.675],
    ['C', 36.675, 40.3],
  ].map(([id, x0, x1]) => ({
    type: 'Feature',
    properties: { id, name: `Zone ${id}` },
    geometry: { type: 'Polygon', coordinates: [[[x0, -10], [x1, -10], [x1, -16], [x0, -16], [x0, -10]]] },
  })),
};

/** Uploads the job rasters as `<prefix>/hazard.tif`, `<prefix>/exposure.tif` and returns a scenario over them. */
export async function uploadJobScenario(token: string, prefix: string): Promise<Record<string, unknown>> {
  const data = rasters(JOB_W, JOB_H);
  for (const [name, bytes] of [['hazard', data.hazard], ['exposure', data.exposure]] as const) {
    const res = await api(`/v1/data/${prefix}/${name}.tif`, { method: 'PUT', body: bytes, headers: auth(token, { 'content-type': 'image/tiff' }) });
    expect(res.status).toBe(201);
    await res.body?.cancel();
  }
  return {
    name: `edge job ${prefix}`,
    hazard: { source: `r2://${CASE_BUCKET}/${prefix}/hazard.tif`, unit: 'm' },
    exposure: { source: `r2://${CASE_BUCKET}/${prefix}/exposure.tif`, unit: 'EUR' },
    vulnerability: 'jrc-flood-europe-residential',
    zones: { source: dataUrl(new TextEncoder().encode(JSON.stringify(THIRDS)), 'application/geo+json'), idProperty: 'id', nameProperty: 'name' },
    affectedThreshold: 0.2,
  };
}


