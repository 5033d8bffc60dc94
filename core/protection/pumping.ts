import type { RedisEval } from "./redis-eval.js";

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
 * Every operation is atomic per store (one Lua script per call on Redis), so exactly one process sees a
 * given change (`detected`, `cleared`) and reports it.
 */
export interface PumpingStore {
  /** Before a start: is any subject quarantined? An ended quarantine is cleared, or renewed if still pumped. */
  check(subjects: PumpingSubject[], now: number, p: PumpingParams): Promise<PumpingState[]>;
  /** After a send left (`sent`) or a code was verified (`verified`); a send may flag the subject. */
  record(kind: "sent" | "verified", subjects: PumpingSubject[], now: number, p: PumpingParams): Promise<PumpingState[]>;
}

const BUCKETS = 10;
const bucketMs = (p: PumpingParams) => Math.max(1, Math.ceil(p.windowMs / BUCKETS));
const pumped = (sent: number, verified: number, min: number, ratio: number) => sent >= min && verified < ratio * sent;
/** Kept long enough that an ended quarantine is normally seen (and reported cleared) by a later start. */
const ttlMs = (p: PumpingParams) => 2 * (p.windowMs + p.quarantineMs) + bucketMs(p);

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

// One hash per subject: fields s<bucket> and v<bucket> (counts), q (quarantined until, epoch ms).
const WINDOW = `
local function window(key, cur, n)
  local all = redis.call('HGETALL', key)
  local s, v = 0, 0
  for i = 1, #all, 2 do
    local kind = string.sub(all[i], 1, 1)
    if kind == 's' or kind == 'v' then
      if tonumber(string.sub(all[i], 2)) <= cur - n then redis.call('HDEL', key, all[i])
      elseif kind == 's' then s = s + tonumber(all[i + 1])
      else v = v + tonumber(all[i + 1]) end
    end
  end
  return s, v
end
local now, bucket, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ratio, quarantine, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local cur = math.floor(now / bucket)
local out = {}
`;
const CHECK = `${WINDOW}
for i, key in ipairs(KEYS) do
  local q = tonumber(redis.call('HGET', key, 'q') or '0')
  if q == 0 then out[i] = {'ok'}
  elseif q > now then out[i] = {'quarantined', q}
  else
    local s, v = window(key, cur, n)
    if s >= tonumber(ARGV[6 + i]) and v < ratio * s then
      redis.call('HSET', key, 'q', now + quarantine)
      redis.call('PEXPIRE', key, ttl)
      out[i] = {'quarantined', now + quarantine}
    else
      redis.call('HDEL', key, 'q')
      out[i] = {'cleared', 0, s, v}
    end
  end
end
return out`;
const RECORD = `${WINDOW}
local kind = ARGV[7]
for i, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, kind .. cur, 1)
  redis.call('PEXPIRE', key, ttl)
  out[i] = {'ok'}
  if kind == 's' and not redis.call('HGET', key, 'q') then
    local s, v = window(key, cur, n)
    if s >= tonumber(ARGV[7 + i]) and v < ratio * s then
      redis.call('HSET', key, 'q', now + quarantine)
      out[i] = {'detected', now + quarantine, s, v}
    end
  end
end
return out`;

export class RedisPumpingStore implements PumpingStore {
  constructor(
    private readonly client: RedisEval,
    private readonly namespace: string,
  ) {}

  private keys(subjects: PumpingSubject[]) {
    return subjects.map((s) => `${this.namespace}:pump:${s.scope}:${s.value}`);
  }

  private args(now: number, p: PumpingParams) {
    return [now, bucketMs(p), BUCKETS, p.minVerifiedRatio, p.quarantineMs, ttlMs(p)].map(String);
  }

  async check(subjects: PumpingSubject[], now: number, p: PumpingParams): Promise<PumpingState[]> {
    if (!subjects.length) return [];
    const raw = await this.client.eval(CHECK, {
      keys: this.keys(subjects),
      arguments: [...this.args(now, p), ...subjects.map((s) => String(s.minSends))],
    });
    return (raw as unknown[][]).map(parse);
  }

  async record(
    kind: "sent" | "verified",
    subjects: PumpingSubject[],
    now: number,
    p: PumpingParams,
  ): Promise<PumpingState[]> {
    if (!subjects.length) return [];
    const raw = await this.client.eval(RECORD, {
      keys: this.keys(subjects),
      arguments: [...this.args(now, p), kind === "sent" ? "s" : "v", ...subjects.map((s) => String(s.minSends))],
    });
    return (raw as unknown[][]).map(parse);
  }
}

function parse(r: unknown[]): PumpingState {
  const [state, until, sent, verified] = [String(r[0]), Number(r[1]), Number(r[2]), Number(r[3])];
  if (state === "quarantined") return { state, until };
  if (state === "detected") return { state, until, sent, verified };
  if (state === "cleared") return { state, sent, verified };
  return { state: "ok" };
}
