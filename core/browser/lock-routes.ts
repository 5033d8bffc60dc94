import { TextlockError } from "../errors/textlock-error.js";
import type { Route } from "../http/handler.js";
import { json } from "../http/response.js";

/** What Lock fetches from the tenant before it renders. */
export const lockRoutes: Route[] = [
  {
    // Lock loads this as a script before it renders: the client and its passwordless connections.
    method: "GET",
    path: /^\/client\/[\w.-]+\.js$/,
    pattern: "/client/:file",
    handle(req, { textlock, issuer }) {
      const id = req.path.slice("/client/".length, -".js".length);
      const client = textlock.config.clients.find((c) => c.client_id === id);
      if (!client) throw new TextlockError("ERR_NOT_FOUND");
      const connections = textlock.config.connections
        .filter((c) => c.enabled_clients.includes(id))
        .map((c) => ({ name: c.name }));
      const setting = {
        id,
        tenant: new URL(issuer).hostname,
        subscription: "free",
        authorize: `${issuer}authorize`,
        callback: client.callbacks[0] ?? "",
        hasAllowedOrigins: client.allowed_origins.length > 0,
        strategies: connections.length ? [{ name: "sms", connections }] : [],
      };
      return {
        status: 200,
        headers: {
          "content-type": "application/javascript; charset=utf-8",
          "cache-control": "no-cache",
          "x-content-type-options": "nosniff",
        },
        body: `Auth0.setClient(${JSON.stringify(setting)});`,
      };
    },
  },
  {
    // Lock preselects the dialling code from this. textlock does no IP geolocation: it answers the configured default.
    method: "GET",
    path: "/user/geoloc/country",
    cors: true,
    handle: (_req, { textlock }) =>
      json(200, { country_code: textlock.config.login.defaultCountry }, { "cache-control": "no-store" }),
  },
];
