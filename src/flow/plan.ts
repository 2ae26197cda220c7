/**
 * @module flow/plan
 * Turns a defined flow into what the runner executes, and checks it first: every problem of the flow
 * (names given twice, references to nothing, dependency cycles, parameters their schema rejects,
 * impossible policies, a cron that does not parse) is reported at once as one `E_FLOW_INVALID`, each
 * problem's path naming the task and the field (`forecast/assess.params.threshold`).
 *
 * References: a string names a task or family as seen from the referring task: first among its
 * siblings, then in each enclosing family up to the flow root (`"fetch"`, `"ingest/fetch"`); a leading
 * `/` starts at the root. A family in `after` stands for every task inside it.
 */
import { z } from 'zod';
import { IbfError, type Problem } from '../errors.js';
import { hashValue } from './codec.js';
import { conditionLinks, type Condition, type TaskLink } from './conditions.js';
import { parseCron, type Cron } from './cron.js';
import { flowTasks, type AfterLink, type ConcurrencyLimits, type FamilyNode, type Flow, type FlowNode, type Params, type TaskNode } from './define.js';
import type { CachePolicy, RetryPolicy } from './policy.js';
import { TASK_STATES } from './states.js';

export interface PlannedTask {
  readonly id: string;
  readonly node: TaskNode;
  /** Merged (flow, run, families, task; nearest wins) and parsed by the task's schema. */
  readonly params: Params;
  /** Input name -> task id. */
  readonly inputs: ReadonlyArray<readonly [name: string, task: string]>;
  /** Tasks from `after` (the task's and its families'), families expanded. */
  readonly after: readonly string[];
  /** Tasks named by the trigger and complete conditions. */
  readonly conditionDeps: readonly string[];
  /** Every task that must be final before this one is decided (inputs, after, conditions). */
  readonly deps: readonly string[];
  readonly version: string;
  readonly tags: readonly string[];
  readonly retry: RetryPolicy;
  readonly timeoutMs?: number;
  readonly cache?: CachePolicy;
  readonly trigger?: Condition;
  readonly complete?: Condition;
  readonly optional: boolean;
  readonly publish: boolean;
  /** The task id a link names, as this task sees it (undefined: names no task). */
  resolve(link: TaskLink): string | undefined;
}

export interface FlowPlan {
  readonly flow: Flow;
  /** In definition order. */
  readonly tasks: readonly PlannedTask[];
  readonly byId: ReadonlyMap<string, PlannedTask>;
  /** Flow-wide limit (Infinity: none) and per-tag limits. */
  readonly limits: { readonly max: number; readonly tags: Readonly<Record<string, number>> };
  readonly cron?: Cron;
  /** sha256 of what decides the results: ids, links, versions, parameters. */
  readonly fingerprint: string;
}

export interface FlowPlanOptions {
  /** Run parameters: override the flow's own (families' and tasks' still win over them). */
  params?: Params;
  /** Merged over the flow's limits. */
  concurrency?: ConcurrencyLimits;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v));

const nonNegative = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;

/** Plans `flow`; throws `E_FLOW_INVALID` with every problem found. */
export function planFlow(flow: Flow, options: FlowPlanOptions = {}): FlowPlan {
  const { plan, problems } = checkFlow(flow, options);
  if (problems.length > 0 || !plan) {
    throw IbfError.fromProblems('E_FLOW_INVALID', `flow "${flow.name}" is invalid`, problems);
  }
  return plan;
}

