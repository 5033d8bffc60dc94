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
