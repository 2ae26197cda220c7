/**
 * @module flow/document
 * Flows described in JSON, their tasks picked by type name from a {@link TaskRegistry}:
 *
 *     { "name": "daily", "params": { "country": "MWI" }, "schedule": "0 6 * * *",
 *       "concurrency": { "max": 8, "tags": { "download": 4 } },
 *       "tasks": [
 *         { "name": "fetch", "type": "download", "params": { "url": "..." }, "retry": { "count": 3, "backoff": { "initialMs": 1000 } } },
 *         { "name": "forecast", "params": { "leadTimes": 5 }, "tasks": [
 *           { "name": "assess", "type": "assess", "inputs": { "raster": "fetch" }, "timeoutMs": 600000, "cache": true } ] } ] }
 *
 * A node with `tasks` is a family; any other is a task. Unknown keys are errors (a typo never falls
 * back to a default). Parsing checks the whole flow, as {@link planFlow} does, and reports every
 * problem at once (`E_FLOW_INVALID`), each naming the task and field, before anything runs.
 */
import { z } from 'zod';
import { IbfError, type Problem } from '../errors.js';
import type { Condition } from './conditions.js';
import { defineFlow, type Flow, type InputLinks, type Params, type TaskGroup, type TaskOptions } from './define.js';
import { checkFlow } from './plan.js';
import type { TaskRegistry } from './registry.js';

const ParamsSchema = z.record(z.string(), z.unknown());
const Links = z.array(z.string().min(1));

const RetrySchema = z.strictObject({
  count: z.number().int().min(0),
  delays: z.array(z.number().min(0)).optional(),
  backoff: z.strictObject({ initialMs: z.number().min(0), factor: z.number().min(1).optional(), maxMs: z.number().min(0).optional() }).optional(),
  jitter: z.number().min(0).max(1).optional(),
  codes: z.array(z.string().min(1)).optional(),
});

const TaskSchema = z.strictObject({
  name: z.string(),
  type: z.string().min(1),
  description: z.string().optional(),
  params: ParamsSchema.optional(),
  inputs: z.record(z.string(), z.string().min(1)).optional(),
  after: Links.optional(),
  tags: z.array(z.string().min(1)).optional(),
  retry: RetrySchema.optional(),
  timeoutMs: z.number().positive().optional(),
  cache: z.union([z.boolean(), z.strictObject({ expiresMs: z.number().positive().optional() })]).optional(),
  // conditions are checked (with better messages) by planFlow
  trigger: z.unknown().optional(),
  complete: z.unknown().optional(),
  optional: z.boolean().optional(),
  version: z.string().optional(),
});

const FamilySchema = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  params: ParamsSchema.optional(),
  after: Links.optional(),
  tasks: z.array(z.unknown()),
});

const DocumentSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string(),
  description: z.string().optional(),
  params: ParamsSchema.optional(),
  schedule: z.string().optional(),
  concurrency: z.strictObject({
    max: z.number().int().min(1).optional(),
    tags: z.record(z.string(), z.number().int().min(1)).optional(),
  }).optional(),
  tasks: z.array(z.unknown()).min(1),
});

/** The JSON form of a task node. */
export type TaskDocument = z.infer<typeof TaskSchema> & { trigger?: Condition; complete?: Condition };
/** The JSON form of a family node. */
export type FamilyDocument = Omit<z.infer<typeof FamilySchema>, 'tasks'> & { tasks: Array<TaskDocument | FamilyDocument> };
/** The JSON form of a flow. */
export type FlowDocument = Omit<z.infer<typeof DocumentSchema>, 'tasks'> & { tasks: Array<TaskDocument | FamilyDocument> };

