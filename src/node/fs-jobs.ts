/**
 * @module node/fs-jobs
 * The API's job store (api/ports.ts `JobStore`, D1 on the edge) as JSON files in `<dir>/jobs/`, for
 * `ibf serve`.
 */
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { IbfError } from '../errors.js';
import { writeFileAtomic } from '../io/node.js';
import type { JobRecord, JobStore } from '../api/ports.js';
import { errno, serialiser } from './fs-common.js';

const JOB_ID = /^[\w-]{1,64}$/;

/** A {@link JobStore} with `list()` and `recover()` (jobs a stopped server left unfinished). */
export interface FsJobStore extends JobStore {
  list(): Promise<JobRecord[]>;
  /**
   * Marks every job still `queued` or `running` as failed (`E_CANCELLED`): a new server process calls it
   * at start, since jobs run inside the process that accepted them. Returns their ids.
   */
  recover(): Promise<string[]>;
}

/**
 * Job records as one JSON file each, `<dir>/jobs/<id>.json`, written atomically. Updates of one job are
 * applied in the order they are called (read, merge, write, one at a time), so a late progress write
 * never overwrites the final status. Ids must match `[\w-]{1,64}`.
 */
export function fsJobStore(dir: string, now: () => Date = () => new Date()): FsJobStore {
  const root = resolve(dir, 'jobs');
  const lock = serialiser();
  const pathOf = (id: string) => {
    if (!JOB_ID.test(id)) throw new IbfError('E_NOT_FOUND', `job ${JSON.stringify(id.slice(0, 64))} does not exist`);
    return join(root, `${id}.json`);
  };
  const read = async (path: string): Promise<JobRecord | null> => {
    try {
      return JSON.parse(await fsp.readFile(path, 'utf8')) as JobRecord;
    } catch (e) {
      if (errno(e) === 'ENOENT') return null;
      throw e;
    }
  };
  const write = (path: string, job: JobRecord) => writeFileAtomic(path, `${JSON.stringify(job, null, 2)}\n`);
  const store: FsJobStore = {
    async create(job) {
      const path = pathOf(job.id);
      await lock(path, async () => {
        await fsp.mkdir(root, { recursive: true });
        if (await read(path)) throw new Error(`job ${job.id} exists`);
        await write(path, job);
      });
    },
    async get(id) {
      if (!JOB_ID.test(id)) return null;
      return read(pathOf(id));
    },
    async update(id, patch) {
      const path = pathOf(id);
      await lock(path, async () => {
        const j = await read(path);
        if (j) await write(path, { ...j, ...structuredClone(patch), updatedAt: now().toISOString() });
      });
    },
    async list() {
      let names: string[];
      try {
        names = await fsp.readdir(root);
      } catch (e) {
        if (errno(e) === 'ENOENT') return [];
        throw e;
      }
      const jobs = await Promise.all(names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => read(join(root, n)).catch(() => null)));
      return jobs.filter((j): j is JobRecord => j !== null).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },
    async recover() {
      const stale = (await store.list()).filter((j) => j.status === 'queued' || j.status === 'running');
      for (const j of stale) {
        await store.update(j.id, {
          status: 'failed',
          error: { code: 'E_CANCELLED', detail: 'the server stopped before the job finished', hint: 'Submit the scenario again (POST /v1/jobs).' },
        });
      }
      return stale.map((j) => j.id);
    },
  };
  return store;
}
