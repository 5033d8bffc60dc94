/**
 * The plain request and response every adapter translates to and from. The core never sees a
 * framework object; adapters (Express, Koa, Fastify, node:http) only map fields.
 */
export interface HttpRequest {
  method: string;
  /** Path without query string, e.g. `/oauth/token` (or `/auth/oauth/token` for a handler with `prefix: "/auth"`). */
  path: string;
  /**
   * The leading part of the URL path the host framework already stripped before the adapter saw it
   * (Express `req.baseUrl` under `app.use("/auth", …)`). Not routed on; it is part of the public
   * base URL, so the derived issuer and the URLs built from it include it.
   */
  mountPath?: string;
  /** Decoded query parameters (first value wins for repeated keys). */
  query: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /**
   * The raw body bytes, or an already-parsed body when the host framework parsed it
   * (an object for JSON / urlencoded). Undefined when there is none.
   */
  body?: Buffer | string | Record<string, unknown>;
  /** The socket peer address; trust-proxy rules turn it into the end-user IP. */
  ip?: string;
  /** True when the request arrived over TLS (or a trusted proxy said so). */
  secure?: boolean;
  /**
   * The local end of the connection (the address and port the server accepted it on). Without a
   * configured `issuer`, the development issuer is built from it and `secure`, never from the Host
   * header, which the client chooses.
   */
  local?: { address?: string; port?: number };
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[]>;
  /** A string or bytes; JSON bodies are already serialized with `content-type` set. */
  body: string | Buffer;
}
