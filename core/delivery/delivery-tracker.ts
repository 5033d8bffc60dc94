import type { ConnectionConfig, TextlockConfig } from "../config/schema.js";
import { inject, injectable } from "../container/di.js";
import { CLOCK, type Clock, CONFIG, DELIVERY_STORE, EVENTS, LOGGER } from "../di-tokens.js";
import { allowedChannels } from "../engine/channels.js";
import type { TextlockEvents } from "../events/events.js";
import type { Logger } from "../logger.js";
import type { VendorReceipt } from "../providers/receipts.js";
import type { DeliveryChannel } from "../providers/sms-provider.js";
import type { DeliveryStore, EscalationPlan } from "./delivery-store.js";

/**
 * Re-sends the live code of a (connection, phone) over another channel: the engine's
 * `resendLiveCode`. `sent`; `already_sent` (the code already went over that channel, e.g. the person
 * switched by hand); `no_live_code` or `suppressed` (used, expired, replaced; a blocked user).
 */
export interface LiveCodeResender {
  resend(input: {
    connection: ConnectionConfig;
    phone: string;
    channel: DeliveryChannel;
  }): Promise<{ status: "sent" | "already_sent" | "no_live_code" | "suppressed" }>;
}

/** Why an escalation step runs. */
export type EscalationReason = "timeout" | "failed" | "undelivered";

/**
 * Applies delivery receipts to the codes' records and carries out escalations.
 *
 * Escalation works with any number of processes: the plan (channels left, next step, due time) lives
 * with the code in the shared store, and a step runs when it is due (each process sweeps the due set
 * every `delivery.escalationSweepMs`) or at once when a `failed`/`undelivered` receipt arrives. Before
 * a step runs, the store moves the plan from that step to the next in one atomic operation: exactly
 * one process wins it, so each channel is tried once, whoever sweeps. A `delivered` receipt ends the
 * plan. The re-send itself goes through the engine, which sends the same live code (refusing a code
 * that is used, expired or replaced) and charges the phone's limits and budget as any send.
 */
@injectable()
export class DeliveryTracker {
  private timer: NodeJS.Timeout | undefined;
  private resender: LiveCodeResender | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    @inject(CONFIG) private readonly config: TextlockConfig,
    @inject(DELIVERY_STORE) private readonly store: DeliveryStore,
    @inject(EVENTS) private readonly events: TextlockEvents,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(CLOCK) private readonly now: Clock,
  ) {}

  /** Starts the escalation sweep (only when a connection escalates); the timer never keeps the process alive. */
  start(resender: LiveCodeResender): void {
    this.resender = resender;
    if (this.timer || !this.config.connections.some((c) => c.options.escalation)) return;
    this.timer = setInterval(() => void this.sweep(), this.config.delivery.escalationSweepMs);
    this.timer.unref();
  }

  /** The escalation plan for a code first sent over `channel`, if its connection escalates and has channels left. */
  planFor(
    connection: ConnectionConfig,
    channel: string,
    clientId: string,
    language: string | null,
  ): EscalationPlan | undefined {
    const escalation = connection.options.escalation;
    if (!escalation) return undefined;
    // Along the escalation list, or the connection's channel list (default first); never the channel
    // the code just went over.
    const channels = (escalation.channels ?? allowedChannels(connection)).filter((c) => c !== channel);
    if (!channels.length) return undefined;
    return { clientId, language, channels, step: 0, dueAt: this.now() + escalation.after_seconds * 1000 };
  }

  /** Applies authentic receipts from `provider`: state, events, metrics, and escalation on a failure. */
  async apply(provider: string, receipts: readonly VendorReceipt[]): Promise<void> {
    for (const receipt of receipts) {
      const at = this.now();
      const update = await this.store.recordReceipt({
        provider,
        messageId: receipt.messageId,
        status: receipt.status,
        at,
      });
      if (!update) {
        this.logger.debug({ provider, status: receipt.vendorStatus }, "receipt for a message textlock does not track");
        continue;
      }
      const { message, previous, key } = update;
      if (message.status === previous) continue;
      const { connection, phone } = splitKey(key);
      this.events.emit("delivery.updated", {
        connection,
        phone_number: phone,
        provider,
        channel: message.channel,
        message_id: message.messageId,
        status: message.status,
        previous,
        ...(message.status === "delivered" ? { seconds: Math.max(0, (at - message.sentAt) / 1000) } : {}),
      });
      if (receipt.errorCode) {
        this.logger.info(
          { provider, connection, status: receipt.vendorStatus, errorCode: receipt.errorCode },
          "message not delivered",
        );
      }
      if (message.status === "delivered") await this.stop(key, update.codeId);
      else if (message.status === "failed" || message.status === "undelivered")
        await this.escalate(key, message.status, message.messageId);
    }
  }

  /** One pass over the escalations that are due. Concurrent passes in one process are joined. */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        for (const key of await this.store.dueEscalations(this.now(), 100)) await this.escalate(key, "timeout");
      } catch (err) {
        this.logger.warn({ err: { message: (err as Error).message } }, "escalation sweep failed");
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  /**
   * Runs the next step of `key`'s plan if this process wins it. A failure receipt only escalates
   * when it is about the latest message (a late failure of an earlier channel changes nothing).
   */
  private async escalate(key: string, reason: EscalationReason, failedMessageId?: string): Promise<void> {
    const state = await this.store.state(key);
    const plan = state?.escalation;
    if (!state || !plan || plan.step >= plan.channels.length || !this.resender) return;
    if (failedMessageId && state.messages.at(-1)?.messageId !== failedMessageId) return;
    if (state.messages.some((m) => m.status === "delivered")) {
      await this.store.advanceEscalation(key, state.codeId, plan.step, null);
      return;
    }
    const { connection: name, phone } = splitKey(key);
    const connection = this.config.connections.find((c) => c.name === name);
    const channel = plan.channels[plan.step]!;
    const after = (connection?.options.escalation?.after_seconds ?? 0) * 1000;
    const next = plan.step + 1 < plan.channels.length ? { step: plan.step + 1, dueAt: this.now() + after } : null;
    if (!connection || !(await this.store.advanceEscalation(key, state.codeId, plan.step, next))) return;
    try {
      const sent = await this.resender.resend({ connection, phone, channel: channel as DeliveryChannel });
      if (sent.status === "already_sent") return;
      if (sent.status !== "sent") {
        // No live code any more (used, expired, replaced): nothing left to escalate.
        await this.store.advanceEscalation(key, state.codeId, next?.step ?? plan.channels.length, null);
        return;
      }
      this.events.emit("delivery.escalated", {
        connection: connection.name,
        client_id: plan.clientId,
        phone_number: phone,
        channel,
        reason,
      });
    } catch (err) {
      this.logger.warn(
        { connection: connection.name, channel, reason: (err as { code?: string }).code ?? (err as Error)?.name },
        "escalation send failed",
      );
    }
  }

  /** A delivered message ends the code's plan. */
  private async stop(key: string, codeId: string): Promise<void> {
    const plan = (await this.store.state(key))?.escalation;
    if (plan && plan.step < plan.channels.length) await this.store.advanceEscalation(key, codeId, plan.step, null);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The connection and phone of a code store key (`<connection>:<phone>`; connection names have no colon). */
export function splitKey(key: string): { connection: string; phone: string } {
  const cut = key.indexOf(":");
  return { connection: key.slice(0, cut), phone: key.slice(cut + 1) };
}
