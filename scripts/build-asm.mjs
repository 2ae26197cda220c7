// Compiles asm/ into two WASM builds: SIMD (release) and scalar (hosts without SIMD).
// Flags from ../shared/design/TOOLCHAIN.md: -O3 --noAssert, stub runtime (kernels never allocate), raw bindings.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';

const asc = 'node_modules/assemblyscript/bin/asc.js';
const common = ['asm/index.ts', '-O3', '--noAssert', '--runtime', 'stub', '--bindings', 'raw'];
mkdirSync('build', { recursive: true });
for (const [name, extra] of [['simd', ['--enable', 'simd']], ['scalar', ['--disable', 'simd']]]) {
  const out = `build/ibf.${name}.wasm`;
  execFileSync(process.execPath, [asc, ...common, ...extra, '--outFile', out, '--textFile', `build/ibf.${name}.wat`], { stdio: 'inherit' });
  console.log(`asc: ${out} ${statSync(out).size} bytes`);
}
