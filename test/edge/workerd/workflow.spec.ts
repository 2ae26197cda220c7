/**
 * Jobs as Cloudflare Workflows inside workerd: POST /v1/jobs starts an AssessWorkflow instance that plans,
 * runs one step per tile batch (10 here) reading COG windows from R2, and publishes result.json to R2;
 * the job record in D1 follows it. The result must be the bits of `assess()` run in the same isolate on
 * the same objects (only manifest.createdAt differs), also when a batch step fails and is retried under
 * the flow's policy (2 retries), and the job must fail with the step's error once the retries are spent.
 *
 * Scenario and batch partials go through R2 (jobs/<id>/scenario.json, jobs/<id>/partials/): params and
 * step values stay small even when a partial is megabytes (many zones x bands), what is read back is
 * checked against its sha256, and the partials are deleted once the result is out.
 */
import { env, introspectWorkflow, introspectWorkflowInstance } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { d1JobStore, r2ObjectStore } from '../../../edge/adapters.js';
import { configOf } from '../../../edge/env.js';
import { edgeKernel } from '../../../edge/kernel.js';
import { DELETE_PARTIALS, batchName, partialKeyOf, stepNames, type PartialRef } from '../../../edge/workflow.js';
import { resultKeyOf, scenarioKeyOf } from '../../../src/api/jobs.js';
import type { JobRecord } from '../../../src/api/ports.js';
import { apiScenarioIO } from '../../../src/api/sources.js';
import { sha256Hex } from '../../../src/engine/manifest.js';
import type { AssessResult } from '../../../src/engine/result.js';
import { assess } from '../../../src/engine/scenario.js';
import { runTileBatch, type BatchPartial } from '../../../src/engine/steps.js';
import { encodeValue } from '../../../src/flow/codec.js';
import { parseScenario } from '../../../src/model/scenario.js';
import { JOB_TILES, api, auth, bitDiff, postJson, seedKeys, uploadJobScenario, withoutCreatedAt } from './helpers.js';
import { MZ_TILES, MZ_ZONES_X, MZ_ZONES_Y, uploadManyZonesScenario } from './many-zones.js';

let keys: Awaited<ReturnType<typeof seedKeys>>;
let scenario: Record<string, unknown>;
let want: AssessResult;

const io = () => apiScenarioIO({ config: configOf(env), store: r2ObjectStore(env.DATA) }, 'p1');

/** The reference: assess() in this isolate over the same R2 objects, with the engine's default tiling. */
async function reference(doc: Record<string, unknown>): Promise<AssessResult> {
  return (await assess(parseScenario(doc, 'the scenario'), { io: io(), kernel: await edgeKernel(), scenarioSha256: await sha256Hex(JSON.stringify(doc)) })).result;
}

beforeAll(async () => {
  keys = await seedKeys();
  scenario = await uploadJobScenario(keys.run, 'job');
  want = await reference(scenario);
  expect(want.zones.map((z) => z.id)).toEqual(['A', 'B', 'C']);
  expect(want.totals.damage[0]).toBeGreaterThan(0);
});

type JobView = { id: string; status: string; cellBands?: number; progress?: { tilesDone: number; tilesTotal: number }; error?: { code: string; detail: string; hint?: string } };
type Modify = Parameters<Awaited<ReturnType<typeof introspectWorkflow>>['modifyAll']>[0];
type Instance = Awaited<ReturnType<typeof introspectWorkflowInstance>>;
/** Durable steps persist a record: { ok: <the task's result> } (src/flow/durable.ts). */
type StepRecord<T> = { ok: T };

/** Waits for every tile-batch step of a job of `tiles` one-tile batches; their persisted values. */
const batchValues = (instance: Instance, tiles: number) =>
  Promise.all(Array.from({ length: tiles }, (_, i) => instance.waitForStepResult({ name: batchName(i) }) as Promise<StepRecord<PartialRef>>));

/**
 * Starts a job of `doc` (default: the 10-tile scenario) with `modify` applied to its Workflow instance,
 * runs `meanwhile` once it is accepted, and waits for `status`.
 */
