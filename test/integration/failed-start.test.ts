import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { MemoryUserStore } from "../../core/users/memory-user-store.js";
import { createTextlock } from "../../lib/index.js";
import { freePort, isolatedDatabase } from "../helpers/services.js";

// A createTextlock that fails part-way (a database that does not answer, signing keys sealed under
// another secret) must close what it had already opened. Left open, a Redis client, a PostgreSQL pool or
// SQLite's checkpoint worker keeps the host's process alive: `textlock serve` printed its error and
// then never exited, and an app that retries would open them again on each try. Each case runs in a
// process of its own, which must exit on its own once the start has failed.
const root = new URL("../..", import.meta.url).pathname;
const redisUrl = inject("redisUrl");
const postgresUrl = await isolatedDatabase(inject("postgresUrl"), "failed_start");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "textlock-failed-start-"));
  dirs.push(dir);
  return dir;
}

const SECRET_A = "failed-start-secret-a-failed-start-secret-a";
const SECRET_B = "failed-start-secret-b-failed-start-secret-b";

/** Runs createTextlock(config) in a child process; resolves with what it printed and whether it exited by itself. */
async function startInChild(config: object): Promise<{ out: string; exited: boolean; ms: number }> {
  const script = join(tempDir(), "start.mts");
  writeFileSync(
    script,
    `import { createTextlock } from ${JSON.stringify(join(root, "lib/index.ts"))};
try {
  await createTextlock(JSON.parse(process.argv[2]));
  console.log("opened");
} catch (err) {
  console.log("failed: " + err.message);
}
`,
  );
  const child = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", script, JSON.stringify(config)], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout!.on("data", (d) => {
    out += d;
  });
  const t0 = Date.now();
  const exited = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 20_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!exited) child.kill("SIGKILL");
  return { out: out.trim(), exited, ms: Date.now() - t0 };
}

describe("a start that fails leaves nothing open", () => {
  it("SQLite: signing keys sealed under another secret; the process exits by itself", async () => {
    const dataDir = tempDir();
    // keys.json is written under secret A ...
    await (await createTextlock({ dataDir, secret: SECRET_A, logging: { level: "error" } })).close();
    // ... and a start under secret B opens users.db and audit.db (and their checkpoint worker) before it
    // reads the keys.
    const run = await startInChild({ dataDir, secret: SECRET_B, logging: { level: "error" } });
    expect(run.out).toMatch(/^failed: signing key \S+ does not open with this server secret$/);
    expect(run.exited, `still running ${run.ms} ms after the failed start`).toBe(true);
  }, 60_000);

  it.skipIf(!redisUrl)(
    "codes in Redis, users in a PostgreSQL that does not answer: the Redis client is closed",
    async () => {
      const run = await startInChild({
        dataDir: tempDir(),
        secret: SECRET_A,
        logging: { level: "error" },
        store: { type: "redis", url: redisUrl },
        users: { type: "postgres", url: `postgres://textlock:textlock@127.0.0.1:${await freePort()}/textlock` },
      });
      expect(run.out).toMatch(/^failed: connect ECONNREFUSED/);
      expect(run.exited, `still running ${run.ms} ms after the failed start`).toBe(true);
    },
    60_000,
  );

  it.skipIf(!redisUrl || !postgresUrl)(
    "Redis and PostgreSQL open, the shared signing keys sealed under another secret: both are closed",
    async () => {
      const config = {
        logging: { level: "error" },
        store: { type: "redis", url: redisUrl!, namespace: `failed-start-${process.pid}` },
        users: { type: "postgres", url: postgresUrl! },
      } as const;
      await (await createTextlock({ ...config, dataDir: tempDir(), secret: SECRET_A })).close();
      const run = await startInChild({ ...config, dataDir: tempDir(), secret: SECRET_B });
      expect(run.out).toMatch(/^failed: signing key \S+ does not open with this server secret$/);
      expect(run.exited, `still running ${run.ms} ms after the failed start`).toBe(true);
    },
    60_000,
  );

  it("a store the host provided is not closed: it stays the host's to use or to close", async () => {
    const dataDir = tempDir();
    await (await createTextlock({ dataDir, secret: SECRET_A, logging: { level: "error" } })).close();
    let closes = 0;
    const users = new (class extends MemoryUserStore {
      override async close() {
        closes++;
        await super.close();
      }
    })();
    await expect(
      createTextlock({ dataDir, secret: SECRET_B, logging: { level: "error" } }, { userStore: users }),
    ).rejects.toThrow(/does not open with this server secret/);
    expect(closes).toBe(0);
    const { created } = await users.create("sms", "+14155550100");
    expect(created).toBe(true);
  });
});
