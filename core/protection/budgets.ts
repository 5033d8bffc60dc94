import type { RedisEval } from "./redis-eval.js";

/** Money is counted in integer millionths of the currency unit, so sums and caps are exact. */
export const MICRO = 1_000_000;
export const toMicro = (amount: number) => Math.round(amount * MICRO);

/** One budget a send is charged to, for one UTC day. */
export interface BudgetLine {
  scope: "total" | "country" | "client";
  /** The country or `client_id` (absent for `total`). */
  subject?: string;
  /** Cap in micro-units. */
  limit: number;
}

export type BudgetResult =
  | { ok: true; crossed: Array<{ line: BudgetLine; threshold: number; spent: number }> }
  | { ok: false; line: BudgetLine };

/**
 * Daily spend per budget line. `reserve` is atomic across every line (all are charged or none) and
 * across processes on Redis (one Lua script), so concurrent starts can never overspend; each alert
 * threshold is reported once per line per day, by the one call that crossed it first.
 */
export interface BudgetStore {
  reserve(day: string, lines: BudgetLine[], price: number, alertAt: readonly number[]): Promise<BudgetResult>;
  refund(day: string, lines: BudgetLine[], price: number): Promise<void>;
}

const lineKey = (l: BudgetLine) => (l.subject === undefined ? l.scope : `${l.scope}:${l.subject}`);

export class MemoryBudgetStore implements BudgetStore {
  private day = "";
  private readonly spent = new Map<string, number>();
  private readonly alerted = new Set<string>();

  private roll(day: string) {
    if (day === this.day) return;
    this.day = day;
    this.spent.clear();
    this.alerted.clear();
  }

  async reserve(day: string, lines: BudgetLine[], price: number, alertAt: readonly number[]): Promise<BudgetResult> {
    this.roll(day);
    for (const line of lines) if ((this.spent.get(lineKey(line)) ?? 0) + price > line.limit) return { ok: false, line };
    const crossed: Array<{ line: BudgetLine; threshold: number; spent: number }> = [];
    for (const line of lines) {
      const old = this.spent.get(lineKey(line)) ?? 0;
      const now = old + price;
      this.spent.set(lineKey(line), now);
      for (const t of alertAt) {
        const id = `${lineKey(line)}@${t}`;
        if (old < t * line.limit && now >= t * line.limit && !this.alerted.has(id)) {
          this.alerted.add(id);
          crossed.push({ line, threshold: t, spent: now });
        }
      }
    }
    return { ok: true, crossed };
  }

  async refund(day: string, lines: BudgetLine[], price: number): Promise<void> {
    if (day !== this.day) return;
    for (const line of lines) this.spent.set(lineKey(line), Math.max(0, (this.spent.get(lineKey(line)) ?? 0) - price));
  }
}

// KEYS: one spend counter per line. ARGV: price, ttl ms, number of thresholds, the thresholds, the caps.
// Returns {0, failing line} or {1, line, threshold index, spent, ...} for each threshold crossed first here.
const RESERVE = `
local price, ttl, nt = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') + price > tonumber(ARGV[3 + nt + i]) then return {0, i} end
end
local out = {1}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[3 + nt + i])
  local now = redis.call('INCRBY', key, price)
  redis.call('PEXPIRE', key, ttl)
  for t = 1, nt do
    local at = tonumber(ARGV[3 + t]) * limit
    if now - price < at and now >= at and redis.call('SADD', key .. ':alerted', ARGV[3 + t]) == 1 then
      redis.call('PEXPIRE', key .. ':alerted', ttl)
      table.insert(out, i)
      table.insert(out, t)
      table.insert(out, now)
    end
  end
end
return out`;
const REFUND = `
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('DECRBY', key, ARGV[1]) end
end
return 1`;
/** Two days, so a counter outlives its UTC day wherever the clock is. */
const TTL_MS = 2 * 86_400_000;

export class RedisBudgetStore implements BudgetStore {
  constructor(
    private readonly client: RedisEval,
    private readonly namespace: string,
  ) {}

  private keys(day: string, lines: BudgetLine[]) {
    return lines.map((l) => `${this.namespace}:budget:${day}:${lineKey(l)}`);
  }

  async reserve(day: string, lines: BudgetLine[], price: number, alertAt: readonly number[]): Promise<BudgetResult> {
    const raw = (await this.client.eval(RESERVE, {
      keys: this.keys(day, lines),
      arguments: [price, TTL_MS, alertAt.length, ...alertAt, ...lines.map((l) => l.limit)].map(String),
    })) as number[];
    if (Number(raw[0]) !== 1) return { ok: false, line: lines[Number(raw[1]) - 1]! };
    const crossed: Array<{ line: BudgetLine; threshold: number; spent: number }> = [];
    for (let i = 1; i + 2 < raw.length; i += 3) {
      crossed.push({
        line: lines[Number(raw[i]) - 1]!,
        threshold: alertAt[Number(raw[i + 1]) - 1]!,
        spent: Number(raw[i + 2]),
      });
    }
    return { ok: true, crossed };
  }

  async refund(day: string, lines: BudgetLine[], price: number): Promise<void> {
    await this.client.eval(REFUND, { keys: this.keys(day, lines), arguments: [String(price)] });
  }
}
