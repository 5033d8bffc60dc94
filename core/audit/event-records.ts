import type { TextlockConfig } from "../config/schema.js";
import type { RequestOrigin, TextlockEventMap } from "../events/events.js";
import { LOG_TYPES, type LogType, maskPhone, type NewLogEntry } from "./log-entry.js";

type Payload<K extends keyof TextlockEventMap> = TextlockEventMap[K][0];

/** The events the audit log records, each to one Auth0 log event type (see docs/guides/audit-log.md). */
export const AUDITED_EVENTS = [
  "code.sent",
  "delivery.failed",
  "code.failed",
  "user.logged_in",
  "login.failed",
  "user.created",
  "signup.refused",
  "refresh_token.reused",
  "user.blocked",
  "user.unblocked",
  "user.deleted",
  "client_credentials.granted",
  "client_credentials.failed",
  "management.called",
  "session.used",
  "session.missing",
  "session.ended",
  "request.refused",
] as const satisfies ReadonlyArray<keyof TextlockEventMap>;

export type AuditedEvent = (typeof AUDITED_EVENTS)[number];

const WRONG_CODE = "Wrong phone number or verification code.";

/**
 * Builds the record of one event, or `undefined` for an event not worth a record (a successful
 * Management API read). Only named fields are copied, so a field added to an event later never leaks
 * into the log by accident; phone numbers are masked to their last 4 digits.
 */
export function recordOf<K extends AuditedEvent>(
  name: K,
  payload: Payload<K>,
  config: TextlockConfig,
  date: string,
): NewLogEntry | undefined {
  const clientName = (id?: string) => config.clients.find((c) => c.client_id === id)?.name;
  // `more` is added to the entry, not spread after it: on Node 20 an object literal that starts with a
  // spread and adds keys after it gets a hidden class of its own on every call (see docs/performance.md).
  const base = (
    type: LogType,
    description: string,
    p: RequestOrigin & Record<string, unknown>,
    more?: Partial<NewLogEntry>,
  ): NewLogEntry => {
    const client_id = typeof p.client_id === "string" ? p.client_id : undefined;
    const connection = typeof p.connection === "string" ? p.connection : undefined;
    const phone = typeof p.phone_number === "string" ? p.phone_number : undefined;
    const entry: NewLogEntry = { date, type, description };
    if (client_id) {
      entry.client_id = client_id;
      entry.client_name = clientName(client_id) ?? "";
    }
    if (p.ip) {
      entry.ip = p.ip;
      entry.client_ip = p.ip;
    }
    if (p.user_agent) entry.user_agent = p.user_agent.slice(0, 512);
    if (p.hostname) entry.hostname = p.hostname;
    if (typeof p.user_id === "string") entry.user_id = p.user_id;
    if (phone) entry.user_name = maskPhone(phone);
    if (connection) {
      entry.connection = connection;
      entry.strategy = "sms";
      entry.strategy_type = "passwordless";
    }
    return more ? Object.assign(entry, more) : entry;
  };
  const p = payload as unknown as RequestOrigin & Record<string, unknown>;
  switch (name) {
    case "code.sent": {
      const e = payload as Payload<"code.sent">;
      return base("cs", LOG_TYPES.cs, p, {
        details: {
          body: { connection: e.connection, client_id: e.client_id, send: "code" },
          channel: e.channel,
          ...(e.provider ? { provider: e.provider } : {}),
        },
      });
    }
    case "delivery.failed":
      return base("fn", LOG_TYPES.fn, p, { details: { error: (payload as Payload<"delivery.failed">).reason } });
    case "code.failed": {
      const { reason } = payload as Payload<"code.failed">;
      if (reason === "ceiling")
        return base("limit_wc", "Too many failed code attempts for this phone number", p, { details: { reason } });
      const description =
        reason === "exhausted"
          ? "You've reached the maximum number of attempts. Please try to login again."
          : WRONG_CODE;
      return base("fepotpft", description, p, { details: { reason, error: description } });
    }
    case "user.logged_in": {
      const e = payload as Payload<"user.logged_in">;
      return base("s", LOG_TYPES.s, p, {
        details: { prompts: [], ...(e.logins_count !== undefined ? { stats: { loginsCount: e.logins_count } } : {}) },
      });
    }
    case "login.failed": {
      const { reason } = payload as Payload<"login.failed">;
      return base("f", reason, p, { details: { error: { message: reason } } });
    }
    case "user.created":
      return base("ss", LOG_TYPES.ss, p, { details: { body: { connection: p.connection } } });
    case "signup.refused": {
      const reason = (payload as Payload<"signup.refused">).reason ?? "Public signup is disabled";
      return base("fs", reason, p, { details: { error: { message: reason } } });
    }
    case "refresh_token.reused":
      return base("ferrt", "Unsuccessful Refresh Token exchange, reused refresh token detected", p);
    case "user.blocked":
      return base("sapi", "Block a user", p, { details: { blocked: true } });
    case "user.unblocked":
      return base("sapi", "Unblock a user", p, { details: { blocked: false } });
    case "user.deleted":
      return base("sdu", "User deleted", p, { details: { body: { connection: p.connection } } });
    case "client_credentials.granted": {
      const e = payload as Payload<"client_credentials.granted">;
      return base("seccft", "Client Credentials for Access Token", p, { audience: e.audience, scope: e.scope });
    }
    case "client_credentials.failed": {
      const e = payload as Payload<"client_credentials.failed">;
      return base("feccft", e.description, p, {
        ...(e.audience ? { audience: e.audience } : {}),
        ...(e.scope ? { scope: e.scope } : {}),
        details: { error: e.error },
      });
    }
    case "management.called": {
      const e = payload as Payload<"management.called">;
      const failed = e.status >= 400;
      if (!failed && e.method === "GET") return undefined;
      return base(failed ? "fapi" : "sapi", `${failed ? "Failed" : "Successful"} Management API operation`, p, {
        ...(e.scope ? { scope: e.scope } : {}),
        details: {
          request: {
            method: e.method,
            path: e.path,
            query: e.query,
            ...(e.body ? { body: maskBody(e.body) } : {}),
          },
          response: { statusCode: e.status },
        },
      });
    }
    case "session.used": {
      const e = payload as Payload<"session.used">;
      if (!e.silent) return undefined;
      return base("ssa", LOG_TYPES.ssa, p, { details: { session_id: e.sid } });
    }
    case "session.missing":
      return base("fsa", "Login required", p, { details: { error: "login_required" } });
    case "session.ended":
      return base("slo", LOG_TYPES.slo, p, { details: { sessions: (payload as Payload<"session.ended">).sids } });
    case "request.refused": {
      const { reason, endpoint } = payload as Payload<"request.refused">;
      const type: LogType =
        reason === "ip_limit"
          ? "api_limit"
          : reason === "phone_limit" || reason === "resend_cooldown"
            ? "limit_phone"
            : "fn";
      return base(type, `Request refused: ${reason}`, p, { details: { reason, ...(endpoint ? { endpoint } : {}) } });
    }
  }
  return undefined;
}

/** A Management API request body as logged: a phone number in it is masked like `user_name`. */
function maskBody(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body };
  if (typeof out.phone_number === "string") out.phone_number = maskPhone(out.phone_number);
  for (const key of ["password", "client_secret", "otp", "code"]) if (key in out) out[key] = "[redacted]";
  return out;
}
