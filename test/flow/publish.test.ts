/**
 * Transactional publishing: a folder publisher that commits all outputs or none, finishes a commit a
 * killed process had decided, drops one it had not; output names checked; outputs of one run under
 * one name each.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock, checkOutputs, defineFlow, memoryPublisher, runFlow } from '../../src/flow/index.js';
import { dirPublisher, recoverPublished } from '../../src/flow/publish-node.js';
import { T0, tempDir } from './helpers.js';

describe('dirPublisher', () => {
  it('shows nothing before commit, everything after; replaces earlier files of the same name', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'alerts.json'), 'yesterday');
    writeFileSync(join(dir, 'keep.txt'), 'untouched');
    const stage = await dirPublisher(dir).open('run-1');
    await stage.put('alerts.json', '{"today":1}');
    await stage.put('payloads/exposure.json', new Uint8Array([123, 125]));
    expect(readFileSync(join(dir, 'alerts.json'), 'utf8')).toBe('yesterday');
    expect(existsSync(join(dir, 'payloads'))).toBe(false);
    expect(await stage.commit()).toEqual({ target: dir, outputs: ['alerts.json', 'payloads/exposure.json'] });
    expect(readFileSync(join(dir, 'alerts.json'), 'utf8')).toBe('{"today":1}');
    expect(readFileSync(join(dir, 'payloads', 'exposure.json'), 'utf8')).toBe('{}');
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('untouched');
    expect(readdirSync(dir).sort()).toEqual(['alerts.json', 'keep.txt', 'payloads']);
    await expect(stage.put('late.json', 'x')).rejects.toMatchObject({ code: 'E_USAGE' });
  });

  it('abort leaves the folder as it was', async () => {
    const dir = tempDir();
    const stage = await dirPublisher(dir).open('run-1');
    await stage.put('a.json', 'a');
    await stage.abort();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('finishes a commit a killed process had decided, and drops staging it had not', async () => {
    const dir = tempDir();
    // killed after the marker and one rename: b.json still staged
    const decided = join(dir, '.ibf-publish-run-1');
    mkdirSync(decided);
    writeFileSync(join(dir, 'a.json'), 'A');
    writeFileSync(join(decided, 'b.json'), 'B');
    writeFileSync(join(decided, '.commit.json'), JSON.stringify({ run: 'run-1', outputs: ['a.json', 'b.json'] }));
    // killed while staging: no marker
    const undecided = join(dir, '.ibf-publish-run-2');
    mkdirSync(undecided);
    writeFileSync(join(undecided, 'c.json'), 'C');
    expect(await recoverPublished(dir)).toEqual(['run-1']);
    expect(readdirSync(dir).sort()).toEqual(['.ibf-publish-run-2', 'a.json', 'b.json']);
    // run-2 started again drops what it had staged
    const stage = await dirPublisher(dir).open('run-2');
    expect(existsSync(join(undecided, 'c.json'))).toBe(false);
    await stage.put('d.json', 'D');
    await stage.commit();
    expect(readdirSync(dir).sort()).toEqual(['a.json', 'b.json', 'd.json']);
  });

  it('refuses names that leave the folder', async () => {
    const stage = await dirPublisher(tempDir()).open('r');
    for (const bad of ['../x.json', '/etc/passwd', 'a//b', 'a/./b', 'spaces are.bad', '']) {
      await expect(stage.put(bad, 'x')).rejects.toMatchObject({ code: 'E_FLOW_RESULT' });
    }
  });
});

describe('publish steps in a flow', () => {
  it('commits the outputs of every publish step at the end, in one commit', async () => {
    const publisher = memoryPublisher();
    const f = defineFlow({ name: 'pub' });
    const a = f.publish('files', { run: () => ({ 'result.json': '{}', 'damage.tif': new Uint8Array([1, 2]) }) });
    f.publish('payloads', { after: [a], run: () => ({ 'ibf/exposure.json': '[]' }) });
    let stagedDuringRun: unknown;
    f.task('peek', { after: ['payloads'], run: () => (stagedDuringRun = publisher.published.size) });
    const run = await runFlow(f, { publisher, clock: new ManualClock(T0) });
    expect(stagedDuringRun).toBe(0);
    expect(run.published).toEqual({ target: 'memory', outputs: ['damage.tif', 'ibf/exposure.json', 'result.json'] });
    expect(publisher.commits).toBe(1);
    expect([...publisher.published.keys()].sort()).toEqual(['damage.tif', 'ibf/exposure.json', 'result.json']);
  });

  it('a publish step returning something else fails without retries; two steps with one name fail the run', async () => {
    const f = defineFlow({ name: 'badpub' });
    let n = 0;
    f.publish('wrong', { retry: { count: 3 }, run: () => (n++, ['not', 'outputs']) as never });
    const run = await runFlow(f, { clock: new ManualClock(T0), publisher: memoryPublisher() });
    expect(n).toBe(1);
    expect(run.errors.wrong).toMatchObject({ code: 'E_FLOW_RESULT', message: 'publish step wrong returned an array, not an object of outputs' });

    const g = defineFlow({ name: 'clash' });
    g.publish('one', { run: () => ({ 'x.json': '1' }) });
    g.publish('two', { run: () => ({ 'x.json': '2' }) });
    const publisher = memoryPublisher();
    const clash = await runFlow(g, { clock: new ManualClock(T0), publisher });
    expect(clash.status).toBe('Failed');
    expect(clash.publishError).toMatchObject({ code: 'E_FLOW_RESULT', message: 'publish steps gave the same output names: x.json' });
    expect(publisher.commits).toBe(0);
  });

  it('a commit that fails fails the run and is aborted', async () => {
    const f = defineFlow({ name: 'down' });
    f.publish('p', { run: () => ({ 'a.json': 'a' }) });
    const aborted: string[] = [];
    const run = await runFlow(f, {
      clock: new ManualClock(T0),
      publisher: {
        target: 'https://portal.example/api',
        open: async (runId) => ({
          put: async () => {},
          commit: async () => Promise.reject(new Error('503 Service Unavailable')),
          abort: async () => void aborted.push(runId),
        }),
      },
    });
    expect(run.status).toBe('Failed');
    expect(run.publishError?.message).toBe('503 Service Unavailable');
    expect(aborted).toEqual([run.run]);
  });

  it('checkOutputs names each bad output', () => {
    expect(() => checkOutputs({ 'ok.json': 'x', '../up': 'y', 'n.bin': 5 }, 'p')).toThrow(
      'publish step p returned bad outputs: output "../up" must be a relative path without empty, "." or ".." parts; output "n.bin" is number, not text or bytes (Uint8Array)',
    );
  });
});
