/**
 * @module flow/ibf/cli-node
 * `ibf flow run flow.json [--run-id ID] [--resume]` and `ibf flow schedule flow.json`, with live progress:
 *
 * - on a terminal, one line per task redrawn in place (state, progress bar, tile, time);
 * - otherwise (logs, CI, a parent process) one line per state change and per quarter of progress:
 *   `[   2.31 s] assess/48-hour Running (attempt 1)`, `[   2.90 s] assess/48-hour 50% tile 6 of 12`.
 *
 * Progress and logs go to stderr; the summary (or `--json`) to stdout. A failed run exits 2 with
 * `error [E_FLOW_FAILED]` listing the failed tasks, and says how to resume it.
 */
import { parseArgs } from 'node:util';
import { IbfError } from '../../errors.js';
import { loadKernel } from '../../kernels/load-node.js';
import { flowRunError, type FlowObservation, type LogRecord, type TaskState } from '../index-node.js';
import type { AlertSummary } from './alerts.js';
import { runIbfFlowFile, scheduleIbfFlowFile, type IbfFlowOutcome, type RunStartInfo } from './run-node.js';
import { kernelOption, usage, workersOption } from '../../cli/options.js';

export interface FlowIo {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  signal?: AbortSignal;
}

export const FLOW_HELP = `  ibf flow run <flow.json> [--run-id ID] [--resume] [--date YYYY-MM-DD] [--out DIR] [--store DIR]
                [--workers N] [--kernel K] [--json]
      Run the IBF flow of a flow file: ingest, validate, assess per lead time, trigger, evaluate,
      publish (result files, IBF-system payloads; POSTed when the flow names an endpoint). Live
      progress on stderr. --run-id names the run (default: flow name, time, random); --resume
      finishes a run that stopped (that id, or the latest unfinished one): finished tasks are Cached.
      --date: the forecast date (default: the resumed run's, else today UTC). --out / --store override
      publish.dir and the run store (<flow dir>/.ibf-flow). docs/IBF-FLOW.md has the format.
  ibf flow schedule <flow.json> [--out DIR] [--store DIR] [--workers N] [--kernel K]
      Run the flow on its "schedule" (cron, UTC) until Ctrl-C; each run dated by its fire time.
`;


const MARK: Record<TaskState, string> = {
  Scheduled: '·', Pending: '·', Running: '▸', Retrying: '↻', Completed: '✓', Cached: '✓', Skipped: '-', Failed: '✗', Crashed: '✗', Cancelled: '✗',
};
/** Tasks shown one per line on a terminal; more are summarised. */
const MAX_LINES = 30;
const FINAL = new Set<TaskState>(['Completed', 'Cached', 'Skipped', 'Failed', 'Crashed', 'Cancelled']);

interface TaskView {
  state: TaskState;
  attempt: number;
  fraction?: number;
  message?: string;
  started?: number;
  ms?: number;
  reason?: string;
}

/** Renders a run's progress: a live block on a terminal, lines otherwise. */
export class FlowProgress {
  private readonly tasks = new Map<string, TaskView>();
  private readonly t0 = Date.now();
  private drawn = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly width: number;
  private readonly lastQuarter = new Map<string, number>();
  private readonly said = new Set<string>();

  constructor(private readonly io: FlowIo, taskIds: readonly string[]) {
    for (const id of taskIds) this.tasks.set(id, { state: 'Scheduled', attempt: 0 });
    this.width = Math.max(10, ...taskIds.map((t) => t.length));
  }

  private stamp(): string {
    return `[${((Date.now() - this.t0) / 1000).toFixed(2).padStart(7)} s]`;
  }

