/**
 * Store writes that fail under the API's in-process job runner (src/api/jobs.ts), through the real
 * app: the object store's put of result.json throws (an IbfError E_IO as the folder store raises, or a
 * plain Error as a raw platform call would), or the job store's update to "succeeded" throws. The job
 * must end failed with a code, publish no result (no object, GET result answers the error, not bytes),
 * and the same scenario submitted again must succeed with the totals of a clean synchronous run.
 *
 * Workers killed mid-tile and Workflow steps that throw are tested elsewhere (test/pool/pool.test.ts,
 * test/flow/kill.test.ts, test/edge/workerd/workflow.spec.ts); docs/RELIABILITY.md lists them.
 */
import { describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { createApi, inProcessRunner, memoryJobStore, memoryKeyStore, memoryObjectStore, memoryRateLimiter, type ApiDeps, type JobStore, type ObjectStore } from '../../src/api/index.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import { CASE_BUCKET, CASE_LIMITS, dataUrl, expectProblem, numbers, rasters, scenario, testKeys } from '../api/cases.js';

const { records, tokens } = await testKeys();
const kernel = loadKernel();
const data = rasters();
const doc = scenario(dataUrl(data.hazard), dataUrl(data.exposure));

/** An app whose stores fail as `faults` says; `faults` may be changed between requests. */
function harness() {
  const faults = { put: 0 as number, putError: (): Error => new IbfError('E_IO', 'cannot write jobs/x/result.json: no space left on device'), succeed: 0 as number, start: 0 as number };
  const mem = memoryObjectStore();
  const store: ObjectStore & { keys(): string[] } = {
    ...mem,
    keys: mem.keys,
    async put(key, body, meta) {
      if (key.startsWith('jobs/') && faults.put > 0) {
        faults.put--;
        throw faults.putError();
      }
      return mem.put(key, body, meta);
    },
  };
  const memJobs = memoryJobStore();
  const jobs: JobStore = {
    ...memJobs,
    async update(id, patch) {
      if (patch.status === 'succeeded' && faults.succeed > 0) {
        faults.succeed--;
        throw new Error('database is locked');
      }
      return memJobs.update(id, patch);
    },
  };
  const base = { store, jobs, kernel: () => kernel, log: () => {}, config: { bucket: CASE_BUCKET, limits: CASE_LIMITS, allowHosts: [] } };
  const inProcess = inProcessRunner(base);
  // the runner refusing a job, as a Workflow binding does when the platform is down
  const runner = {
    ...inProcess,
    async start(job: Parameters<typeof inProcess.start>[0], scenarioDoc: Record<string, unknown>) {
      if (faults.start > 0) {
        faults.start--;
        throw new Error('workflow binding: service unavailable');
      }
      return inProcess.start(job, scenarioDoc);
    },
  };
  const deps: ApiDeps = { ...base, keys: memoryKeyStore(records), limiter: memoryRateLimiter(), runner };
  const app = createApi(deps);
  const call = (path: string, init: RequestInit = {}) => app.request(path, { ...init, headers: { authorization: `Bearer ${tokens.run}`, 'content-type': 'application/json', ...init.headers } });
  const submit = async () => {
    const res = await call('/v1/jobs', { method: 'POST', body: JSON.stringify(doc) });
    expect(res.status).toBe(202);
    const job = (await res.json()) as { id: string };
    await inProcess.idle();
    const rec = (await (await call(`/v1/jobs/${job.id}`)).json()) as { status: string; error?: { code: string; detail: string } };
    return { id: job.id, rec };
  };
  return { faults, store, call, submit };
}

const syncNumbers = async () => {
  const h = harness();
  const res = await h.call('/v1/assess', { method: 'POST', body: JSON.stringify(doc) });
  expect(res.status).toBe(200);
  return numbers((await res.json()) as { totals: unknown; zones: unknown[] });
};

describe('store writes that fail under the job runner', () => {
  it('result.json cannot be written (E_IO): the job fails with E_IO, nothing is published, a rerun gives the clean totals', async () => {
    const want = await syncNumbers();
    const h = harness();
    h.faults.put = 1;
    const failed = await h.submit();
    expect(failed.rec.status).toBe('failed');
    expect(failed.rec.error).toMatchObject({ code: 'E_IO' });
    expect(h.store.keys().filter((k) => k.startsWith('jobs/'))).toEqual([]);
    await expectProblem(await h.call(`/v1/jobs/${failed.id}/result`), 507, 'E_IO');
    const again = await h.submit();
    expect(again.rec.status).toBe('succeeded');
    expect(numbers((await (await h.call(`/v1/jobs/${again.id}/result`)).json()) as never)).toBe(want);
    expect(h.store.keys()).toEqual([`jobs/${again.id}/result.json`]);
  });

  it('a store that throws a plain Error (a raw platform failure): still E_IO, not an internal error', async () => {
    const h = harness();
    h.faults.put = 1;
    h.faults.putError = () => Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    const failed = await h.submit();
    expect(failed.rec.status).toBe('failed');
    expect(failed.rec.error).toMatchObject({ code: 'E_IO' });
    expect(failed.rec.error!.detail).toMatch(/cannot store the result of job .*EIO: i\/o error/);
    expect(h.store.keys().filter((k) => k.startsWith('jobs/'))).toEqual([]);
    expect((await h.submit()).rec.status).toBe('succeeded');
  });

  it('the runner cannot take the job: 503 E_WORKER naming the job, which is recorded failed (not queued for ever); a resubmit succeeds', async () => {
    const h = harness();
    h.faults.start = 1;
    const res = await h.call('/v1/jobs', { method: 'POST', body: JSON.stringify(doc) });
    const problem = await expectProblem(res, 503, 'E_WORKER');
    const id = /job (\S+) could not be started \(workflow binding: service unavailable\)/.exec(String(problem.detail))?.[1];
    expect(id).toBeTruthy();
    const rec = (await (await h.call(`/v1/jobs/${id}`)).json()) as { status: string; error?: { code: string } };
    expect(rec).toMatchObject({ status: 'failed', error: { code: 'E_WORKER' } });
    expect((await h.submit()).rec.status).toBe('succeeded');
  });

  it('the job record cannot be marked succeeded: the job ends failed, its result is not served, a rerun succeeds', async () => {
    const want = await syncNumbers();
    const h = harness();
    h.faults.succeed = 1;
    const failed = await h.submit();
    expect(failed.rec.status).toBe('failed');
    expect(failed.rec.error).toMatchObject({ code: 'E_IO', detail: expect.stringMatching(/record job .* as succeeded/) });
    // result.json may exist (written before the record), but the record never points at it: not served
    const res = await h.call(`/v1/jobs/${failed.id}/result`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    await res.body?.cancel();
    const again = await h.submit();
    expect(again.rec.status).toBe('succeeded');
    expect(numbers((await (await h.call(`/v1/jobs/${again.id}/result`)).json()) as never)).toBe(want);
  });
});
