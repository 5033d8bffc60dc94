import { createHmac, randomUUID } from "node:crypto";
import type { Logger } from "../logger.js";
import type { LogStreamConfig } from "./audit-schema.js";
import type { AuditStore, OutboxBatch } from "./audit-store.js";
import { type LogEntry, seqOf } from "./log-entry.js";

/** The header carrying the body's signature: `sha256=<hex HMAC-SHA256(stream secret, raw body)>`. */
export const SIGNATURE_HEADER = "x-textlock-signature";

/** `sha256=<hex>` of a body, as sent in {@link SIGNATURE_HEADER}; receivers recompute and compare in constant time. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** The request body of a batch in the stream's format; each event is Auth0's `{log_id, data}`. */
export function batchBody(format: LogStreamConfig["format"], entries: readonly LogEntry[]): string {
  const events = entries.map((e) => ({ log_id: e.log_id, data: e }));
  if (format === "JSONLINES") return events.map((e) => JSON.stringify(e)).join("\n");
  if (format === "JSONOBJECT") return JSON.stringify({ logs: events });
  return JSON.stringify(events);
}

/** Counters a delivery reports to (the audit log's metrics). */
export interface DeliveryCounters {
  delivered(stream: string, n: number): void;
  failed(stream: string): void;
  deadLettered(stream: string, n: number): void;
}

/**
 * Delivers one stream from the outbox: takes the stream's lease, sends its oldest batch, and on a 2xx
 * removes it; otherwise waits (exponential backoff, shared by every process through the store) and
 * sends the same batch again, until `maxAttempts`, when the batch becomes dead letters. Only the lease
 * holder sends, batches in log order, so a stream is delivered in order and at least once.
 */
export class StreamDelivery {
  /** This process's identity as a lease holder. */
  readonly owner = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Set by a failed attempt: when to look again (the store refuses the stream to everyone until then). */
  private retryIn: number | undefined;

  constructor(
    private readonly store: AuditStore,
    readonly stream: LogStreamConfig,
    private readonly logger: Logger,
    private readonly counters: DeliveryCounters,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** New records were committed: deliver soon rather than at the next poll. */
  wake(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.store.release(this.stream.name, this.owner).catch(() => {});
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.drain().finally(() => {
        this.running = undefined;
        const next = this.retryIn ?? this.stream.pollMs;
        this.retryIn = undefined;
        if (!this.stopped) this.schedule(next);
      });
    }, ms);
    this.timer.unref();
  }

  /** Sends batches while there are any and the last one was accepted. */
  private async drain(): Promise<void> {
    const { name, leaseSeconds, batchSize } = this.stream;
    try {
      while (!this.stopped) {
        const batch = await this.store.claim(name, this.owner, leaseSeconds * 1000, batchSize, this.now());
        if (!batch) return;
        if (!(await this.send(batch))) return;
      }
    } catch (err) {
      this.logger.warn({ stream: name, err: { message: (err as Error).message } }, "log stream delivery paused");
    }
  }

  private async send(batch: OutboxBatch): Promise<boolean> {
    const { name, url, format, authorization, secret, headers, timeoutMs } = this.stream;
    const seqs = batch.entries.map((e) => seqOf(e.log_id)!);
    const body = batchBody(format, batch.entries);
    let error: string;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          ...headers,
          "content-type": format === "JSONLINES" ? "application/x-ndjson" : "application/json",
          ...(authorization ? { authorization } : {}),
          ...(secret ? { [SIGNATURE_HEADER]: signBody(secret, body) } : {}),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => {});
      if (res.ok) {
        await this.store.ack(name, seqs);
        this.counters.delivered(name, seqs.length);
        return true;
      }
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).name === "TimeoutError" ? "timeout" : `network error: ${(err as Error).message}`;
    }
    this.counters.failed(name);
    const attempts = batch.attempts + 1;
    if (attempts >= this.stream.maxAttempts) {
      await this.store.deadLetter(name, seqs, error);
      this.counters.deadLettered(name, seqs.length);
      this.logger.error({ stream: name, events: seqs.length, attempts, error }, "log stream events dead-lettered");
      return true;
    }
    const wait = Math.min(this.stream.maxBackoffMs, this.stream.initialBackoffMs * 2 ** (attempts - 1));
    await this.store.retry(name, seqs, this.now() + wait, error);
    this.logger.warn({ stream: name, attempts, retryInMs: wait, error }, "log stream delivery failed");
    this.retryIn = wait;
    return false;
  }
}
