import type { AuditStore, LogFilter, LogSearch, OutboxBatch, StreamStatus } from "./audit-store.js";
import { type LogEntry, logIdOf, type NewLogEntry, seqOf } from "./log-entry.js";

interface StreamState {
  owner?: string;
  leaseUntil: number;
  nextAttemptAt: number;
  lastError?: string;
  delivered: number;
  deadLetters: number;
  /** Pending rows: seq → attempts. */
  rows: Map<number, number>;
}

/** The audit log of one process (the `memory` user store): lost on restart, like those users. */
export class MemoryAuditStore implements AuditStore {
  private readonly entries: LogEntry[] = [];
  private readonly streams = new Map<string, StreamState>();
  private seq = 0;

  async append(records: ReadonlyArray<{ entry: NewLogEntry; streams: readonly string[] }>): Promise<LogEntry[]> {
    return records.map(({ entry, streams }) => {
      const seq = ++this.seq;
      const stored = { log_id: logIdOf(seq), ...entry };
      this.entries.push(stored);
      for (const name of streams) this.state(name).rows.set(seq, 0);
      return stored;
    });
  }

  async search({ filter = {}, order = -1, offset = 0, limit = 50 }: LogSearch) {
    const matches = this.entries.filter((e) => matchesFilter(e, filter));
    if (order === -1) matches.reverse();
    return { logs: matches.slice(offset, offset + limit), total: matches.length };
  }

  async after(fromSeq: number, take: number): Promise<LogEntry[]> {
    return this.entries.filter((e) => seqOf(e.log_id)! > fromSeq).slice(0, take);
  }

  async purge(beforeIso: string): Promise<number> {
    const keep = this.entries.filter((e) => e.date >= beforeIso);
    const gone = this.entries.length - keep.length;
    const kept = new Set(keep.map((e) => seqOf(e.log_id)!));
    this.entries.splice(0, this.entries.length, ...keep);
    for (const state of this.streams.values())
      for (const seq of state.rows.keys()) if (!kept.has(seq)) state.rows.delete(seq);
    return gone;
  }

  async claim(stream: string, owner: string, leaseMs: number, limit: number, now: number) {
    const state = this.state(stream);
    if ((state.owner && state.owner !== owner && state.leaseUntil > now) || state.nextAttemptAt > now) return undefined;
    state.owner = owner;
    state.leaseUntil = now + leaseMs;
    const seqs = [...state.rows.keys()].sort((a, b) => a - b).slice(0, limit);
    if (!seqs.length) return undefined;
    const bySeq = new Map(this.entries.map((e) => [seqOf(e.log_id)!, e]));
    return {
      entries: seqs.map((s) => bySeq.get(s)).filter((e): e is LogEntry => e !== undefined),
      attempts: state.rows.get(seqs[0]!) ?? 0,
    } satisfies OutboxBatch;
  }

  async ack(stream: string, seqs: readonly number[]): Promise<void> {
    const state = this.state(stream);
    for (const s of seqs) if (state.rows.delete(s)) state.delivered++;
    state.lastError = undefined;
  }

  async retry(stream: string, seqs: readonly number[], nextAttemptAt: number, error: string): Promise<void> {
    const state = this.state(stream);
    for (const s of seqs) if (state.rows.has(s)) state.rows.set(s, state.rows.get(s)! + 1);
    state.nextAttemptAt = nextAttemptAt;
    state.lastError = error;
  }

  async deadLetter(stream: string, seqs: readonly number[], error: string): Promise<void> {
    const state = this.state(stream);
    for (const s of seqs) if (state.rows.delete(s)) state.deadLetters++;
    state.nextAttemptAt = 0;
    state.lastError = error;
  }

  async release(stream: string, owner: string): Promise<void> {
    const state = this.state(stream);
    if (state.owner === owner) state.owner = undefined;
  }

  async status(stream: string): Promise<StreamStatus> {
    const s = this.state(stream);
    return {
      stream,
      pending: s.rows.size,
      deadLetters: s.deadLetters,
      delivered: s.delivered,
      ...(s.lastError ? { lastError: s.lastError } : {}),
      ...(s.nextAttemptAt > Date.now() ? { nextAttemptAt: s.nextAttemptAt } : {}),
    };
  }

  async close(): Promise<void> {}

  private state(stream: string): StreamState {
    let state = this.streams.get(stream);
    if (!state) {
      state = { leaseUntil: 0, nextAttemptAt: 0, delivered: 0, deadLetters: 0, rows: new Map() };
      this.streams.set(stream, state);
    }
    return state;
  }
}

/** Whether an entry matches a search filter (the memory store; the SQL stores filter in SQL). */
export function matchesFilter(e: LogEntry, f: LogFilter): boolean {
  return (
    (!f.type || f.type.includes(e.type)) &&
    (f.user_id === undefined || e.user_id === f.user_id) &&
    (f.client_id === undefined || e.client_id === f.client_id) &&
    (f.connection === undefined || e.connection === f.connection) &&
    (f.ip === undefined || e.ip === f.ip) &&
    (f.dateFrom === undefined || e.date >= f.dateFrom) &&
    (f.dateTo === undefined || e.date <= f.dateTo)
  );
}
