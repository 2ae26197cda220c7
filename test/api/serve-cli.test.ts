/**
 * `ibf serve` and `ibf keys` as commands: the built CLI (dist/, `npm run build`) spawned as a process,
 * answering over HTTP and exiting cleanly on SIGTERM; and the same commands through `main()` in this
 * process, for their flags and errors.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { REPO, tempDir } from '../helpers.js';

const BIN = join(REPO, 'dist/src/cli/bin.js');

/** Runs `main(argv)` here; returns its status and what it printed. */
async function run(argv: string[], signal?: AbortSignal, env: Record<string, string | undefined> = {}) {
  let out = '';
  let err = '';
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const status = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s), isTTY: false, signal });
    return { status, out, err };
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
  }
}

const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('ibf keys (CLI)', () => {
  it('create prints the token once and stores its hash; list shows no token; revoke marks it', async () => {
    const file = join(tempDir('ibf-keys-'), 'sub', 'keys.json');
    const c = await run(['keys', 'create', '--partner', 'malawi-dodma', '--scopes', 'read,run', '--origin', 'https://dodma.example.org', '--expires', '2030-01-01', '--rate', '120', '--keys', file, '--json']);
    expect(c).toMatchObject({ status: 0 });
    const made = JSON.parse(c.out) as { id: string; token: string; hash: string; partner: string; scopes: string[]; origins: string[]; expiresAt: string; ratePerMinute: number };
    expect(made).toMatchObject({ partner: 'malawi-dodma', scopes: ['read', 'run'], origins: ['https://dodma.example.org'], expiresAt: '2030-01-01T00:00:00.000Z', ratePerMinute: 120 });
    expect(made.token).toMatch(/^ibf_[\w-]{43}$/);
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(made.token);
    expect(stored).toContain(made.hash);

    const text = await run(['keys', 'create', '--partner', 'p2', '--scopes', 'upload', '--keys', file]);
    expect(text.status).toBe(0);
    expect(text.out).toMatch(/^token: ibf_/m);
    expect(text.err).toMatch(/shown only now/);

    const list = await run(['keys', 'list', '--keys', file]);
    expect(list.out).toMatch(new RegExp(`${made.id}\\s+malawi-dodma\\s+read,run\\s+https://dodma.example.org\\s+120\\s+2030-01-01\\s+\\d{4}-\\d\\d-\\d\\d\\s+active`));
    expect(list.out).not.toContain(made.token);
    expect(list.out).not.toContain(made.hash);
    const json = JSON.parse((await run(['keys', 'list', '--keys', file, '--json'])).out) as Array<Record<string, unknown>>;
    expect(json).toHaveLength(2);
    expect(json[0]).not.toHaveProperty('hash');

    expect(await run(['keys', 'revoke', made.id, '--keys', file])).toMatchObject({ status: 0, out: expect.stringMatching(/revoked/) });
    expect((await run(['keys', 'list', '--keys', file])).out).toMatch(/revoked/);
    expect(JSON.parse(readFileSync(file, 'utf8'))[0]).toMatchObject({ revoked: true, revokedAt: expect.any(String) });
  });

  it('bad flags are usage errors (exit 2) naming the flag; a missing keys file lists nothing', async () => {
    const file = join(tempDir('ibf-keys-'), 'keys.json');
    for (const [args, re] of [
      [['keys'], /needs a subcommand/],
      [['keys', 'rotate'], /unknown keys subcommand/],
      [['keys', 'create', '--scopes', 'read'], /--partner/],
      [['keys', 'create', '--partner', 'p'], /--scopes/],
      [['keys', 'create', '--partner', 'p', '--scopes', 'read,admin'], /--scopes/],
      [['keys', 'create', '--partner', '../p', '--scopes', 'read'], /--partner/],
      [['keys', 'create', '--partner', 'p', '--scopes', 'read', '--origin', 'https://x.example.org/path'], /--origin/],
      [['keys', 'create', '--partner', 'p', '--scopes', 'read', '--expires', 'soon'], /--expires/],
      [['keys', 'create', '--partner', 'p', '--scopes', 'read', '--rate', '0'], /--rate/],
      [['keys', 'revoke', '--keys', file], /needs a key id/],
      [['keys', 'revoke', 'key_none', '--keys', file], /no key "key_none"/],
      [['keys', 'list', '--partner', 'p'], /does not take --partner/],
      [['serve', 'extra'], /unexpected argument/],
      [['serve', '--port', '70000'], /--port/],
      [['serve', '--bogus'], /bogus/],
    ] as const) {
      const r = await run([...args], new AbortController().signal);
      expect({ args, status: r.status }).toEqual({ args, status: 2 });
      expect(r.err).toMatch(/^error \[E_(USAGE|NOT_FOUND)\]/);
      expect(r.err).toMatch(re);
    }
    expect((await run(['keys', 'list', '--keys', file])).out).toMatch(/no keys in/);
    expect((await run(['--help'])).out).toMatch(/ibf serve \[--port 8787\][\s\S]*ibf keys create/);
  });
});

