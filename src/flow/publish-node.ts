/**
 * @module flow/publish-node
 * Publishes a run's outputs into a folder (Node), all or nothing:
 *
 *     <dir>/.ibf-publish-<run>/...            staged outputs (invisible to readers of <dir>)
 *     <dir>/.ibf-publish-<run>/.commit.json   written atomically when every output is staged: the commit point
 *
 * Commit writes the marker, then renames each staged file into `<dir>` and removes the staging
 * folder. A process killed before the marker leaves the staging folder only (dropped by the next
 * `open` of that run); killed after it, the next `open` of any run on `<dir>` finishes the renames.
 * So a reader never sees a run that published some outputs and not others, except for the moment
 * the renames take; an earlier file of the same name is replaced, never truncated.
 */
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { IbfError } from '../errors.js';
import { outputNameProblem, type Publisher, type PublishReceipt, type Staging } from './publish.js';
import { writeAtomic } from './store-node.js';

const PREFIX = '.ibf-publish-';
const MARKER = '.commit.json';

function ioError(dir: string, cause: unknown): IbfError {
  if (cause instanceof IbfError) return cause;
  return new IbfError('E_IO', `publishing to ${dir} failed: ${(cause as Error).message}`, {
    cause,
    hint: 'Check free disk space and permissions of the output folder.',
    details: { dir, code: (cause as NodeJS.ErrnoException).code },
  });
}

/** Moves staged outputs into `dir` (marker present: the commit was decided); then removes the staging folder. */
async function rollForward(dir: string, staging: string, outputs: string[]): Promise<void> {
  for (const name of outputs) {
    const to = join(dir, name);
    await mkdir(dirname(to), { recursive: true });
    try {
      await rename(join(staging, name), to);
    } catch (e) {
      // moved by an earlier, interrupted roll-forward
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  await rm(staging, { recursive: true, force: true });
}

/** Finishes every commit in `dir` that a killed process decided but did not complete. */
export async function recoverPublished(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const finished: string[] = [];
  for (const n of names) {
    if (!n.startsWith(PREFIX)) continue;
    const staging = join(dir, n);
    let marker: { outputs?: unknown };
    try {
      marker = JSON.parse(await readFile(join(staging, MARKER), 'utf8')) as { outputs?: unknown };
    } catch {
      continue; // not committed: belongs to a run still staging, or one its next open drops
    }
    if (!Array.isArray(marker.outputs)) continue;
    await rollForward(dir, staging, marker.outputs.filter((o): o is string => typeof o === 'string'));
    finished.push(n.slice(PREFIX.length));
  }
  return finished;
}

/** A publisher into the folder `dir` (created when missing). */
export function dirPublisher(dir: string): Publisher {
  return {
    target: dir,
    async open(run) {
      const staging = join(dir, `${PREFIX}${run}`);
      try {
        await mkdir(dir, { recursive: true });
        await recoverPublished(dir);
        await rm(staging, { recursive: true, force: true });
        await mkdir(staging);
      } catch (e) {
        throw ioError(dir, e);
      }
      const names = new Set<string>();
      let closed = false;
      // the marker is written: the commit must complete (now or at the next open), never be dropped
      let decided = false;
      const stage: Staging = {
        async put(name, data) {
          if (closed) throw new IbfError('E_USAGE', `staging of run ${run} is already committed or aborted`);
          const bad = outputNameProblem(name);
          if (bad) throw new IbfError('E_FLOW_RESULT', `output name "${name}" ${bad}`);
          // flushed like the marker, so a decided commit never moves an empty file into place
          await writeAtomic(join(staging, name), data);
          names.add(name);
        },
        async commit(): Promise<PublishReceipt> {
          if (closed) throw new IbfError('E_USAGE', `staging of run ${run} is already committed or aborted`);
          closed = true;
          const outputs = [...names].sort();
          try {
            await writeAtomic(join(staging, MARKER), JSON.stringify({ run, outputs }));
            decided = true;
            await rollForward(dir, staging, outputs);
          } catch (e) {
            throw ioError(dir, e);
          }
          return { target: dir, outputs };
        },
        async abort() {
          closed = true;
          if (decided) return;
          await rm(staging, { recursive: true, force: true });
        },
      };
      return stage;
    },
  };
}
