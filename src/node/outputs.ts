/**
 * @module node/outputs
 * Writes a run's output files all-or-nothing: into a staging folder beside the target, then renamed
 * into place once every file is written. A failure (or a cancelled run) removes the staging folder and
 * leaves the target folder as it was (earlier results are never half-overwritten). Large rasters are
 * streamed into the staging folder tile by tile while the run goes on (see {@link OutputStage.path}).
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IbfError } from '../errors.js';

export type OutputFiles = Record<string, ArrayBuffer | ArrayBufferView | string>;

/** A staging folder for one run's outputs. */
export interface OutputStage {
  /** Where `name` is staged (for writers that stream into it). Register it with `add`. */
  path(name: string): string;
  /** Stages a whole file. */
  write(name: string, data: ArrayBuffer | ArrayBufferView | string): Promise<void>;
  /** Marks a file written into `path(name)` by someone else as part of the outputs. */
  add(name: string): void;
  /** Renames every staged file into the target folder; returns their paths. */
  commit(): Promise<string[]>;
  /** Drops everything staged. */
  abort(): Promise<void>;
}

function ioError(dir: string, cause: unknown): IbfError {
  return cause instanceof IbfError ? cause : new IbfError('E_IO', `writing outputs to ${dir} failed: ${(cause as Error).message}`, { cause, hint: 'Check free disk space and permissions of the output folder.' });
}

/** Opens a staging folder inside `dir` (created when missing). */
export async function openOutputStage(dir: string): Promise<OutputStage> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (cause) {
    throw new IbfError('E_IO', `cannot create output folder ${dir}`, { cause, hint: 'Choose a writable folder with --out.' });
  }
  const staging = await mkdtemp(join(dir, '.ibf-staging-'));
  const names: string[] = [];
  const drop = () => rm(staging, { recursive: true, force: true });
  return {
    path: (name) => join(staging, name),
    add: (name) => void (names.includes(name) || names.push(name)),
    async write(name, data) {
      const bytes = typeof data === 'string' ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      try {
        await writeFile(join(staging, name), bytes);
      } catch (cause) {
        throw ioError(dir, cause);
      }
      if (!names.includes(name)) names.push(name);
    },
    async commit() {
      try {
        const written: string[] = [];
        for (const name of names) {
          await rename(join(staging, name), join(dir, name));
          written.push(join(dir, name));
        }
        return written;
      } catch (cause) {
        throw ioError(dir, cause);
      } finally {
        await drop();
      }
    },
    abort: drop,
  };
}

/** Writes `files` (name -> bytes) into `dir` all-or-nothing; returns the written paths. */
export async function publishOutputs(dir: string, files: OutputFiles): Promise<string[]> {
  const stage = await openOutputStage(dir);
  try {
    for (const [name, data] of Object.entries(files)) await stage.write(name, data);
  } catch (e) {
    await stage.abort();
    throw e;
  }
  return stage.commit();
}
