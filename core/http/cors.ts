import type { ClientConfig, TextlockConfig } from "../config/schema.js";
import type { HttpResponse } from "./types.js";

export const CORS_ALLOWED_HEADERS =
  "Content-Type, Auth0-Client, X-Request-Language, Authorization, Auth0-Forwarded-For";

const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
};

/** Origins a client may call from: `allowed_origins`, `web_origins` and the origins of its callbacks (Auth0's rule). */
export function clientOrigins(client: ClientConfig): Set<string> {
  return new Set(
    [...client.allowed_origins, ...client.web_origins, ...client.callbacks]
      .map(originOf)
      .filter((o): o is string => !!o),
  );
}

/**
 * Whether a browser on `origin` may call the API: for a known client, against its own origins; for a
 * preflight (no body, so no client yet), against any client's. The issuer's own origin (the hosted page)
 * is always allowed.
 */
export function originAllowed(config: TextlockConfig, origin: string, issuer: string, clientId?: unknown): boolean {
  if (originOf(issuer) === origin) return true;
  const clients =
    typeof clientId === "string" ? config.clients.filter((c) => c.client_id === clientId) : config.clients;
  return clients.some((c) => clientOrigins(c).has(origin));
}

export function corsHeaders(origin: string, credentials: boolean): Record<string, string> {
  return {
    "access-control-allow-origin": origin,
    vary: "Origin",
    ...(credentials ? { "access-control-allow-credentials": "true" } : {}),
  };
}

export function preflight(origin: string, credentials: boolean): HttpResponse {
  return {
    status: 204,
    headers: {
      ...corsHeaders(origin, credentials),
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-allow-headers": CORS_ALLOWED_HEADERS,
      "access-control-max-age": "600",
    },
    body: "",
  };
}

/** Auth0's answer to a browser on a foreign origin: plain text, 403. */
export function originRefused(origin: string): HttpResponse {
  return {
    status: 403,
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: `Origin ${origin} is not allowed.`,
  };
}