describe('ibf serve (CLI)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('in process: serves until its signal aborts, logs JSON lines on stdout, then closes (exit 0)', async () => {
    const data = tempDir('ibf-serve-cmd-');
    const token = JSON.parse((await run(['keys', 'create', '--partner', 'p', '--scopes', 'read', '--data', data, '--json'])).out).token as string;
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (lines.push(String(s)), true));
    const stop = new AbortController();
    let err = '';
    const done = main(['serve', '--port', '0', '--data', data, '--allow-host', 'a.example.org,b.example.org', '--dev', '--kernel', 'ts'], {
      out: () => {}, err: (s) => void (err += s), isTTY: false, signal: stop.signal,
    });
    for (let i = 0; i < 200 && !/http:\/\/\S+/.test(err); i++) await new Promise((r) => setTimeout(r, 25));
    const url = /(http:\/\/[\d.:]+)/.exec(err)![1]!;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const res = await fetch(`${url}/v1/jobs/none`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(404);
    stop.abort();
    expect(await done).toBe(0);
    expect(err).toMatch(/stopped/);
    const logs = lines.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.find((l) => l.msg === 'listening')).toMatchObject({ url, allowHosts: ['a.example.org', 'b.example.org'], kernel: 'ts' });
    expect(logs.find((l) => l.msg === 'request' && l.path === '/v1/jobs/none')).toMatchObject({ status: 404, partner: 'p' });
    expect(logs.some((l) => l.level === 'warn' && String(l.msg).startsWith('development setting'))).toBe(true);
    expect(logs.at(-1)).toMatchObject({ msg: 'stopped' });
  });

  it('the built CLI: prints its URL, answers /healthz and keyed routes, exits 0 on SIGTERM', async () => {
    const data = tempDir('ibf-serve-bin-');
    const created = cli(['keys', 'create', '--partner', 'p', '--scopes', 'read', '--data', data, '--json']);
    expect(created.status).toBe(0);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
    const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IBF_RATE_PER_MINUTE: '1000' } });
    let out = '';
    let err = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    try {
      for (let i = 0; i < 400 && !/ibf serve: http:\/\//.test(err); i++) await new Promise((r) => setTimeout(r, 25));
      const url = /ibf serve: (http:\/\/[\d.:]+)/.exec(err)?.[1];
      expect(url, err).toBeDefined();
      expect(url!.startsWith('http://127.0.0.1:')).toBe(true);
      const h = await fetch(`${url}/healthz`);
      expect(await h.json()).toMatchObject({ ok: true });
      expect((await fetch(`${url}/v1/jobs/none`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
      // revoked in the file while the server runs: refused at once
      expect(cli(['keys', 'revoke', id, '--data', data]).status).toBe(0);
      expect((await fetch(`${url}/v1/jobs/none`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(err).toMatch(/stopped/);
    const logs = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.filter((l) => l.msg === 'request').map((l) => l.status)).toEqual([200, 404, 401]);
    expect(logs.at(-1)).toMatchObject({ msg: 'stopped' });
  });
});
