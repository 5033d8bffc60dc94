import { Counter, Gauge, type Registry } from "prom-client";
import type { TextlockConfig } from "../config/schema.js";
import { inject, injectable } from "../container/di.js";
import {
  AUDIT_DELIVERY,
  AUDIT_STORE,
  CLOCK,
  type Clock,
  CONFIG,
  EVENTS,
  LOGGER,
  METRICS_REGISTRY,
} from "../di-tokens.js";
import type { TextlockEvents } from "../events/events.js";
import type { Logger } from "../logger.js";
import type { AuditStore, LogSearch, StreamStatus } from "./audit-store.js";
import { AUDITED_EVENTS, recordOf } from "./event-records.js";
import { LOG_CATEGORIES, type LogCategory, type LogEntry, type NewLogEntry } from "./log-entry.js";
import { StreamDelivery } from "./stream-delivery.js";

/** Records kept in memory while the store cannot be written; beyond it the oldest are dropped (and counted). */
const MAX_QUEUED = 10_000;
const PURGE_EVERY_MS = 3_600_000;
/**
 * How long a record waits for others to share its transaction. A commit of SQLite's audit table costs
 * ~65 µs of CPU however few records it holds, so a batch per event-loop turn (2–3 records at a few
 * hundred logins/s) cost ~45 µs per record; a 25 ms window (~50 records) costs ~13 µs.
 */
const BATCH_MS = 25;
/** A batch this large is written at once, without waiting for the window. */
const BATCH_RECORDS = 256;

/**
 * The audit log: turns the instance's events into Auth0-shaped records, writes them in batches (one
 * transaction, with their stream outbox rows, per batch: group commit), mirrors committed records to
 * stdout when asked, purges old ones, and runs the log-stream deliveries.
 *
 * Records are written just after the event, off the request's path: a request is not slowed or failed
 * by the audit log, and a record is durable once its batch commits (within {@link BATCH_MS} of the
 * event, or as soon as {@link BATCH_RECORDS} records wait). While the store is unreachable records
 * wait in memory and are retried.
 */
@injectable()
export class AuditLog {
  private queue: Array<{ entry: NewLogEntry; streams: readonly string[] }> = [];
  private readonly streamsByCategory = new Map<LogCategory, readonly string[]>();
  private flushing: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private readonly deliveries: StreamDelivery[];
  private readonly recorded: Counter<"type">;
  private readonly writeErrors: Counter;
  private readonly dropped: Counter;
  private closed = false;

