/**
 * Flows from JSON: task types from a registry (schema, version, default policy), families passing
 * parameters down, and bad input (issue #5 section 4): a cycle, an unknown task type, a parameter of
 * the wrong type, a cron that does not parse, a typo'd key, a reference to nothing. Every problem is
 * reported at once, naming the task and the field, before any task runs.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { IbfError } from '../../src/errors.js';
import { ManualClock, TaskRegistry, defineFlow, memoryPublisher, parseFlow, planFlow, runFlow } from '../../src/flow/index.js';
import { T0 } from './helpers.js';

function registry(calls: string[] = []) {
  return new TaskRegistry()
    .register('download', {
      schema: z.object({ url: z.string().startsWith('https://'), country: z.string().length(3) }),
      tags: ['download'],
      retry: { count: 2, delays: [1000] },
      version: '3',
      run: (ctx) => (calls.push(`download ${ctx.params.url}`), { url: ctx.params.url, country: ctx.params.country }),
    })
    .register('assess', {
      schema: z.object({ threshold: z.number().min(0), leadTimes: z.number().int().positive() }),
      run: (ctx, inputs) => (calls.push('assess'), { threshold: ctx.params.threshold, leadTimes: ctx.params.leadTimes, from: inputs.forecast }),
    })
    .register('publish-json', {
      schema: z.object({ file: z.string() }),
      publish: true,
      run: (ctx, inputs) => ({ [ctx.params.file]: JSON.stringify(inputs) }),
    });
}

const good = {
  name: 'daily',
  params: { country: 'MWI' },
  schedule: '0 6 * * *',
  concurrency: { max: 4, tags: { download: 2 } },
  tasks: [
    { name: 'fetch', type: 'download', params: { url: 'https://example.org/fc.tif' }, timeoutMs: 60000 },
    {
      name: 'forecast',
      params: { threshold: 0.5, leadTimes: 5 },
      tasks: [
        { name: 'assess', type: 'assess', inputs: { forecast: 'fetch' }, cache: { expiresMs: 3600000 } },
        { name: 'strict', type: 'assess', params: { threshold: 0.9 }, inputs: { forecast: 'fetch' }, trigger: { task: 'assess', result: 'threshold', lt: 1 } },
      ],
    },
    { name: 'out', type: 'publish-json', params: { file: 'alerts.json' }, inputs: { a: 'forecast/assess' }, after: ['forecast'] },
  ],
};

describe('parseFlow', () => {
  it('builds a runnable flow: types from the registry, parameters down the families', async () => {
    const calls: string[] = [];
    const flow = parseFlow(structuredClone(good), registry(calls));
    const plan = planFlow(flow);
    expect(plan.tasks.map((t) => t.id)).toEqual(['fetch', 'forecast/assess', 'forecast/strict', 'out']);
    const fetch = plan.byId.get('fetch')!;
    // registry defaults, the document's own values on top
    expect([fetch.tags, fetch.retry, fetch.version, fetch.timeoutMs]).toEqual([['download'], { count: 2, delays: [1000] }, '3', 60000]);
    expect(plan.byId.get('forecast/strict')!.params).toEqual({ threshold: 0.9, leadTimes: 5 });
    expect(plan.byId.get('out')!.publish).toBe(true);
    expect(plan.cron?.nextAfter(new Date(T0)).toISOString()).toBe('2024-03-02T06:00:00.000Z');
    expect(plan.limits).toEqual({ max: 4, tags: { download: 2 } });

    const publisher = memoryPublisher();
    const run = await runFlow(flow, { clock: new ManualClock(T0), publisher });
    expect(run.status).toBe('Completed');
    expect(calls).toEqual(['download https://example.org/fc.tif', 'assess', 'assess']);
    expect(JSON.parse(publisher.published.get('alerts.json') as string)).toEqual({
      a: { threshold: 0.5, leadTimes: 5, from: { url: 'https://example.org/fc.tif', country: 'MWI' } },
    });
  });

  it('reports every problem at once, naming task and field, and runs nothing', () => {
    const calls: string[] = [];
    const doc = {
      name: 'daily',
      schedule: '0 25 * * MON',
      params: { country: 'MWI' },
      tasks: [
        { name: 'fetch', type: 'download', params: { url: 42 }, after: ['report'] },
        { name: 'warp', type: 'reproject', inputs: { raster: 'fetch' } },
        {
          name: 'forecast',
          params: { leadTimes: 'five' },
          tasks: [{ name: 'assess', type: 'assess', params: { threshold: -1, thershold: 2 }, inputs: { forecast: 'fetch' }, retyr: { count: 1 } }],
        },
        { name: 'report', type: 'assess', params: { threshold: 1, leadTimes: 1 }, inputs: { x: 'forecast/assess', y: 'nowhere' } },
        { name: 'loop-a', type: 'assess', params: { threshold: 1, leadTimes: 1 }, after: ['loop-b'] },
        { name: 'loop-b', type: 'assess', params: { threshold: 1, leadTimes: 1 }, trigger: { task: 'loop-a', is: 'Done' } },
      ],
    };
    let err: unknown;
    try {
      parseFlow(doc, registry(calls));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IbfError);
    const e = err as IbfError;
    expect(e.code).toBe('E_FLOW_INVALID');
    expect(e.hint).toBe('Fix the listed tasks and fields; docs/FLOW.md shows the flow format.');
    expect(e.problems).toEqual([
      { path: 'warp.type', message: 'unknown task type "reproject" (registered: assess, download, publish-json)' },
      { path: 'forecast/assess', message: 'Unrecognized key: "retyr"' },
      { path: 'schedule.hour', message: '"0 25 * * MON": 25 is out of range 0-23' },
      { path: 'fetch.params.url', message: 'Invalid input: expected string, received number' },
      { path: 'forecast/assess.params.thershold', message: 'unknown parameter (known: threshold, leadTimes)' },
      { path: 'forecast/assess.params.threshold', message: 'Too small: expected number to be >=0' },
      { path: 'forecast/assess.params.leadTimes', message: 'Invalid input: expected number, received string' },
      { path: 'report.inputs.y', message: '"nowhere" names no task' },
      { path: 'loop-b.trigger.is', message: '"Done" is not a state (Scheduled, Pending, Running, Retrying, Completed, Cached, Skipped, Failed, Crashed, Cancelled)' },
      { path: 'fetch.after[0]', message: 'dependency cycle through fetch, report, forecast/assess: fetch needs report needs forecast/assess needs fetch (fetch.after[0], report.inputs.x, forecast/assess.inputs.forecast)' },
      { path: 'loop-a.after[0]', message: 'dependency cycle through loop-a, loop-b: loop-a needs loop-b needs loop-a (loop-a.after[0], loop-b.trigger)' },
    ]);
    expect(e.message).toContain('flow "daily" is invalid: 11 problems');
    expect(calls).toEqual([]);
  });

  it('rejects what is not a flow document', () => {
    expect(() => parseFlow([], registry())).toThrow(expect.objectContaining({ code: 'E_FLOW_INVALID', problems: [{ path: '(flow)', message: 'must be a JSON object' }] }));
    expect(() => parseFlow({ tasks: [{ name: 'a', type: 'download', params: { url: 'https://x', country: 'MWI' } }] }, registry())).toThrow(
      expect.objectContaining({ problems: [{ path: 'name', message: 'Invalid input: expected string, received undefined' }] }),
    );
    expect(() => parseFlow({ name: 'x', tasks: [] }, registry())).toThrow(
      expect.objectContaining({ problems: [{ path: 'tasks', message: 'Too small: expected array to have >=1 items' }] }),
    );
    expect(() => parseFlow({ name: 'x', tasks: [7, { type: 'download' }] }, registry())).toThrow(
      expect.objectContaining({
        problems: [
          { path: 'tasks[0]', message: 'must be a task ({ "name", "type", ... }) or a family ({ "name", "tasks": [...] })' },
          { path: 'tasks[1].name', message: 'Invalid input: expected string, received undefined' },
          { path: 'tasks', message: 'the flow has no tasks' },
        ],
      }),
    );
  });
});

describe('flows defined in TypeScript are checked the same way', () => {
  it('names cycles, duplicates, bad policies, and runs nothing', async () => {
    let ran = false;
    const f = defineFlow({ name: 'bad flow!', concurrency: { max: 0 } });
    f.task('a', { after: ['c'], run: () => (ran = true) });
    f.task('b', { after: ['a'], retry: { count: -1, jitter: 2 }, timeoutMs: 0, run: () => 1 });
    f.task('c', { inputs: { b: 'b' }, run: () => 1 });
    f.task('c', { run: () => 1 });
    f.task('self', { after: ['self'], cache: { expiresMs: -5 }, run: () => 1 });
    await expect(runFlow(f, { clock: new ManualClock(T0) })).rejects.toMatchObject({
      code: 'E_FLOW_INVALID',
      problems: [
        { path: 'name', message: 'flow name "bad flow!" must be 1-64 letters, digits, "_", ".", "-"' },
        { path: 'concurrency.max', message: 'must be a whole number >= 1, not 0' },
        { path: 'c', message: 'is defined twice (task and family names must be unique within their family)' },
        { path: 'b.retry.count', message: 'must be a whole number >= 0, not -1' },
        { path: 'b.retry.jitter', message: 'must be a fraction in [0, 1], not 2' },
        { path: 'b.timeoutMs', message: 'must be a number of ms > 0, not 0' },
        { path: 'self.cache.expiresMs', message: 'must be a number of ms > 0, not -5' },
        { path: 'a.after[0]', message: 'dependency cycle through a, c, b: a needs c needs b needs a (a.after[0], c.inputs.b, b.after[0])' },
        { path: 'self.after[0]', message: 'dependency cycle through self: self needs self (self.after[0])' },
      ],
    });
    expect(ran).toBe(false);
  });

  it('checks a schema given in TypeScript, and run parameters against it', async () => {
    const f = defineFlow({ name: 'typed', params: { threshold: 0.5 } });
    f.task('t', { schema: z.object({ threshold: z.number().max(1) }), run: (ctx) => ctx.params.threshold * 2 });
    expect((await runFlow(f, { clock: new ManualClock(T0) })).results.t).toBe(1);
    await expect(runFlow(f, { params: { threshold: 'high' } })).rejects.toMatchObject({
      problems: [{ path: 't.params.threshold', message: 'Invalid input: expected number, received string' }],
    });
  });

  it('a registry refuses a name twice unless replaced on purpose', () => {
    const r = registry();
    expect(() => r.register('download', { schema: z.object({}), run: () => 1 })).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
    r.replace('download', { schema: z.object({}), run: () => 1 });
    expect(r.names()).toEqual(['assess', 'download', 'publish-json']);
    expect(() => r.options('nope')).toThrow(expect.objectContaining({ code: 'E_FLOW_INVALID' }));
  });
});
