/**
 * @module edge/worker
 * The Cloudflare Worker: the API of src/api/app.ts over the bindings of wrangler.toml (R2 `DATA`, D1 `DB`,
 * KV `KEYS`, the `RateLimiter` Durable Object, the `AssessWorkflow` Workflow `ASSESS`), and the Cron
 * Trigger that starts the configured forecast scenarios as jobs. This file only wires; the adapters are
 * in edge/adapters.ts, the job in edge/workflow.ts. docs/API.md "Cloudflare Workers" tells how to run it.
 */
import { createApi } from '../src/api/app.js';
import type { ApiDeps } from '../src/api/ports.js';
import { d1JobStore, jsonLog, kvKeyStore, r2ObjectStore, workflowRunner } from './adapters.js';
import { configOf, type Env } from './env.js';
import { edgeKernel } from './kernel.js';
import { durableRateLimiter } from './rate-limiter.js';
import { startForecasts } from './scheduled.js';

export { RateLimiter } from './rate-limiter.js';
export { AssessWorkflow } from './workflow.js';

/** The app of one `env` (bindings do not change within an isolate, so it is built once). */
const apps = new WeakMap<Env, ReturnType<typeof createApi>>();

export function apiDeps(env: Env): ApiDeps {
  return {
    store: r2ObjectStore(env.DATA),
    jobs: d1JobStore(env.DB),
    keys: kvKeyStore(env.KEYS),
    limiter: durableRateLimiter(env.RATE_LIMITER),
    runner: workflowRunner(env),
    kernel: edgeKernel,
    config: configOf(env),
    log: jsonLog(env.LOG_LEVEL),
  };
}

function appOf(env: Env): ReturnType<typeof createApi> {
  let app = apps.get(env);
  if (!app) {
    app = createApi(apiDeps(env));
    apps.set(env, app);
  }
  return app;
}

export default {
  fetch(request, env, ctx) {
    return appOf(env).fetch(request, env, ctx);
  },
  scheduled(controller, env, ctx) {
    ctx.waitUntil(startForecasts(env, controller.scheduledTime, controller.cron));
  },
} satisfies ExportedHandler<Env>;
