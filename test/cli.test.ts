/** The `ibf` command line as a user meets it: commands, exit codes, output formats. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, progressLine } from '../src/cli/main.js';
import { VERSION } from '../src/version.js';
import { REPO, relClose, tempDir } from './helpers.js';

async function run(...argv: string[]) {
  const io = { out: '', err: '' };
  const status = await main(argv, { out: (s) => (io.out += s), err: (s) => (io.err += s), isTTY: false });
  return { status, ...io };
}

describe('ibf', () => {
  it('demo prints a summary with the Delft-FIAT total', async () => {
    const r = await run('demo', 'fiat');
    expect(r.status).toBe(0);
    expect(r.out).toContain('89,641.6');
    expect(r.out).toContain('kernel wasm-simd');
  });

  it('assess --json prints the result document, --kernel chooses the kernel', async () => {
    const r = await run('assess', join(REPO, 'examples/fiat-grid/scenario.json'), '--json', '--kernel', 'wasm-scalar');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.schema).toBe('e4drr-ibf/result@1');
    expect(doc.manifest.kernel).toBe('wasm-scalar');
    expect(doc.zones).toEqual([]);
    expect(relClose(doc.totals.damage[0], 89641.6, 1e-6)).toBe(true);
  });

  it('curves lists the catalog and shows one curve', async () => {
    const list = await run('curves', '--hazard', 'wind', '--json');
    expect(list.status).toBe(0);
    const ids = JSON.parse(list.out).map((e: { id: string }) => e.id);
    expect(ids).toContain('emanuel-usa');
    expect(ids.every((id: string) => !id.startsWith('jrc-'))).toBe(true);
    const one = await run('curves', 'jrc-flood-europe-residential', '--json');
    expect(JSON.parse(one.out).function.unit).toBe('m');
  });

  it('usage errors exit 2 with a hint and no stack', async () => {
    for (const argv of [['frobnicate'], ['assess'], ['assess', 'a.json', '--kernel', 'gpu'], ['assess', '--nope'], []]) {
      const r = await run(...argv);
      expect(r.status).toBe(2);
      if (argv.length) expect(r.err).toMatch(/^error \[E_USAGE\]/);
    }
    expect((await run('--version')).out.trim()).toBe(VERSION);
    expect((await run('--help')).out).toContain('ibf assess');
  });

  it('the installed bin runs as a process and writes outputs', () => {
    const out = tempDir();
    const bin = join(REPO, 'dist/src/cli/bin.js');
    const stdout = execFileSync(process.execPath, [bin, 'demo', 'fiat', '--out', out], { encoding: 'utf8' });
    expect(stdout).toContain('damage.tif');
    expect(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).totals.cells).toBe(100);
    const bad = spawnSync(process.execPath, [bin, 'assess', join(out, 'missing.json')], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('E_INPUT_NOT_FOUND');
  });
});

describe('progress', () => {
  it('says how far, how fast and how long is left', () => {
    expect(progressLine(250_000, 1_000_000, 500)).toBe('25% of 1000000 cells, 0.5 M cells/s, 1.5 s left   ');
    expect(progressLine(0, 10, 0)).toBe('0% of 10 cells, 0.0 M cells/s   ');
  });
});

describe('package metadata', () => {
  it('VERSION equals package.json version', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
  });
});

describe('cancellation', () => {
  it('Ctrl-C stops a run, exits 130 and leaves no output files', async () => {
    const out = tempDir();
    const cache = tempDir('ibf-demo-cache-');
    const child = spawn(process.execPath, [join(REPO, 'dist/src/cli/bin.js'), 'demo', '--out', out], {
      env: { ...process.env, IBF_DEMO_CACHE: cache },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // the demo generates its rasters (~1 s) then assesses 4 M cells x 153 bands (~2 s): signal in between
    await new Promise((ok) => setTimeout(ok, 1500));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)));
    expect(code).toBe(130);
    expect(stderr).toContain('cancelled: nothing was written');
    expect(readdirSync(out)).toEqual([]);
  }, 30_000);
});
