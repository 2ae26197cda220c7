/**
 * @module node/outputs
 * Writes a run's output files all-or-nothing: into a staging folder beside the target, then renamed
 * into place once every file is written. A failure removes the staging folder and leaves the target
 * folder as it was (earlier results are never half-overwritten).
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IbfError } from '../errors.js';

export type OutputFiles = Record<string, ArrayBuffer | ArrayBufferView | string>;

/** Writes `files` (name -> bytes) into `dir`; returns the written paths. */
export async function publishOutputs(dir: string, files: OutputFiles): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (cause) {
    throw new IbfError('E_IO', `cannot create output folder ${dir}`, { cause, hint: 'Choose a writable folder with --out.' });
  }
  const staging = await mkdtemp(join(dir, '.ibf-staging-'));
  try {
    for (const [name, data] of Object.entries(files)) {
      const bytes = typeof data === 'string' || data instanceof ArrayBuffer ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      await writeFile(join(staging, name), typeof bytes === 'string' ? bytes : new Uint8Array(bytes));
    }
    const written: string[] = [];
    for (const name of Object.keys(files)) {
      await rename(join(staging, name), join(dir, name));
      written.push(join(dir, name));
    }
    return written;
  } catch (cause) {
    throw cause instanceof IbfError ? cause : new IbfError('E_IO', `writing outputs to ${dir} failed: ${(cause as Error).message}`, { cause, hint: 'Check free disk space and permissions of the output folder.' });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
