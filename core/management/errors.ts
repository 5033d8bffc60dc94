import { STATUS_CODES } from "node:http";
import { type ErrorCode, errorSpec } from "../errors/catalog.js";
import { isTextlockError } from "../errors/textlock-error.js";
import { json } from "../http/response.js";
import type { HttpResponse } from "../http/types.js";

/** The Management API's error body (Auth0): `{statusCode, error, message, errorCode}`. */
export interface ManagementErrorBody {
  statusCode: number;
  /** The HTTP reason phrase: `Bad Request`, `Unauthorized`, `Forbidden`, `Not Found`, `Conflict`… */
  error: string;
  message: string;
  /** The catalog's wire `error` (`insufficient_scope`, `inexistent_user`, `invalid_body`…). */
  errorCode: string;
  /** Auth0 repeats the message of a 401 here. */
  attributes?: { error: string };
}

/**
 * The error writer of the Management API (`/api/v2/*`): the same catalog as every other error
 * (code → status, wire error, description), written in the Management API's shape. Unknown errors
 * become a 500 without detail; stacks and secrets never reach the caller.
 */
export function managementError(err: unknown): {
  status: number;
  headers: Record<string, string>;
  body: ManagementErrorBody;
} {
  const code: ErrorCode = isTextlockError(err) ? err.code : "ERR_INTERNAL";
  const spec = errorSpec(code);
  const message = isTextlockError(err) && spec.detail && err.description ? err.description : spec.description;
  const body: ManagementErrorBody = {
    statusCode: spec.status,
    error: STATUS_CODES[spec.status] ?? "Error",
    message,
    errorCode: spec.error,
    ...(spec.status === 401 ? { attributes: { error: message } } : {}),
  };
  return {
    status: spec.status,
    headers: { ...(spec.headers ?? {}), ...(isTextlockError(err) ? err.headers : {}) },
    body,
  };
}

/** {@link managementError} as an HTTP response. */
export function managementErrorResponse(err: unknown): HttpResponse {
  const { status, headers, body } = managementError(err);
  return json(status, body, { "cache-control": "no-store", ...headers });
}
