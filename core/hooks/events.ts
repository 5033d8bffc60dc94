import type { ClientConfig, ConnectionConfig, TextlockConfig } from "../config/schema.js";
import type { RequestFacts } from "../engine/types.js";
import { phoneFacts } from "../phone/phone-facts.js";
import type { SmsMessage } from "../providers/sms-provider.js";
import type { User } from "../users/user-store.js";
import type { HookContext } from "./hook-runner.js";
import type {
  CustomPhoneProviderEvent,
  HookClient,
  HookConnection,
  HookMessageOptions,
  HookNotification,
  HookPhone,
  HookRequest,
  HookTransaction,
  HookUser,
  PostLoginEvent,
  PostUserRegistrationEvent,
  PreSendEvent,
  PreUserRegistrationEvent,
  SendPhoneMessageEvent,
} from "./types.js";

// Auth0 Actions `event` objects, built from plain data once for both runners (sandbox and function).
// Secrets are added by the runner, so they are typed out here.

type WithoutSecrets<E> = Omit<E, "secrets">;

export const clientEvent = (c: ClientConfig): HookClient => ({ client_id: c.client_id, name: c.name, metadata: {} });
export const connectionEvent = (c: ConnectionConfig): HookConnection => ({
  id: `con_${c.name}`,
  name: c.name,
  strategy: "sms",
  metadata: {},
});
export const requestEvent = (r: RequestFacts): HookRequest => ({
  ip: r.ip ?? "",
  method: r.method ?? "POST",
  hostname: r.host ?? "",
  language: r.xRequestLanguage ?? r.acceptLanguage ?? "",
  user_agent: r.userAgent ?? "",
  geoip: {},
});
export const userEvent = (u: User): HookUser => ({
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
const transactionEvent = (scope: string | undefined): HookTransaction => ({
  protocol: "oauth2-password",
  requested_scopes: (scope ?? "").split(" ").filter(Boolean),
});
const TENANT = { id: "textlock" } as const;

export function preUserRegistrationEvent(
  ctx: HookContext & { phone_number: string },
): WithoutSecrets<PreUserRegistrationEvent> {
  return {
    user: { phone_number: ctx.phone_number, user_metadata: {}, app_metadata: {} },
    connection: connectionEvent(ctx.connection),
    client: clientEvent(ctx.client),
    request: requestEvent(ctx.request),
    transaction: transactionEvent(ctx.scope),
    tenant: TENANT,
  };
}

export function postUserRegistrationEvent(
  ctx: HookContext & { user: User },
): WithoutSecrets<PostUserRegistrationEvent> {
  return {
    user: userEvent(ctx.user),
    connection: connectionEvent(ctx.connection),
    client: clientEvent(ctx.client),
    request: requestEvent(ctx.request),
    tenant: TENANT,
  };
}

export function postLoginEvent(ctx: HookContext & { user: User }, now: Date): WithoutSecrets<PostLoginEvent> {
  return {
    user: userEvent(ctx.user),
    connection: connectionEvent(ctx.connection),
    client: clientEvent(ctx.client),
    request: requestEvent(ctx.request),
    stats: { logins_count: ctx.user.logins_count },
    transaction: transactionEvent(ctx.scope),
    authentication: { methods: [{ name: "sms", timestamp: now.toISOString() }] },
    resource_server: ctx.audience ? { identifier: ctx.audience } : undefined,
    tenant: TENANT,
  };
}

/** `event.phone` of pre-send, from libphonenumber-js metadata. */
export function phoneEvent(phone: string): HookPhone {
  const { country, lineType } = phoneFacts(phone);
  return { number: phone, country: country ?? null, line_type: lineType ?? null };
}

export function preSendEvent(
  ctx: HookContext & { phone: string; channel: "sms" | "voice" | "whatsapp" },
): WithoutSecrets<PreSendEvent> {
  return {
    phone: phoneEvent(ctx.phone),
    channel: ctx.channel,
    connection: connectionEvent(ctx.connection),
    client: clientEvent(ctx.client),
    request: requestEvent(ctx.request),
    tenant: TENANT,
  };
}

/** `event.notification` of the custom-phone-provider trigger. */
export function notificationEvent(message: SmsMessage): HookNotification {
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
export function messageOptionsEvent(message: SmsMessage): HookMessageOptions {
  return {
    action: "second-factor-authentication",
    code: message.code,
    message_type: message.channel === "voice" ? "voice" : "sms",
    recipient: message.to,
    text: message.body,
  };
}

/** The `event` of a delivery trigger, for the message of `/passwordless/start`. */
export function deliveryEvent(
  trigger: "custom-phone-provider" | "send-phone-message",
  message: SmsMessage,
  config: TextlockConfig,
  request: { ip?: string; userAgent?: string },
): WithoutSecrets<CustomPhoneProviderEvent> | WithoutSecrets<SendPhoneMessageEvent> {
  const client = config.clients.find((c) => c.client_id === message.client.client_id);
  const connection = config.connections.find((c) => c.name === message.connection);
  const common = {
    client: client ? clientEvent(client) : { ...message.client, metadata: {} },
    connection: connection
      ? connectionEvent(connection)
      : { id: `con_${message.connection}`, name: message.connection, strategy: "sms" as const, metadata: {} },
    request: requestEvent({
      ip: request.ip,
      userAgent: request.userAgent,
      xRequestLanguage: message.language ?? undefined,
    }),
    tenant: TENANT,
  };
  return trigger === "custom-phone-provider"
    ? { notification: notificationEvent(message), ...common }
    : { message_options: messageOptionsEvent(message), ...common };
}
