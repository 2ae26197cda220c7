/**
 * @module flow/conditions
 * Trigger and complete conditions (ecFlow's `trigger` and `complete` expressions), on other tasks'
 * states and results. A condition is evaluated once every task it names (and every dependency of its
 * task) is final; the tasks it names become dependencies of its task for ordering.
 *
 * Declarative form (JSON flows and TypeScript alike):
 *
 *     { "task": "screen", "is": ["Completed", "Cached"] }          state test
 *     { "task": "screen", "result": "anyExceeds" }                 result (a dotted path into it) is truthy
 *     { "task": "screen", "result": "maxProbability", "gte": 0.6 } comparison: equals, notEquals, gt, gte, lt, lte
 *     { "all": [...] }  { "any": [...] }  { "not": {...} }
 *
 * A result test on a task that did not succeed is false. In TypeScript a condition may also be a
 * function of a {@link ConditionView}, which sees the states and results of its task's dependencies.
 */
import type { TaskState } from './states.js';

/** A task named by id (path from the flow root or sibling name) or by the ref the builder returned. */
export type TaskLink = string | { readonly id: string };

export interface StateCondition {
  task: TaskLink;
  is: TaskState | readonly TaskState[];
}

export interface ResultCondition {
  task: TaskLink;
  /** Dotted path into the result (`"summary.max"`, `"zones.0.alert"`); empty or absent = the result itself. */
  result?: string;
  equals?: unknown;
  notEquals?: unknown;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

export interface ConditionView {
  /** State of a task (a dependency, or a task the condition names). */
  state(task: TaskLink): TaskState;
  /** Result of a task that succeeded; undefined otherwise. */
  result<T = unknown>(task: TaskLink | { readonly id: string; readonly __result?: T }): T | undefined;
  /** The parameters the task sees. */
  readonly params: Readonly<Record<string, unknown>>;
}

export type ConditionFn = (view: ConditionView) => boolean;

export type Condition =
  | StateCondition
  | ResultCondition
  | { all: readonly Condition[] }
  | { any: readonly Condition[] }
  | { not: Condition }
  | ConditionFn;

/** Every task a declarative condition names (function conditions name none). */
export function conditionLinks(c: Condition): TaskLink[] {
  if (typeof c === 'function') return [];
  if ('all' in c) return c.all.flatMap(conditionLinks);
  if ('any' in c) return c.any.flatMap(conditionLinks);
  if ('not' in c) return conditionLinks(c.not);
  return [c.task];
}

/** The value at a dotted path, or undefined where the path leads nowhere. */
export function valueAt(value: unknown, path: string | undefined): unknown {
  if (!path) return value;
  let v = value;
  for (const key of path.split('.')) {
    if (v === null || v === undefined) return undefined;
    v = v instanceof Map ? v.get(key) : (v as Record<string, unknown>)[key];
  }
  return v;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

export function evaluateCondition(c: Condition, view: ConditionView): boolean {
  if (typeof c === 'function') return c(view);
  if ('all' in c) return c.all.every((x) => evaluateCondition(x, view));
  if ('any' in c) return c.any.some((x) => evaluateCondition(x, view));
  if ('not' in c) return !evaluateCondition(c.not, view);
  if ('is' in c) {
    const states = typeof c.is === 'string' ? [c.is] : c.is;
    return states.includes(view.state(c.task));
  }
  const state = view.state(c.task);
  if (state !== 'Completed' && state !== 'Cached') return false;
  const v = valueAt(view.result(c.task), c.result);
  let compared = false;
  const test = (present: boolean, ok: () => boolean): boolean => {
    if (!present) return true;
    compared = true;
    return ok();
  };
  const num = typeof v === 'number' ? v : NaN;
  const ok =
    test('equals' in c, () => sameValue(v, c.equals)) &&
    test('notEquals' in c, () => !sameValue(v, c.notEquals)) &&
    test(c.gt !== undefined, () => num > c.gt!) &&
    test(c.gte !== undefined, () => num >= c.gte!) &&
    test(c.lt !== undefined, () => num < c.lt!) &&
    test(c.lte !== undefined, () => num <= c.lte!);
  return compared ? ok : Boolean(v);
}