  onEvent(e: FlowObservation): void {
    if (e.kind === 'run') {
      if (!this.io.isTTY) this.line(`${this.stamp()} run ${e.status}${e.reason ? ` (${e.reason})` : ''}`);
      return;
    }
    if (e.kind === 'publish') {
      this.above(`${this.stamp()} ${e.committed ? `published ${e.outputs.length} outputs to ${e.target}` : `nothing published: ${e.reason ?? ''}`}`);
      return;
    }
    const v = this.tasks.get(e.task) ?? { state: 'Scheduled' as TaskState, attempt: 0 };
    if (e.kind === 'progress') {
      v.fraction = e.fraction;
      v.message = e.message;
      this.tasks.set(e.task, v);
      if (this.io.isTTY) this.schedule();
      else {
        const q = Math.floor(e.fraction * 4);
        if (q > (this.lastQuarter.get(e.task) ?? 0) && e.fraction < 1) {
          this.lastQuarter.set(e.task, q);
          this.line(`${this.stamp()} ${e.task} ${Math.round(e.fraction * 100)}%${e.message ? ` ${e.message}` : ''}`);
        }
      }
      return;
    }
    v.state = e.to;
    v.attempt = e.attempt;
    v.reason = e.reason ?? e.error?.message;
    if (e.to === 'Running') {
      v.started = e.ts;
      v.fraction = undefined;
      v.message = undefined;
      this.lastQuarter.delete(e.task);
    }
    if (FINAL.has(e.to) && v.started !== undefined) v.ms = e.ts - v.started;
    this.tasks.set(e.task, v);
    if (this.io.isTTY) {
      this.schedule(FINAL.has(e.to) ? 0 : 100);
      return;
    }
    if (e.to === 'Scheduled' || e.to === 'Pending') return;
    const extra =
      e.to === 'Running' ? ` (attempt ${e.attempt})`
      : e.to === 'Retrying' ? `: ${e.error?.message ?? ''}; again in ${((e.delayMs ?? 0) / 1000).toFixed(1)} s`
      : e.reason || e.error ? `: ${e.reason ?? e.error?.message}` : v.ms !== undefined ? ` in ${(v.ms / 1000).toFixed(2)} s` : '';
    this.line(`${this.stamp()} ${e.task} ${e.to}${extra}`);
  }

  /** A log record worth showing (warnings and errors), each message once. */
  onLog(r: LogRecord): void {
    if (r.level !== 'warn' && r.level !== 'error') return;
    // state changes already say what the runner's own records say
    if (r.task && /^(Failed|Crashed|Cancelled|attempt \d+ failed)/.test(r.message)) return;
    if (this.said.has(r.message)) return;
    this.said.add(r.message);
    this.above(`${r.level === 'warn' ? 'warning' : 'error'}: ${r.task ? `${r.task}: ` : ''}${r.message}`);
  }

  private line(s: string): void {
    this.io.err(`${s}\n`);
  }

  /** A line above the live block (or a plain line). */
  private above(s: string): void {
    if (!this.io.isTTY) return this.line(s);
    this.clear();
    this.line(s);
    this.draw();
  }

  private schedule(ms = 100): void {
    if (this.timer !== undefined) {
      if (ms > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.redraw();
    }, ms);
  }

