import { connect, createServer, type Socket } from "node:net";
import { afterAll, describe, expect, inject, it } from "vitest";
import { type RunningServer, startServer } from "../../adapters/standalone/index.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { isolatedDatabase } from "../helpers/services.js";
import { timedLogin } from "../helpers/timed-login.js";

// A PostgreSQL that stops answering without closing its connections (a network partition that drops
// packets, a primary frozen mid-failover). The shared test server cannot be frozen (other files use it
// at the same time), so textlock reaches it through a TCP proxy that can stop passing bytes either way
// while every connection stays open. Every request must still be answered, 503 within the store's 2 s,
// and service must come back without a restart ("What fails closed" in the several-instances guide).
const postgresUrl = await isolatedDatabase(inject("postgresUrl"), "stall");

/** A TCP proxy to `target` whose `stall()` stops every byte, on open connections and new ones, until `resume()`. */
async function stallableProxy(target: URL) {
  const sockets = new Set<Socket>();
  let stalled = false;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    // After pipe(), which resumes its source.
    if (stalled) for (const s of [client, upstream]) s.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(target);
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    stall() {
      stalled = true;
      for (const s of sockets) s.pause();
    },
    resume() {
      stalled = false;
      for (const s of sockets) s.resume();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let textlock: TestTextlock | undefined;
let server: RunningServer | undefined;
let proxy: Awaited<ReturnType<typeof stallableProxy>> | undefined;
afterAll(async () => {
  proxy?.resume();
  await server?.close({ graceMs: 0 });
  await textlock?.close();
  await proxy?.close();
});

const login = timedLogin(() => server!.url);
const start = login.start;
/** The exchange of the newest code sent to `phone`. */
const exchange = (phone: string) => login.exchange(phone, textlock!.lastCode(phone));

describe.skipIf(!postgresUrl)("a stalled PostgreSQL", () => {
  it("answers 503 within 2 s (plus slack) while no byte gets through, and serves again once they do", async () => {
    proxy = await stallableProxy(new URL(postgresUrl!));
    textlock = await createTestTextlock({ users: { type: "postgres", url: proxy.url } });
    server = await startServer(textlock, { host: "127.0.0.1", port: 0 });
    // Codes sent before the stall, exchanged during it (their user lookup and last-login write need the database).
    const waiting = ["+14155550301", "+14155550302"];
    for (const phone of waiting) expect((await start(phone)).status).toBe(200);
    expect((await start("+14155550300")).status).toBe(200);
    expect((await exchange("+14155550300")).status).toBe(200);

    proxy.stall();
    const during = await Promise.all([start("+14155550303"), start("+14155550304"), ...waiting.map(exchange)]);
    for (const r of during) {
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ error: "temporarily_unavailable", error_description: expect.any(String) });
      expect(r.ms).toBeLessThan(2_000 + 2_000);
    }
    const ready = await fetch(`${server.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { codes: "ok", users: "unavailable" } });

    proxy.resume();
    // No restart: a whole login succeeds. (A code whose exchange got the 503 was spent by it: the code
    // is consumed before the user is looked up, so its owner asks for a new one, as the guide says.)
    await expect.poll(async () => (await start("+14155550305")).status).toBe(200);
    const login = await exchange("+14155550305");
    expect(login.status).toBe(200);
    expect(login.body).toHaveProperty("id_token");
    expect((await start(waiting[0]!)).status).toBe(200);
    expect((await exchange(waiting[0]!)).status).toBe(200);
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
  }, 60_000);
});
