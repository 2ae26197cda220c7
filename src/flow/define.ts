/**
 * @module flow/define
 * Flows as ecFlow shapes them (suite -> family -> task) with Prefect's data passing: a task's inputs
 * are other tasks' results, so the DAG follows from the data, and `after` adds ordering without data.
 * Families group tasks; their parameters are inherited down the tree (the nearest definition wins)
 * and their `after` applies to every task inside.
 *
 *     const flow = defineFlow({ name: 'daily', params: { country: 'MWI' } });
 *     const fetch = flow.task('fetch', { tags: ['download'], run: async (ctx) => download(ctx.params.country) });
 *     const fc = flow.family('forecast', { params: { leadTimes: 5 } });
 *     fc.task('assess', { inputs: { raster: fetch }, run: (ctx, { raster }) => assess(raster, ctx.params.leadTimes) });
 *
 * Building never throws: a name given twice or an unknown reference is found by {@link planFlow},
 * which reports every problem of the flow at once before anything runs.
 */
import type { ZodType } from 'zod';
import type { Clock } from './clock.js';
import type { Condition, TaskLink } from './conditions.js';
import type { TaskLogger } from './log.js';
import type { TaskPolicy } from './policy.js';
import type { Outputs } from './publish.js';

export type Params = Record<string, unknown>;

/** What a task's code gets besides its inputs. */
export interface TaskContext<P = Params> {
  /** Run id. */
  readonly run: string;
  /** Flow name. */
  readonly flow: string;
  /** Task id: its path from the flow root, e.g. `forecast/assess`. */
  readonly task: string;
  /** 1 for the first attempt; counts on across retries and resumes. */
  readonly attempt: number;
  /** The flow's, families' and task's parameters merged (nearest wins), parsed by the task's schema. */
  readonly params: P;
  /** Aborts when the run is cancelled (`E_CANCELLED`) or the attempt times out (`E_TASK_TIMEOUT`). */
  readonly signal: AbortSignal;
  readonly log: TaskLogger;
  /** Reports progress: `fraction` in [0, 1] (clamped), with an optional message. */
  progress(fraction: number, message?: string): void;
  /** Waits on the run's clock; rejects when `signal` aborts. */
  sleep(ms: number): Promise<void>;
  /** The run's clock. */
  readonly clock: Clock;
}

/** A handle on a defined task; `R` is its result type (a phantom, for typed inputs). */
export interface TaskRef<R = unknown> {
  readonly kind: 'task';
  readonly id: string;
  /** Never set; carries the result type. */
  readonly __result?: R;
}

/** Where a task's input comes from: a task ref (typed) or a task id / sibling name (untyped). */
export type InputLink = TaskRef<unknown> | string;
export type InputLinks = Record<string, InputLink>;

/** The values a task's run function receives for its `inputs`. */
export type InputValues<I extends InputLinks> = { [K in keyof I]: I[K] extends TaskRef<infer R> ? R : unknown };

/** Ordering links: tasks, families (= every task in them), or ids / names of either. */
export type AfterLink = TaskLink | FamilyRef;

export interface TaskOptions<I extends InputLinks, R, P> extends TaskPolicy {
  /** Results of other tasks this task takes, by input name. */
  inputs?: I;
  /** Tasks or families that must finish first (successfully, unless a `trigger` decides). */
  after?: readonly AfterLink[];
  /** Parameters of this task; they win over the families' and the flow's. */
  params?: Params;
  /**
   * Schema of the merged parameters. A `z.object` sees only its own keys of the inherited ones;
   * keys of the task's own `params` that it does not know are reported as errors.
   */
  schema?: ZodType<P>;
  /** Part of the cache key: change it when the task's code changes what it returns (default "1"). */
  version?: string;
  /** Run only when this holds once its tasks are final; otherwise Skipped. Replaces the default rule that every `after` dependency succeeded. */
  trigger?: Condition;
  /** Mark Completed without running when this holds (the result is then undefined). */
  complete?: Condition;
  /** A failure of this task does not stop the run from publishing. */
  optional?: boolean;
  description?: string;
  /** Registry type name (set by JSON flows; shown in messages). */
  type?: string;
  run(ctx: TaskContext<P>, inputs: InputValues<I>): Promise<R> | R;
}

