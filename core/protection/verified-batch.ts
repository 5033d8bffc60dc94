import type { Step } from "./redis-steps.js";

/** How long a verified code's pumping count may wait to be sent with others. */
export const VERIFIED_BATCH_MS = 100;
/** Counters in one batch at most; a batch that reaches it is sent at once. */
const MAX_COUNTERS = 500;

export interface VerifiedBatchOptions {
  /** Runs the steps script (one slot: the counters shared between phones). */
  run(steps: Step[], now: number): Promise<unknown>;
  /** A batch Redis did not take: its counts are lost (reported, never thrown). */
  onError(err: unknown): void;
  batchMs?: number;
}

/**
 * The pumping counts of verified codes that cannot ride in the code exchange's own script: on a Redis
 * Cluster they live in the slot of the counters shared between phones, which every start also reaches,
 * so one script per exchange there made that slot's primary the cluster's limit (docs/capacity.md).
 * Counts are summed per counter and sent as one `pver` script at most every {@link VERIFIED_BATCH_MS}
 * (and at close): the exchange is answered after its own script only. Pumping detection judges an
 * hour-long window, so a count that arrives 0.1 s late changes nothing it decides; a batch lost with a
 * crash or a failing Redis only lowers the verified ratio it sees, as a lost single count did.
 */
export class VerifiedBatch {
  private readonly queued = new Map<string, number>();
  /** The clock of the batch's first code: every count of a batch is in that code's bucket. */
  private at = 0;
  /** The `pver` arguments of the batch's codes (the window's bucket length, the counters' time to live). */
  private args: Step["args"] = [];
  private timer?: ReturnType<typeof setTimeout>;
  private readonly sending = new Set<Promise<void>>();

  constructor(private readonly options: VerifiedBatchOptions) {}

  /** Counts one verified code: the `pver` step that would have counted it alone (its prefix and country). */
  add(pver: Step, now: number): void {
    const bucketMs = Number(pver.args[0]);
    if (this.queued.size && Math.floor(now / bucketMs) !== Math.floor(this.at / bucketMs)) this.send();
    if (!this.queued.size) [this.at, this.args] = [now, pver.args];
    for (const key of pver.keys) this.queued.set(key, (this.queued.get(key) ?? 0) + 1);
    if (this.queued.size >= MAX_COUNTERS) this.send();
    else this.timer ??= setTimeout(() => this.send(), this.options.batchMs ?? VERIFIED_BATCH_MS).unref();
  }

  /** Sends what is queued and waits for every batch still on its way. */
  async flush(): Promise<void> {
    this.send();
    await Promise.all(this.sending);
  }

  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.queued.size) return;
    const steps: Step[] = [...this.queued].map(([key, n]) => ({ name: "pver", keys: [key], args: [...this.args, n] }));
    this.queued.clear();
    const sent = this.options
      .run(steps, this.at)
      .then(
        () => {},
        (err: unknown) => this.options.onError(err),
      )
      .finally(() => this.sending.delete(sent));
    this.sending.add(sent);
  }
}
