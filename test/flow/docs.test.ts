/**
 * docs/FLOW.md's example runs as written: its two package imports pointed at the sources, its store and
 * output folders at a temporary one; it prints what the document says it prints.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it, vi } from 'vitest';
import { tempDir } from './helpers.js';

const REPO = resolve(import.meta.dirname, '..', '..');

it('docs/FLOW.md example runs and prints its states, trigger result and receipt', async () => {
  const doc = readFileSync(join(REPO, 'docs', 'FLOW.md'), 'utf8');
  const block = /## A flow end to end\s+```ts\n([\s\S]*?)```/.exec(doc)?.[1];
  expect(block).toBeTruthy();
  const dir = tempDir();
  const src = (f: string) => JSON.stringify(pathToFileURL(join(REPO, 'src', 'flow', f)).href);
  const code = block!
    .replace(`from 'e4drr-ibf/node'`, `from ${src('index-node.ts')}`)
    .replace(`from 'e4drr-ibf'`, `from ${src('index.ts')}`)
    .replace(`dirStore('.ibf-runs')`, `dirStore(${JSON.stringify(join(dir, '.ibf-runs'))})`)
    .replace(`dirPublisher('out')`, `dirPublisher(${JSON.stringify(join(dir, 'out'))})`);
  const file = join(dir, 'example.ts');
  writeFileSync(file, code);
  const printed: unknown[][] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void printed.push(a));
  try {
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    spy.mockRestore();
  }
  expect(printed).toEqual([[
    { fetch: 'Completed', 'assess/exceedance': 'Completed', 'assess/trigger': 'Completed', publish: 'Completed' },
    { country: 'MWI', probability: 0.6, level: 'high' },
    { target: join(dir, 'out'), outputs: ['alerts.json'] },
  ]]);
  expect(JSON.parse(readFileSync(join(dir, 'out', 'alerts.json'), 'utf8'))).toEqual({ country: 'MWI', probability: 0.6, level: 'high' });
  // the printed comment in the document says the same
  expect(block).toContain("// { fetch: 'Completed', 'assess/exceedance': 'Completed', 'assess/trigger': 'Completed', publish: 'Completed' }");
  expect(block).toContain("// { country: 'MWI', probability: 0.6, level: 'high' } { target: 'out', outputs: [ 'alerts.json' ] }");
});
