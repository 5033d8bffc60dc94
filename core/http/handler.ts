import { BrowserFlow } from "../browser/browser-flow.js";
import { containerOf } from "../container/internals.js";
import type { Textlock } from "../create-textlock.js";
import { TOKENS } from "../di-tokens.js";
import type { RequestFacts } from "../engine/types.js";
import type { TokenService } from "../tokens/token-service.js";
import { isTextlockError, TextlockError } from "../errors/textlock-error.js";
import { basicCredentials, parseBody } from "./body.js";
import { resolveClientIp } from "./client-ip.js";
import { corsHeaders, originAllowed, originRefused, preflight } from "./cors.js";
import { errorResponse } from "./response.js";
import { browserRoutes } from "../browser/routes.js";
import { builtinRoutes } from "./routes.js";
import type { HttpRequest, HttpResponse } from "./types.js";

/** What a route handler receives besides the request. */
export interface RouteContext {
  textlock: Textlock;
  /** `https://{host}/` (or `config.issuer`), with the trailing slash. */
  issuer: string;
  /** Request facts for the engine: resolved client IP, user agent, languages, host. */
  facts: RequestFacts;
  /** The parsed body (JSON or form), `{}` when there is none. */
  body(): Record<string, unknown>;
  /** Token issuing, JWKS and `/userinfo`. */
  tokens: TokenService;
  /** The browser flow (`/authorize`, the hosted page, `/co/authenticate`). */
  browser: BrowserFlow;
  /** Client credentials from the body or HTTP Basic; Basic wins when both are sent. */
  credentials(body: Record<string, unknown>): { client_id?: unknown; client_secret?: unknown };
}

/** One route. `cors` makes it callable from browsers on the client's allowed origins. */
export interface Route {
  method: "GET" | "POST" | ("GET" | "POST")[];
  path: string | RegExp;
  cors?: boolean | "credentials";
  handle(req: HttpRequest, ctx: RouteContext): Promise<HttpResponse> | HttpResponse;
}

export interface HttpHandlerOptions {
  /** Extra routes (the browser flow adds `/authorize`, `/co/authenticate`...); checked before the built-in ones. */
  routes?: Route[];
}

export type HttpHandler = (req: HttpRequest) => Promise<HttpResponse>;

/**
 * The framework-free HTTP handler of the Auth0-compatible API. Adapters turn their request into an
 * {@link HttpRequest}, call this, and write the {@link HttpResponse} back; they do nothing else.
 * Nothing thrown inside a route escapes: unknown errors become a 500 `server_error` without detail.
 */
export function createHttpHandler(textlock: Textlock, options: HttpHandlerOptions = {}): HttpHandler {
  const routes = [...(options.routes ?? []), ...builtinRoutes, ...browserRoutes];
  const { config } = textlock;
  const parts = containerOf(textlock);
  const tokens = parts.resolve(TOKENS);
  const browser = parts.resolve(BrowserFlow);
  const limit = config.server.bodyLimitBytes;

  return async function handle(req: HttpRequest): Promise<HttpResponse> {
    const origin = req.headers.origin;
    let cors: Record<string, string> = {};
    try {
      const method = req.method.toUpperCase();
      const candidates = routes.filter((r) => (typeof r.path === "string" ? r.path === req.path : r.path.test(req.path)));
      if (!candidates.length) throw new TextlockError("ERR_NOT_FOUND");
      const issuer = config.issuer ?? `https://${req.headers["x-forwarded-host"] && config.server.trustProxy ? req.headers["x-forwarded-host"] : (req.headers.host ?? "localhost")}/`;
      const corsMode = candidates.find((r) => r.cors)?.cors;

      if (method === "OPTIONS" && corsMode && origin) {
        return originAllowed(config, origin, issuer) ? preflight(origin, corsMode === "credentials") : originRefused(origin);
      }
      const route = candidates.find((r) => [r.method].flat().includes(method as "GET" | "POST"));
      if (!route) throw new TextlockError("ERR_METHOD_NOT_ALLOWED");

      let parsed: Record<string, unknown> | undefined;
      const body = () => (parsed ??= parseBody(req, limit));
      if (origin && route.cors) {
        const clientId = method === "POST" ? body().client_id : req.query.client_id;
        if (!originAllowed(config, origin, issuer, clientId)) return originRefused(origin);
        cors = corsHeaders(origin, route.cors === "credentials");
      }
      const facts: RequestFacts = {
        ip: resolveClientIp(req.ip, req.headers["x-forwarded-for"], config.server.trustProxy),
        userAgent: req.headers["user-agent"],
        xRequestLanguage: req.headers["x-request-language"],
        acceptLanguage: req.headers["accept-language"],
        host: req.headers.host,
        method,
      };
      const response = await route.handle(req, {
        textlock,
        tokens,
        browser,
        issuer,
        facts,
        body,
        credentials: (b) => basicCredentials(req.headers.authorization) ?? { client_id: b.client_id, client_secret: b.client_secret },
      });
      return { ...response, headers: { ...cors, ...response.headers } };
    } catch (err) {
      if (!isTextlockError(err)) {
        textlock.logger.error({ err: { name: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack } }, "unhandled error in request");
      }
      const response = errorResponse(err);
      return { ...response, headers: { ...cors, ...response.headers } };
    }
  };
}
