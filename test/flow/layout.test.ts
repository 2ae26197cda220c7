/**
 * The orchestrator stays runtime-neutral (browser, workerd): only files named *-node.ts import Node
 * built-ins, and nothing in src/flow writes to the console except the console sink.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const DIR = join(import.meta.dirname, '..', '..', 'src', 'flow');
const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));

it.each(files.filter((f) => !f.endsWith('-node.ts')))('%s imports no Node built-in', (f) => {
  const text = readFileSync(join(DIR, f), 'utf8');
  expect(text).not.toMatch(/from ['"]node:|require\(|from ['"](fs|path|os|crypto|child_process|worker_threads)['"]/);
  expect(text).not.toMatch(/\bprocess\.(env|exit|on|pid|argv|platform|cwd)\b|\bBuffer\.from/);
  if (f !== 'log.ts') expect(text).not.toMatch(/console\./);
});
