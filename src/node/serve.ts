/**
 * @module node/serve
 * `ibf serve`: the API app of api/app.ts on Node (@hono/node-server), with a data folder in place of R2
 * and D1 (node/fs-store.ts), a keys file in place of KV, an in-memory token-bucket rate limiter, jobs run
 * in this process (optionally with their tiles on a worker-thread pool), and one JSON log line per
 * request on stdout. {@link startServer} wires it; node/serve-config.ts reads the `IBF_*` settings.
 */
import { existsSync, promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { IbfError } from '../errors.js';
import { createApi } from '../api/app.js';
import { inProcessRunner } from '../api/jobs.js';
import { memoryRateLimiter } from '../api/memory.js';
import { DEFAULT_LIMITS, type ApiConfig, type ApiDeps, type LogLine } from '../api/ports.js';
import { loadKernel } from '../kernels/load-node.js';
import type { ImpactKernel, KernelName } from '../kernels/types.js';
import { createPool, failureLatch, type Pool, type WorkerHandle } from '../pool/pool.js';
import { fsObjectStore, objectPathOpener } from './fs-store.js';
import { fsJobStore } from './fs-jobs.js';
import { fileKeyStore, readKeyFile } from './key-file.js';
import { DEFAULT_BUCKET, DEFAULT_HOST, DEFAULT_PORT, type ServeConfig } from './serve-config.js';

export { fsObjectStore, objectPath } from './fs-store.js';
export { fsJobStore } from './fs-jobs.js';
export { fileKeyStore, createKey, revokeKey, readKeyFile, writeKeyFile, type KeyFileRecord, type NewKey } from './key-file.js';
export * from './serve-config.js';

export interface ServeOptions {
  /** TCP port (default 8787); 0 picks a free one (see the returned `url`). */
  port?: number;
  /** Address to bind (default `127.0.0.1`: this machine only; `0.0.0.0` in a container). */
  host?: string;
  /** Data folder: objects/, jobs/ and (by default) keys.json; created when missing. */
  dataDir: string;
  /** Keys file (default `<dataDir>/keys.json`); a missing file means no keys (every keyed route answers 401). */
  keysFile?: string;
  config?: ServeConfig;
  /** Worker threads for the tiles of jobs (default 0: on the server's thread). Synchronous requests always run inline. */
  workers?: number;
  kernel?: KernelName | 'auto';
  /** Where log lines go (default: one JSON line each on stdout, with `time`). */
  log?: (line: LogLine & { time: string }) => void;
  /** How long `close()` waits for running jobs before cancelling them (ms, default 10000). */
  drainMs?: number;
  /** fetch for URL sources (default globalThis.fetch). */
  fetch?: typeof fetch;
}

export interface RunningServer {
  /** `http://<host>:<port>` as bound. */
  url: string;
  port: number;
  /** The API's settings in effect. */
  config: ApiConfig;
  /**
   * Stops accepting connections, lets requests in flight finish, waits up to `drainMs` for running
   * jobs (then cancels them: they are recorded as failed with E_CANCELLED), closes the pool. Idempotent.
   */
  close(): Promise<void>;
}

/** The built worker entry of the serve pool (pool workers cannot load TypeScript on Node 20). */
function serveWorkerEntry(): URL {
  const here = import.meta.url;
  const url = /\.[cm]?js$/.test(here) ? new URL('./serve-worker.js', here) : new URL('../../dist/src/node/serve-worker.js', here);
  const path = fileURLToPath(url);
  if (!existsSync(path)) {
    throw new IbfError('E_INPUT_NOT_FOUND', `the serve pool's worker entry ${path} is missing`, {
      hint: 'Build the JavaScript first (npm run build), or run with --workers 0.', details: { path },
    });
  }
  return url;
}

/** A pool for job tiles whose workers read `object:<key>` sources from `objectsRoot`. */
function servePool(size: number, objectsRoot: string, kernel: KernelName | 'auto'): Pool {
  const entry = size > 0 ? serveWorkerEntry() : undefined;
  return createPool({
    size,
    loadKernel: () => loadKernel(kernel),
    openPath: objectPathOpener(objectsRoot),
    createWorker: entry
      ? (): WorkerHandle => {
          const worker = new Worker(entry, { workerData: { objectsRoot } });
          const { fail, onFailure } = failureLatch();
          worker.on('error', (e: Error) => fail(`threw ${e?.name ?? 'Error'}: ${e?.message ?? e}`));
          worker.on('messageerror', (e: Error) => fail(`sent a message that could not be read: ${e?.message ?? e}`));
          worker.on('exit', (code: number) => fail(`exited with code ${code}`));
          return { endpoint: nodeEndpoint(worker), init: { kernel }, onFailure, terminate: () => worker.terminate(), keepAlive: (on) => (on ? worker.ref() : worker.unref()) };
        }
      : undefined,
  });
}

/** One JSON line on stdout. */
export const stdoutLog = (line: LogLine & { time: string }): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Starts the API on `opts.host:opts.port` and resolves once it listens. The kernel is loaded (and the
 * keys file checked) before it listens, so a missing build or a broken keys file fails here, not on the
 * first request. Jobs a previous process left `queued` / `running` are marked failed (E_CANCELLED).
 * Throws `E_USAGE` when the port is taken or the address cannot be bound.
 */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? DEFAULT_HOST;
  const port = opts.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new IbfError('E_USAGE', `port must be a whole number from 0 to 65535, not ${port}`);
  const workers = opts.workers ?? 0;
  const dataDir = resolve(opts.dataDir);
  const keysFile = resolve(opts.keysFile ?? resolve(dataDir, 'keys.json'));
  const emit = opts.log ?? stdoutLog;
  const log = (line: LogLine) => emit({ time: new Date().toISOString(), ...line });
  const c = opts.config ?? {};
  const config: ApiConfig = {
    bucket: c.bucket ?? DEFAULT_BUCKET,
    limits: { ...DEFAULT_LIMITS, ...c.limits },
    allowHosts: c.allowHosts ?? [],
    ...(c.allowPrivateAddresses ? { allowPrivateAddresses: true } : {}),
    ...(c.tileCells !== undefined ? { tileCells: c.tileCells } : {}),
  };

  await fsp.mkdir(dataDir, { recursive: true });
  const keyRecords = await readKeyFile(keysFile);
  const store = fsObjectStore(dataDir);
  const jobs = fsJobStore(dataDir);
  const keys = fileKeyStore(keysFile, { onError: (e) => log({ level: 'error', msg: 'keys file invalid; keeping the last good keys', file: keysFile, error: e.message }) });
  const kind = opts.kernel ?? 'auto';
  let kernel: Promise<ImpactKernel> | undefined;
  // one instance for the process: requests interleave only between kernel calls, each of which is synchronous
  const getKernel = () => (kernel ??= loadKernel(kind).catch((e: unknown) => {
    kernel = undefined;
    throw e;
  }));
  const k = await getKernel();
  const pool = workers > 0 ? servePool(workers, store.root, kind) : undefined;
  const base = { store, jobs, config, kernel: getKernel, log, ...(opts.fetch ? { fetch: opts.fetch } : {}) };
  const runner = inProcessRunner(base, pool ? { pool } : {});
  const deps: ApiDeps = { ...base, keys, limiter: memoryRateLimiter(), runner };
  const app = createApi(deps);

  const recovered = await jobs.recover();
  if (recovered.length) log({ level: 'warn', msg: 'jobs left unfinished by a previous server marked failed', jobs: recovered });
  if (keyRecords.length === 0) log({ level: 'warn', msg: 'no API keys: every keyed route answers 401; create one with `ibf keys create`', keysFile });
  if (config.allowPrivateAddresses) {
    log({ level: 'warn', msg: 'development setting: URL sources may reach loopback and private addresses (never in production)', host });
  }

  let server: ServerType;
  const bound = await new Promise<AddressInfo>((ok, fail) => {
    server = serve({ fetch: app.fetch, port, hostname: host }, ok);
    server.once('error', (e: NodeJS.ErrnoException) => {
      fail(
        new IbfError('E_USAGE', `cannot listen on ${host}:${port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`, {
          hint: e.code === 'EADDRINUSE' ? 'Choose another --port (0 picks a free one) or stop the other server.' : 'Check --host (an address of this machine) and --port.',
          cause: e,
        }),
      );
    });
  }).catch(async (e: unknown) => {
    await pool?.close();
    throw e;
  });
  const url = `http://${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${bound.port}`;
  log({ level: 'info', msg: 'listening', url, dataDir, keysFile, kernel: k.name, workers, bucket: config.bucket, allowHosts: config.allowHosts });

  let closing: Promise<void> | undefined;
  const drainMs = opts.drainMs ?? 10_000;
  const close = () =>
    (closing ??= (async () => {
      log({ level: 'info', msg: 'shutting down' });
      const closed = new Promise<void>((r) => server.close(() => r()));
      const idle = runner.idle().then(() => true);
      const drained = await Promise.race([Promise.all([closed, idle]).then(() => true), sleep(drainMs).then(() => false)]);
      if (!drained) {
        runner.abort();
        if ('closeAllConnections' in server) server.closeAllConnections();
        await Promise.race([Promise.all([closed, runner.idle()]), sleep(2_000)]);
        log({ level: 'warn', msg: `cancelled what was still running after ${drainMs} ms` });
      }
      await pool?.close();
      await store.close();
      log({ level: 'info', msg: 'stopped' });
    })());
  return { url, port: bound.port, config, close };
}
