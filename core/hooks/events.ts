import type { ClientConfig, ConnectionConfig } from "../config/schema.js";
import type { RequestFacts } from "../engine/types.js";
import type { SmsMessage } from "../providers/sms-provider.js";
import type { User } from "../users/user-store.js";

// Auth0 Actions `event` shapes, built from plain data. Secrets are added by the runner.

export const clientEvent = (c: ClientConfig) => ({ client_id: c.client_id, name: c.name, metadata: {} });
export const connectionEvent = (c: ConnectionConfig) => ({ id: `con_${c.name}`, name: c.name, strategy: "sms", metadata: {} });
export const requestEvent = (r: RequestFacts) => ({
  ip: r.ip ?? "",
  method: r.method ?? "POST",
  hostname: r.host ?? "",
  language: r.xRequestLanguage ?? r.acceptLanguage ?? "",
  user_agent: r.userAgent ?? "",
  geoip: {},
});
export const userEvent = (u: User) => ({
  user_id: u.user_id,
  phone_number: u.phone_number,
  phone_verified: u.phone_verified,
  name: u.name,
  nickname: u.nickname,
  picture: u.picture,
  created_at: u.created_at,
  updated_at: u.updated_at,
  last_login: u.last_login,
  logins_count: u.logins_count,
  identities: u.identities,
  user_metadata: u.user_metadata,
  app_metadata: u.app_metadata,
});

/** `event.notification` of the custom-phone-provider trigger. */
export function notificationEvent(message: SmsMessage) {
  return {
    as_text: message.body,
    as_voice: message.body,
    code: message.code,
    delivery_method: message.channel === "voice" ? "voice" : "text",
    from: message.from ?? "",
    locale: (message.language?.split(",")[0]?.split(";")[0]?.trim() || "en").replace("-", "_"),
    message_type: "otp_verify",
    recipient: message.to,
  };
}

/** `event.message_options` of the send-phone-message trigger. */
export function messageOptionsEvent(message: SmsMessage) {
  return { action: "second-factor-authentication", code: message.code, message_type: message.channel, recipient: message.to, text: message.body };
}
