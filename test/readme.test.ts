/** The README's library example runs as written (against the built package, by its own name). */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO } from './helpers.js';

it('README library example prints the Delft-FIAT total', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const block = /## Library\s+```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeTruthy();
  // inside the package folder, so `import 'e4drr-ibf/node'` resolves to this package (self-reference)
  const dir = join(REPO, 'test', '.tmp-readme');
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(join(dir, 'example.mjs'), block!);
    const out = execFileSync(process.execPath, [join(dir, 'example.mjs')], { cwd: REPO, encoding: 'utf8' });
    expect(out).toMatch(/\[ 89641\.6\d* \]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
