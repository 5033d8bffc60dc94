import { afterAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../adapters/standalone/index.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { type RunningService, redisBinary, startRedis } from "../helpers/services.js";
import { timedLogin } from "../helpers/timed-login.js";

// A Redis that stops answering without closing its connections (a stalled primary, a network
// partition that drops packets): the harder outage, since no error ever arrives. Here a real
// redis-server is frozen with SIGSTOP. Every request must still be answered, 503
// temporarily_unavailable within store.commandTimeoutMs, and service must come back at SIGCONT
// without a restart (docs/guides/deploying-several-instances.md, "What fails closed").
const COMMAND_TIMEOUT_MS = 300;
let redis: RunningService | undefined;
let textlock: TestTextlock | undefined;
let server: RunningServer | undefined;
afterAll(async () => {
  if (redis?.process.pid) process.kill(redis.process.pid, "SIGCONT");
  await server?.close({ graceMs: 0 });
  await textlock?.close();
  await redis?.stop();
});

const { start, exchange } = timedLogin(() => server!.url);

describe.skipIf(!redisBinary())("a stalled Redis", () => {
  it("answers 503 within commandTimeoutMs while Redis is frozen, and serves again once it resumes", async () => {
    redis = await startRedis();
    textlock = await createTestTextlock({
      store: { type: "redis", url: redis.url, commandTimeoutMs: COMMAND_TIMEOUT_MS },
    });
    server = await startServer(textlock, { host: "127.0.0.1", port: 0 });
    expect((await start("+14155550100")).status).toBe(200);
    const code = textlock.lastCode("+14155550100");

    process.kill(redis.process.pid!, "SIGSTOP");
    const during = await Promise.all([
      start("+14155550101"),
      start("+14155550102"),
      exchange("+14155550100", code),
      exchange("+14155550100", "000000"),
    ]);
    for (const r of during) {
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ error: "temporarily_unavailable", error_description: expect.any(String) });
      // Bounded by the command timeout, not by the stall (generous: a loaded 2-core machine).
      expect(r.ms).toBeLessThan(COMMAND_TIMEOUT_MS + 1_500);
    }
    const ready = await fetch(`${server.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { codes: "unavailable" } });

    process.kill(redis.process.pid!, "SIGCONT");
    // No restart: the next requests succeed, a start and a whole login.
    await expect.poll(async () => (await start("+14155550103")).status).toBe(200);
    expect((await start("+14155550104")).status).toBe(200);
    const login = await exchange("+14155550104", textlock.lastCode("+14155550104"));
    expect(login.status).toBe(200);
    expect(login.body).toHaveProperty("id_token");
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
  }, 60_000);
});
