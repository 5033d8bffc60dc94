import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AuditLog } from "../../../core/audit/audit-log.js";
import type { AuditStore } from "../../../core/audit/audit-store.js";
import { MemoryAuditStore } from "../../../core/audit/memory-audit-store.js";
import { TextlockEvents } from "../../../core/events/events.js";
import { validateConfig } from "../../../lib/index.js";

// The audit log writes records in batches: every record of a short window shares one transaction (a
// SQLite commit costs about the same for 1 record as for 50), and a store that fails is retried on a
// timer, not in a loop.
const config = validateConfig({
  secret: "x".repeat(32),
  clients: [{ client_id: "app", name: "App" }],
  connections: [{ name: "sms", enabled_clients: ["app"] }],
});
const failed = { connection: "sms", client_id: "app", phone_number: "+14155550100", reason: "exhausted" } as const;

function auditOn(store: AuditStore) {
  const events = new TextlockEvents();
  const appends: number[] = [];
  const append = store.append.bind(store);
  store.append = (records) => {
    appends.push(records.length);
    return append(records);
  };
  const log = new AuditLog(store, config, events, pino({ level: "silent" }), new Registry(), Date.now, {
    enabled: false,
  });
  return { events, appends, log };
}

describe("audit log batching", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // The window is timed with fake timers: on a busy machine real 2 ms sleeps can add up past it.
  it("records of events spread over a few ms are written in one batch, and flush() writes at once", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const store = new MemoryAuditStore();
    const { events, appends, log } = auditOn(store);
    for (let i = 0; i < 5; i++) {
      events.emit("code.failed", failed);
      await vi.advanceTimersByTimeAsync(4);
    }
    expect(appends).toEqual([]); // 16 ms after the first record: its window (25 ms) is still open
    await vi.advanceTimersByTimeAsync(10);
    expect(appends).toEqual([5]);
    events.emit("code.failed", failed);
    await log.flush();
    expect(appends).toEqual([5, 1]);
    expect((await store.search({})).total).toBe(6);
    await log.close();
  });

  it("a store that keeps failing is retried on a timer, not in a loop, and nothing is lost once it recovers", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const store = new MemoryAuditStore();
    let down = true;
    const append = store.append.bind(store);
    store.append = (records) => (down ? Promise.reject(new Error("disk full")) : append(records));
    const { events, appends, log } = auditOn(store);
    events.emit("code.failed", failed);
    await vi.advanceTimersByTimeAsync(50);
    events.emit("code.failed", failed);
    await vi.advanceTimersByTimeAsync(900);
    // One failed write (then a retry due a second later), not one per event-loop turn.
    expect(appends).toEqual([1]);
    await vi.advanceTimersByTimeAsync(100);
    expect(appends).toEqual([1, 2]); // the retry, with the record that came meanwhile
    down = false;
    await log.flush();
    expect((await store.search({})).total).toBe(2);
    await log.close();
  });
});
