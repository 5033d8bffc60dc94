import { BrowserFlow } from "../browser/browser-flow.js";
import { browserRoutes } from "../browser/routes.js";
import { containerOf } from "../container/internals.js";
import type { Textlock } from "../create-textlock.js";
import { receiptRoute } from "../delivery/receipt-route.js";
import { METRICS, TOKENS } from "../di-tokens.js";
import type { RequestFacts } from "../engine/types.js";
import { isTextlockError, TextlockError } from "../errors/textlock-error.js";
import { extend } from "../extend.js";
import { managementRoutes } from "../management/routes.js";
import { stopwatch } from "../metrics/metrics.js";
import type { TokenService } from "../tokens/token-service.js";
import { basicCredentials, parseBody } from "./body.js";
import { resolveClientIp } from "./client-ip.js";
import { corsHeaders, originAllowed, originRefused, preflight } from "./cors.js";
import { metricsRoute } from "./metrics-route.js";
import { errorResponse } from "./response.js";
import { builtinRoutes } from "./routes.js";
import type { HttpRequest, HttpResponse } from "./types.js";

/** What a route handler receives besides the request. */
export interface RouteContext {
  textlock: Textlock;
  /** `config.issuer`, or in development the server's own URL (see {@link developmentIssuer}), with the trailing slash. */
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

/** The methods a route may answer (`PATCH` and `DELETE` for the Management API). */
export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

/** One route. `cors` makes it callable from browsers on the client's allowed origins. */
export interface Route {
  method: HttpMethod | HttpMethod[];
  path: string | RegExp;
  /**
   * The path in `:param` syntax (`/client/:file`), for routers that register concrete routes
   * (Fastify, which refuses a RegExp route without one). The RegExp still decides what matches.
   */
  pattern?: string;
  cors?: boolean | "credentials";
  handle(req: HttpRequest, ctx: RouteContext): Promise<HttpResponse> | HttpResponse;
}

export interface HttpHandlerOptions {
  /** Extra routes (the browser flow adds `/authorize`, `/co/authenticate`...); checked before the built-in ones. */
  routes?: Route[];
  /**
   * Serve textlock under this path (`"/auth"` → `/auth/oauth/token`). The handler strips it before
   * routing and includes it in the derived issuer; paths outside it are not textlock's.
   */
  prefix?: string;
}

/** One concrete route for routers that register routes one by one; `path` has no prefix. */
export interface RouteEntry {
  methods: string[];
  path: string;
}

export interface HttpHandler {
  (req: HttpRequest): Promise<HttpResponse>;
  /**
   * Whether a request is textlock's, from its method and path alone (prefix included), so adapters
   * decide before reading a byte of the body. True for every path a route owns, whatever the method:
   * an OPTIONS preflight is answered, a wrong method gets a 405. False only when no route has this path.
   */
  matches(method: string, path: string): boolean;
  /** The route table, one entry per path (a RegExp route by its `pattern`), for routers that register concrete routes. */
  routes: RouteEntry[];
}

/** The first value of a comma-separated (proxy-appended) header. */
const firstValue = (value: string | undefined) => value?.split(",")[0]?.trim() || undefined;

/**
 * The issuer when `config.issuer` is not set (development; refused when NODE_ENV=production): the
 * server's own URL, from the local end of the connection and its real scheme, plus the mount path.
 * Never the Host header: a client must not choose the `iss` of its tokens or the URLs in discovery.
 * Behind a trusted proxy (`server.trustProxy`) `X-Forwarded-Host` and `X-Forwarded-Proto` are used.
 */
export function developmentIssuer(req: HttpRequest, trustProxy: boolean): string {
  const forwardedHost = trustProxy ? firstValue(req.headers["x-forwarded-host"]) : undefined;
  const forwardedProto = trustProxy ? firstValue(req.headers["x-forwarded-proto"])?.toLowerCase() : undefined;
  const scheme =
    forwardedProto === "https" || forwardedProto === "http" ? forwardedProto : req.secure ? "https" : "http";
  let host = forwardedHost;
  if (!host) {
    const address = (req.local?.address ?? "localhost").replace(/^::ffff:(?=\d+\.)/, "");
    const port = req.local?.port;
    host = `${address.includes(":") ? `[${address}]` : address}${port ? `:${port}` : ""}`;
  }
  return `${scheme}://${host}${req.mountPath ?? ""}/`;
}

/** `"auth/"` → `"/auth"`, `"/"` → `""`. */
function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? "").replace(/\/+$/, "");
  return trimmed && !trimmed.startsWith("/") ? `/${trimmed}` : trimmed;
}

/** The response with the CORS headers a route earned (the route's own headers win); as is without any. */
function withCors(response: HttpResponse, cors: Record<string, string> | undefined): HttpResponse {
  return cors ? { ...response, headers: extend(cors, response.headers) } : response;
}

