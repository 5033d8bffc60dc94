import { type ClientConfig, OTP_GRANT, type TextlockConfig } from "../config/schema.js";
import { secretsEqual } from "../engine/steps.js";
import { isTextlockError, TextlockError } from "../errors/textlock-error.js";
import { randomToken, sha256 } from "./hashing.js";
import { type Login, type LoginRecord, loginRecordOf } from "./login-record.js";
import type { OneTimeStore } from "./one-time-store.js";

/** The body of `POST /co/authenticate`, exactly these fields. */
export interface CoAuthenticateBody {
  client_id: string;
  credential_type: string;
  username: string;
  otp: string;
  realm: string;
}

/** What `/co/authenticate` answers: the ticket, plus the verifier that ties it to this browser. */
export interface IssuedTicket {
  login_ticket: string;
  co_verifier: string;
  co_id: string;
}

interface TicketRecord extends LoginRecord {
  /** Names the verifier cookie, and the verifier the fallback page asks the application for. */
  coId: string;
  verifierHash: string;
}

const CO_FIELDS = ["client_id", "credential_type", "username", "otp", "realm"] as const;

/** Auth0 accepts these five non-empty strings and nothing else. */
export function checkCoAuthenticateBody(body: Record<string, unknown>): CoAuthenticateBody {
  const complete =
    Object.keys(body).length === CO_FIELDS.length &&
    CO_FIELDS.every((f) => typeof body[f] === "string" && body[f] !== "");
  if (!complete) throw new TextlockError("ERR_CO_INVALID_BODY");
  return body as unknown as CoAuthenticateBody;
}

export function checkCrossOriginAllowed(client: ClientConfig): void {
  if (!client.cross_origin_authentication) throw new TextlockError("ERR_CO_NOT_ALLOWED");
}

export function checkCredentialType(credentialType: string): void {
  if (credentialType !== OTP_GRANT) throw new TextlockError("ERR_UNSUPPORTED_CREDENTIAL_TYPE");
}

/** The realm must be a connection enabled for the client (Auth0's `/co/authenticate` wording). */
export function checkRealmEnabled(config: TextlockConfig, client: ClientConfig, realm: string): void {
  if (!config.connections.some((c) => c.name === realm && c.enabled_clients.includes(client.client_id))) {
    throw new TextlockError("ERR_UNKNOWN_REALM", { description: `Unknown realm ${realm}.` });
  }
}

/** Engine errors in the wire shape auth0-js expects from `/co/authenticate`. */
export function asCrossOriginError(err: unknown): never {
  if (isTextlockError(err) && (err.code === "ERR_WRONG_CODE" || err.code === "ERR_MAX_ATTEMPTS")) {
    throw new TextlockError("ERR_CO_WRONG_CODE", { description: err.message, cause: err });
  }
  if (isTextlockError(err) && err.code === "ERR_USER_BLOCKED")
    throw new TextlockError("ERR_CO_BLOCKED_USER", { cause: err });
  throw err;
}

const ticketKey = (ticket: string) => `lt:${sha256(ticket)}`;

/**
 * Single-use login tickets: the proof of a code checked by `/co/authenticate`, redeemed at
 * `/authorize` by the same browser (its verifier) for the same client.
 */
export class LoginTickets {
  constructor(
    private readonly store: OneTimeStore,
    private readonly lifetimeMs: number,
  ) {}

  async issue(login: Login, clientId: string): Promise<IssuedTicket> {
    const login_ticket = randomToken(32);
    const co_verifier = randomToken(32);
    const co_id = randomToken(12);
    const record: TicketRecord = { ...loginRecordOf(login, clientId), coId: co_id, verifierHash: sha256(co_verifier) };
    await this.store.put(ticketKey(login_ticket), JSON.stringify(record), this.lifetimeMs);
    return { login_ticket, co_verifier, co_id };
  }

  /** The `co_id` of a live ticket for this client (to find its verifier), without redeeming it. */
  async peek(ticket: string, clientId: string): Promise<{ co_id: string } | undefined> {
    const raw = await this.store.peek(ticketKey(ticket));
    if (!raw) return undefined;
    const record = JSON.parse(raw) as TicketRecord;
    return record.clientId === clientId ? { co_id: record.coId } : undefined;
  }

  /** Redeems a ticket with its verifier; the ticket is gone afterwards, whatever the outcome. */
  async redeem(ticket: string, clientId: string, verifier: string): Promise<LoginRecord> {
    const raw = await this.store.take(ticketKey(ticket));
    if (!raw) throw new TextlockError("ERR_LOGIN_TICKET");
    const record = JSON.parse(raw) as TicketRecord;
    if (record.clientId !== clientId) throw new TextlockError("ERR_LOGIN_TICKET");
    if (!verifier) {
      throw new TextlockError("ERR_LOGIN_TICKET", {
        description:
          "Cross-origin verification failed: the application's cross_origin_loc page had no verifier for this login (its storage is partitioned or blocked in this browser).",
      });
    }
    if (!secretsEqual(sha256(verifier), record.verifierHash)) {
      throw new TextlockError("ERR_LOGIN_TICKET", {
        description: "Cross-origin verification failed: the verifier does not match this login ticket.",
      });
    }
    return record;
  }
}
