import type { Route } from "./handler.js";
import { json } from "./response.js";

const NO_STORE = { "cache-control": "no-store" };

/**
 * `GET /health/live` and `GET /health/ready`, for a load balancer or an orchestrator (Kubernetes
 * probes). The standalone server has them (`startServer(textlock, { health: false })` leaves them out);
 * an app that embeds textlock can add them to its adapter's `routes`.
 *
 * - `/health/live`: 200 `{"status":"ok"}` while the process answers requests; it touches no store.
 * - `/health/ready`: 200 `{"status":"ok","checks":{"codes":"ok","users":"ok"}}` when every store
 *   answers within 2 s, else 503 `temporarily_unavailable` with the same `checks` (which store did
 *   not answer; never why: no host names or driver errors).
 */
export function healthRoutes(): Route[] {
  return [
    { method: "GET", path: "/health/live", handle: () => json(200, { status: "ok" }, NO_STORE) },
    {
      method: "GET",
      path: "/health/ready",
      async handle(_req, { textlock }) {
        const { status, checks } = await textlock.health.check();
        if (status === "ok") return json(200, { status, checks }, NO_STORE);
        const down = Object.entries(checks)
          .filter(([, s]) => s !== "ok")
          .map(([name]) => name);
        return json(
          503,
          {
            error: "temporarily_unavailable",
            error_description: `A store does not answer: ${down.join(", ")}`,
            checks,
          },
          { ...NO_STORE, "retry-after": "5" },
        );
      },
    },
  ];
}
