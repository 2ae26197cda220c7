#!/usr/bin/env node
// The long fuzz run (`npm run fuzz`): the properties of test/fuzz for FUZZ_SECONDS each (default 60),
// seed FUZZ_SEED (default: a new one, printed so a failure can be replayed), then a summary of every
// property's cases, seconds, slowest case and outcomes from FUZZ_REPORT (default a temporary folder).
//   FUZZ_SECONDS=300 npm run fuzz          # five minutes per property
//   FUZZ_RUNS=5000 npm run fuzz            # a case count instead of a time
//   FUZZ_SEED=1234 npm run fuzz -- test/fuzz/geotiff.test.ts
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = { ...process.env };
if (!env.FUZZ_RUNS && !env.FUZZ_SECONDS) env.FUZZ_SECONDS = '60';
env.FUZZ_SEED ??= String(Math.floor(Math.random() * 2 ** 31));
env.FUZZ_REPORT ??= mkdtempSync(join(tmpdir(), 'ibf-fuzz-'));
const files = process.argv.slice(2).length ? process.argv.slice(2) : ['test/fuzz/geotiff.test.ts', 'test/fuzz/documents.test.ts'];
console.error(`fuzz: seed ${env.FUZZ_SEED}, ${env.FUZZ_RUNS ? `${env.FUZZ_RUNS} cases` : `${env.FUZZ_SECONDS} s`} per property; reports in ${env.FUZZ_REPORT}`);
const r = spawnSync('npx', ['vitest', 'run', '--no-file-parallelism', ...files], { stdio: 'inherit', env });
for (const f of readdirSync(env.FUZZ_REPORT).filter((f) => f.endsWith('.json')).sort()) {
  const s = JSON.parse(readFileSync(join(env.FUZZ_REPORT, f), 'utf8'));
  console.log(`${s.name}: ${s.cases} cases in ${s.seconds} s (seed ${s.seed}), slowest case ${s.maxCaseMs} ms`);
  console.log(`  ${Object.entries(s.outcomes).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
}
process.exit(r.status ?? 1);
