/**
 * @module flow/log
 * Structured logs per task run. Every record names its flow, run, task and attempt, goes to the run's
 * store (journaled with the events) and to any sinks given, such as {@link consoleSink}. Core code logs
 * through these, never through `console` directly.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LogRecord {
  /** ms since the epoch (UTC), from the run's clock. */
  ts: number;
  level: LogLevel;
  flow: string;
  run: string;
  /** Task id; absent for the run's own records. */
  task?: string;
  /** Attempt of the task (1-based). */
  attempt?: number;
  message: string;
  /** Machine-readable context; kept as plain JSON data (see {@link logFields}). */
  fields?: Record<string, unknown>;
}

export type LogSink = (record: LogRecord) => void;

export interface TaskLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Whether `level` is at least `min`. */
export function atLeast(level: LogLevel, min: LogLevel): boolean {
  return ORDER[level] >= ORDER[min];
}

/**
 * Fields as plain JSON data: errors become `{ name, message, code }`, bigints strings, typed arrays a
 * short description, functions and symbols are dropped; deeper than 6 levels becomes "...". A log line
 * never fails because of what was put in it.
 */
export function logFields(fields: Record<string, unknown>): Record<string, unknown> {
  const plain = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
    if (typeof v === 'bigint') return v.toString();
    if (typeof v !== 'object') return undefined;
    if (depth > 6) return '...';
    if (v instanceof Error) {
      const code = (v as { code?: unknown }).code;
      return { name: v.name, message: v.message, ...(typeof code === 'string' ? { code } : {}) };
    }
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
    if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${'length' in v ? String(v.length) : v.byteLength})`;
    if (v instanceof ArrayBuffer) return `ArrayBuffer(${v.byteLength})`;
    if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1) ?? null);
    if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x, depth + 1)]));
    if (v instanceof Set) return [...v].map((x) => plain(x, depth + 1) ?? null);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = plain(x, depth + 1);
      if (p !== undefined) Object.defineProperty(out, k, { value: p, enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  return plain(fields, 0) as Record<string, unknown>;
}

/** `2024-03-01T06:00:00.000Z INFO  daily fetch#2: message key=value ...` */
export function formatLogLine(r: LogRecord): string {
  const where = r.task ? ` ${r.task}${r.attempt ? `#${r.attempt}` : ''}` : '';
  const fields = r.fields && Object.keys(r.fields).length > 0
    ? ' ' + Object.entries(r.fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')
    : '';
  return `${new Date(r.ts).toISOString()} ${r.level.toUpperCase().padEnd(5)} ${r.flow}${where}: ${r.message}${fields}`;
}

export interface ConsoleSinkOptions {
  /** Least level written (default `info`). */
  level?: LogLevel;
  /** `text` (default): readable lines; `json`: one JSON object per line. */
  format?: 'text' | 'json';
  /** Where lines go (default: `console.error` for warn and error, `console.log` otherwise). */
  write?: (line: string, level: LogLevel) => void;
}

/** A sink that writes records as lines to the console (or to `write`). */
export function consoleSink(options: ConsoleSinkOptions = {}): LogSink {
  const min = options.level ?? 'info';
  const write = options.write ?? ((line: string, level: LogLevel) => (atLeast(level, 'warn') ? console.error(line) : console.log(line)));
  return (r) => {
    if (!atLeast(r.level, min)) return;
    write(options.format === 'json' ? JSON.stringify(r) : formatLogLine(r), r.level);
  };
}
