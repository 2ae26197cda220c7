/**
 * @module errors
 * The one error class of the package. Every failure a user can cause ends here, with a stable
 * `code`, a message that says what was wrong (and the value), and a `hint` that says how to fix it.
 * It survives `postMessage` / JSON through {@link IbfError.toJSON} and {@link IbfError.fromJSON}.
 */

/** Stable error codes. Extend, never rename: callers and HTTP mappings switch on them. */
export const ERROR_CODES = {
  E_INPUT_NOT_FOUND: 'an input file or URL does not exist or cannot be read',
  E_INPUT_FORMAT: 'an input is not in the expected format (GeoTIFF, CSV, JSON)',
  E_TIFF_INVALID: 'a GeoTIFF is truncated, corrupt or unsupported',
  E_GRID_MISMATCH: 'rasters that must share a grid do not',
  E_CURVE_INVALID: 'a damage function is invalid',
  E_CATALOG_UNKNOWN: 'a catalog id does not exist',
  E_SCENARIO_INVALID: 'a scenario document is invalid',
  E_UNIT_MISMATCH: 'units of hazard and damage function disagree',
  E_CRS_UNKNOWN: 'a coordinate reference system is unknown or cannot be transformed',
  E_ZONES_INVALID: 'admin zones (GeoJSON) are invalid',
  E_KERNEL: 'a compute kernel reported an error',
  E_WORKER: 'a worker crashed, hung or could not start',
  E_CANCELLED: 'the run was cancelled',
  E_LIMIT: 'a size limit would be exceeded',
  E_IO: 'writing an output failed',
  E_USAGE: 'a command was called with wrong arguments',
  E_FLOW_INVALID: 'a flow definition is invalid (cycle, unknown task type, wrong parameter, bad reference)',
  E_CRON_INVALID: 'a cron expression does not parse',
  E_TASK_TIMEOUT: 'a flow task ran longer than its timeout',
  E_FLOW_FAILED: 'a flow run finished with failed, crashed or cancelled tasks',
  E_FLOW_STATE: 'the stored state of a flow run is unreadable or belongs to another flow',
  E_FLOW_RESULT: 'a flow task returned a value that cannot be stored or published',
  E_HTTP: 'an HTTP endpoint refused a request or did not answer it',
  E_AUTH: 'an API request has no key, or a wrong, expired or revoked one',
  E_FORBIDDEN: 'an API key may not do this (scope, origin, another partner\'s data)',
  E_RATE_LIMITED: 'an API key sent more requests than its rate allows',
  E_NOT_FOUND: 'an API route, job, result or stored object does not exist',
  E_MEDIA_TYPE: 'a request body is of a type the API does not take',
  E_SOURCE_DENIED: 'a source URL or key is not allowed (host not on the allow-list, private address, another bucket)',
} as const;

export type IbfErrorCode = keyof typeof ERROR_CODES;

