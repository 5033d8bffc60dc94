import { secretsEqual } from "../engine/steps.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { Route } from "./handler.js";

/**
 * `GET /metrics` (or `metrics.path`) for a Prometheus scraper holding `metrics.bearerToken`: compared in
 * constant time; no token is 401 `ERR_MISSING_TOKEN`, a wrong one 401 `ERR_INVALID_TOKEN`, both with
 * `WWW-Authenticate`. The route exists only when a token is configured, so a host's own `/metrics`
 * passes through untouched otherwise. Never CORS: browsers have no business here.
 */
export function metricsRoute(path: string, bearerToken: string): Route {
  return {
    method: "GET",
    path,
    async handle(req, { textlock }) {
      const auth = req.headers.authorization ?? "";
      const token = /^bearer /i.test(auth) ? auth.slice(7).trim() : "";
      if (!token) throw new TextlockError("ERR_MISSING_TOKEN");
      if (!secretsEqual(token, bearerToken)) throw new TextlockError("ERR_INVALID_TOKEN");
      return {
        status: 200,
        headers: { "content-type": textlock.metrics.contentType, "cache-control": "no-store" },
        body: await textlock.metrics.prometheus(),
      };
    },
  };
}
