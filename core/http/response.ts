import { TextlockError } from "../errors/textlock-error.js";
import { toWireError } from "../errors/to-wire-error.js";
import { bodyTooLarge } from "./body.js";
import type { HttpResponse } from "./types.js";

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

/** The error writer for HTTP: every failure becomes `{error, error_description}` with its status. */
export function errorResponse(err: unknown): HttpResponse {
  const wire = toWireError(err);
  return json(wire.status, wire.body, { "cache-control": "no-store", ...wire.headers });
}

/**
 * The response for an error raised by a host framework around textlock (its body parser, its limits):
 * 413 and 400 keep their meaning, anything else is a 500 without detail. Adapters use it so that even
 * framework failures answer in Auth0's shape.
 */
export function adapterErrorResponse(err: unknown): HttpResponse {
  const status = (err as { statusCode?: number; status?: number })?.statusCode ?? (err as { status?: number })?.status;
  if (status === 413) return errorResponse(bodyTooLarge());
  if (status === 400 || status === 415)
    return errorResponse(new TextlockError(status === 415 ? "ERR_UNSUPPORTED_MEDIA_TYPE" : "ERR_INVALID_BODY"));
  return errorResponse(err);
}