/** Plans `flow`, returning every problem instead of throwing (the plan only when there are none). */
export function checkFlow(flow: Flow, options: FlowPlanOptions = {}): { plan?: FlowPlan; problems: Problem[] } {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });

  if (typeof flow.name !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(flow.name)) {
    add('name', `flow name "${String(flow.name)}" must be 1-64 letters, digits, "_", ".", "-"`);
  }
  const flowParams = flow.options.params ?? {};
  if (!isPlainObject(flowParams)) add('params', 'must be an object');
  const runParams = options.params ?? {};
  if (!isPlainObject(runParams)) add('(run).params', 'must be an object');

  let cron: Cron | undefined;
  if (flow.options.schedule !== undefined) {
    try {
      cron = parseCron(flow.options.schedule);
    } catch (e) {
      const err = e as IbfError;
      for (const p of err.problems ?? [{ path: 'expression', message: err.message }]) add(`schedule.${p.path}`, `"${flow.options.schedule}": ${p.message}`);
    }
  }

  const limits = { max: Infinity, tags: {} as Record<string, number> };
  for (const [where, c] of [['concurrency', flow.options.concurrency], ['(run).concurrency', options.concurrency]] as const) {
    if (!c) continue;
    if (c.max !== undefined) {
      if (positiveInt(c.max) || c.max === Infinity) limits.max = c.max;
      else add(`${where}.max`, `must be a whole number >= 1, not ${String(c.max)}`);
    }
    for (const [tag, n] of Object.entries(c.tags ?? {})) {
      if (positiveInt(n)) limits.tags[tag] = n;
      else add(`${where}.tags.${tag}`, `must be a whole number >= 1, not ${String(n)}`);
    }
  }

  // every node by id, with its family chain
  const nodes = new Map<string, FlowNode>();
  const parentOf = new Map<string, string>();
  const walk = (children: readonly FlowNode[], parent: string) => {
    for (const n of children) {
      if (!NAME.test(n.name)) add(n.id, `name "${n.name}" must start with a letter, digit or "_" and hold only letters, digits, "_", ".", "-"`);
      else if (nodes.has(n.id)) add(n.id, `is defined twice (task and family names must be unique within their family)`);
      nodes.set(n.id, n);
      parentOf.set(n.id, parent);
      if (n.kind === 'family') walk(n.children, n.id);
    }
  };
  walk(flow.children, '');
  const taskNodes = flowTasks(flow.children);
  if (taskNodes.length === 0) add('tasks', 'the flow has no tasks');

  const resolveFrom = (scope: string, link: AfterLink): FlowNode | undefined => {
    if (typeof link !== 'string') return nodes.get(link.id);
    if (link.startsWith('/')) return nodes.get(link.slice(1));
    for (let s: string | undefined = scope; s !== undefined; s = s === '' ? undefined : parentOf.get(s)) {
      const hit = nodes.get(s ? `${s}/${link}` : link);
      if (hit) return hit;
    }
    return undefined;
  };
  const linkText = (link: AfterLink) => (typeof link === 'string' ? link : link.id);
  const tasksIn = (n: FlowNode): string[] => (n.kind === 'task' ? [n.id] : flowTasks(n.children).map((t) => t.id));

  const planned: PlannedTask[] = [];
  // task -> dependency -> the field that made it one (for cycle messages)
  const edges = new Map<string, Map<string, string>>();

  for (const node of taskNodes) {
    const o = node.options;
    const id = node.id;
    const scope = parentOf.get(id) ?? '';
    const deps = new Map<string, string>();
    const addDep = (dep: string, field: string) => void (deps.has(dep) || deps.set(dep, field));

    // families from the root down: parameters and `after`
    const chain: FamilyNode[] = [];
    for (let p = parentOf.get(id); p; p = parentOf.get(p)) chain.unshift(nodes.get(p) as FamilyNode);
    let merged: Params = { ...(isPlainObject(flowParams) ? flowParams : {}), ...(isPlainObject(runParams) ? runParams : {}) };
    const after: string[] = [];
    const addAfter = (links: readonly AfterLink[] | undefined, from: string, field: string) => {
      if (links === undefined) return;
      if (!Array.isArray(links)) return add(`${id}.${field}`, 'must be a list of tasks or families');
      links.forEach((link, i) => {
        const hit = resolveFrom(from, link);
        if (!hit) return add(`${id}.${field}[${i}]`, `"${linkText(link)}" names no task or family`);
        for (const t of tasksIn(hit)) {
          if (!after.includes(t)) after.push(t);
          addDep(t, `${field}[${i}]`);
        }
      });
    };
    for (const fam of chain) {
      const fp = fam.options.params ?? {};
      if (!isPlainObject(fp)) add(`${fam.id}.params`, 'must be an object');
      else merged = { ...merged, ...fp };
      addAfter(fam.options.after, parentOf.get(fam.id) ?? '', `(family ${fam.id}).after`);
    }
    const own = o.params ?? {};
    if (!isPlainObject(own)) add(`${id}.params`, 'must be an object');
    else merged = { ...merged, ...own };
    addAfter(o.after, scope, 'after');

    if (typeof o.run !== 'function') add(`${id}.run`, 'must be a function');

    const inputs: Array<readonly [string, string]> = [];
    if (o.inputs !== undefined && !isPlainObject(o.inputs)) add(`${id}.inputs`, 'must be an object of input name -> task');
    for (const [name, link] of Object.entries(isPlainObject(o.inputs) ? o.inputs : {})) {
      const hit = typeof link === 'string' || (link && typeof link === 'object' && 'id' in link) ? resolveFrom(scope, link as AfterLink) : undefined;
      if (!hit) add(`${id}.inputs.${name}`, `"${linkText(link as AfterLink)}" names no task`);
      else if (hit.kind !== 'task') add(`${id}.inputs.${name}`, `"${linkText(link as AfterLink)}" is a family; an input takes one task's result`);
      else {
        inputs.push([name, hit.id]);
        addDep(hit.id, `inputs.${name}`);
      }
    }

    const conditionDeps: string[] = [];
    for (const field of ['trigger', 'complete'] as const) {
      const c = o[field];
      if (c === undefined) continue;
      checkCondition(c, `${id}.${field}`, add);
      for (const link of safeLinks(c)) {
        const hit = resolveFrom(scope, link);
        if (!hit) add(`${id}.${field}`, `"${linkText(link)}" names no task`);
        else if (hit.kind !== 'task') add(`${id}.${field}`, `"${linkText(link)}" is a family; conditions name tasks`);
        else {
          if (!conditionDeps.includes(hit.id)) conditionDeps.push(hit.id);
          addDep(hit.id, field);
        }
      }
    }

    const retry = checkRetry(o.retry, `${id}.retry`, add);
    if (o.timeoutMs !== undefined && !(typeof o.timeoutMs === 'number' && o.timeoutMs > 0 && Number.isFinite(o.timeoutMs))) {
      add(`${id}.timeoutMs`, `must be a number of ms > 0, not ${String(o.timeoutMs)}`);
    }
    let cache: CachePolicy | undefined;
    if (o.cache === true) cache = {};
    else if (o.cache && typeof o.cache === 'object') {
      cache = o.cache;
      if (cache.expiresMs !== undefined && !(nonNegative(cache.expiresMs) && cache.expiresMs > 0)) add(`${id}.cache.expiresMs`, `must be a number of ms > 0, not ${String(cache.expiresMs)}`);
      if (cache.key !== undefined && typeof cache.key !== 'function') add(`${id}.cache.key`, 'must be a function');
    } else if (o.cache !== undefined && o.cache !== false) add(`${id}.cache`, 'must be true, false or { expiresMs }');
    const tags = o.tags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || t.length === 0)) add(`${id}.tags`, 'must be a list of non-empty strings');
    if (o.version !== undefined && typeof o.version !== 'string') add(`${id}.version`, 'must be a string');

    const params = checkParams(id, o.schema, merged, isPlainObject(own) ? own : {}, add);

    const resolve = (link: TaskLink) => {
      const hit = resolveFrom(scope, link);
      return hit?.kind === 'task' ? hit.id : undefined;
    };
    // a duplicate id was reported above; keep both tasks' links so no cycle hides behind it
    const known = edges.get(id);
    if (known) for (const [d, fieldName] of deps) known.has(d) || known.set(d, fieldName);
    else edges.set(id, deps);
    planned.push({
      id, node, params, inputs, after, conditionDeps, deps: [...deps.keys()],
      version: o.version ?? '1', tags, retry, timeoutMs: o.timeoutMs, cache,
      trigger: o.trigger, complete: o.complete, optional: o.optional === true, publish: node.publish, resolve,
    });
  }

  for (const cycle of findCycles(edges)) {
    const fields = cycle.map((t, i) => `${t}.${edges.get(t)!.get(cycle[(i + 1) % cycle.length]!)}`);
    add(fields[0]!, `dependency cycle through ${cycle.join(', ')}: ${[...cycle, cycle[0]].join(' needs ')} (${fields.join(', ')})`);
  }

  if (problems.length > 0) return { problems };

  let fingerprint = '';
  try {
    fingerprint = hashValue({
      flow: flow.name,
      tasks: planned.map((t) => ({
        id: t.id, type: t.node.options.type ?? null, version: t.version, publish: t.publish,
        inputs: t.inputs, after: t.after, conditions: t.conditionDeps, params: t.params,
      })),
    });
  } catch (e) {
    // only parameters can hold values the codec refuses; find whose
    for (const t of planned) {
      try {
        hashValue(t.params);
      } catch (err) {
        add(`${t.id}.params`, (err as Error).message);
      }
    }
    if (problems.length === 0) add('params', (e as Error).message);
    return { problems };
  }
  const byId = new Map(planned.map((t) => [t.id, t]));
  return { plan: { flow, tasks: planned, byId, limits, cron, fingerprint }, problems };
}

