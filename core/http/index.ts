/**
 * `textlock/http`: the framework-free HTTP layer. The only module adapters import.
 *
 * ```ts
 * const handle = createHttpHandler(textlock);           // (HttpRequest) => Promise<HttpResponse>
 * const handle = createHttpHandler(textlock, { routes }); // extra routes, checked first
 * ```
 */
export { createHttpHandler } from "./handler.js";
export type { HttpHandler, HttpHandlerOptions, Route, RouteContext } from "./handler.js";
export { json, errorResponse, adapterErrorResponse } from "./response.js";
export { readNodeBody, parseBody, basicCredentials } from "./body.js";
export { resolveClientIp } from "./client-ip.js";
export { fromNodeRequest, writeNodeResponse } from "./node.js";
export type { HttpRequest, HttpResponse } from "./types.js";
