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
import { runScenarioFile } from '../node/run-scenario.js';
import { packageRoot } from '../node/paths.js';
import { VERSION } from '../version.js';
import { formatCurves, formatDemo, formatSummary, formatZonal } from './format.js';
import { runZonal } from '../node/run-zonal.js';
import { ZONAL_STATS, zonalCsv, type ZonalStat } from '../engine/zonal.js';
import { ZONE_RULES, type ZoneRule } from '../model/zones.js';
import { FLOW_HELP, flowCommand } from '../flow/ibf/cli-node.js';
import { SERVE_HELP, keysCommand, serveCommand } from './serve.js';
import { kernelOption, numberOption, usage, workersOption } from './options.js';

const HELP = `ibf ${VERSION}: impact-based forecasting (hazard x exposure x vulnerability)

usage:
  ibf assess <scenario.json> [--out DIR] [--json] [--kernel auto|wasm-simd|wasm-scalar|ts] [--workers N]
      Damage, affected value and max intensity per hazard band. --out DIR writes result.json and
      damage.tif (all or nothing); --json prints the result document instead of a summary.
      --workers N: worker threads for large jobs (default: the cores; 0 = this thread).
  ibf zonal <raster.tif> <zones.geojson> [--id-property P] [--name-property P]
            [--rule coverage|centre|all-touched] [--band N] [--nodata V] [--scale S]
            [--stats count,sum,mean,min,max,stdev] [--self-intersections error|accept] [--json|--csv]
      Zonal statistics of one band per zone (exactextract semantics under coverage).
  ibf curves [--hazard flood|wind] [--region R] [--sector S] [--json]
      List the damage-function catalog.
  ibf curves <id> [--json]
      Show one damage function (knots, mdd, paa, unit, provenance).
  ibf demo [fiat] [--out DIR] [--json] [--kernel K] [--workers N]
      Run the bundled demo, river floods in south-eastern Africa on 4 M cells (generated on first run;
      IBF_DEMO_CACHE=DIR sets where): a 51-member forecast (trigger decision, alert level and probability
      per country and lead time) and return-period maps (expected annual damage per country), in one
      table. --json prints { forecast, risk }; --out DIR writes DIR/forecast and DIR/risk.
      \`ibf demo fiat\` runs the Delft-FIAT synthetic flood grid.
${FLOW_HELP}${SERVE_HELP}  ibf --version | --help
`;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  /** Aborted when the user cancels (Ctrl-C): the run stops and writes nothing. */
  signal?: AbortSignal;
}


