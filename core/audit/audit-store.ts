import type { LogEntry, NewLogEntry } from "./log-entry.js";

/** Filters of a log search (`q` of `GET /api/v2/logs`, parsed by logs-query.ts). */
export interface LogFilter {
  type?: string[];
  user_id?: string;
  client_id?: string;
  connection?: string;
  ip?: string;
  /** ISO times, inclusive. */
  dateFrom?: string;
  dateTo?: string;
}

export interface LogSearch {
  filter?: LogFilter;
  /** `-1` newest first (Auth0's default `date:-1`), `1` oldest first. */
  order?: 1 | -1;
  offset?: number;
  limit?: number;
}

/** Rows of one stream's outbox handed to the process that holds the stream's lease, oldest first. */
export interface OutboxBatch {
  entries: LogEntry[];
  /** Delivery attempts already made for the batch's oldest row. */
  attempts: number;
}

/** What an operator sees of a stream (`textlock logs streams`, metrics). */
export interface StreamStatus {
  stream: string;
  /** Records waiting for delivery. */
  pending: number;
  /** Records given up on after `maxAttempts` (dead letters). */
  deadLetters: number;
  delivered: number;
  lastError?: string;
  /** Epoch ms of the next attempt when the stream is backing off. */
  nextAttemptAt?: number;
}

/**
 * The durable audit log and its log-stream outbox, in one database so a record and its outbox rows are
 * written in one transaction: a record is either in the log and queued for every stream, or not at all.
 *
 * Delivery is per stream and in order: a process delivers a stream only while it holds the stream's
 * lease (taken atomically in the database, so several processes never send the same batch at once;
 * a lease that runs out, e.g. after the holder was killed, is taken over: at least once).
 */
export interface AuditStore {
  /** Appends records (numbered in this order) and queues each for the given streams. */
  append(records: ReadonlyArray<{ entry: NewLogEntry; streams: readonly string[] }>): Promise<LogEntry[]>;
  /** Search mode: filtered, ordered by log_id, with the total count of matches. */
  search(search: LogSearch): Promise<{ logs: LogEntry[]; total: number }>;
  /** Checkpoint mode: records after `fromSeq` (exclusive; 0 = from the start), oldest first. */
  after(fromSeq: number, take: number): Promise<LogEntry[]>;
  /** Deletes records dated before `beforeIso` and their outbox rows; returns how many records went. */
  purge(beforeIso: string): Promise<number>;
  /**
   * Takes (or renews) the lease of a stream for `owner` until `now + leaseMs` when no other owner holds
   * a live one and the stream is not backing off; then returns its oldest `limit` pending rows.
   */
  claim(stream: string, owner: string, leaseMs: number, limit: number, now: number): Promise<OutboxBatch | undefined>;
  /** The batch was delivered: its rows leave the outbox. */
  ack(stream: string, seqs: readonly number[]): Promise<void>;
  /** The batch failed: count an attempt and wait until `nextAttemptAt` (epoch ms) before the next. */
  retry(stream: string, seqs: readonly number[], nextAttemptAt: number, error: string): Promise<void>;
  /** The batch failed its last attempt: its rows become dead letters and the stream moves on. */
  deadLetter(stream: string, seqs: readonly number[], error: string): Promise<void>;
  /** Gives up the lease (on close), so another process can take over at once. */
  release(stream: string, owner: string): Promise<void>;
  status(stream: string): Promise<StreamStatus>;
  close(): Promise<void>;
}
