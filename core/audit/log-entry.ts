/**
 * One audit record in Auth0's tenant-log shape (`GET /api/v2/logs`, log streams). Never holds a code,
 * a secret, a token or a full phone number: `user_name` is the phone masked to its last 4 digits.
 */
export interface LogEntry {
  /** 56-digit numeric string, increasing in commit order of one store: Auth0's checkpoint cursor. */
  log_id: string;
  /** ISO time. */
  date: string;
  /** Auth0 log event type code (`cs`, `s`, `ss`, `fepotpft`, …; docs/guides/audit-log.md). */
  type: LogType;
  description: string;
  client_id?: string;
  client_name?: string;
  ip?: string;
  client_ip?: string;
  user_agent?: string;
  user_id?: string;
  /** The phone number masked to its last 4 digits (`+*******0100`). */
  user_name?: string;
  connection?: string;
  strategy?: string;
  strategy_type?: string;
  hostname?: string;
  audience?: string;
  scope?: string;
  details?: Record<string, unknown>;
}

/** A record before the store numbered it. */
export type NewLogEntry = Omit<LogEntry, "log_id">;

/** The Auth0 log event type codes textlock writes. */
export const LOG_TYPES = {
  cs: "Code sent",
  fn: "Failed sending notification",
  s: "Success Login",
  f: "Failed Login",
  fepotpft: "Failed passwordless OTP exchange",
  limit_wc: "Blocked account",
  limit_phone: "Too many sends to a phone number",
  api_limit: "Rate limit reached",
  ss: "Success Signup",
  fs: "Failed Signup",
  ferrt: "Refresh token reuse",
  sdu: "Successful user deletion",
  seccft: "Success Exchange (client credentials)",
  feccft: "Failed Exchange (client credentials)",
  sapi: "Success API Operation",
  fapi: "Failed API Operation",
  mgmt_api_read: "API GET operation",
  ssa: "Success Silent Auth",
  fsa: "Failed Silent Auth",
  slo: "Success Logout",
} as const;

export type LogType = keyof typeof LOG_TYPES;

/** Auth0 log-stream filter categories (`filters[].name`) of each type textlock writes. */
export const LOG_CATEGORIES = {
  cs: "user.notification",
  fn: "user.fail",
  s: "auth.login.success",
  f: "auth.login.fail",
  fepotpft: "auth.token_exchange.fail",
  limit_wc: "system.notification",
  limit_phone: "system.notification",
  api_limit: "system.notification",
  ss: "auth.signup.success",
  fs: "auth.signup.fail",
  ferrt: "auth.token_exchange.fail",
  sdu: "user.success",
  seccft: "auth.token_exchange.success",
  feccft: "auth.token_exchange.fail",
  sapi: "management.success",
  fapi: "management.fail",
  mgmt_api_read: "management.success",
  ssa: "auth.silent_auth.success",
  fsa: "auth.silent_auth.fail",
  slo: "auth.logout.success",
} as const satisfies Record<LogType, string>;

/** A log-stream filter category. */
export type LogCategory = (typeof LOG_CATEGORIES)[LogType];

/** `+14155550100` → `+*******0100`: only the last 4 digits stay readable. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, "");
  if (digits.length <= 4) return "*".repeat(phone.length);
  const keep = digits.slice(-4);
  return `${phone.startsWith("+") ? "+" : ""}${"*".repeat(digits.length - 4)}${keep}`;
}

const LOG_ID_WIDTH = 56;
const LOG_ID_PREFIX = "90";

/** The log_id of the store's sequence number: `90` then the number, zero-padded to 56 digits. */
export function logIdOf(seq: number): string {
  return LOG_ID_PREFIX + String(seq).padStart(LOG_ID_WIDTH - LOG_ID_PREFIX.length, "0");
}

/** The sequence number of a log_id, or `undefined` when it is not one of ours. */
export function seqOf(logId: string): number | undefined {
  if (!/^\d{56}$/.test(logId) || !logId.startsWith(LOG_ID_PREFIX)) return undefined;
  const seq = Number(logId.slice(LOG_ID_PREFIX.length));
  return Number.isSafeInteger(seq) ? seq : undefined;
}
