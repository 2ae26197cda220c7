/**
 * @module cli/serve
 * `ibf serve` (the HTTP API on Node, node/serve.ts) and `ibf keys create|revoke|list` (its keys file).
 * Settings come from flags, then `IBF_*` variables (a flag wins), then defaults. Errors are thrown for
 * main's handler.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import type { Scope } from '../api/ports.js';
import { createKey, readKeyFile, revokeKey } from '../node/key-file.js';
import { configFromEnv, DEFAULT_HOST, DEFAULT_PORT, listOption, mergeConfig, type ServeConfig } from '../node/serve-config.js';
import { formatKeys } from './format.js';
import { kernelOption, usage, wholeOption } from './options.js';

export interface ServeIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Aborted on SIGINT / SIGTERM: the server closes gracefully. */
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
}

export const SERVE_HELP = `  ibf serve [--port 8787] [--host 127.0.0.1] [--data DIR] [--keys FILE] [--allow-host H ...] [--dev]
            [--workers N] [--kernel K]
      Run the HTTP API (docs/API.md) until Ctrl-C / SIGTERM, with files in DIR (default .ibf-data;
      IBF_DATA_DIR) and API keys in FILE (default DIR/keys.json). Logs one JSON line per request on
      stdout. --port (default $PORT, else 8787; 0 = any free port). --allow-host: hosts URL sources may
      use (repeat, or a comma list; IBF_ALLOW_HOSTS). --dev: URL sources may be loopback / private
      addresses (development only; IBF_ALLOW_PRIVATE=1). --workers: threads for job tiles (default 0).
      Limits: IBF_MAX_BODY_BYTES, IBF_MAX_UPLOAD_BYTES, IBF_SYNC_CELL_BANDS, IBF_MAX_CELL_BANDS,
      IBF_RATE_PER_MINUTE, IBF_STEP_TIMEOUT_MS.
  ibf keys create --partner P --scopes read,run,upload [--origin https://x ...] [--expires ISO] [--rate N]
                  [--keys FILE] [--json]
      Add an API key; prints its token once (only its sha256 is kept). --origin: sites that may call
      with it from a browser (repeat; * = any). --rate: requests per minute.
  ibf keys revoke <id> [--keys FILE]
  ibf keys list [--keys FILE] [--json]
      Revoke a key (kept, marked revoked); list the keys (never a token).
`;


const dataDirOf = (data: string | undefined, env: Record<string, string | undefined>) => data ?? (env.IBF_DATA_DIR || '.ibf-data');
const keysFileOf = (keys: string | undefined, dataDir: string, env: Record<string, string | undefined>) => keys ?? (env.IBF_KEYS_FILE || join(dataDir, 'keys.json'));

/** `ibf serve ...`: runs until `io.signal` aborts, then closes gracefully; returns the exit status. */
export async function serveCommand(argv: string[], io: ServeIo): Promise<number> {
  const env = io.env ?? process.env;
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      keys: { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
      dev: { type: 'boolean' },
      workers: { type: 'string' },
      kernel: { type: 'string' },
    },
  });
  if (positionals.length) throw usage(`unexpected argument '${positionals[0]}'`);
  // loaded here: the HTTP stack (hono, zod-openapi) costs every other command ~0.2 s to import
  const { startServer } = await import('../node/serve.js');
  if (!io.signal) throw usage('ibf serve runs until it is stopped: call it with a cancel signal');
  const port = wholeOption('port', values.port ?? (env.PORT || undefined), 0, 65535) ?? DEFAULT_PORT;
  const kernel = kernelOption(values.kernel);
  const flags: ServeConfig = {};
  if (values['allow-host']) flags.allowHosts = values['allow-host'].flatMap(listOption);
  if (values.dev) flags.allowPrivateAddresses = true;
  const dataDir = dataDirOf(values.data, env);
  const keysFile = keysFileOf(values.keys, dataDir, env);
  const server = await startServer({
    port,
    host: values.host ?? DEFAULT_HOST,
    dataDir,
    keysFile,
    config: mergeConfig(configFromEnv(env), flags),
    workers: wholeOption('workers', values.workers, 0, 256) ?? 0,
    kernel,
  });
  io.err(`ibf serve: ${server.url} (data ${dataDir}, keys ${keysFile}); Ctrl-C stops\n`);
  const signal = io.signal;
  await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
  io.err('ibf serve: stopping (requests and jobs in flight finish first)\n');
  await server.close();
  io.err('ibf serve: stopped\n');
  return 0;
}

/** `ibf keys create|revoke|list ...`: returns the exit status. */
export async function keysCommand(argv: string[], io: ServeIo): Promise<number> {
  const env = io.env ?? process.env;
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      partner: { type: 'string' },
      scopes: { type: 'string' },
      origin: { type: 'string', multiple: true },
      expires: { type: 'string' },
      rate: { type: 'string' },
      keys: { type: 'string' },
      data: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [sub, id, extra] = positionals;
  const file = keysFileOf(values.keys, dataDirOf(values.data, env), env);
  const only = (allowed: string[]) => {
    const extraFlags = ['partner', 'scopes', 'origin', 'expires', 'rate'].filter((f) => !allowed.includes(f) && values[f as keyof typeof values] !== undefined);
    if (extraFlags.length) throw usage(`ibf keys ${sub} does not take --${extraFlags.join(', --')}`);
  };
  switch (sub) {
    case 'create': {
      if (id !== undefined) throw usage(`unexpected argument '${id}'`);
      if (!values.partner) throw usage('ibf keys create needs --partner P (the partner whose data the key reaches)');
      if (!values.scopes) throw usage('ibf keys create needs --scopes, a comma list of read, run, upload');
      const { record, token } = await createKey(file, {
        partner: values.partner,
        scopes: listOption(values.scopes) as Scope[],
        origins: values.origin?.flatMap(listOption),
        expiresAt: values.expires,
        ratePerMinute: wholeOption('rate', values.rate, 1, 1e9),
      });
      if (values.json) io.out(`${JSON.stringify({ ...record, token }, null, 2)}\n`);
      else {
        io.out(`${formatKeys([record])}\n\ntoken: ${token}\n`);
        io.err(`key ${record.id} added to ${file}. The token is shown only now: only its sha256 is kept.\n`);
      }
      return 0;
    }
    case 'revoke': {
      only([]);
      if (!id) throw usage('ibf keys revoke needs a key id: ibf keys revoke key_0123abcd (`ibf keys list` shows them)');
      if (extra !== undefined) throw usage(`unexpected argument '${extra}'`);
      const k = await revokeKey(file, id);
      io.out(`revoked ${k.id} (partner ${k.partner}) in ${file}\n`);
      return 0;
    }
    case 'list': {
      only([]);
      if (id !== undefined) throw usage(`unexpected argument '${id}'`);
      const keys = await readKeyFile(file);
      // the hash is not the token, but there is no reason to print it either
      if (values.json) io.out(`${JSON.stringify(keys.map(({ hash: _hash, ...k }) => k), null, 2)}\n`);
      else io.out(keys.length ? `${formatKeys(keys)}\n` : `no keys in ${file}\n`);
      return 0;
    }
    default:
      throw usage(sub === undefined ? 'ibf keys needs a subcommand: create, revoke or list' : `unknown keys subcommand '${sub}' (use create, revoke or list)`);
  }
}
