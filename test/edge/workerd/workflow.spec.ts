/**
 * Jobs as Cloudflare Workflows inside workerd: POST /v1/jobs starts an AssessWorkflow instance that plans,
 * runs one step per tile batch (10 here) reading COG windows from R2, and publishes result.json to R2;
 * the job record in D1 follows it. The result must be the bits of `assess()` run in the same isolate on
 * the same objects (only manifest.createdAt differs), also when a batch step fails and is retried under
 * the flow's policy (2 retries), and the job must fail with the step's error once the retries are spent.
 */
import { env, introspectWorkflow } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { r2ObjectStore } from '../../../edge/adapters.js';
import { configOf } from '../../../edge/env.js';
import { edgeKernel } from '../../../edge/kernel.js';
import { batchName, stepNames } from '../../../edge/workflow.js';
import { apiScenarioIO } from '../../../src/api/sources.js';
import { sha256Hex } from '../../../src/engine/manifest.js';
import type { AssessResult } from '../../../src/engine/result.js';
import { assess } from '../../../src/engine/scenario.js';
import { parseScenario } from '../../../src/model/scenario.js';
import { JOB_TILES, api, auth, bitDiff, postJson, seedKeys, uploadJobScenario, withoutCreatedAt } from './helpers.js';

let keys: Awaited<ReturnType<typeof seedKeys>>;
let scenario: Record<string, unknown>;
let want: AssessResult;

beforeAll(async () => {
  keys = await seedKeys();
  scenario = await uploadJobScenario(keys.run, 'job');
  // the reference: assess() in this isolate over the same R2 objects, with the engine's default tiling
  want = (await assess(parseScenario(scenario, 'the scenario'), {
    io: apiScenarioIO({ config: configOf(env), store: r2ObjectStore(env.DATA) }, 'p1'),
    kernel: await edgeKernel(),
    scenarioSha256: await sha256Hex(JSON.stringify(scenario)),
  })).result;
  expect(want.zones.map((z) => z.id)).toEqual(['A', 'B', 'C']);
  expect(want.totals.damage[0]).toBeGreaterThan(0);
});

type JobView = { id: string; status: string; cellBands?: number; progress?: { tilesDone: number; tilesTotal: number }; error?: { code: string; detail: string } };

/** Starts a job of `scenario` with `modify` applied to its Workflow instance; waits for `status`. */
async function runJob(modify: Parameters<Awaited<ReturnType<typeof introspectWorkflow>>['modifyAll']>[0], status: 'complete' | 'errored') {
  await using wf = await introspectWorkflow(env.ASSESS);
  await wf.modifyAll(modify);
  const res = await api('/v1/jobs', postJson(scenario, keys.run));
  expect(res.status).toBe(202);
  const job = (await res.json()) as JobView;
  const [instance] = wf.get();
  await instance!.waitForStatus(status);
  const view = (await (await api(`/v1/jobs/${job.id}`, { headers: auth(keys.read) })).json()) as JobView;
  // durable steps persist a record: { ok: <the task's result> } (src/flow/durable.ts)
  const plan = status === 'complete' ? ((await instance!.waitForStepResult({ name: 'plan' })) as { ok: { tiles: number; batches: Array<{ from: number; to: number }> } }).ok : undefined;
  const output = status === 'complete' ? await instance!.getOutput() : undefined;
  return { job, view, plan, output };
}

describe('jobs as Workflows (workerd)', () => {
  it(`a job fans out ${JOB_TILES} tile steps and publishes the bits of assess() to R2; D1 follows it`, async () => {
    const { job, view, plan, output } = await runJob(async (m) => {
      await m.disableSleeps();
    }, 'complete');
    expect(plan!.tiles).toBe(JOB_TILES);
    expect(plan!.batches.length).toBe(JOB_TILES);
    expect(stepNames(JOB_TILES)).toContain(batchName(JOB_TILES - 1));
    expect(output).toEqual({ resultKey: `jobs/${job.id}/result.json`, tiles: JOB_TILES, batches: JOB_TILES });
    expect(view).toMatchObject({ status: 'succeeded', cellBands: 1030 * 600, progress: { tilesDone: JOB_TILES, tilesTotal: JOB_TILES } });
    const res = await api(`/v1/jobs/${job.id}/result`, { headers: auth(keys.read) });
    expect(res.status).toBe(200);
    const got = (await res.json()) as AssessResult;
    expect(bitDiff(withoutCreatedAt(got), withoutCreatedAt(want))).toEqual([]);
    // the same object is in R2, where the Workflow wrote it
    const stored = await env.DATA.get(`jobs/${job.id}/result.json`);
    expect(JSON.parse(await stored!.text())).toEqual(got);
  });

  it('a tile step that fails once, and one that fails twice, are retried (policy: 2 retries) to the same bits', async () => {
    const { view, job } = await runJob(async (m) => {
      await m.disableSleeps();
      await m.disableRetryDelays();
      await m.mockStepError({ name: batchName(3) }, new Error('injected: R2 read reset'), 1);
      await m.mockStepError({ name: batchName(7) }, new Error('injected: R2 read reset'), 2);
    }, 'complete');
    expect(view.status).toBe('succeeded');
    const got = (await (await api(`/v1/jobs/${job.id}/result`, { headers: auth(keys.read) })).json()) as AssessResult;
    expect(bitDiff(withoutCreatedAt(got), withoutCreatedAt(want))).toEqual([]);
  });

  it('a tile step that fails three times spends its retries: the job fails, its record says why, no result', async () => {
    const { view, job } = await runJob(async (m) => {
      await m.disableSleeps();
      await m.disableRetryDelays();
      await m.mockStepError({ name: batchName(5) }, new Error('injected: R2 read reset'), 3);
    }, 'errored');
    expect(view.status).toBe('failed');
    expect(view.error).toMatchObject({ code: 'E_WORKER', detail: expect.stringMatching(/injected: R2 read reset/) });
    const res = await api(`/v1/jobs/${job.id}/result`, { headers: auth(keys.read) });
    expect(res.status).toBe(503); // E_WORKER: the steps failed past their retries
    expect(await env.DATA.head(`jobs/${job.id}/result.json`)).toBeNull();
  });

  it('a scenario whose inputs do not exist fails at the plan step at once, with its own code', async () => {
    const missing = { ...scenario, hazard: { ...(scenario.hazard as object), source: 'r2://ibf-test/job/no-such.tif' } };
    await using wf = await introspectWorkflow(env.ASSESS);
    await wf.modifyAll(async (m) => {
      await m.disableSleeps();
    });
    const t0 = Date.now();
    const job = (await (await api('/v1/jobs', postJson(missing, keys.run))).json()) as JobView;
    await wf.get()[0]!.waitForStatus('errored');
    // not retried: the plan policy retries only transient errors (retry delays are 1 s and 2 s)
    expect(Date.now() - t0).toBeLessThan(2500);
    const view = (await (await api(`/v1/jobs/${job.id}`, { headers: auth(keys.read) })).json()) as JobView;
    expect(view).toMatchObject({ status: 'failed', error: { code: 'E_INPUT_NOT_FOUND', hint: expect.stringMatching(/PUT \/v1\/data/) } });
    expect(JSON.stringify(view.error)).toMatch(/no-such\.tif does not exist/);
    const res = await api(`/v1/jobs/${job.id}/result`, { headers: auth(keys.read) });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { code: string }).code).toBe('E_INPUT_NOT_FOUND');
  });
});
