#!/usr/bin/env node
/**
 * `npm start`: the dashboard and the API on http://127.0.0.1:8787, as they would run on Cloudflare:
 * the Worker of wrangler.toml under `wrangler dev` (local workerd, R2, D1, KV), the app as its static
 * assets. Steps: build the WASM kernels and the app (which precomputes the bundled demo, so the page
 * opens on it), apply the D1 migration, put a local API key for this origin into the local KV (its
 * token kept in .wrangler/ibf-dev-token, reused next time), then serve until Ctrl-C. Nothing leaves
 * the machine: no metrics, no fetch of Cloudflare's `cf` object.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PORT = Number(process.env.PORT ?? 8787);
const ORIGIN = `http://127.0.0.1:${PORT}`;
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };
const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler');

function step(what, cmd, args) {
  console.error(`npm start: ${what}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.error(`npm start: ${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

step('building the WASM kernels', process.execPath, [join(ROOT, 'scripts', 'build-asm.mjs')]);
step('building the dashboard and the widget (the demo is computed on the first build)', process.execPath, [join(ROOT, 'scripts', 'web-build.mjs')]);
step('applying the D1 migration to the local database', WRANGLER, ['d1', 'migrations', 'apply', 'DB', '--local']);

// a local key (read, run, upload) for the page's own origin; only its sha256 goes into KV
const tokenFile = join(ROOT, '.wrangler', 'ibf-dev-token');
mkdirSync(dirname(tokenFile), { recursive: true });
const token = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : `ibf_${randomBytes(32).toString('base64url')}`;
writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
const hash = createHash('sha256').update(token).digest('hex');
const record = { id: 'k-local-dev', hash, partner: 'local', scopes: ['read', 'run', 'upload'], origins: [ORIGIN, `http://localhost:${PORT}`] };
step('putting a local API key into the local KV', WRANGLER, ['kv', 'key', 'put', `key:${hash}`, JSON.stringify(record), '--binding', 'KEYS', '--local']);
for (const o of record.origins) step(`allowing ${o} in CORS preflights`, WRANGLER, ['kv', 'key', 'put', `origin:${o}`, record.id, '--binding', 'KEYS', '--local']);

console.error(`\nnpm start: open ${ORIGIN}/#key=${token}`);
console.error(`           (the dashboard on the bundled demo; the widget's page is ${ORIGIN}/widget.html; Ctrl-C stops)\n`);
const dev = spawn(WRANGLER, ['dev', '--ip', '127.0.0.1', '--port', String(PORT)], { cwd: ROOT, env, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => dev.kill(sig));
dev.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
