/**
 * @module flow/registry
 * Task types by name, for flows described in JSON: `"type": "download"` picks the implementation, its
 * parameter schema (zod), its version and its default policy. Partners register their own types next
 * to the built-in ones, as damage-function families are registered.
 */
import type { ZodType } from 'zod';
import { IbfError } from '../errors.js';
import type { InputLinks, Params, TaskContext, TaskOptions } from './define.js';
import type { TaskPolicy } from './policy.js';

export interface TaskType<P = Params, R = unknown> extends TaskPolicy {
  /**
   * Schema of the task's parameters (after inheritance). Prefer `z.object`: it sees only its own keys
   * of what families pass down, and keys of the task's own `params` it does not know are reported.
   */
  schema: ZodType<P>;
  /** Part of the cache key; bump it when the implementation changes its results (default "1"). */
  version?: string;
  description?: string;
  /** A publish step: the result is {@link Outputs}. */
  publish?: boolean;
  run(ctx: TaskContext<P>, inputs: Record<string, unknown>): Promise<R> | R;
}

export class TaskRegistry {
  private readonly types = new Map<string, TaskType<unknown, unknown>>();

  /** Adds a type; a name registered twice is an error (use `replace` to override on purpose). */
  register<P, R>(name: string, type: TaskType<P, R>): this {
    if (this.types.has(name)) {
      throw new IbfError('E_USAGE', `task type "${name}" is already registered`, { hint: 'Pick another name, or call replace() to override it.' });
    }
    return this.replace(name, type);
  }

  /** Adds or overrides a type. */
  replace<P, R>(name: string, type: TaskType<P, R>): this {
    if (!/^[A-Za-z0-9_.:-]+$/.test(name)) {
      throw new IbfError('E_USAGE', `task type name "${name}" has characters other than letters, digits, "_", ".", ":", "-"`);
    }
    this.types.set(name, type as TaskType<unknown, unknown>);
    return this;
  }

  has(name: string): boolean {
    return this.types.has(name);
  }

  get(name: string): TaskType<unknown, unknown> | undefined {
    return this.types.get(name);
  }

  /** Registered names, sorted. */
  names(): string[] {
    return [...this.types.keys()].sort();
  }

  /**
   * Task options for a task of type `name`, to pass to `task()` / `publish()` with the task's own
   * parameters and links: `flow.task('fetch', { ...registry.options('download'), params: { url } })`.
   */
  options(name: string): TaskOptions<InputLinks, unknown, unknown> {
    const t = this.types.get(name);
    if (!t) {
      throw new IbfError('E_FLOW_INVALID', `unknown task type "${name}"`, { hint: `Use one of: ${this.names().join(', ') || '(none registered)'}.` });
    }
    return {
      type: name,
      schema: t.schema,
      version: t.version,
      description: t.description,
      ...(t.tags ? { tags: t.tags } : {}),
      ...(t.retry ? { retry: t.retry } : {}),
      ...(t.timeoutMs !== undefined ? { timeoutMs: t.timeoutMs } : {}),
      ...(t.cache !== undefined ? { cache: t.cache } : {}),
      run: (ctx, inputs) => t.run(ctx, inputs as Record<string, unknown>),
    };
  }
}
