/**
 * The IBF flow keeps the orchestrator's rule (test/flow/layout.test.ts): only files named *-node.ts
 * import Node built-ins or touch the process, so the flow itself can run in a browser or a Worker.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const DIR = join(import.meta.dirname, '..', '..', '..', 'src', 'flow', 'ibf');
const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));

it.each(files.filter((f) => !f.endsWith('-node.ts')))('%s imports no Node built-in', (f) => {
  const text = readFileSync(join(DIR, f), 'utf8');
  expect(text).not.toMatch(/from ['"]node:|require\(|from ['"](fs|path|os|crypto|child_process|worker_threads)['"]/);
  expect(text).not.toMatch(/\bprocess\.(env|exit|on|pid|argv|platform|cwd)\b|\bBuffer\.from/);
  expect(text).not.toMatch(/console\./);
  // runtime-neutral modules reach Node-only code only through *-node.ts files, never directly
  expect(text).not.toMatch(/from ['"][^'"]*(\/node\/|-node\.js|\/io\/node\.js|\/pool\/node\.js|load-node\.js)/);
});