export interface ParseFlowOptions {
  /** Run parameters to check the flow with (they override the document's `params`). */
  params?: Params;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Validates `doc` (parsed JSON) against the registry's task types and builds the flow. Throws
 * `E_FLOW_INVALID` listing every problem: unknown keys and wrong types, unknown task types,
 * parameters their type's schema rejects, references to nothing, cycles, a cron that does not parse.
 */
export function parseFlow(doc: unknown, registry: TaskRegistry, options: ParseFlowOptions = {}): Flow {
  const problems: Problem[] = [];
  const issues = (label: string, error: z.ZodError) => {
    for (const issue of error.issues) {
      const where = issue.path.map(String).join('.');
      problems.push({ path: label ? (where ? `${label}.${where}` : label) : where || '(flow)', message: issue.message });
    }
  };
  // fields that failed their schema are left out of the build, so planning does not report them twice
  const valid = (raw: Record<string, unknown>, error: z.ZodError | undefined) => {
    const bad = new Set(error?.issues.map((i) => String(i.path[0] ?? '')) ?? []);
    return (key: string) => (bad.has(key) ? undefined : raw[key]);
  };

  if (!isObject(doc)) {
    throw IbfError.fromProblems('E_FLOW_INVALID', 'the flow document is invalid', [{ path: '(flow)', message: 'must be a JSON object' }]);
  }
  const top = DocumentSchema.safeParse(doc);
  if (!top.success) issues('', top.error);
  const field = valid(doc, top.error);
  const name = typeof doc.name === 'string' ? doc.name : '(unnamed)';
  const flow = defineFlow({
    name,
    description: field('description') as string | undefined,
    params: field('params') as Params | undefined,
    schedule: field('schedule') as string | undefined,
    concurrency: field('concurrency') as { max?: number; tags?: Record<string, number> } | undefined,
  });

  const build = (nodes: unknown, group: TaskGroup, where: string) => {
    if (!Array.isArray(nodes)) return;
    nodes.forEach((raw, i) => {
      const named = isObject(raw) && typeof raw.name === 'string' && raw.name.length > 0;
      const label = named ? (group.id ? `${group.id}/${raw.name as string}` : (raw.name as string)) : `${where}[${i}]`;
      if (!isObject(raw)) {
        problems.push({ path: label, message: 'must be a task ({ "name", "type", ... }) or a family ({ "name", "tasks": [...] })' });
        return;
      }
      if ('tasks' in raw) {
        const parsed = FamilySchema.safeParse(raw);
        if (!parsed.success) issues(label, parsed.error);
        if (!named) return;
        const f = valid(raw, parsed.error);
        const family = group.family(raw.name as string, {
          params: f('params') as Params | undefined,
          after: f('after') as string[] | undefined,
          description: f('description') as string | undefined,
        });
        build(f('tasks'), family, `${label}.tasks`);
        return;
      }
      const parsed = TaskSchema.safeParse(raw);
      if (!parsed.success) issues(label, parsed.error);
      if (!named) return;
      const f = valid(raw, parsed.error);
      const type = f('type') as string | undefined;
      let base: TaskOptions<InputLinks, unknown, unknown> = { run: () => undefined };
      if (type !== undefined) {
        if (registry.has(type)) base = registry.options(type);
        else problems.push({ path: `${label}.type`, message: `unknown task type "${type}" (registered: ${registry.names().join(', ') || 'none'})` });
      }
      const own: Partial<TaskOptions<InputLinks, unknown, unknown>> = {};
      for (const key of ['description', 'params', 'inputs', 'after', 'tags', 'retry', 'timeoutMs', 'cache', 'trigger', 'complete', 'optional', 'version'] as const) {
        const v = f(key);
        if (v !== undefined) (own as Record<string, unknown>)[key] = v;
      }
      const options = { ...base, ...own };
      if (type !== undefined && registry.get(type)?.publish) group.publish(raw.name as string, options as TaskOptions<InputLinks, never, unknown>);
      else group.task(raw.name as string, options);
    });
  };
  build(field('tasks'), flow, 'tasks');

  // a field the document's schema refused was left out or stood in for ("(unnamed)"): planning would report it again
  const reported = new Set(problems.map((p) => p.path));
  for (const p of checkFlow(flow, { params: options.params }).problems) if (!reported.has(p.path)) problems.push(p);
  if (problems.length > 0) throw IbfError.fromProblems('E_FLOW_INVALID', `flow "${name}" is invalid`, problems);
  return flow;
}
