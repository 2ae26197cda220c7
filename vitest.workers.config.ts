/**
 * The tests that run inside workerd (test/edge/workerd/*.spec.ts) with @cloudflare/vitest-pool-workers:
 * the Worker of wrangler.toml with local R2, D1 (migrations of edge/migrations applied by the setup
 * file), KV, the Durable Object and the Workflow. A second vitest run (`npm run test:workerd`), because the
 * main config's v8 coverage cannot run in workerd. The vars below override wrangler.toml's for the
 * runtime-neutral cases of test/api/cases.ts (CASE_LIMITS, CASE_BUCKET) and small tile steps; TEST_*
 * bindings carry what only the tests use (migrations, fixture bytes).
 */
import { readFileSync } from 'node:fs';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { CASE_BUCKET, CASE_LIMITS } from './test/api/cases.js';

/** A fixture's bytes as base64, for a binding (workerd has no file system). */
const fixture = (name: string) => readFileSync(new URL(`./test/fixtures/edge/${name}`, import.meta.url)).toString('base64');

export default defineConfig(async () => {
  const migrations = await readD1Migrations('edge/migrations');
  return {
    plugins: [
      cloudflareTest({
        main: './edge/worker.ts',
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            TEST_ZSTD_COG: fixture('event-zstd-cog.tif'),
            TEST_LERC_COG: fixture('event-lerc-cog.tif'),
            BUCKET_NAME: CASE_BUCKET,
            MAX_BODY_BYTES: String(CASE_LIMITS.maxBodyBytes),
            MAX_UPLOAD_BYTES: String(CASE_LIMITS.maxUploadBytes),
            SYNC_CELL_BANDS: String(CASE_LIMITS.syncCellBands),
            MAX_CELL_BANDS: String(CASE_LIMITS.maxCellBands),
            RATE_PER_MINUTE: String(CASE_LIMITS.ratePerMinute),
            STEP_TIMEOUT_MS: String(CASE_LIMITS.stepTimeoutMs),
            ALLOW_HOSTS: 'data.example.org',
            TILE_CELLS: '1',
            BATCH_TILES: '1',
          },
        },
      }),
    ],
    test: {
      include: ['test/edge/workerd/**/*.spec.ts'],
      setupFiles: ['./test/edge/workerd/setup.ts'],
      testTimeout: 120_000,
      // the Worker's one JSON line per request: kept out of the test output (tests spy on console.log)
      onConsoleLog: (log: string) => !log.startsWith('{"time":'),
      hookTimeout: 120_000,
    },
  };
});
