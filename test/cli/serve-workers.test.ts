import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { spawnServe } from "../helpers/serve-process.js";

// `textlock serve --workers N` (node:cluster): the workers share one port, and with codes in Redis and
// users in SQLite a code sent by one worker is redeemed on another. Each worker says who it is through
// in-process hooks of an .mjs config: the send hook writes its pid next to the code, the post-login hook
// puts its pid in the id_token. A memory code store is refused with a clear message and exit code 2.
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const root = new URL("../..", import.meta.url).pathname;
const redisUrl = inject("redisUrl");
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "textlock-workers-"));
  dirs.push(dir);
  return dir;
}

/** A POST on a connection of its own, so that node:cluster may hand it to either worker. */
function post(url: string, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      { method: "POST", agent: false, headers: { "content-type": "application/json" } },
      (res) => {
        let text = "";
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
      },
    );
    req.once("error", reject);
    req.end(JSON.stringify(body));
  });
}

/**
 * Runs the CLI to completion; resolves with its exit code and output. One still running after
 * `boundMs` is killed and resolves with `code: null` (a server that printed its error and hangs).
 */
function runCli(args: string[], boundMs = 45_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", "cli/index.ts", ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => {
      stdout += d;
    });
    child.stderr!.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), boundMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Sends SIGTERM to a `serve` process; resolves with its exit code. */
function exitCodeOnSigterm(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  return exited;
}