  private clear(): void {
    if (this.drawn > 0) this.io.err(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    const lines: string[] = [];
    // a long flow (many hindcast dates) shows the counts and only the tasks that are doing something
    const many = this.tasks.size > MAX_LINES;
    if (many) {
      const counts = new Map<TaskState, number>();
      for (const v of this.tasks.values()) counts.set(v.state, (counts.get(v.state) ?? 0) + 1);
      lines.push(`  ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
    }
    for (const [id, v] of this.tasks) {
      if (many && !['Running', 'Retrying', 'Failed', 'Crashed'].includes(v.state)) continue;
      let detail = '';
      if (v.state === 'Running') {
        const f = v.fraction ?? 0;
        const n = Math.round(f * 20);
        detail = ` [${'#'.repeat(n)}${' '.repeat(20 - n)}] ${String(Math.round(f * 100)).padStart(3)}%${v.message ? ` ${v.message}` : ''}`;
      } else if (v.state === 'Retrying' || v.state === 'Failed' || v.state === 'Crashed' || v.state === 'Skipped') detail = v.reason ? ` ${v.reason.split('\n')[0]!.slice(0, 80)}` : '';
      else if ((v.state === 'Completed' || v.state === 'Cached') && v.ms !== undefined) detail = ` ${(v.ms / 1000).toFixed(2)} s`;
      lines.push(`  ${MARK[v.state]} ${id.padEnd(this.width)} ${v.state.padEnd(9)}${detail}`);
    }
    this.io.err(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }

  private redraw(): void {
    this.clear();
    this.draw();
  }

  /** Draws the final state (terminal) and stops redrawing. */
  finish(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.io.isTTY) this.redraw();
  }
}

/** The alert table of a run: per zone and lead time, trigger, alert level and probability. */
export function formatAlerts(s: AlertSummary): string {
  const head = ['zone', 'name', ...s.leadTimes.map((l) => l.leadTime)];
  const rows = s.zones.map((z) => [z.id, z.name ?? '', ...z.leadTimes.map((o) => `${o.triggered ? 'YES' : 'no '} ${o.alertLevel.padEnd(6)} ${o.probability.toFixed(2)}`)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

function summary(o: IbfFlowOutcome, seconds: number): string {
  const r = o.run;
  const counts = new Map<string, number>();
  for (const s of Object.values(r.states)) counts.set(s, (counts.get(s) ?? 0) + 1);
  const lines = [
    `flow ${r.flow} run ${r.run}: ${r.status} (session ${r.session}) in ${seconds.toFixed(1)} s, forecast of ${o.date}`,
    `tasks: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`,
  ];
  const alerts = r.results.trigger as AlertSummary | undefined;
  if (alerts) lines.push('', formatAlerts(alerts), '');
  const evaluation = r.results['evaluate/skill'] as { skill?: { total?: { hits: number; misses: number; falseAlarms: number; pod: number | null; far: number | null; csi: number | null } } } | undefined;
  const t = evaluation?.skill?.total;
  if (t) {
    const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));
    lines.push(`hindcast skill: ${t.hits} hits, ${t.misses} misses, ${t.falseAlarms} false alarms; POD ${f(t.pod)}, FAR ${f(t.far)}, CSI ${f(t.csi)}`);
  }
  if (r.published) lines.push(`published ${r.published.outputs.length} outputs to ${r.published.target} (${o.folder}/)`);
  return `${lines.join('\n')}\n`;
}


/** `ibf flow ...`: returns the exit status (errors are thrown for main's handler). */
export async function flowCommand(argv: string[], io: FlowIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'run-id': { type: 'string' },
      resume: { type: 'boolean' },
      date: { type: 'string' },
      out: { type: 'string' },
      store: { type: 'string' },
      workers: { type: 'string' },
      kernel: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [sub, path, extra] = positionals;
  if (extra !== undefined) throw usage(`unexpected argument '${extra}'`);
  if (sub !== 'run' && sub !== 'schedule') throw usage(sub === undefined ? 'ibf flow needs a subcommand: ibf flow run flow.json, or ibf flow schedule flow.json' : `unknown flow subcommand '${sub}' (use run or schedule)`);
  if (!path) throw usage(`ibf flow ${sub} needs a flow file: ibf flow ${sub} flow.json`);
  const kernel = await loadKernel(kernelOption(values.kernel));
  const workers = workersOption(values.workers);
  if (sub === 'schedule') {
    if (values['run-id'] !== undefined || values.resume || values.date !== undefined) throw usage('ibf flow schedule names its runs after their fire times: --run-id, --resume and --date do not apply');
    const schedule = await scheduleIbfFlowFile(path, {
      kernel, workers, outDir: values.out, storeDir: values.store, signal: io.signal,
      onRun: (o, at) => io.out(`${at.toISOString()} ${summary(o, (o.run.finishedAt - o.run.startedAt) / 1000)}`),
      onError: (e, at) => io.err(`${at.toISOString()} error: ${e instanceof IbfError ? `[${e.code}] ${e.describe()}` : (e as Error).message}\n`),
    });
    io.err(`scheduled on "${schedule.cron.expression}" (UTC); next run at ${schedule.next?.toISOString() ?? '?'}; Ctrl-C stops\n`);
    await schedule.done;
    io.err('schedule stopped\n');
    return 0;
  }
  const started = Date.now();
  let progress: FlowProgress | undefined;
  const onStart = (s: RunStartInfo) => {
    io.err(`flow ${s.flow}: run ${s.runId}${s.resumed ? ' (resumed)' : ''}, forecast of ${s.date}; store ${s.storeDir}\n`);
    progress = new FlowProgress(io, s.tasks);
  };
  const outcome = await runIbfFlowFile(path, {
    kernel, workers, runId: values['run-id'], resume: values.resume, date: values.date, outDir: values.out, storeDir: values.store, signal: io.signal,
    onStart,
    onEvent: (e) => progress?.onEvent(e),
    logs: (r) => progress?.onLog(r),
    logLevel: 'info',
  });
  progress?.finish();
  const r = outcome.run;
  if (values.json) {
    io.out(`${JSON.stringify({ run: r.run, flow: r.flow, status: r.status, session: r.session, date: outcome.date, states: r.states, errors: r.errors, published: r.published ?? null, folder: outcome.folder, alerts: r.results.trigger ?? null, evaluation: r.results['evaluate/skill'] ?? null }, null, 2)}\n`);
  } else io.out(summary(outcome, (Date.now() - started) / 1000));
  const error = flowRunError(r);
  if (error && r.status !== 'Cancelled') {
    throw new IbfError(error.code, error.message, { problems: error.problems, hint: `Fix the errors above, then finish the run with: ibf flow run ${path} --run-id ${r.run} --resume` });
  }
  if (r.status === 'Cancelled') throw error;
  return 0;
}