async function runJob(modify: Modify, status: 'complete' | 'errored', opts: { doc?: Record<string, unknown>; meanwhile?: (job: JobView, instance: Instance) => Promise<void> } = {}) {
  await using wf = await introspectWorkflow(env.ASSESS);
  await wf.modifyAll(modify);
  const res = await api('/v1/jobs', postJson(opts.doc ?? scenario, keys.run));
  expect(res.status).toBe(202);
  const job = (await res.json()) as JobView;
  const [instance] = wf.get();
  await opts.meanwhile?.(job, instance!);
  await instance!.waitForStatus(status);
  const view = (await (await api(`/v1/jobs/${job.id}`, { headers: auth(keys.read) })).json()) as JobView;
  const plan = status === 'complete' ? ((await instance!.waitForStepResult({ name: 'plan' })) as StepRecord<{ tiles: number; batches: Array<{ from: number; to: number }> }>).ok : undefined;
  const output = status === 'complete' ? await instance!.getOutput() : undefined;
  const batches = status === 'complete' ? await batchValues(instance!, plan!.batches.length) : [];
  return { job, view, plan, output, batches };
}

const resultOf = async (jobId: string) => (await (await api(`/v1/jobs/${jobId}/result`, { headers: auth(keys.read) })).json()) as AssessResult;