/** Whether a process is still running (not gone, not a zombie waiting to be reaped). */
function running(pid: number): boolean {
  try {
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

/** Holds a loopback port, as another server would. */
async function holdPort(): Promise<{ port: number; release(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    release: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The worker processes of a `serve --workers` primary (Linux's list of a process's children). */
function childPids(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
}

/** A config with codes in Redis, users in SQLite, and hooks that tell which worker sent a code and which logged it in. */
function workersConfig(
  dir: string,
  sends: string,
  name: string,
  /** Sends to `phone` write `entered`, then wait until `release` exists. */
  gate?: { phone: string; entered: string; release: string },
): string {
  const file = join(dir, "textlock.config.mjs");
  writeFileSync(
    file,
    `import { appendFileSync, existsSync, writeFileSync } from "node:fs";
const gate = ${JSON.stringify(gate ?? null)};
export default {
  dataDir: ${JSON.stringify(dir)},
  secret: "workers-secret-workers-secret-workers-02",
  store: { type: "redis", url: ${JSON.stringify(redisUrl)}, namespace: "workers-${name}-${process.pid}" },
  users: { type: "sqlite" },
  connections: [{ name: "sms", enabled_clients: ["textlock-dev"], options: { provider: "action" } }],
  hooks: {
    functions: {
      "custom-phone-provider": async (event) => {
        const { recipient, code } = event.notification;
        if (gate && recipient === gate.phone) {
          writeFileSync(gate.entered, String(process.pid));
          while (!existsSync(gate.release)) await new Promise((r) => setTimeout(r, 20));
        }
        appendFileSync(${JSON.stringify(sends)}, JSON.stringify({ recipient, code, pid: process.pid }) + "\\n");
      },
      "post-login": (event, api) => api.idToken.setCustomClaim("https://test/pid", process.pid),
    },
  },
  logging: { level: "warn" },
};
`,
  );
  return file;
}

/** A whole login on fresh connections; resolves with the pids of the worker that sent the code and the one that verified it. */
async function login(url: string, sends: string, phone: string): Promise<[number, number]> {
  const start = await post(url, "/passwordless/start", {
    client_id: "textlock-dev",
    connection: "sms",
    phone_number: phone,
  });
  expect(start.status).toBe(200);
  const { code, pid } = readFileSync(sends, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { recipient: string; code: string; pid: number })
    .filter((s) => s.recipient === phone)
    .at(-1)!;
  const token = await post(url, "/oauth/token", {
    grant_type: OTP,
    client_id: "textlock-dev",
    realm: "sms",
    username: phone,
    otp: code,
    scope: "openid",
  });
  expect(token.status).toBe(200);
  const claims = JSON.parse(Buffer.from(String(token.json.id_token).split(".")[1]!, "base64url").toString());
  return [pid, claims["https://test/pid"]];
}

describe("textlock serve --workers", () => {
  it("refuses a memory code store, and a bad worker count, with a clear message and exit code 2", async () => {
    const dir = tempDir();
    const file = join(dir, "textlock.config.json");
    writeFileSync(file, JSON.stringify({ dataDir: dir, secret: "workers-secret-workers-secret-workers-01" }));
    const memory = await runCli(["serve", "--config", file, "--port", "0", "--workers", "2"]);
    expect(memory.code).toBe(2);
    expect(memory.stderr).toContain("--workers needs stores every worker shares");
    expect(memory.stderr).toContain('store.type is "memory"');
    expect(memory.stdout).not.toContain("listening");
    const bad = await runCli(["serve", "--config", file, "--port", "0", "--workers", "zero"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--workers must be a whole number");
  }, 60_000);

  it("a port already in use: serve exits 1 naming the port and --port, instead of hanging after the error", async () => {
    const dir = tempDir();
    const file = join(dir, "textlock.config.json");
    writeFileSync(file, JSON.stringify({ dataDir: dir, logging: { level: "warn" } }));
    const held = await holdPort();
    try {
      const run = await runCli(["serve", "--config", file, "--port", String(held.port)]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`textlock: 127.0.0.1:${held.port} is already in use (EADDRINUSE)`);
      expect(run.stderr).toContain("--port");
      expect(run.stdout).not.toContain("listening");
    } finally {
      await held.release();
    }
  }, 60_000);

  it.skipIf(!redisUrl)(
    "serves logins from two workers: a code sent by one is redeemed on the other",
    async () => {
      const dir = tempDir();
      const sends = join(dir, "sends.jsonl");
      // Both workers listening before the first request (the primary deals connections only to those).
      const { url, child } = await spawnServe(workersConfig(dir, sends, "two"), ["--workers", "2"], { listening: 2 });
      children.push(child);

      const pairs: Array<[number, number]> = [];
      const crossed = () => pairs.some(([sender, verifier]) => sender !== verifier);
      // The primary deals connections round-robin to the workers that are listening; on a loaded machine
      // the second may start listening a moment after the first, so log in until both have answered and
      // one code was redeemed by the other worker (bounded: 40 logins).
      for (let i = 0; i < 40 && (i < 6 || new Set(pairs.flat()).size < 2 || !crossed()); i++) {
        pairs.push(await login(url, sends, `+1415555${String(4100 + i)}`));
      }
      const workers = new Set(pairs.flat());
      expect(workers.size).toBe(2);
      expect(workers.has(child.pid!)).toBe(false);
      expect(crossed()).toBe(true);

      expect(await exitCodeOnSigterm(child)).toBe(0);
    },
    90_000,
  );

  it.skipIf(!redisUrl)(
    "a worker that dies is replaced, and the new one serves logins",
    async () => {
      const dir = tempDir();
      const sends = join(dir, "sends.jsonl");
      const { url, child } = await spawnServe(workersConfig(dir, sends, "replace"), ["--workers", "2"], {
        listening: 2,
        stderr: "pipe",
      });
      children.push(child);
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d) => {
        stdout += d;
      });
      child.stderr!.on("data", (d) => {
        stderr += d;
      });
      const before = childPids(child.pid!);
      expect(before).toHaveLength(2);
      const [victim, survivor] = before as [number, number];

      process.kill(victim, "SIGKILL");
      await expect
        .poll(() => stderr, { timeout: 30_000 })
        .toContain(`worker ${victim} exited (SIGKILL); starting another`);
      // The replacement says it is listening (the first two said so before spawnServe resolved).
      await expect.poll(() => stdout, { timeout: 30_000 }).toContain("listening on");
      const after = childPids(child.pid!);
      expect(after).toHaveLength(2);
      expect(after).toContain(survivor);
      expect(after).not.toContain(victim);
      const replacement = after.find((p) => p !== survivor)!;

      // Every login succeeds; log in until the replacement has served one (bounded: 40 logins).
      const served = new Set<number>();
      for (let i = 0; i < 40 && !served.has(replacement); i++) {
        for (const pid of await login(url, sends, `+1415555${String(4200 + i)}`)) served.add(pid);
      }
      expect(served.has(replacement)).toBe(true);
      expect(served.has(victim)).toBe(false);

      expect(await exitCodeOnSigterm(child)).toBe(0);
    },
    120_000,
  );

  it.skipIf(!redisUrl)(
    "SIGTERM to the primary: a worker finishes the request it is serving, then all exit 0",
    async () => {
      const dir = tempDir();
      const gate = { phone: "+14155554999", entered: join(dir, "entered"), release: join(dir, "release") };
      const { url, child } = await spawnServe(
        workersConfig(dir, join(dir, "sends.jsonl"), "drain", gate),
        ["--workers", "2"],
        {
          listening: 2,
        },
      );
      children.push(child);
      const workers = childPids(child.pid!);
      const inFlight = post(url, "/passwordless/start", {
        client_id: "textlock-dev",
        connection: "sms",
        phone_number: gate.phone,
      }).catch((err: Error) => ({ status: 0, json: { error: err.message } }));
      await expect.poll(() => existsSync(gate.entered)).toBe(true);
      const exited = exitCodeOnSigterm(child);
      // The primary passes SIGTERM on; the worker holding the request keeps running until it is answered.
      await new Promise((r) => setTimeout(r, 500));
      expect(child.exitCode, "the primary exited while a worker held a request").toBeNull();
      expect(running(Number(readFileSync(gate.entered, "utf8")))).toBe(true);
      writeFileSync(gate.release, "");
      expect(await inFlight).toMatchObject({ status: 200, json: { phone_number: gate.phone } });
      expect(await exited).toBe(0);
      for (const pid of workers) expect(running(pid)).toBe(false);
    },
    90_000,
  );

  it.skipIf(!redisUrl)(
    "workers that cannot listen (the port is in use) stop the server with exit code 1, not a restart loop",
    async () => {
      const dir = tempDir();
      const held = await holdPort();
      try {
        const config = workersConfig(dir, join(dir, "sends.jsonl"), "in-use");
        const run = await runCli(["serve", "--config", config, "--port", String(held.port), "--workers", "2"]);
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toContain(`textlock: 127.0.0.1:${held.port} is already in use (EADDRINUSE)`);
        expect(run.stderr).toContain("textlock: a worker exited before it was listening (code 1); stopping");
        expect(run.stderr).not.toContain("starting another");
      } finally {
        await held.release();
      }
    },
    90_000,
  );
});