export interface FamilyOptions {
  /** Inherited by every task inside (a nearer family's or the task's own win). */
  params?: Params;
  /** Every task inside runs after these. */
  after?: readonly AfterLink[];
  description?: string;
}

/** A handle on a family (usable in `after`). */
export interface FamilyRef {
  readonly kind: 'family';
  readonly id: string;
}

/** A task as defined (options erased to their runtime shape). */
export interface TaskNode {
  readonly kind: 'task';
  readonly id: string;
  readonly name: string;
  /** Publish step: the result is {@link Outputs}, committed at the end of a successful run. */
  readonly publish: boolean;
  readonly options: TaskOptions<InputLinks, unknown, any>;
}

export interface FamilyNode extends FamilyRef {
  readonly name: string;
  readonly options: FamilyOptions;
  readonly children: FlowNode[];
}

export type FlowNode = TaskNode | FamilyNode;

/** Concurrency limits, separate from dependencies. */
export interface ConcurrencyLimits {
  /** At most this many tasks run at once (default: no limit). */
  max?: number;
  /** Per tag: at most this many tasks carrying the tag run at once, e.g. `{ download: 4 }`. */
  tags?: Record<string, number>;
}

export interface FlowOptions {
  /** Flow name (the ecFlow suite): letters, digits, `_`, `.`, `-`. */
  name: string;
  /** Parameters every task inherits (a run's `params` override them). */
  params?: Params;
  /** Cron expression the scheduler runs the flow on (5 fields, UTC). */
  schedule?: string;
  concurrency?: ConcurrencyLimits;
  description?: string;
}

/** Methods shared by a flow and its families. */
export interface TaskGroup {
  /** Path from the flow root ("" for the flow). */
  readonly id: string;
  readonly children: readonly FlowNode[];
  /** Defines a task; its inputs are typed from the refs given. */
  task<R, I extends InputLinks = Record<never, never>, P = Params>(name: string, options: TaskOptions<I, R, P>): TaskRef<R>;
  /** Defines a publish step: a task whose result (name -> text or bytes) is published when the run succeeds. */
  publish<I extends InputLinks = Record<never, never>, P = Params>(name: string, options: TaskOptions<I, Outputs, P>): TaskRef<Outputs>;
  /** Defines a family inside this group. */
  family(name: string, options?: FamilyOptions): Family;
}

export interface Family extends TaskGroup, FamilyRef {
  readonly name: string;
  readonly options: FamilyOptions;
}

export interface Flow extends TaskGroup {
  readonly name: string;
  readonly options: FlowOptions;
}

function group(id: string, children: FlowNode[]): TaskGroup {
  const path = (name: string) => (id ? `${id}/${name}` : name);
  const addTask = (name: string, options: TaskOptions<InputLinks, unknown, unknown>, publish: boolean) => {
    const node: TaskNode = { kind: 'task', id: path(name), name, publish, options };
    children.push(node);
    return { kind: 'task' as const, id: node.id };
  };
  return {
    id,
    children,
    task: (name, options) => addTask(name, options as TaskOptions<InputLinks, unknown, unknown>, false),
    publish: (name, options) => addTask(name, options as TaskOptions<InputLinks, unknown, unknown>, true) as TaskRef<Outputs>,
    family(name, options = {}) {
      const inner: FlowNode[] = [];
      const node: FamilyNode = { kind: 'family', id: path(name), name, options, children: inner };
      children.push(node);
      return Object.assign(group(node.id, inner), { kind: 'family' as const, name, options });
    },
  };
}

/** Starts a flow; add tasks and families to it, then run it with `runFlow`. */
export function defineFlow(options: FlowOptions): Flow {
  return Object.assign(group('', []), { name: options.name, options });
}

/** Every task of a flow (or family), depth first in definition order. */
export function flowTasks(nodes: readonly FlowNode[]): TaskNode[] {
  return nodes.flatMap((n) => (n.kind === 'task' ? [n] : flowTasks(n.children)));
}