/** Hint used when the thrower gave none: every user-facing error says how to fix it. */
export const DEFAULT_HINTS: Record<IbfErrorCode, string> = {
  E_INPUT_NOT_FOUND: 'Check the path or URL; paths in a scenario are relative to the scenario file.',
  E_INPUT_FORMAT: 'Check that the file is of the expected kind (GeoTIFF, CSV, JSON) and not empty.',
  E_TIFF_INVALID: 'Check the file with gdalinfo and re-export it, e.g. gdal_translate -of COG in.tif out.tif.',
  E_GRID_MISMATCH: 'Resample the rasters onto one grid first (e.g. gdalwarp onto the exposure grid).',
  E_CURVE_INVALID: 'Fix the listed knots: intensity non-decreasing, mdd and paa ratios in [0, 1], no missing values.',
  E_CATALOG_UNKNOWN: 'List the available damage functions with `ibf curves`.',
  E_SCENARIO_INVALID: 'Fix the listed fields; README "Scenario" shows the format.',
  E_UNIT_MISMATCH: 'Use a damage function whose intensity unit matches the hazard (or a convertible one).',
  E_CRS_UNKNOWN: 'Use EPSG:4326, EPSG:3857 or a UTM zone (EPSG:326xx / 327xx), e.g. gdalwarp -t_srs EPSG:4326.',
  E_ZONES_INVALID: 'Check the GeoJSON: a FeatureCollection of Polygon / MultiPolygon features, each with the id property.',
  E_KERNEL: 'This is a bug; please report it with the scenario.',
  E_WORKER: 'Retry; if it persists, run with fewer workers (--workers 0 runs inline) and report the scenario.',
  E_CANCELLED: 'Nothing was written; run the command again to finish it.',
  E_LIMIT: 'Use a smaller input or process it in tiles.',
  E_IO: 'Check free disk space and permissions of the output folder.',
  E_USAGE: 'Run `ibf --help` for the commands and their options.',
  E_FLOW_INVALID: 'Fix the listed tasks and fields; docs/FLOW.md shows the flow format.',
  E_CRON_INVALID: 'Use five fields: minute hour day-of-month month day-of-week, e.g. "0 6 * * MON-FRI".',
  E_TASK_TIMEOUT: 'Raise the task\'s timeoutMs, or give it retries if the slowness is transient.',
  E_FLOW_FAILED: 'Fix the failed tasks\' errors, then run again with the same run id: finished tasks are not run again.',
  E_FLOW_STATE: 'Start a new run id, or run the same flow with the same parameters the run was started with.',
  E_FLOW_RESULT: 'Return plain data from tasks: objects, arrays, strings, numbers, typed arrays, Map, Set, Date.',
  E_HTTP: 'Check the endpoint URL, the token and that the server is up; then resume the run (same run id) to publish again.',
  E_AUTH: 'Send `Authorization: Bearer <key>` with a valid key; ask the operator for a new one if it expired or was revoked.',
  E_FORBIDDEN: 'Use a key with the needed scope (read, run, upload) and origin, for your own partner\'s jobs and data.',
  E_RATE_LIMITED: 'Wait for the seconds in Retry-After, then send again; ask the operator for a higher rate if you need one.',
  E_NOT_FOUND: 'Check the path and the id; GET /v1/openapi.json lists the routes.',
  E_MEDIA_TYPE: 'Send JSON as application/json, and rasters to PUT /v1/data/{key} as image/tiff or application/octet-stream.',
  E_SOURCE_DENIED: 'Upload the raster with PUT /v1/data/{key} and refer to it as r2://<bucket>/<key>, or use a host on the allow-list.',
};

/** One problem found by a validation; validations collect all of them before throwing. */
export interface Problem {
  /** Dotted path to the offending field, e.g. `vulnerability.mdd[3]`. */
  path: string;
  message: string;
}

export interface IbfErrorOptions {
  /** How to fix it, in one sentence. */
  hint?: string;
  /** Every problem, when several were found at once. */
  problems?: Problem[];
  /** Machine-readable context (file names, sizes, values). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export interface IbfErrorJSON {
  name: 'IbfError';
  code: IbfErrorCode;
  message: string;
  hint?: string;
  problems?: Problem[];
  details?: Record<string, unknown>;
}

export class IbfError extends Error {
  override readonly name = 'IbfError';
  readonly code: IbfErrorCode;
  readonly hint: string;
  readonly problems?: Problem[];
  readonly details?: Record<string, unknown>;

  constructor(code: IbfErrorCode, message: string, options: IbfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint ?? DEFAULT_HINTS[code];
    this.problems = options.problems;
    this.details = options.details;
  }

  /** Builds one error out of all the problems a validation found. */
  static fromProblems(code: IbfErrorCode, what: string, problems: Problem[], hint?: string): IbfError {
    const list = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
    const n = problems.length;
    return new IbfError(code, `${what}: ${n} problem${n === 1 ? '' : 's'}\n${list}`, { problems, hint });
  }

  toJSON(): IbfErrorJSON {
    return {
      name: 'IbfError',
      code: this.code,
      message: this.message,
      hint: this.hint,
      ...(this.problems === undefined ? {} : { problems: this.problems }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }

  /** Rebuilds an error sent through postMessage or JSON (the hint travels as sent). */
  static fromJSON(json: IbfErrorJSON): IbfError {
    return new IbfError(json.code, json.message, { hint: json.hint, problems: json.problems, details: json.details });
  }

  /** Message and hint as one readable text, for the CLI. */
  describe(): string {
    return `${this.message}\nhint: ${this.hint}`;
  }
}

export function isIbfError(e: unknown): e is IbfError {
  return e instanceof IbfError;
}