/** The task links of a condition that may be malformed (checkCondition reports what is wrong with it). */
function safeLinks(c: Condition): TaskLink[] {
  try {
    // a condition without a task ({}, []) yields an undefined link: leave it to checkCondition's problem
    return conditionLinks(c).filter((l) => typeof l === 'string' || (typeof l === 'object' && l !== null && typeof (l as { id?: unknown }).id === 'string'));
  } catch {
    return [];
  }
}

function checkCondition(c: unknown, path: string, add: (path: string, message: string) => void): void {
  if (typeof c === 'function') return;
  if (!isPlainObject(c)) return add(path, 'must be a condition object ({ task, is } / { task, result, ... } / { all } / { any } / { not }) or a function');
  if ('all' in c || 'any' in c) {
    const key = 'all' in c ? 'all' : 'any';
    const list = c[key];
    if (!Array.isArray(list) || list.length === 0) return add(`${path}.${key}`, 'must be a non-empty list of conditions');
    list.forEach((x, i) => checkCondition(x, `${path}.${key}[${i}]`, add));
    return;
  }
  if ('not' in c) return checkCondition(c.not, `${path}.not`, add);
  if (typeof c.task !== 'string' && !(c.task && typeof c.task === 'object' && 'id' in c.task)) return add(`${path}.task`, 'must name a task');
  if ('is' in c) {
    const states = typeof c.is === 'string' ? [c.is] : c.is;
    if (!Array.isArray(states) || states.length === 0) return add(`${path}.is`, 'must be a state or a list of states');
    for (const s of states) if (!(TASK_STATES as readonly unknown[]).includes(s)) add(`${path}.is`, `"${String(s)}" is not a state (${TASK_STATES.join(', ')})`);
    return;
  }
  if (c.result !== undefined && typeof c.result !== 'string') add(`${path}.result`, 'must be a dotted path (a string)');
  for (const op of ['gt', 'gte', 'lt', 'lte']) {
    if (c[op] !== undefined && typeof c[op] !== 'number') add(`${path}.${op}`, `must be a number, not ${JSON.stringify(c[op])}`);
  }
}

