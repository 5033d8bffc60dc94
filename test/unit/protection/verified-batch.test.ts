import { describe, expect, it } from "vitest";
import type { Step } from "../../../core/protection/redis-steps.js";
import { VerifiedBatch } from "../../../core/protection/verified-batch.js";

// Verified codes' pumping counts that cannot ride in an exchange's own script (a Redis Cluster keeps
// them in the shared counters' slot) are summed per counter and sent as one script per batch.
function batch(batchMs = 60_000, fail = false) {
  const runs: Array<{ steps: Step[]; now: number }> = [];
  const errors: unknown[] = [];
  const b = new VerifiedBatch({
    run: async (steps, now) => {
      runs.push({ steps, now });
      if (fail) throw new Error("CLUSTERDOWN");
    },
    onError: (err) => errors.push(err),
    batchMs,
  });
  return { b, runs, errors };
}
/** The step that would count one verified code for `keys` (1-second buckets, counters kept 5 s). */
const pver = (...keys: string[]): Step => ({ name: "pver", keys, args: [1_000, 5_000] });
const counts = (steps: Step[]) => Object.fromEntries(steps.map((s) => [s.keys[0], s.args[2]]));

describe("VerifiedBatch", () => {
  it("sums the codes verified before it is sent, one pver step per counter with its count", async () => {
    const { b, runs } = batch();
    b.add(pver("{t}:pump:prefix:+1415555", "{t}:pump:country:US"), 10_100);
    b.add(pver("{t}:pump:prefix:+1415556", "{t}:pump:country:US"), 10_200);
    b.add(pver("{t}:pump:prefix:+1415555", "{t}:pump:country:US"), 10_300);
    expect(runs).toHaveLength(0);
    await b.flush();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.now).toBe(10_100);
    expect(runs[0]!.steps.every((s) => s.name === "pver" && s.args[0] === 1_000 && s.args[1] === 5_000)).toBe(true);
    expect(counts(runs[0]!.steps)).toEqual({
      "{t}:pump:prefix:+1415555": 2,
      "{t}:pump:prefix:+1415556": 1,
      "{t}:pump:country:US": 3,
    });
    await b.flush();
    expect(runs).toHaveLength(1);
  });

  it("sends on its own after its delay", async () => {
    const { b, runs } = batch(20);
    b.add(pver("{t}:pump:country:US"), 5_000);
    await expect.poll(() => runs.length).toBe(1);
    expect(counts(runs[0]!.steps)).toEqual({ "{t}:pump:country:US": 1 });
  });

  it("never mixes two buckets of the window in one batch", async () => {
    const { b, runs } = batch();
    b.add(pver("{t}:pump:country:US"), 1_900);
    b.add(pver("{t}:pump:country:US"), 2_050); // the next 1-second bucket: the first batch goes at once
    expect(runs).toHaveLength(1);
    expect(runs[0]!.now).toBe(1_900);
    await b.flush();
    expect(runs.map((r) => [r.now, counts(r.steps)["{t}:pump:country:US"]])).toEqual([
      [1_900, 1],
      [2_050, 1],
    ]);
  });

  it("goes at once when it holds 500 counters", () => {
    const { b, runs } = batch();
    for (let i = 0; i < 499; i++) b.add(pver(`{t}:pump:prefix:+1415${i}`), 3_000);
    expect(runs).toHaveLength(0);
    b.add(pver("{t}:pump:prefix:+1415999"), 3_000);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.steps).toHaveLength(500);
  });

  it("reports a batch Redis did not take and never throws", async () => {
    const { b, runs, errors } = batch(60_000, true);
    b.add(pver("{t}:pump:country:US"), 1_000);
    await expect(b.flush()).resolves.toBeUndefined();
    expect(runs).toHaveLength(1);
    expect(errors).toEqual([expect.objectContaining({ message: "CLUSTERDOWN" })]);
  });
});