/**
 * The framework-free HTTP handler of the Auth0-compatible API. Adapters ask {@link HttpHandler.matches}
 * first, turn their request into an {@link HttpRequest}, call this, and write the {@link HttpResponse}
 * back; they do nothing else. Nothing thrown inside a route escapes: unknown errors become a 500
 * `server_error` without detail. A 404 from it is final (an unknown client on a textlock route):
 * adapters pass a request on only when `matches` says no.
 */
export function createHttpHandler(textlock: Textlock, options: HttpHandlerOptions = {}): HttpHandler {
  const { config } = textlock;
  const routes = [
    ...(options.routes ?? []),
    ...builtinRoutes,
    ...browserRoutes,
    ...managementRoutes,
    ...(config.metrics.bearerToken ? [metricsRoute(config.metrics.path, config.metrics.bearerToken)] : []),
    ...(config.delivery.receipts.enabled ? [receiptRoute(config.delivery.receipts.publicUrl ?? config.issuer!)] : []),
  ];
  const parts = containerOf(textlock);
  const metrics = parts.resolve(METRICS);
  const tokens = parts.resolve(TOKENS);
  const browser = parts.resolve(BrowserFlow);
  const limit = config.server.bodyLimitBytes;
  const prefix = normalizePrefix(options.prefix);

  /** The path inside the prefix, or undefined when the path is outside it. */
  const routePath = (path: string) =>
    !prefix ? path : path === prefix ? "/" : path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : undefined;
  const matching = (path: string) =>
    routes.filter((r) => (typeof r.path === "string" ? r.path === path : r.path.test(path)));
  // Every request to a fixed path (all but the Management API's and the hosted assets' patterns) finds
  // its routes, in order, with one lookup: computed once here, pattern routes included.
  const atFixedPath = new Map<string, readonly Route[]>();
  for (const r of routes) if (typeof r.path === "string") atFixedPath.set(r.path, matching(r.path));
  const NONE: readonly Route[] = [];
  const routesAt = (path: string | undefined): readonly Route[] =>
    path === undefined ? NONE : (atFixedPath.get(path) ?? matching(path));
  const answers = (r: Route, method: string) =>
    typeof r.method === "string" ? r.method === method : (r.method as string[]).includes(method);
  // One labelled child per (method, route, status): prom-client's labels() hashes its arguments each call.
  const timers = new Map<string, { observe(seconds: number): void }>();
  const timer = (method: string, label: string, status: number) => {
    const key = `${method} ${status} ${label}`;
    let child = timers.get(key);
    if (!child) timers.set(key, (child = metrics.httpDuration.labels(method, label, String(status))));
    return child;
  };

  const table = new Map<string, Set<string>>();
  for (const r of routes) {
    const path = typeof r.path === "string" ? r.path : r.pattern;
    if (path === undefined) continue;
    const methods = table.get(path) ?? table.set(path, new Set()).get(path)!;
    for (const m of [r.method].flat()) methods.add(m);
    if (r.cors) methods.add("OPTIONS");
  }

  /** Times every request in `textlock_http_request_duration_seconds`, labelled by its route's pattern. */
  async function handle(req: HttpRequest): Promise<HttpResponse> {
    const elapsed = stopwatch();
    const method = req.method.toUpperCase();
    const path = routePath(req.path);
    const candidates = routesAt(path);
    const route = candidates[0];
    const label = !route ? "unmatched" : typeof route.path === "string" ? route.path : (route.pattern ?? "other");
    const response = await respond(req, method, path, candidates);
    timer(method, label, response.status).observe(elapsed());
    return response;
  }

  async function respond(
    req: HttpRequest,
    method: string,
    path: string | undefined,
    candidates: readonly Route[],
  ): Promise<HttpResponse> {
    const origin = req.headers.origin;
    let cors: Record<string, string> | undefined;
    try {
      if (!candidates.length) throw new TextlockError("ERR_NOT_FOUND");
      req = extend(req, { path: path!, mountPath: `${req.mountPath ?? ""}${prefix}` });
      const issuer = config.issuer ?? developmentIssuer(req, config.server.trustProxy !== false);
      const corsMode = candidates.find((r) => r.cors)?.cors;

      if (method === "OPTIONS" && corsMode && origin) {
        return originAllowed(config, origin, issuer)
          ? preflight(origin, corsMode === "credentials")
          : originRefused(origin);
      }
      const route = candidates.find((r) => answers(r, method));
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
        credentials: (b) =>
          basicCredentials(req.headers.authorization) ?? { client_id: b.client_id, client_secret: b.client_secret },
      });
      return withCors(response, cors);
    } catch (err) {
      if (!isTextlockError(err)) {
        textlock.logger.error(
          { err: { name: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack } },
          "unhandled error in request",
        );
      }
      return withCors(errorResponse(err), cors);
    }
  }

  return Object.assign(handle, {
    matches: (_method: string, path: string) => routesAt(routePath(path)).length > 0,
    routes: [...table].map(([path, methods]) => ({ path, methods: [...methods] })),
  });
}
