/**
 * One conformance suite for every FlowStore (memory, folder): records, the journal of events and logs
 * across commits, results, the cache. Then what only the folder store must survive: a process killed
 * between its writes leaves temporary files and an uncounted journal file, never a torn one.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { RUN_FORMAT, memoryStore, type FlowEvent, type FlowStore, type LogRecord, type RunRecord } from '../../src/flow/index.js';
import { dirStore } from '../../src/flow/store-node.js';
import { T0, tempDir } from './helpers.js';

const record = (over: Partial<RunRecord> = {}): RunRecord => ({
  format: RUN_FORMAT, run: 'r1', flow: 'f', fingerprint: 'abc', params: { when: new Date(T0) }, status: 'Running', session: 1,
  startedAt: T0, updatedAt: T0, nextSeq: 1, tasks: { a: { state: 'Running', attempt: 1, updatedAt: T0 } }, ...over,
});
const event = (seq: number): FlowEvent => ({ kind: 'task', seq, ts: T0 + seq, run: 'r1', task: 'a', attempt: 1, from: 'Pending', to: 'Running' });
const log = (message: string): LogRecord => ({ ts: T0, level: 'info', flow: 'f', run: 'r1', task: 'a', attempt: 1, message });

const stores: Array<[string, () => FlowStore]> = [
  ['memoryStore', () => memoryStore()],
  ['dirStore', () => dirStore(tempDir(), { durable: false })],
];

describe.each(stores)('%s (conformance)', (_name, make) => {
  it('knows no run before its first commit', async () => {
    const s = make();
    expect(await s.loadRun('r1')).toBeUndefined();
    expect(await s.readEvents('r1')).toEqual([]);
    expect(await s.getResult('r1', 'a')).toBeUndefined();
  });

  it('keeps the last record and every batch of events and logs in order', async () => {
    const s = make();
    await s.commit('r1', { record: record(), events: [event(0)], logs: [log('one')] });
    await s.commit('r1', { record: record({ status: 'Completed', nextSeq: 3 }), events: [event(1), event(2)], logs: [] });
    await s.commit('r1', { record: record({ status: 'Completed', nextSeq: 3 }), events: [], logs: [log('two')] });
    expect(await s.loadRun('r1')).toEqual(record({ status: 'Completed', nextSeq: 3 }));
    expect((await s.readEvents('r1')).map((e) => e.seq)).toEqual([0, 1, 2]);
    expect((await s.readLogs('r1')).map((l) => l.message)).toEqual(['one', 'two']);
    expect(await s.loadRun('r2')).toBeUndefined();
  });

  it('returns a loaded record as a copy', async () => {
    const s = make();
    await s.commit('r1', { record: record(), events: [], logs: [] });
    const a = (await s.loadRun('r1'))!;
    a.status = 'Failed';
    expect((await s.loadRun('r1'))!.status).toBe('Running');
  });

  it('keeps results per run and task, replacing on a second put', async () => {
    const s = make();
    const value = { damage: new Float64Array([1, NaN, -0]), zones: ['A', 'B'], missing: undefined };
    await s.putResult('r1', 'forecast/assess', value);
    await s.putResult('r1', 'x', 1);
    await s.putResult('r1', 'x', 2);
    await s.putResult('r2', 'x', 3);
    const back = await s.getResult('r1', 'forecast/assess');
    expect(back).toEqual({ value });
    expect((back!.value as typeof value).damage).toBeInstanceOf(Float64Array);
    expect(await s.getResult('r1', 'x')).toEqual({ value: 2 });
    expect(await s.getResult('r2', 'x')).toEqual({ value: 3 });
    expect(await s.getResult('r1', 'undefined-result')).toBeUndefined();
    await s.putResult('r1', 'undefined-result', undefined);
    expect(await s.getResult('r1', 'undefined-result')).toEqual({ value: undefined });
  });

  it('keeps cache entries by key', async () => {
    const s = make();
    const entry = { key: 'k/with:odd chars', task: 't', storedAt: T0, expiresAt: T0 + 5, value: new Uint8Array([1, 2]) };
    await s.putCache(entry);
    expect(await s.getCache('k/with:odd chars')).toEqual(entry);
    expect(await s.getCache('other')).toBeUndefined();
  });
});

describe('dirStore on disk', () => {
  it('lays out runs, journal, results and cache as documented', async () => {
    const root = tempDir();
    const s = dirStore(root);
    await s.commit('r1', { record: record(), events: [event(0)], logs: [] });
    await s.commit('r1', { record: record(), events: [event(1)], logs: [] });
    await s.putResult('r1', 'forecast/assess', 1);
    await s.putCache({ key: 'k', task: 't', storedAt: T0, value: 1 });
    expect(readdirSync(join(root, 'runs', 'r1')).sort()).toEqual(['journal', 'results', 'run.json']);
    expect(readdirSync(join(root, 'runs', 'r1', 'journal'))).toEqual(['000000001.json', '000000002.json']);
    expect(readdirSync(join(root, 'runs', 'r1', 'results'))).toEqual(['forecast%2Fassess.json']);
    expect(readdirSync(join(root, 'cache'))).toHaveLength(1);
    const head = JSON.parse(readFileSync(join(root, 'runs', 'r1', 'run.json'), 'utf8'));
    expect(head.journal).toBe(2);
    expect(head.record.params.when).toEqual({ $type: 'Date', value: '2024-03-01T06:00:00.000Z' });
    expect(await s.runs()).toEqual(['r1']);
  });

  it('ignores what a kill between writes leaves: temporary files and a journal file run.json does not count', async () => {
    const root = tempDir();
    const s = dirStore(root, { durable: false });
    await s.commit('r1', { record: record(), events: [event(0)], logs: [] });
    const dir = join(root, 'runs', 'r1');
    mkdirSync(join(dir, 'results'));
    // killed after writing journal file 2 but before run.json, and in the middle of writing a result
    writeFileSync(join(dir, 'journal', '000000002.json'), JSON.stringify({ events: [event(1)], logs: [] }));
    writeFileSync(join(dir, 'results', '.3f2a.tmp'), '{"value": {"half');
    writeFileSync(join(dir, '.9c1b.tmp'), '{"jour');
    const fresh = dirStore(root, { durable: false });
    expect(await fresh.loadRun('r1')).toEqual(record());
    expect((await fresh.readEvents('r1')).map((e) => e.seq)).toEqual([0]);
    expect(await fresh.getResult('r1', 'a')).toBeUndefined();
    expect(existsSync(join(dir, '.9c1b.tmp'))).toBe(false);
    expect(existsSync(join(dir, 'results', '.3f2a.tmp'))).toBe(false);
    // the next commit takes number 2 over
    await fresh.commit('r1', { record: record({ nextSeq: 2 }), events: [event(5)], logs: [] });
    expect((await fresh.readEvents('r1')).map((e) => e.seq)).toEqual([0, 5]);
  });

  it('says which file is damaged when one was edited by hand', async () => {
    const root = tempDir();
    const s = dirStore(root, { durable: false });
    await s.commit('r1', { record: record(), events: [], logs: [] });
    writeFileSync(join(root, 'runs', 'r1', 'run.json'), '{ oops');
    const e = await dirStore(root).loadRun('r1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IbfError);
    expect(e).toMatchObject({ code: 'E_FLOW_STATE', message: `flow store file ${join(root, 'runs', 'r1', 'run.json')} is not valid JSON` });
  });

  it('refuses run ids that are not folder names', async () => {
    await expect(dirStore(tempDir()).loadRun('../etc')).rejects.toMatchObject({ code: 'E_USAGE' });
  });

  it('serializes concurrent commits of one run', async () => {
    const root = tempDir();
    const s = dirStore(root, { durable: false });
    await Promise.all([0, 1, 2, 3].map((i) => s.commit('r1', { record: record({ nextSeq: i + 1 }), events: [event(i)], logs: [] })));
    expect((await s.readEvents('r1')).map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect((await s.loadRun('r1'))?.nextSeq).toBe(4);
  });
});