  constructor(
    @inject(AUDIT_STORE) readonly store: AuditStore,
    @inject(CONFIG) private readonly config: TextlockConfig,
    @inject(EVENTS) events: TextlockEvents,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(METRICS_REGISTRY) registry: Registry,
    @inject(CLOCK) private readonly now: Clock,
    @inject(AUDIT_DELIVERY) delivery: { enabled: boolean },
  ) {
    const registers = [registry];
    this.recorded = new Counter({
      name: "textlock_audit_records_total",
      help: "Audit records committed by this process, by Auth0 log event type.",
      labelNames: ["type"],
      registers,
    });
    this.writeErrors = new Counter({
      name: "textlock_audit_write_errors_total",
      help: "Failed writes of a batch of audit records (retried).",
      registers,
    });
    this.dropped = new Counter({
      name: "textlock_audit_dropped_total",
      help: "Audit records dropped because the store stayed unreachable and the in-memory queue was full.",
      registers,
    });
    const streamMetric = (name: string, help: string) =>
      new Counter({ name, help, labelNames: ["stream"] as const, registers });
    const delivered = streamMetric(
      "textlock_log_stream_delivered_total",
      "Log stream events delivered by this process.",
    );
    const failed = streamMetric(
      "textlock_log_stream_failures_total",
      "Failed log stream requests (retried with backoff).",
    );
    const dead = streamMetric(
      "textlock_log_stream_dead_letters_total",
      "Log stream events given up on by this process after maxAttempts.",
    );
    const counters = {
      delivered: (s: string, n: number) => delivered.inc({ stream: s }, n),
      failed: (s: string) => failed.inc({ stream: s }),
      deadLettered: (s: string, n: number) => dead.inc({ stream: s }, n),
    };
    this.deliveries =
      config.audit.enabled && delivery.enabled
        ? config.audit.streams.map((s) => new StreamDelivery(store, s, logger, counters))
        : [];
    if (this.deliveries.length) {
      const statusGauge = (name: string, help: string, pick: (s: StreamStatus) => number) =>
        new Gauge({
          name,
          help,
          labelNames: ["stream"] as const,
          registers,
          collect: async function (this: Gauge<"stream">) {
            for (const s of await audit.streamStatus().catch(() => [])) this.set({ stream: s.stream }, pick(s));
          },
        });
      const audit = this;
      statusGauge(
        "textlock_log_stream_pending",
        "Events waiting in a stream's outbox (all processes).",
        (s) => s.pending,
      );
      statusGauge(
        "textlock_log_stream_dead_letter_events",
        "Events of a stream given up on after maxAttempts (all processes).",
        (s) => s.deadLetters,
      );
    }
    if (!config.audit.enabled) return;
    const on = events.on.bind(events) as unknown as (name: string, listener: (payload: never) => void) => void;
    for (const name of AUDITED_EVENTS) {
      on(name, (payload) => this.record(recordOf(name, payload, config, new Date(this.now()).toISOString())));
    }
    for (const d of this.deliveries) d.start();
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_EVERY_MS).unref();
    void this.purge();
  }

  /** Queues a record (and its stream outbox rows) for the next batch. */
  record(entry: NewLogEntry | undefined): void {
    if (!entry || this.closed) return;
    this.queue.push({ entry, streams: this.streamsOf(LOG_CATEGORIES[entry.type]) });
    if (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      this.dropped.inc();
    }
    if (this.flushing) return; // written as soon as the batch on the disk is
    if (this.queue.length >= BATCH_RECORDS) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), BATCH_MS);
  }

  /** The streams (by name) a record of this category goes to; one shared, frozen list per category. */
  private streamsOf(category: LogCategory): readonly string[] {
    let names = this.streamsByCategory.get(category);
    if (!names) {
      names = Object.freeze(
        this.config.audit.streams
          .filter((s) => s.filters.length === 0 || s.filters.includes(category))
          .map((s) => s.name),
      );
      this.streamsByCategory.set(category, names);
    }
    return names;
  }

  /** Writes every queued record now; resolves once they are committed (or the write failed and will be retried). */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    while (this.flushing) await this.flushing;
    if (!this.queue.length) return;
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.write(batch).finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
    // Records queued meanwhile go next, unless the write failed: its retry timer is then set.
    if (this.queue.length && !this.closed && !this.flushTimer) await this.flush();
  }

  private async write(batch: Array<{ entry: NewLogEntry; streams: readonly string[] }>): Promise<void> {
    let stored: LogEntry[];
    try {
      stored = await this.store.append(batch);
    } catch (err) {
      this.writeErrors.inc();
      this.logger.warn({ err: { message: (err as Error).message }, records: batch.length }, "audit write failed");
      this.queue = [...batch, ...this.queue].slice(-MAX_QUEUED);
      if (!this.closed) this.flushTimer = setTimeout(() => void this.flush(), 1_000).unref();
      return;
    }
    // One increment per type and batch: prom-client hashes the labels of every call.
    const byType = new Map<string, number>();
    for (const e of stored) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
    for (const [type, n] of byType) this.recorded.inc({ type }, n);
    if (this.config.audit.stdout) {
      process.stdout.write(stored.map((e) => `${JSON.stringify({ log_id: e.log_id, data: e })}\n`).join(""));
    }
    for (const d of this.deliveries) if (batch.some((r) => r.streams.includes(d.stream.name))) d.wake();
  }

  /** Search mode of `GET /api/v2/logs`. */
  search(search: LogSearch): Promise<{ logs: LogEntry[]; total: number }> {
    return this.store.search(search);
  }

  /** Checkpoint mode: records after a sequence number, oldest first. */
  after(fromSeq: number, take: number): Promise<LogEntry[]> {
    return this.store.after(fromSeq, take);
  }

  /** The outbox state (shared by all processes) of the named streams, by default every configured one. */
  async streamStatus(names: readonly string[] = this.config.audit.streams.map((s) => s.name)): Promise<StreamStatus[]> {
    return Promise.all(names.map((name) => this.store.status(name)));
  }

  /** Deletes records older than `audit.retentionDays`; returns how many went. */
  async purge(): Promise<number> {
    const before = new Date(this.now() - this.config.audit.retentionDays * 86_400_000).toISOString();
    try {
      const n = await this.store.purge(before);
      if (n) this.logger.info({ records: n, before }, "audit records purged");
      return n;
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, "audit purge failed");
      return 0;
    }
  }

  /**
   * Writes what is queued, stops the deliveries (releasing their leases) and closes the store (unless
   * `keepStore`: a store the host provided to an instance that failed to start stays the host's).
   */
  async close(options: { keepStore?: boolean } = {}): Promise<void> {
    await this.flush().catch(() => {});
    this.closed = true;
    clearTimeout(this.flushTimer);
    clearInterval(this.purgeTimer);
    await Promise.all(this.deliveries.map((d) => d.stop()));
    if (!options.keepStore) await this.store.close();
  }
}
