import type { ConnectionConfig } from "../config/schema.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { DeliveryChannel } from "../providers/sms-provider.js";

/** `delivery_method` values of `/passwordless/start` (Auth0's `text`/`voice`, plus `whatsapp`) and their channel. */
export const DELIVERY_METHODS: Readonly<Record<string, DeliveryChannel>> = {
  text: "sms",
  voice: "voice",
  whatsapp: "whatsapp",
};

/** The `delivery_method` name of a channel (`sms` is Auth0's `text`). */
export function deliveryMethodOf(channel: DeliveryChannel): "text" | "voice" | "whatsapp" {
  return channel === "sms" ? "text" : channel;
}

/** The connection's default channel (its `delivery`). */
export function defaultChannel(connection: ConnectionConfig): DeliveryChannel {
  const delivery = connection.options.delivery;
  return delivery === "text" ? "sms" : delivery;
}

/** The channels the connection allows, default first. */
export function allowedChannels(connection: ConnectionConfig): DeliveryChannel[] {
  const preferred = defaultChannel(connection);
  const listed = connection.options.channels ?? [preferred];
  return [preferred, ...listed.filter((c) => c !== preferred)];
}

/**
 * Whether a live code of this connection can ever be sent again over another channel (a
 * `delivery_method` switch or an escalation): only then does the engine keep a sealed copy of it.
 */
export function canResend(connection: ConnectionConfig): boolean {
  return allowedChannels(connection).length > 1 || connection.options.escalation !== undefined;
}

/**
 * The channel a code request asks for: the connection's default when `deliveryMethod` is absent;
 * 400 `bad.request` for an unknown value or a channel the connection does not allow.
 */
export function requestedChannel(connection: ConnectionConfig, deliveryMethod: unknown): DeliveryChannel {
  if (deliveryMethod === undefined) return defaultChannel(connection);
  const channel =
    typeof deliveryMethod === "string" && Object.hasOwn(DELIVERY_METHODS, deliveryMethod)
      ? DELIVERY_METHODS[deliveryMethod]!
      : undefined;
  if (!channel) throw new TextlockError("ERR_BAD_DELIVERY_METHOD");
  return requireAllowedChannel(connection, channel);
}

/** `channel`, when the connection allows it; else 400 `ERR_CHANNEL_NOT_ALLOWED`. */
export function requireAllowedChannel(connection: ConnectionConfig, channel: DeliveryChannel): DeliveryChannel {
  if (!allowedChannels(connection).includes(channel)) {
    throw new TextlockError("ERR_CHANNEL_NOT_ALLOWED", {
      description: `The connection ${connection.name} does not deliver codes by ${deliveryMethodOf(channel)}`,
    });
  }
  return channel;
}
