import { extend } from "../extend.js";
import {
  DELIVERY_GRACE_MS,
  type DeliveryState,
  type DeliveryStore,
  type EscalationPlan,
  type MessageState,
  type ReceiptInput,
  type ReceiptUpdate,
  type SentMessage,
  STATUS_RANK,
} from "./delivery-store.js";

interface DeliveryRecord {
  codeId: string;
  /** Epoch ms after which the record is swept (the code's expiry plus a grace for late receipts). */
  keepUntil: number;
  messages: MessageState[];
  escalation?: EscalationPlan;
}

/**
 * The embedded, single-process DeliveryStore (next to the memory code store). Each method runs without
 * an `await` between its read and its write, so every step is a critical section on Node's one thread.
 */
export class MemoryDeliveryStore implements DeliveryStore {
  private readonly records = new Map<string, DeliveryRecord>();
  /** `provider\0messageId` → key. */
  private readonly messages = new Map<string, string>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async recordSend(
    key: string,
    code: { codeId: string; expiresAt: number },
    message: SentMessage,
    plan?: EscalationPlan,
  ): Promise<boolean> {
    let record = this.records.get(key);
    if (!record || record.codeId !== code.codeId) {
      if (record) for (const m of record.messages) this.messages.delete(`${m.provider}\0${m.messageId}`);
      record = { codeId: code.codeId, keepUntil: code.expiresAt + DELIVERY_GRACE_MS, messages: [] };
      this.records.set(key, record);
    }
    record.messages.push(extend(message, { status: "queued" as const, updatedAt: message.sentAt }));
    this.messages.set(`${message.provider}\0${message.messageId}`, key);
    if (plan) record.escalation = { ...plan, channels: [...plan.channels] };
    return true;
  }

  async recordReceipt(receipt: ReceiptInput): Promise<ReceiptUpdate | undefined> {
    const key = this.messages.get(`${receipt.provider}\0${receipt.messageId}`);
    const record = key === undefined ? undefined : this.records.get(key);
    const message = record?.messages.find((m) => m.provider === receipt.provider && m.messageId === receipt.messageId);
    if (!record || !message || key === undefined) return undefined;
    const previous = message.status;
    if (STATUS_RANK[receipt.status] > STATUS_RANK[previous]) {
      message.status = receipt.status;
      message.updatedAt = receipt.at;
    }
    return { key, codeId: record.codeId, message: { ...message }, previous };
  }

  async state(key: string): Promise<DeliveryState | undefined> {
    const record = this.records.get(key);
    if (!record) return undefined;
    return {
      codeId: record.codeId,
      messages: record.messages.map((m) => ({ ...m })),
      ...(record.escalation ? { escalation: { ...record.escalation, channels: [...record.escalation.channels] } } : {}),
    };
  }

  async dueEscalations(now: number, limit: number): Promise<string[]> {
    const due: Array<[string, number]> = [];
    for (const [key, record] of this.records) {
      const plan = record.escalation;
      if (plan && plan.step < plan.channels.length && plan.dueAt <= now) due.push([key, plan.dueAt]);
    }
    return due
      .sort((a, b) => a[1] - b[1])
      .slice(0, limit)
      .map(([key]) => key);
  }

  async advanceEscalation(
    key: string,
    codeId: string,
    fromStep: number,
    next: { step: number; dueAt: number } | null,
  ): Promise<boolean> {
    const plan = this.records.get(key)?.escalation;
    if (!plan || this.records.get(key)?.codeId !== codeId || plan.step !== fromStep) return false;
    if (next) {
      plan.step = next.step;
      plan.dueAt = next.dueAt;
    } else {
      plan.step = plan.channels.length;
    }
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, record] of this.records) {
      if (record.keepUntil > now) continue;
      for (const m of record.messages) this.messages.delete(`${m.provider}\0${m.messageId}`);
      this.records.delete(key);
    }
  }
}
