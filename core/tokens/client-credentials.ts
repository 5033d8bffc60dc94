import type { ClientConfig, TextlockConfig } from "../config/schema.js";
import { authenticateClient, requireParam, resolveClient } from "../engine/steps.js";
import type { RequestFacts } from "../engine/types.js";
import { TextlockError } from "../errors/textlock-error.js";
import { toWireError } from "../errors/to-wire-error.js";
import type { TextlockEvents } from "../events/events.js";
import { isManagementAudience, managementAudience } from "../management/scopes.js";
import type { GrantHandler } from "./token-endpoint.js";
import type { TokenService } from "./token-service.js";

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

/** Where Auth0 points a client that has no grant for an API. */
const CLIENT_GRANTS_DOCS = "https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants";

/** The API a `client_credentials` request asks for: the Management API or a configured resource server. */
interface Api {
  audience: string;
  management: boolean;
  lifetimeSeconds: number;
}

function resolveApi(config: TextlockConfig, audience: string | undefined, issuer: string): Api {
  if (!audience) {
    throw new TextlockError("ERR_ACCESS_DENIED", {
      description: "No audience parameter was provided, and no default audience has been configured",
    });
  }
  if (audience === managementAudience(issuer)) {
    return { audience, management: true, lifetimeSeconds: config.tokens.accessTokenLifetimeSeconds };
  }
  const server = config.resource_servers.find((s) => s.identifier === audience);
  if (!server)
    throw new TextlockError("ERR_ACCESS_DENIED", { description: `Service not enabled within domain: ${audience}` });
  return { audience, management: false, lifetimeSeconds: server.token_lifetime };
}

/**
 * The scopes a client is granted for an API now (from `client_grants`), or undefined when it has no
 * grant. Without a configured issuer any `…/api/v2/` grant names this server's Management API.
 * Checked at issue time and again on every Management API call, so removing a grant takes effect.
 */
export function grantedScopes(
  config: TextlockConfig,
  clientId: string,
  audience: string,
  management: boolean,
): ReadonlySet<string> | undefined {
  const grant = config.client_grants.find(
    (g) =>
      g.client_id === clientId &&
      (g.audience === audience || (management && !config.issuer && isManagementAudience(g.audience))),
  );
  return grant ? new Set(grant.scope) : undefined;
}

function checkClient(client: ClientConfig, secret: string | undefined): void {
  if (!client.grant_types.includes("client_credentials") || !client.client_secret) {
    throw new TextlockError("ERR_GRANT_NOT_ALLOWED", {
      description: "Grant type 'client_credentials' not allowed for the client.",
    });
  }
  authenticateClient(client, secret);
}

/**
 * `POST /oauth/token` with `grant_type=client_credentials` (Auth0's machine-to-machine flow): a
 * confidential client (secret in the body or HTTP Basic) gets an access token for an API it has a
 * client grant for. `scope` may narrow the granted scopes, never widen them. Every outcome is an
 * event (`client_credentials.granted` / `.failed`, Auth0's `seccft` / `feccft`).
 */
export function createClientCredentialsGrant(
  config: TextlockConfig,
  tokens: TokenService,
  events: TextlockEvents,
): GrantHandler {
  return async (params, request: RequestFacts & { issuer: string }) => {
    const seen = {
      ...(str(params.client_id) ? { client_id: str(params.client_id)! } : {}),
      ...(str(params.audience) ? { audience: str(params.audience)! } : {}),
      ...(request.ip ? { ip: request.ip } : {}),
      ...(request.userAgent ? { user_agent: request.userAgent } : {}),
      ...(request.host ? { hostname: request.host } : {}),
    };
    try {
      const client = resolveClient(config, requireParam("client_id", params.client_id));
      checkClient(client, str(params.client_secret));
      const api = resolveApi(config, str(params.audience), request.issuer);
      const granted = grantedScopes(config, client.client_id, api.audience, api.management);
      if (!granted) {
        throw new TextlockError("ERR_ACCESS_DENIED", {
          description: `Client is not authorized to access "${api.audience}". You might probably want to create a "client-grant" associated to this API. See: ${CLIENT_GRANTS_DOCS}`,
        });
      }
      const asked = str(params.scope)?.split(" ").filter(Boolean);
      const refused = asked?.filter((s) => !granted.has(s)) ?? [];
      if (refused.length) {
        throw new TextlockError("ERR_ACCESS_DENIED", {
          description: `Client has not been granted scopes: ${refused.join(", ")}`,
        });
      }
      const scope = (asked ?? [...granted]).join(" ");
      const response = await tokens.issueClientToken(client, {
        issuer: request.issuer,
        audience: api.audience,
        scope,
        lifetimeSeconds: api.lifetimeSeconds,
      });
      events.emit("client_credentials.granted", {
        ...seen,
        client_id: client.client_id,
        audience: api.audience,
        scope,
      });
      return response;
    } catch (err) {
      const wire = toWireError(err).body;
      events.emit("client_credentials.failed", {
        ...seen,
        ...(str(params.scope) ? { scope: str(params.scope)! } : {}),
        error: wire.error,
        description: wire.error_description,
      });
      throw err;
    }
  };
}
