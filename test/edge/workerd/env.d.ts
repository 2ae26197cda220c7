// The Worker's bindings as `env` of cloudflare:test / cloudflare:workers, plus the tests' own.
import type { Env as WorkerEnv } from '../../../edge/env.js';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
      /** base64 of test/fixtures/edge/event-zstd-cog.tif, event-lerc-cog.tif */
      TEST_ZSTD_COG: string;
      TEST_LERC_COG: string;
    }
  }
}
export {};
