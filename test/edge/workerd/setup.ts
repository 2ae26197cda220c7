// Applies edge/migrations to the local D1 before the tests of each file (the pool reads them in Node).
import { applyD1Migrations, env } from 'cloudflare:test';

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
