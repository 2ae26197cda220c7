#!/usr/bin/env node
/**
 * Builds the web app into web/dist: the dashboard (web/index.html), the widget's docs page
 * (web/widget.html) and the widget itself (web/dist/widget/ibf-impact-widget.js, one ES module).
 *
 *   node scripts/web-build.mjs            # needs build/ibf.{simd,scalar}.wasm (npm run build:asm)
 *
 * Steps: (1) the demo's results as `ibf demo` computes them, with map previews, into web/public/demo
 * (web/tools/precompute-demo.ts, loaded through Vite's module runner, so dist/ is not needed; skipped
 * when nothing it depends on changed); (2) `vite build` of the app; (3) `vite build` of the widget,
 * whose JavaScript (without the WASM, and without the worker of `mode="local"`) must stay within
 * 60 KB gzip: the size is printed and a larger build fails.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WIDGET_BUDGET_BYTES = 60 * 1024;

async function* walk(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** sha256 over the files the precomputed demo depends on (engine sources, kernels, demo templates, the tool). */
async function demoKey(root) {
  const h = createHash('sha256');
  const files = [];
  for (const d of ['src', 'web/tools']) for await (const f of walk(join(root, d))) files.push(f);
  files.push(join(root, 'web/src/lib/preview.ts'));
  for (const f of ['examples/ibf-demo/scenario.json', 'examples/ibf-demo/risk.json', 'examples/ibf-demo/zones.geojson', 'build/ibf.simd.wasm', 'build/ibf.scalar.wasm']) files.push(join(root, f));
  for (const f of files.sort()) h.update(relative(root, f)).update('\0').update(await readFile(f)).update('\0');
  return h.digest('hex');
}

/** Gzip size of the widget entry and every chunk it imports statically (what one script tag loads). */
export async function widgetSize(widgetDir) {
  const entry = join(widgetDir, 'ibf-impact-widget.js');
  const seen = new Set();
  let gzip = 0;
  let raw = 0;
  const visit = async (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = await readFile(file);
    raw += text.length;
    gzip += gzipSync(text, { level: 9 }).length;
    // static imports only: `import ... from "./x.js"` / `import "./x.js"` (dynamic import() and workers load on demand)
    for (const m of text.toString('utf8').matchAll(/(?:^|[;\n}])\s*import\s*(?:[^'"();]*?\sfrom\s*)?["'](\.{1,2}\/[^"']+)["']/g)) await visit(resolve(dirname(file), m[1]));
  };
  await visit(entry);
  return { gzip, raw, files: [...seen].map((f) => relative(widgetDir, f)) };
}

/**
 * Builds everything; returns the widget's size. `log` gets progress lines. Throws when the kernels are
 * missing or the widget is over budget.
 */
export async function buildWeb({ root = ROOT, log = (l) => console.error(l), demo = true } = {}) {
  for (const f of ['build/ibf.simd.wasm', 'build/ibf.scalar.wasm']) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: build the kernels first (npm run build:asm)`);
  }
  const { build, runnerImport } = await import('vite');
  const demoDir = join(root, 'web/public/demo');
  if (demo) {
    const key = await demoKey(root);
    const keyFile = join(demoDir, '.key');
    const old = await readFile(keyFile, 'utf8').catch(() => '');
    if (old.trim() !== key) {
      const { module } = await runnerImport(join(root, 'web/tools/precompute-demo.ts'), { configFile: false, root, logLevel: 'error' });
      const { seconds } = await module.precomputeDemo(demoDir, log);
      await writeFile(keyFile, `${key}\n`);
      log(`web: demo precomputed in ${seconds.toFixed(1)} s`);
    } else log('web: demo results up to date');
  }
  await mkdir(join(root, 'web/dist'), { recursive: true });
  await build({ configFile: join(root, 'web/vite.config.ts'), logLevel: 'warn' });
  await build({ configFile: join(root, 'web/vite.widget.config.ts'), logLevel: 'warn' });
  const size = await widgetSize(join(root, 'web/dist/widget'));
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  log(`web: widget ${kb(size.gzip)} gzip (${kb(size.raw)} raw; budget ${kb(WIDGET_BUDGET_BYTES)}): ${size.files.join(', ')}`);
  if (size.gzip > WIDGET_BUDGET_BYTES) throw new Error(`the widget is ${kb(size.gzip)} gzip, over its ${kb(WIDGET_BUDGET_BYTES)} budget`);
  await writeFile(join(root, 'web/dist/build.json'), `${JSON.stringify({ builtAt: new Date().toISOString(), widget: size }, null, 2)}\n`);
  return { widget: size };
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const t0 = Date.now();
  buildWeb().then(
    () => console.error(`web: built web/dist in ${((Date.now() - t0) / 1000).toFixed(1)} s`),
    (e) => {
      console.error(`web build failed: ${e?.message ?? e}`);
      process.exit(1);
    },
  );
}