async function assess(path: string | undefined, values: { out?: string; json?: boolean; kernel?: string; workers?: string }, io: Io): Promise<void> {
  if (!path) throw usage('ibf assess needs a scenario file: ibf assess scenario.json');
  const kernel = await loadKernel(kernelOption(values.kernel));
  const started = Date.now();
  const workers = workersOption(values.workers);
  const { result, written } = await runScenarioFile(path, {
    kernel,
    workers,
    outDir: values.out,
    signal: io.signal,
    onProgress: io.isTTY && !values.json ? (p) => io.err(`\r${progressLine(p.cellsDone, p.cellsTotal, Date.now() - started, p)}`) : undefined,
  });
  if (io.isTTY && !values.json) io.err('\n');
  io.out(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatSummary(result, written)}\n`);
}

/**
 * `ibf demo`: the forecast and the risk scenario of src/demo over one exposure and one set of zones;
 * prints one zone table (EAD, trigger per lead time), `--json` both results as `{ forecast, risk }`,
 * `--out DIR` writes DIR/forecast and DIR/risk (all or nothing).
 */
async function demo(values: { out?: string; json?: boolean; kernel?: string; workers?: string }, io: Io): Promise<void> {
  const kernel = await loadKernel(kernelOption(values.kernel));
  const workers = workersOption(values.workers);
  const { runDemo } = await import('../demo/index.js');
  const started = Date.now();
  const showProgress = io.isTTY && !values.json;
  const run = await runDemo({
    kernel,
    workers,
    outDir: values.out,
    signal: io.signal,
    onStatus: (line) => io.err(line),
    onProgress: showProgress ? (p, which) => io.err(`\r${which.padEnd(8)}: ${progressLine(p.cellsDone, p.cellsTotal, Date.now() - started, p)}`) : undefined,
  });
  if (showProgress) io.err('\n');
  if (values.json) {
    io.out(`${JSON.stringify({ forecast: run.forecast.result, risk: run.risk.result }, null, 2)}\n`);
    return;
  }
  const summary = formatDemo(run.forecast.result, run.risk.result, {
    trigger: run.demo.templates.forecast.trigger,
    seconds: { forecast: run.forecast.seconds, risk: run.risk.seconds },
    written: run.written,
  });
  io.out(`${summary}\n`);
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

/** `42% of 16777216 cells (tile 3 of 8), 3.1 M cells/s, 4.2 s left` (target cells; every band of a cell counts once). */
export function progressLine(done: number, total: number, ms: number, tiles?: { tilesDone: number; tilesTotal: number }): string {
  const rate = ms > 0 ? done / (ms / 1000) : 0;
  const left = rate > 0 ? (total - done) / rate : NaN;
  const eta = Number.isFinite(left) ? `, ${left.toFixed(1)} s left` : '';
  const t = tiles ? ` (tile ${tiles.tilesDone} of ${tiles.tilesTotal})` : '';
  return `${Math.round((100 * done) / total)}% of ${total} cells${t}, ${(rate / 1e6).toFixed(1)} M cells/s${eta}   `;
}

async function zonal(
  raster: string | undefined,
  zones: string | undefined,
  values: { 'id-property'?: string; 'name-property'?: string; 'self-intersections'?: string; rule?: string; band?: string; nodata?: string; scale?: string; stats?: string; json?: boolean; csv?: boolean; kernel?: string },
  io: Io,
): Promise<void> {
  if (!raster || !zones) throw usage('ibf zonal needs a raster and a zones file: ibf zonal raster.tif zones.geojson');
  if (values.json && values.csv) throw usage('choose one of --json and --csv');
  const rule = values.rule ?? 'coverage';
  if (!(ZONE_RULES as readonly string[]).includes(rule)) throw usage(`--rule must be one of ${ZONE_RULES.join(', ')}, not '${rule}'`);
  const stats = (values.stats ?? 'count,sum,mean,min,max').split(',').map((x) => x.trim()).filter(Boolean);
  const badStats = stats.filter((x) => !(ZONAL_STATS as readonly string[]).includes(x));
  if (badStats.length || stats.length === 0) throw usage(`--stats takes a comma list of ${ZONAL_STATS.join(', ')}; unknown: ${badStats.join(', ') || '(empty)'}`);
  const si = values['self-intersections'] ?? 'error';
  if (si !== 'error' && si !== 'accept') throw usage(`--self-intersections must be error or accept, not '${si}'`);
  const nodata = values.nodata === undefined ? undefined : values.nodata.toLowerCase() === 'none' ? null : numberOption('nodata', values.nodata, () => true, 'a number or none');
  const out = await runZonal(raster, zones, {
    idProperty: values['id-property'],
    nameProperty: values['name-property'],
    selfIntersections: si,
    rule: rule as ZoneRule,
    band: numberOption('band', values.band, (n) => Number.isInteger(n) && n >= 1, 'a band number from 1'),
    nodata,
    scale: numberOption('scale', values.scale, () => true, 'a number'),
    kernel: await loadKernel(kernelOption(values.kernel)),
  });
  for (const w of out.warnings) io.err(`warning: ${w}\n`);
  const chosen = stats as ZonalStat[];
  if (values.csv) io.out(zonalCsv(out.rows, chosen));
  else if (values.json) {
    const rows = out.rows.map((r) => ({ id: r.id, ...(r.name !== undefined ? { name: r.name } : {}), ...Object.fromEntries(chosen.map((k) => [k, r[k]])) }));
    io.out(`${JSON.stringify({ rule: out.rule, band: out.band, idProperty: out.idProperty, zones: rows }, null, 2)}\n`);
  } else io.out(`${formatZonal(out.rows, chosen)}\n`);
}

/** Runs one command line; returns the exit status. */
export async function main(argv: string[], io: Io): Promise<number> {
  try {
    // `ibf flow ...` has options of its own (src/flow/ibf/cli-node.ts)
    if (argv[0] === 'flow') return await flowCommand(argv.slice(1), io);
    // `ibf serve` and `ibf keys ...` too (src/cli/serve.ts)
    if (argv[0] === 'serve' && !argv.includes('--help') && !argv.includes('-h')) return await serveCommand(argv.slice(1), io);
    if (argv[0] === 'keys' && !argv.includes('--help') && !argv.includes('-h')) return await keysCommand(argv.slice(1), io);
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        json: { type: 'boolean' },
        kernel: { type: 'string' },
        workers: { type: 'string' },
        hazard: { type: 'string' },
        csv: { type: 'boolean' },
        'id-property': { type: 'string' },
        'name-property': { type: 'string' },
        rule: { type: 'string' },
        band: { type: 'string' },
        nodata: { type: 'string' },
        scale: { type: 'string' },
        stats: { type: 'string' },
        'self-intersections': { type: 'string' },
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
    if (extra !== undefined && command !== 'zonal') throw usage(`unexpected argument '${extra}'`);
    if (positionals.length > 3) throw usage(`unexpected argument '${positionals[3]}'`);
    switch (command) {
      case 'assess':
        await assess(arg, values, io);
        return 0;
      case 'demo': {
        // `ibf demo fiat`: the Delft-FIAT synthetic grid; `ibf demo`: the river-flood forecast (src/demo)
        if (arg === 'fiat') {
          await assess(join(packageRoot(), 'examples', 'fiat-grid', 'scenario.json'), values, io);
          return 0;
        }
        if (arg !== undefined) throw usage(`ibf demo takes no argument or 'fiat', got '${arg}'`);
        await demo(values, io);
        return 0;
      }
      case 'curves':
        curves(arg, values, io);
        return 0;
      case 'zonal':
        await zonal(arg, extra, values, io);
        return 0;
      default:
        throw usage(`unknown command '${command}'`);
    }
  } catch (e) {
    if (io.signal?.aborted) {
      io.err('\ncancelled: nothing was written\n');
      return 130;
    }
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
