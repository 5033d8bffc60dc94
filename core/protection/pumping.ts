/** What is watched: a number prefix (the number without its last 4 digits) or an ISO country. */
export interface PumpingSubject {
  scope: "prefix" | "country";
  /** The prefix (`+1415555`) or the country (`US`). */
  value: string;
  /** Codes sent in the window before its ratio is judged. */
  minSends: number;
}

export interface PumpingParams {
  windowMs: number;
  minVerifiedRatio: number;
  quarantineMs: number;
}

/** The state of one subject as a check or a record found it. */
export type PumpingState =
  | { state: "ok" }
  /** Quarantined until `until` (epoch ms); `extended` when an ended quarantine was renewed. */
  | { state: "quarantined"; until: number }
  /** This call flagged it (a send brought the ratio under the threshold). */
  | { state: "detected"; until: number; sent: number; verified: number }
  /** This call ended its quarantine: the window no longer shows pumping. */
  | { state: "cleared"; sent: number; verified: number };

/**
 * Codes sent and verified per subject over a sliding window of 10 buckets, and the quarantine flag.
 * Every operation is atomic. This is the in-process store; on Redis the same counting runs inside the
 * steps script (core/protection/redis-steps.ts), so exactly one process sees a given change
 * (`detected`, `cleared`) and reports it.
 */
export interface PumpingStore {
  /** Before a start: is any subject quarantined? An ended quarantine is cleared, or renewed if still pumped. */
  check(subjects: PumpingSubject[], now: number, p: PumpingParams): Promise<PumpingState[]>;
  /** After a send left (`sent`) or a code was verified (`verified`); a send may flag the subject. */
  record(kind: "sent" | "verified", subjects: PumpingSubject[], now: number, p: PumpingParams): Promise<PumpingState[]>;
}

export const BUCKETS = 10;
export const bucketMs = (p: PumpingParams) => Math.max(1, Math.ceil(p.windowMs / BUCKETS));
const pumped = (sent: number, verified: number, min: number, ratio: number) => sent >= min && verified < ratio * sent;
/** Kept long enough that an ended quarantine is normally seen (and reported cleared) by a later start. */
export const ttlMs = (p: PumpingParams) => 2 * (p.windowMs + p.quarantineMs) + bucketMs(p);

export class MemoryPumpingStore implements PumpingStore {
  private readonly subjects = new Map<string, { buckets: Map<number, { s: number; v: number }>; until?: number }>();

  private entry(s: PumpingSubject) {
    const key = `${s.scope}:${s.value}`;
    let e = this.subjects.get(key);
    if (!e) {
      e = { buckets: new Map() };
      this.subjects.set(key, e);
    }
    return e;
  }

  private window(e: { buckets: Map<number, { s: number; v: number }> }, now: number, p: PumpingParams) {
    const cur = Math.floor(now / bucketMs(p));
    let sent = 0;
    let verified = 0;
    for (const [idx, b] of e.buckets) {
      if (idx <= cur - BUCKETS) e.buckets.delete(idx);
      else {
        sent += b.s;
        verified += b.v;
      }
    }
    return { sent, verified };
  }

  async check(subjects: PumpingSubject[], now: number, p: PumpingParams): Promise<PumpingState[]> {
    return subjects.map((s) => {
      const e = this.subjects.get(`${s.scope}:${s.value}`);
      if (e?.until === undefined) return { state: "ok" };
      if (e.until > now) return { state: "quarantined", until: e.until };
      const w = this.window(e, now, p);
      if (pumped(w.sent, w.verified, s.minSends, p.minVerifiedRatio)) {
        e.until = now + p.quarantineMs;
        return { state: "quarantined", until: e.until };
      }
      e.until = undefined;
      return { state: "cleared", ...w };
    });
  }

  async record(
    kind: "sent" | "verified",
    subjects: PumpingSubject[],
    now: number,
    p: PumpingParams,
  ): Promise<PumpingState[]> {
    const cur = Math.floor(now / bucketMs(p));
    return subjects.map((s) => {
      const e = this.entry(s);
      const b = e.buckets.get(cur) ?? { s: 0, v: 0 };
      if (kind === "sent") b.s++;
      else b.v++;
      e.buckets.set(cur, b);
      const w = this.window(e, now, p);
      if (kind === "sent" && e.until === undefined && pumped(w.sent, w.verified, s.minSends, p.minVerifiedRatio)) {
        e.until = now + p.quarantineMs;
        return { state: "detected", until: e.until, ...w };
      }
      return { state: "ok" };
    });
  }
}
