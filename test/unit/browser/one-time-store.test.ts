import { describe, expect, it } from "vitest";
import { MemoryOneTimeStore } from "../../../core/browser/one-time-store.js";

describe("MemoryOneTimeStore", () => {
  it("gives a value once, peeks without consuming, and forgets it at expiry", async () => {
    let now = 1_000;
    const store = new MemoryOneTimeStore(() => now);
    await store.put("a", "1", 100);
    expect(await store.peek("a")).toBe("1");
    expect(await store.take("a")).toBe("1");
    expect(await store.take("a")).toBeUndefined();
    await store.put("b", "2", 100);
    now += 100;
    expect(await store.peek("b")).toBeUndefined();
    expect(await store.take("b")).toBeUndefined();
  });

  it("exactly one of 50 concurrent takers wins", async () => {
    const store = new MemoryOneTimeStore();
    await store.put("k", "v", 10_000);
    const got = await Promise.all(Array.from({ length: 50 }, () => store.take("k")));
    expect(got.filter((v) => v === "v")).toHaveLength(1);
  });

  it("stays within its bound: expired entries are swept first, then the oldest live one goes", async () => {
    let now = 0;
    const store = new MemoryOneTimeStore(() => now, 3);
    await store.put("old", "x", 10);
    await store.put("live1", "x", 1_000);
    await store.put("live2", "x", 1_000);
    now = 20;
    await store.put("live3", "x", 1_000); // sweeps "old"
    expect(await store.peek("live1")).toBe("x");
    await store.put("live4", "x", 1_000); // full of live entries: the oldest (live1) goes
    expect(await store.peek("live1")).toBeUndefined();
    expect(await store.peek("live4")).toBe("x");
  });
});
