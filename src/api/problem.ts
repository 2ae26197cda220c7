/**
 * @module api/problem
 * Every error the API answers is `application/problem+json` (RFC 9457) built here, in one place, from
 * an `IbfError`: its code picks the status, its message and hint are the detail. Anything that is not
 * an `IbfError` is our bug: the client gets a 500 with the request id, never a stack trace.
 */
import { IbfError, isIbfError, type IbfErrorCode, type Problem } from '../errors.js';

const STATUS: Partial<Record<IbfErrorCode, number>> = {
  E_USAGE: 400,
  E_INPUT_FORMAT: 400,
  E_AUTH: 401,
  E_FORBIDDEN: 403,
  E_NOT_FOUND: 404,
  E_LIMIT: 413,
  E_MEDIA_TYPE: 415,
  E_SCENARIO_INVALID: 422,
  E_CURVE_INVALID: 422,
  E_CATALOG_UNKNOWN: 422,
  E_GRID_MISMATCH: 422,
  E_UNIT_MISMATCH: 422,
  E_CRS_UNKNOWN: 422,
  E_ZONES_INVALID: 422,
  E_INPUT_NOT_FOUND: 422,
  E_SOURCE_DENIED: 422,
  E_TIFF_INVALID: 422,
  E_RATE_LIMITED: 429,
  E_CANCELLED: 503,
  E_WORKER: 503,
  E_IO: 507,
  E_TASK_TIMEOUT: 503,
  E_HTTP: 502,
};

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: IbfErrorCode | 'E_INTERNAL';
  hint?: string;
  problems?: Problem[];
  requestId: string;
}

/** HTTP status of an error: by code; a TIFF whose compression this runtime cannot decode is a 415. */
export function statusOf(e: IbfError): number {
  if (e.code === 'E_TIFF_INVALID' && e.details && 'compression' in e.details) return 415;
  return STATUS[e.code] ?? 500;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 413: 'Content Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Content', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 507: 'Insufficient Storage',
};

export function problemOf(e: unknown, requestId: string): ProblemBody {
  if (!isIbfError(e)) {
    return {
      type: 'urn:e4drr-ibf:error:E_INTERNAL', title: TITLES[500]!, status: 500, code: 'E_INTERNAL', requestId,
      detail: `internal error; quote request id ${requestId} when you report it`,
    };
  }
  const status = statusOf(e);
  return {
    type: `urn:e4drr-ibf:error:${e.code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail: e.message,
    code: e.code,
    ...(e.hint ? { hint: e.hint } : {}),
    ...(e.problems ? { problems: e.problems } : {}),
    requestId,
  };
}

export function problemResponse(body: ProblemBody, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status: body.status, headers: { 'content-type': 'application/problem+json', ...headers } });
}
