/**
 * The folder store under real kills: a child Node process runs a 40-task flow on the built package and
 * is SIGKILLed in the middle of it, again and again (after so many state changes, plus 0-3 ms), each restart resuming the same run id; every file in
 * the store parses at every point (never a torn file), and the final results and published files equal
 * an uninterrupted run's. Needs `npm run build:ts` first (dist/).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const DIST = join(REPO, 'dist', 'src', 'flow', 'index-node.js');

const CHILD = `
import { defineFlow, runFlow, dirStore, dirPublisher } from ${JSON.stringify(pathToFileURL(DIST).href)};
const [root, out, runId] = process.argv.slice(2);
const flow = defineFlow({ name: 'killed', concurrency: { max: 4 } });
const refs = [];
for (let i = 0; i < 40; i++) {
  const inputs = Object.fromEntries(refs.slice(-3).map((r, j) => ['in' + j, r]));
  refs.push(flow.task('t' + i, {
    inputs,
    run: async (ctx, ins) => {
      await ctx.sleep(2 + (i % 5));
      const v = new Float64Array(64).map((_x, k) => i * 1000 + k + Object.values(ins).reduce((s, a) => s + a[k % a.length], 0) / 7);
      return v;
    },
  }));
}
flow.publish('publish', { inputs: { last: refs.at(-1) }, run: (_c, { last }) => ({ 'last.f64': new Uint8Array(last.buffer), 'sum.txt': String(last.reduce((a, b) => a + b, 0)) }) });
// one "." per task completed, so the parent can kill inside the run
const onEvent = (e) => e.kind === 'task' && e.to === 'Completed' && process.stdout.write('.');
const run = await runFlow(flow, { runId, store: dirStore(root, { durable: false }), publisher: dirPublisher(out), onEvent });
process.stdout.write(JSON.stringify({ status: run.status, session: run.session }));
`;

/** Runs the child; with `kill`, SIGKILLs it `kill.delayMs` after it completed `kill.events` tasks (0: after spawning it). */
function runChild(script: string, args: string[], kill?: { events: number; delayMs: number }): Promise<{ signal: string | null; out: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let armed = kill?.events === 0;
    if (armed) setTimeout(() => child.kill('SIGKILL'), kill!.delayMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const events = out.replace(/[^.]/g, '').length;
      if (kill && !armed && events >= kill.events) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
      }
    });
    child.on('exit', (_code, signal) => resolveRun({ signal, out: out.replace(/^\.*/, '') }));
  });
}

function jsonFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? jsonFiles(p) : n.endsWith('.json') ? [p] : [];
  });
}

it.skipIf(!existsSync(DIST))('a run killed with SIGKILL again and again resumes to the same outputs, and no store file is ever torn', async () => {
  const dir = tempDir();
  const script = join(dir, 'child.mjs');
  writeFileSync(script, CHILD);

  const cleanOut = join(dir, 'clean-out');
  const clean = await runChild(script, [join(dir, 'clean-store'), cleanOut, 'clean']);
  expect(JSON.parse(clean.out.slice(clean.out.indexOf('{')))).toEqual({ status: 'Completed', session: 1 });

  const root = join(dir, 'store');
  const out = join(dir, 'out');
  let kills = 0;
  let last: { status: string; session: number } | undefined;
  // the first kill comes before the child has loaded; each other one after that session completed a few
  // tasks, plus 0-3 ms, so it lands anywhere in the work: in a task, a result write, a commit
  for (const [events, delayMs] of [[0, 5], [1, 0], [3, 1], [5, 2], [2, 3], [4, 0], [6, 1], [3, 2]] as const) {
    const r = await runChild(script, [root, out, 'daily'], { events, delayMs });
    for (const f of jsonFiles(root)) expect(() => JSON.parse(readFileSync(f, 'utf8')), f).not.toThrow();
    if (r.signal === 'SIGKILL') {
      kills++;
      continue;
    }
    last = JSON.parse(r.out.slice(r.out.indexOf('{')));
    break;
  }
  if (!last) {
    const r = await runChild(script, [root, out, 'daily']);
    last = JSON.parse(r.out.slice(r.out.indexOf('{')));
  }
  expect(last!.status).toBe('Completed');
  // the kill before loading started no session; every other one did
  expect(kills).toBe(8);
  expect(last!.session).toBe(kills);
  expect(readFileSync(join(out, 'sum.txt'), 'utf8')).toBe(readFileSync(join(cleanOut, 'sum.txt'), 'utf8'));
  expect(readFileSync(join(out, 'last.f64')).equals(readFileSync(join(cleanOut, 'last.f64')))).toBe(true);
  expect(readdirSync(out).sort()).toEqual(['last.f64', 'sum.txt']);
}, 60_000);