function checkRetry(r: RetryPolicy | undefined, path: string, add: (path: string, message: string) => void): RetryPolicy {
  if (r === undefined) return { count: 0 };
  if (!isPlainObject(r)) {
    add(path, 'must be { count, delays | backoff, jitter, codes }');
    return { count: 0 };
  }
  if (!Number.isInteger(r.count) || r.count < 0) add(`${path}.count`, `must be a whole number >= 0, not ${String(r.count)}`);
  if (r.delays !== undefined && (!Array.isArray(r.delays) || r.delays.some((d) => !nonNegative(d)))) add(`${path}.delays`, 'must be a list of ms >= 0');
  if (r.backoff !== undefined) {
    const b = r.backoff;
    if (!nonNegative(b?.initialMs)) add(`${path}.backoff.initialMs`, `must be a number of ms >= 0, not ${String(b?.initialMs)}`);
    if (b?.factor !== undefined && !(nonNegative(b.factor) && b.factor >= 1)) add(`${path}.backoff.factor`, `must be a number >= 1, not ${String(b.factor)}`);
    if (b?.maxMs !== undefined && !nonNegative(b.maxMs)) add(`${path}.backoff.maxMs`, `must be a number of ms >= 0, not ${String(b.maxMs)}`);
  }
  if (r.jitter !== undefined && !(nonNegative(r.jitter) && r.jitter <= 1)) add(`${path}.jitter`, `must be a fraction in [0, 1], not ${String(r.jitter)}`);
  if (r.codes !== undefined && (!Array.isArray(r.codes) || r.codes.some((c) => typeof c !== 'string'))) add(`${path}.codes`, 'must be a list of error codes');
  if (r.when !== undefined && typeof r.when !== 'function') add(`${path}.when`, 'must be a function');
  return r;
}

function checkParams(
  id: string, schema: z.ZodType | undefined, merged: Params, own: Params, add: (path: string, message: string) => void,
): Params {
  if (!schema) return merged;
  let input: unknown = merged;
  if (schema instanceof z.ZodObject) {
    const known = Object.keys(schema.shape);
    for (const key of Object.keys(own)) {
      if (!known.includes(key)) add(`${id}.params.${key}`, `unknown parameter (known: ${known.join(', ') || 'none'})`);
    }
    // inherited parameters meant for other tasks are not this schema's business
    input = Object.fromEntries(Object.entries(merged).filter(([k]) => known.includes(k)));
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data as Params;
  for (const issue of parsed.error.issues) {
    const where = issue.path.map(String).join('.');
    add(`${id}.params${where ? `.${where}` : ''}`, issue.message);
  }
  return merged;
}

/** Strongly connected components with a cycle (Tarjan), each as one cycle through it, in definition order. */
function findCycles(edges: ReadonlyMap<string, ReadonlyMap<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  const strong = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!edges.has(w)) continue;
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || edges.get(v)?.has(v)) cycles.push(cycleThrough(scc, edges));
  };
  for (const v of edges.keys()) if (!index.has(v)) strong(v);
  return cycles;
}

/** One cycle visiting members of `scc`, starting at its first task in definition order. */
function cycleThrough(scc: string[], edges: ReadonlyMap<string, ReadonlyMap<string, string>>): string[] {
  const members = new Set(scc);
  const start = [...edges.keys()].find((k) => members.has(k))!;
  const path = [start];
  const seen = new Set(path);
  const dfs = (v: string): boolean => {
    for (const w of edges.get(v)!.keys()) {
      if (w === start) return true;
      if (!members.has(w) || seen.has(w)) continue;
      seen.add(w);
      path.push(w);
      if (dfs(w)) return true;
      path.pop();
    }
    return false;
  };
  dfs(start);
  return path;
}
