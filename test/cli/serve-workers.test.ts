import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
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

/** Runs the CLI to completion; resolves with its exit code and output. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
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
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
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

  it.skipIf(!redisUrl)(
    "serves logins from two workers: a code sent by one is redeemed on the other",
    async () => {
      const dir = tempDir();
      const sends = join(dir, "sends.jsonl");
      const file = join(dir, "textlock.config.mjs");
      writeFileSync(
        file,
        `import { appendFileSync } from "node:fs";
export default {
  dataDir: ${JSON.stringify(dir)},
  secret: "workers-secret-workers-secret-workers-02",
  store: { type: "redis", url: ${JSON.stringify(redisUrl)}, namespace: "workers-${process.pid}" },
  users: { type: "sqlite" },
  connections: [{ name: "sms", enabled_clients: ["textlock-dev"], options: { provider: "action" } }],
  hooks: {
    functions: {
      "custom-phone-provider": (event) => {
        const { recipient, code } = event.notification;
        appendFileSync(${JSON.stringify(sends)}, JSON.stringify({ recipient, code, pid: process.pid }) + "\\n");
      },
      "post-login": (event, api) => api.idToken.setCustomClaim("https://test/pid", process.pid),
    },
  },
  logging: { level: "warn" },
};
`,
      );
      // Both workers listening before the first request (the primary deals connections only to those).
      const { url, child } = await spawnServe(file, ["--workers", "2"], { listening: 2 });
      children.push(child);
      const sent = (phone: string) =>
        readFileSync(sends, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { recipient: string; code: string; pid: number })
          .filter((s) => s.recipient === phone)
          .at(-1)!;

      const pairs: Array<[number, number]> = [];
      const crossed = () => pairs.some(([sender, verifier]) => sender !== verifier);
      // The primary deals connections round-robin to the workers that are listening; on a loaded machine
      // the second may start listening a moment after the first, so log in until both have answered and
      // one code was redeemed by the other worker (bounded: 40 logins).
      for (let i = 0; i < 40 && (i < 6 || new Set(pairs.flat()).size < 2 || !crossed()); i++) {
        const phone = `+1415555${String(4100 + i)}`;
        const start = await post(url, "/passwordless/start", {
          client_id: "textlock-dev",
          connection: "sms",
          phone_number: phone,
        });
        expect(start.status).toBe(200);
        const { code, pid } = sent(phone);
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
        pairs.push([pid, claims["https://test/pid"]]);
      }
      const workers = new Set(pairs.flat());
      expect(workers.size).toBe(2);
      expect(workers.has(child.pid!)).toBe(false);
      expect(crossed()).toBe(true);

      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    },
    90_000,
  );
});
