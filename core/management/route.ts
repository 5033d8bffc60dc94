import { isTextlockError, TextlockError } from "../errors/textlock-error.js";
import type { HttpMethod, Route, RouteContext } from "../http/handler.js";
import type { HttpRequest, HttpResponse } from "../http/types.js";
import { authenticateManagementToken, bearerToken, checkManagementScope, type ManagementCaller } from "./authorize.js";
import { managementErrorResponse } from "./errors.js";

/** A Management API route: its scopes (any one suffices) and a handler that runs once they are checked. */
export interface ManagementRouteSpec {
  method: HttpMethod;
  /** Under `/api/v2/`. */
  path: string | RegExp;
  /** `:param` form of a RegExp path (Fastify registers it). */
  pattern?: string;
  /** Auth0's scopes for the endpoint; the caller's token needs any one of them. */
  scopes: readonly string[];
  handle(req: HttpRequest, ctx: RouteContext, caller: ManagementCaller): Promise<HttpResponse> | HttpResponse;
}

/** Request-body problems are the Management API's `invalid_body`. */
function asManagementError(err: unknown): unknown {
  if (isTextlockError(err) && err.code === "ERR_INVALID_BODY") {
    return new TextlockError("ERR_MGMT_INVALID_BODY", { description: `Payload validation error: ${err.message}` });
  }
  return err;
}

/**
 * Makes a {@link Route} of a Management API endpoint: checks the token and scopes
 * (like `requireManagementScope`), runs the handler, writes every failure as
 * `{statusCode, error, message, errorCode}`, and emits `management.called` for the audit log.
 */
export function managementRoute(spec: ManagementRouteSpec): Route {
  return {
    method: spec.method,
    path: spec.path,
    ...(spec.pattern ? { pattern: spec.pattern } : {}),
    async handle(req, ctx) {
      let caller: ManagementCaller | undefined;
      let response: HttpResponse;
      try {
        caller = await authenticateManagementToken(
          { config: ctx.textlock.config, tokens: ctx.tokens, issuer: ctx.issuer },
          bearerToken(req),
        );
        checkManagementScope(caller, spec.scopes);
        response = await spec.handle(req, ctx, caller);
      } catch (err) {
        if (!isTextlockError(err)) {
          ctx.textlock.logger.error(
            { err: { name: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack } },
            "unhandled error in a Management API request",
          );
        }
        response = managementErrorResponse(asManagementError(err));
      }
      let body: Record<string, unknown> | undefined;
      if (spec.method !== "GET" && caller) {
        try {
          body = ctx.body();
        } catch {
          body = undefined;
        }
      }
      ctx.textlock.events.emit("management.called", {
        method: spec.method,
        path: req.path,
        query: req.query,
        status: response.status,
        ...(caller ? { client_id: caller.client_id, scope: [...caller.scopes].join(" ") } : {}),
        ...(body ? { body } : {}),
        ...(ctx.facts.ip ? { ip: ctx.facts.ip } : {}),
        ...(ctx.facts.userAgent ? { user_agent: ctx.facts.userAgent } : {}),
        ...(ctx.facts.host ? { hostname: ctx.facts.host } : {}),
      });
      return response;
    },
  };
}
