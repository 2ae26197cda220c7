/**
 * @module cli/main
 * The `ibf` command line. User errors print `error [CODE]: message` and a hint, never a stack trace,
 * and exit with status 2; unexpected failures print the stack and exit 1.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { IbfError } from '../errors.js';
import { getCurve, listCurves } from '../catalog/index.js';
import { loadKernel } from '../kernels/load-node.js';
import type { KernelName } from '../kernels/types.js';
import { runScenarioFile } from '../node/run-scenario.js';
import { packageRoot } from '../node/paths.js';
import { VERSION } from '../version.js';
import { formatCurves, formatSummary } from './format.js';

const HELP = `ibf ${VERSION}: impact-based forecasting (hazard x exposure x vulnerability)

usage:
  ibf assess <scenario.json> [--out DIR] [--json] [--kernel auto|wasm-simd|wasm-scalar|ts]
      Damage, affected value and max intensity per hazard band. --out DIR writes result.json and
      damage.tif (all or nothing); --json prints the result document instead of a summary.
  ibf curves [--hazard flood|wind] [--region R] [--sector S] [--json]
      List the damage-function catalog.
  ibf curves <id> [--json]
      Show one damage function (knots, mdd, paa, unit, provenance).
  ibf demo [--out DIR] [--json]
      Run the bundled demo (Delft-FIAT synthetic flood grid).
  ibf --version | --help
`;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

const usage = (message: string) => new IbfError('E_USAGE', message, { hint: 'Run `ibf --help` for the commands and their options.' });

function kernelOption(v: string | undefined): KernelName | 'auto' {
  const k = v ?? 'auto';
  if (!['auto', 'wasm-simd', 'wasm-scalar', 'ts'].includes(k)) throw usage(`--kernel must be auto, wasm-simd, wasm-scalar or ts, not '${k}'`);
  return k as KernelName | 'auto';
}

async function assess(path: string | undefined, values: { out?: string; json?: boolean; kernel?: string }, io: Io): Promise<void> {
  if (!path) throw usage('ibf assess needs a scenario file: ibf assess scenario.json');
  const kernel = await loadKernel(kernelOption(values.kernel));
  const started = Date.now();
  const { result, written } = await runScenarioFile(path, {
    kernel,
    outDir: values.out,
    onProgress: io.isTTY && !values.json
      ? ({ cellsDone, cellsTotal }) => io.err(`\r${Math.round((100 * cellsDone) / cellsTotal)}% of ${cellsTotal} cells (${((Date.now() - started) / 1000).toFixed(1)} s)`)
      : undefined,
  });
  if (io.isTTY && !values.json) io.err('\n');
  io.out(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatSummary(result, written)}\n`);
}

function curves(id: string | undefined, values: { hazard?: string; region?: string; sector?: string; json?: boolean }, io: Io): void {
  if (id) {
    const c = getCurve(id);
    const entry = listCurves().find((e) => e.id === id);
    io.out(`${JSON.stringify({ ...entry, function: c.toJSON() }, null, values.json ? 2 : 1)}\n`);
    return;
  }
  const list = listCurves({ hazard: values.hazard, region: values.region, sector: values.sector });
  io.out(values.json ? `${JSON.stringify(list, null, 2)}\n` : `${formatCurves(list)}\n${list.length} damage functions\n`);
}

/** Runs one command line; returns the exit status. */
export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        json: { type: 'boolean' },
        kernel: { type: 'string' },
        hazard: { type: 'string' },
        region: { type: 'string' },
        sector: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
    const [command, arg, extra] = positionals;
    if (values.version) {
      io.out(`${VERSION}\n`);
      return 0;
    }
    if (values.help || !command || command === 'help') {
      io.out(HELP);
      return command || values.help ? 0 : 2;
    }
    if (extra !== undefined) throw usage(`unexpected argument '${extra}'`);
    switch (command) {
      case 'assess':
        await assess(arg, values, io);
        return 0;
      case 'demo':
        if (arg !== undefined) throw usage(`ibf demo takes no argument, got '${arg}'`);
        await assess(join(packageRoot(), 'examples', 'fiat-grid', 'scenario.json'), values, io);
        return 0;
      case 'curves':
        curves(arg, values, io);
        return 0;
      default:
        throw usage(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof IbfError) {
      io.err(`error [${e.code}]: ${e.describe()}\n`);
      return 2;
    }
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`error [E_USAGE]: ${(e as Error).message}\nhint: Run \`ibf --help\` for the commands and their options.\n`);
      return 2;
    }
    io.err(`internal error (please report it): ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
