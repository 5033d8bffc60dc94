import type { ClientConfig, ConnectionConfig } from "../config/schema.js";
import type { TextlockError } from "../errors/textlock-error.js";

/** How the answer travels back to the application's callback. */
export type ResponseMode = "query" | "fragment" | "form_post" | "web_message";

/** Where an `/authorize` answer goes, once `client_id` and `redirect_uri` are known to be valid. */
export interface AuthorizeTarget {
  client: ClientConfig;
  redirect_uri: string;
  response_mode: ResponseMode;
  state?: string;
}

/** A validated `/authorize` request. */
export interface AuthorizeRequest extends AuthorizeTarget {
  /** Normalized: `code`, `token`, `id_token` or `id_token token`. */
  response_type: string;
  scope: string;
  connection: ConnectionConfig;
  nonce?: string;
  audience?: string;
  code_challenge?: string;
  prompt?: string;
  /** Seconds: a session whose login is older than this is not enough (`0`: always log in again). */
  max_age?: number;
  ui_locales?: string;
  login_hint?: string;
  login_ticket?: string;
  /** The raw parameters, kept to rebuild the request on the next page. */
  params: Record<string, string>;
}

/** An error to send back to the application's callback (OAuth's error response). */
export class AuthorizeRedirectError extends Error {
  constructor(
    readonly target: AuthorizeTarget,
    readonly error: TextlockError,
  ) {
    super(error.message);
  }
}
