/**
 * Where each message of a code stands: `queued → sent → delivered | failed | undelivered`. A status
 * only moves forward; the three last ones are final.
 */
export type DeliveryStatus = "queued" | "sent" | "delivered" | "failed" | "undelivered";

/** Every {@link DeliveryStatus}, in order. */
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ["queued", "sent", "delivered", "failed", "undelivered"];

/** Order of the statuses; a receipt never moves a message backwards, and final statuses never change. */
export const STATUS_RANK: Record<DeliveryStatus, number> = {
  queued: 0,
  sent: 1,
  delivered: 2,
  failed: 2,
  undelivered: 2,
};

/** A message a provider accepted for a code. */
export interface SentMessage {
  /** Provider name (`twilio`, `vonage`). */
  provider: string;
  /** The vendor's message id (Twilio SID, Vonage message id or UUID). */
  messageId: string;
  channel: string;
  /** Epoch ms the provider accepted it. */
  sentAt: number;
}

/** A sent message and what its receipts said so far. */
export interface MessageState extends SentMessage {
  status: DeliveryStatus;
  /** Epoch ms of the last status change. */
  updatedAt: number;
}

/**
 * The channels still to try for a code when no `delivered` receipt arrives in time (or a `failed` /
 * `undelivered` one does). Kept with the code so any process can carry it out.
 */
export interface EscalationPlan {
  /** The client the code was requested through (the re-send is on its behalf). */
  clientId: string;
  /** The request language of the first send. */
  language: string | null;
  /** Channels to escalate to, in order. */
  channels: string[];
  /** Index in `channels` of the next escalation; `channels.length` when none is left. */
  step: number;
  /** Epoch ms at which the next step is due unless a `delivered` receipt arrives first. */
  dueAt: number;
}

/** The delivery record of one code. */
export interface DeliveryState {
  codeId: string;
  messages: MessageState[];
  escalation?: EscalationPlan;
}

/** What a receipt changed. */
export interface ReceiptUpdate {
  /** The store key (connection + phone) of the code the message carried. */
  key: string;
  codeId: string;
  message: MessageState;
  /** The status before this receipt. Equal to `message.status` when the receipt changed nothing. */
  previous: DeliveryStatus;
}

/** A receipt for a message textlock knows. */
export interface ReceiptInput {
  provider: string;
  messageId: string;
  status: DeliveryStatus;
  /** Epoch ms the receipt arrived. */
  at: number;
}

/**
 * Delivery state of codes, kept with the code's record (in Redis, fields of the code's own hash, so a
 * new code for the phone starts with a clean slate), and the due times of escalations. Every method is
 * atomic across the processes sharing the store; {@link advanceEscalation} has exactly one winner per
 * step, so a step is carried out once however many processes sweep.
 */
export interface DeliveryStore {
  /**
   * Records a message sent for the code `code.codeId` of `key`, and replaces the escalation plan when
   * one is given. False (nothing recorded) when the store knows `key` has another code by now.
   */
  recordSend(
    key: string,
    code: { codeId: string; expiresAt: number },
    message: SentMessage,
    plan?: EscalationPlan,
  ): Promise<boolean>;

  /**
   * Applies a receipt: the message's status moves forward (never back, never out of a final status).
   * Undefined when the message is unknown (never sent by textlock, or its code's record is gone).
   */
  recordReceipt(receipt: ReceiptInput): Promise<ReceiptUpdate | undefined>;

  /** The code's delivery record, if `key` has one. */
  state(key: string): Promise<DeliveryState | undefined>;

  /** Keys whose escalation is due at `now` (at most `limit`, earliest first). */
  dueEscalations(now: number, limit: number): Promise<string[]>;

  /**
   * Moves the escalation of `codeId` from step `fromStep` to `next` (`null`: no more escalation). True
   * for exactly one caller per step; false when the code changed or another caller moved it first.
   */
  advanceEscalation(
    key: string,
    codeId: string,
    fromStep: number,
    next: { step: number; dueAt: number } | null,
  ): Promise<boolean>;

  close(): Promise<void>;
}

/** How long a code's delivery record outlives the code, for receipts that arrive late. */
export const DELIVERY_GRACE_MS = 15 * 60_000;