describe('jobs as Workflows (workerd)', () => {
  it(`a job fans out ${JOB_TILES} tile steps and publishes the bits of assess() to R2; D1 follows it`, async () => {
    const { job, view, plan, output, batches } = await runJob(async (m) => {
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
    // the scenario went through R2 as the bytes of JSON.stringify(doc): the manifest hashes those, as on Node
    const doc = await env.DATA.get(scenarioKeyOf(job.id));
    expect(await doc!.text()).toBe(JSON.stringify(scenario));
    expect(got.manifest.scenarioSha256).toBe(await sha256Hex(JSON.stringify(scenario)));
    // each batch step returned a reference to its partial in R2, deleted once the result was out
    expect(stepNames(JOB_TILES).slice(-2)).toEqual(['publish', DELETE_PARTIALS]);
    for (const [i, { ok: ref }] of batches.entries()) {
      expect(ref).toMatchObject({ key: partialKeyOf(job.id, i), from: i, to: i + 1, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(await env.DATA.head(ref.key)).toBeNull();
    }
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

describe('scenario and partials through R2 (workerd)', () => {
  /** Changes a stored partial so that it is still a valid partial of the plan, with other maxima. */
  async function tamper(key: string): Promise<void> {
    const partial = JSON.parse(await (await env.DATA.get(key))!.text()) as BatchPartial;
    partial.state.maxAt = partial.state.maxAt.map(([i, m]) => [i, typeof m === 'number' ? m + 1 : m]);
    await env.DATA.put(key, JSON.stringify(partial));
  }

  /** A job whose first publish attempt fails, so the partials are read at its retry (1 s later), after `change(jobId)` was made to R2. */
  const publishRetriedAfter = (change: (jobId: string) => Promise<unknown>) =>
    runJob(async (m) => {
      await m.disableSleeps();
      await m.mockStepError({ name: 'publish' }, new Error('injected: publish interrupted'), 1);
    }, 'errored', {
      meanwhile: async (job, instance) => {
        await batchValues(instance, JOB_TILES);
        await change(job.id);
      },
    });

  it('partials over 1 MiB (2 176 zones x 12 members): steps return references of a few hundred bytes, the bits are assess()\'s', async () => {
    const doc = await uploadManyZonesScenario(keys.run, 'many');
    const wantMany = await reference(doc);
    expect(wantMany.zones.length).toBe(MZ_ZONES_X * MZ_ZONES_Y);
    const { job, view, plan, batches } = await runJob(async (m) => {
      await m.disableSleeps();
    }, 'complete', { doc });
    expect(plan!.batches.length).toBe(MZ_TILES);
    expect(view.status).toBe('succeeded');
    // what a batch step used to return is the partial itself: now the R2 object, larger than a step value may be
    const partialBytes = batches.map(({ ok }) => ok.bytes);
    const stepBytes = batches.map((v) => new TextEncoder().encode(JSON.stringify(v)).byteLength);
    expect(Math.max(...partialBytes)).toBeGreaterThan(1 << 20);
    expect(Math.max(...stepBytes)).toBeLessThan(512);
    const got = await resultOf(job.id);
    expect(bitDiff(withoutCreatedAt(got), withoutCreatedAt(wantMany))).toEqual([]);
    for (const { ok } of batches) expect(await env.DATA.head(ok.key)).toBeNull();
  });

  it('a partial changed in R2 between its batch step and the publish fails the job at once (E_FLOW_STATE), never with other numbers', async () => {
    const { view, job } = await publishRetriedAfter((id) => tamper(partialKeyOf(id, 4)));
    expect(view.status).toBe('failed');
    expect(view.error).toMatchObject({
      code: 'E_FLOW_STATE',
      detail: expect.stringMatching(/the partial of tiles 4\.\.4 in R2 \(key jobs\/.*\/partials\/batch-0004\.json\) is not what the job wrote/),
      hint: expect.stringMatching(/submit the job again/),
    });
    expect(await env.DATA.head(resultKeyOf(job.id))).toBeNull();
    const res = await api(`/v1/jobs/${job.id}/result`, { headers: auth(keys.read) });
    expect(((await res.json()) as { code: string }).code).toBe('E_FLOW_STATE');
  });

  it('a partial gone from R2 at the publish is E_IO: retried per the policy, then the job fails with E_IO', async () => {
    const { view, job } = await publishRetriedAfter((id) => env.DATA.delete(partialKeyOf(id, 7)));
    expect(view.error).toMatchObject({ code: 'E_IO', detail: expect.stringMatching(/the partial of tiles 7\.\.7 is missing from R2/), hint: expect.stringMatching(/submit the job again/) });
    expect(await env.DATA.head(resultKeyOf(job.id))).toBeNull();
  });

  it('a scenario object changed after the job was accepted fails the job at the plan (E_FLOW_STATE)', async () => {
    const { view } = await runJob(async (m) => {
      await m.disableSleeps();
      // the plan reads the scenario at its retry, 1 s later
      await m.mockStepError({ name: 'plan' }, new Error('injected: plan interrupted'), 1);
    }, 'errored', {
      meanwhile: async (job) => {
        await env.DATA.put(scenarioKeyOf(job.id), JSON.stringify({ ...scenario, affectedThreshold: 0.3 }));
      },
    });
    expect(view.error).toMatchObject({ code: 'E_FLOW_STATE', detail: expect.stringMatching(/the scenario of job .* is not what the job wrote/) });
  });

  it('partials that cannot be deleted are logged; the job still succeeds with the same bits', async () => {
    const { job, view, output, batches } = await runJob(async (m) => {
      await m.disableSleeps();
      await m.disableRetryDelays();
      await m.mockStepError({ name: DELETE_PARTIALS }, new Error('injected: R2 delete refused'));
    }, 'complete');
    expect(view.status).toBe('succeeded');
    expect(output).toEqual({ resultKey: resultKeyOf(job.id), tiles: JOB_TILES, batches: JOB_TILES });
    expect(bitDiff(withoutCreatedAt(await resultOf(job.id)), withoutCreatedAt(want))).toEqual([]);
    for (const { ok } of batches) expect(await env.DATA.head(ok.key)).not.toBeNull();
  });

  it('an instance started before this layout (scenario in the params, a partial as a step value) still publishes the bits', async () => {
    const t = new Date().toISOString();
    const job: JobRecord = { id: 'legacy-1', partner: 'p1', keyId: 'k-run', status: 'queued', createdAt: t, updatedAt: t };
    await d1JobStore(env.DB).create(job);
    const config = configOf(env);
    const partial = await runTileBatch(parseScenario(scenario, 'the scenario'), { io: io(), kernel: await edgeKernel(), tileCells: config.tileCells }, { from: 0, to: 1 });
    await using instance = await introspectWorkflowInstance(env.ASSESS, job.id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.mockStepResult({ name: batchName(0) }, { ok: encodeValue(partial) });
    });
    const created = await env.ASSESS.create({ id: job.id, params: { job, scenario } });
    (created as Partial<Disposable>)[Symbol.dispose]?.(); // an RPC stub
    await instance.waitForStatus('complete');
    expect(await env.DATA.head(scenarioKeyOf(job.id))).toBeNull();
    expect(bitDiff(withoutCreatedAt(await resultOf(job.id)), withoutCreatedAt(want))).toEqual([]);
  });
});
