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
  E_KERNEL: 'a compute kernel reported an error',
  E_LIMIT: 'a size limit would be exceeded',
  E_IO: 'writing an output failed',
  E_USAGE: 'a command was called with wrong arguments',
} as const;

export type IbfErrorCode = keyof typeof ERROR_CODES;

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
  readonly hint?: string;
  readonly problems?: Problem[];
  readonly details?: Record<string, unknown>;

  constructor(code: IbfErrorCode, message: string, options: IbfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
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
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.problems === undefined ? {} : { problems: this.problems }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }

  static fromJSON(json: IbfErrorJSON): IbfError {
    return new IbfError(json.code, json.message, { hint: json.hint, problems: json.problems, details: json.details });
  }

  /** Message and hint as one readable text, for the CLI. */
  describe(): string {
    return this.hint ? `${this.message}\nhint: ${this.hint}` : this.message;
  }
}

export function isIbfError(e: unknown): e is IbfError {
  return e instanceof IbfError;
}
