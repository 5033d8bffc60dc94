/**
 * `textlock/http`: the framework-free HTTP layer. The only module adapters import.
 *
 * ```ts
 * const handle = createHttpHandler(textlock);                       // (HttpRequest) => Promise<HttpResponse>
 * const handle = createHttpHandler(textlock, { routes });             // extra routes, checked first
 * const handle = createHttpHandler(textlock, { prefix: "/auth" });    // served under /auth/...
 * if (!handle.matches(method, path)) return next();                   // not textlock's: pass it on, body unread
 * for (const { path, methods } of handle.routes) router.add(path, …); // routers that register routes by name
 * ```
 *
 * An adapter asks `matches(method, path)` before it reads the body: only paths no route owns are passed to
 * the host; everything else (a preflight, a wrong method's 405, a route's own 404) is answered by textlock.
 * Mounted under a prefix (the handler's `prefix`, or a path the framework strips and the adapter reports as
 * `mountPath`), routes keep their own paths, the derived issuer includes the prefix, and the hosted login
 * page works there too: its forms post to relative URLs.
 */

export type { Textlock } from "../create-textlock.js";
export { basicCredentials, parseBody, readNodeBody } from "./body.js";
export { resolveClientIp } from "./client-ip.js";
export type { HttpHandler, HttpHandlerOptions, Route, RouteContext, RouteEntry } from "./handler.js";
export { createHttpHandler } from "./handler.js";
export { healthRoutes } from "./health-route.js";
export { fromNodeRequest, plainHeaders, readTarget, writeNodeResponse } from "./node.js";
export { adapterErrorResponse, errorResponse, json } from "./response.js";
export type { HttpRequest, HttpResponse } from "./types.js";
