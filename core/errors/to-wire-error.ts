import { type ErrorCode, errorSpec } from "./catalog.js";
import { isTextlockError } from "./textlock-error.js";

/** The Auth0-shaped error body: `{error, error_description}` plus any catalog extras. */
export interface WireError {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string } & Record<string, string>;
}

/**
 * The only writer of `{error, error_description}`. Unknown errors become `ERR_INTERNAL` with a generic
 * description: stacks, messages of foreign errors and secrets never reach the caller.
 */
export function toWireError(err: unknown): WireError {
  const code: ErrorCode = isTextlockError(err) ? err.code : "ERR_INTERNAL";
  const spec = errorSpec(code);
  const description = isTextlockError(err) && spec.detail && err.description ? err.description : spec.description;
  return {
    status: spec.status,
    headers: { ...(spec.headers ?? {}), ...(isTextlockError(err) ? err.headers : {}) },
    body: { error: spec.error, error_description: description, ...(spec.extra ?? {}) },
  };
}
