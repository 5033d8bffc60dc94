/**
 * A circuit breaker per provider: after `failures` consecutive transient failures the provider is
 * skipped for `coolDownMs`; then one trial send is let through (half-open). A success closes it.
 */
export class CircuitBreaker {
  private consecutive = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;

  constructor(
    private readonly failures: number,
    private readonly coolDownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a send may go through now (and, when half-open, claims the one trial). */
  allow(): boolean {
    if (this.openedAt === undefined) return true;
    if (this.now() - this.openedAt < this.coolDownMs || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  get state(): "closed" | "open" | "half-open" {
    if (this.openedAt === undefined) return "closed";
    return this.now() - this.openedAt < this.coolDownMs ? "open" : "half-open";
  }

  success(): void {
    this.consecutive = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }

  failure(): void {
    this.consecutive += 1;
    this.trialInFlight = false;
    if (this.openedAt !== undefined || this.consecutive >= this.failures) this.openedAt = this.now();
  }
}
