/**
 * @module flow/publish
 * Transactional publishing. Publish steps are tasks whose result is a set of named outputs; those
 * results are staged in the run store like any result (so a resumed run still has them), and only
 * when the run ends with every required task Completed, Cached or Skipped does the runner hand them to
 * a {@link Publisher}: open a staging area, put every output, commit. A failed or cancelled run never
 * opens one, so nothing is published half-way; a commit that fails is aborted.
 *
 * Implementations: {@link memoryPublisher} here, `dirPublisher` (a folder, Node) in publish-node.ts;
 * an HTTP publisher (POST at commit, with retries) fits the same interface.
 */
import { IbfError } from '../errors.js';

/** Output name (a relative path such as `alerts/2024-03-01.json`) -> contents. */
export type Outputs = Record<string, string | Uint8Array>;

export interface PublishReceipt {
  /** Where the outputs went (a folder, a URL, "memory"). */
  target: string;
  /** Output names, sorted. */
  outputs: string[];
}

/** One run's outputs on their way: nothing is visible before `commit`. */
export interface Staging {
  put(name: string, data: string | Uint8Array): Promise<void>;
  /** Makes every staged output visible at once (or, where the target cannot, as nearly so as it can: see each publisher). */
  commit(): Promise<PublishReceipt>;
  /** Drops everything staged. */
  abort(): Promise<void>;
}

export interface Publisher {
  /** Where this publisher puts outputs (for events and receipts). */
  readonly target: string;
  /** Opens the staging area of run `run` (a fresh one: what an earlier open staged is dropped). */
  open(run: string): Promise<Staging>;
}

/**
 * Checks an output name: a relative path of `/`-separated parts made of letters, digits, `_`, `-`, `.`,
 * none of them `.` or `..`. Returns a message, or undefined when the name is fine.
 */
export function outputNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 240) return 'must have 1 to 240 characters';
  for (const part of name.split('/')) {
    if (part === '' || part === '.' || part === '..') return 'must be a relative path without empty, "." or ".." parts';
    if (!/^[A-Za-z0-9_.-]+$/.test(part)) return 'may contain only letters, digits, "_", "-", "." and "/"';
  }
  return undefined;
}

/** Checks a publish step's result: a plain object of valid names to strings or bytes. Throws `E_FLOW_RESULT`. */
export function checkOutputs(value: unknown, task: string): Outputs {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new IbfError('E_FLOW_RESULT', `publish step ${task} returned ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}, not an object of outputs`, {
      hint: 'Return { "name.json": text or bytes, ... } from a publish step.',
    });
  }
  const problems: string[] = [];
  for (const [name, data] of Object.entries(value)) {
    const bad = outputNameProblem(name);
    if (bad) problems.push(`output "${name}" ${bad}`);
    else if (typeof data !== 'string' && !(data instanceof Uint8Array)) problems.push(`output "${name}" is ${typeof data}, not text or bytes (Uint8Array)`);
  }
  if (problems.length > 0) {
    throw new IbfError('E_FLOW_RESULT', `publish step ${task} returned bad outputs: ${problems.join('; ')}`, {
      hint: 'Name outputs as relative paths (letters, digits, "_", "-", ".", "/") and give each a string or a Uint8Array.',
    });
  }
  return value as Outputs;
}

export interface MemoryPublisher extends Publisher {
  /** Everything committed so far (later commits replace outputs of the same name). */
  readonly published: ReadonlyMap<string, string | Uint8Array>;
  /** Number of commits. */
  readonly commits: number;
  /** What run `run` has staged and not committed or aborted. */
  staged(run: string): ReadonlyMap<string, string | Uint8Array> | undefined;
}

/** Publishes into a map; a commit replaces entries all at once (synchronously). */
export function memoryPublisher(): MemoryPublisher {
  const published = new Map<string, string | Uint8Array>();
  const staging = new Map<string, Map<string, string | Uint8Array>>();
  let commits = 0;
  return {
    target: 'memory',
    published,
    get commits() {
      return commits;
    },
    staged: (run) => staging.get(run),
    async open(run) {
      const files = new Map<string, string | Uint8Array>();
      staging.set(run, files);
      return {
        async put(name, data) {
          const bad = outputNameProblem(name);
          if (bad) throw new IbfError('E_FLOW_RESULT', `output name "${name}" ${bad}`);
          files.set(name, typeof data === 'string' ? data : data.slice());
        },
        async commit() {
          for (const [name, data] of files) published.set(name, data);
          commits++;
          staging.delete(run);
          return { target: 'memory', outputs: [...files.keys()].sort() };
        },
        async abort() {
          staging.delete(run);
        },
      };
    },
  };
}
