import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { spawnServe } from "../helpers/serve-process.js";
import { freePort } from "../helpers/services.js";

// `textlock logs tail` and `textlock logs streams` read the audit log `textlock serve` writes (SQLite).
const root = new URL("../..", import.meta.url).pathname;
const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ["--no-node-snapshot", "--import", "tsx", "cli/index.ts", ...args], { cwd: root });
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
});

const post = (url: string, path: string, body: object) =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("textlock logs", () => {
  it("tail prints the audit records serve wrote and follows new ones; streams shows the outbox", {
    timeout: 120_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "textlock-logs-cli-"));
    const file = join(dataDir, "textlock.config.json");
    const deadPort = await freePort();
    writeFileSync(
      file,
      JSON.stringify({
        dataDir,
        logging: { level: "warn" },
        audit: { streams: [{ name: "siem", url: `http://127.0.0.1:${deadPort}/`, initialBackoffMs: 60_000 }] },
      }),
    );
    const { url, child } = await spawnServe(file);
    children.push(child);
    const phone = "+14155550188";
    expect(
      (await post(url, "/passwordless/start", { client_id: "textlock-dev", connection: "sms", phone_number: phone }))
        .status,
    ).toBe(200);
    const code = JSON.parse(readFileSync(join(dataDir, "outbox.jsonl"), "utf8").trim().split("\n").at(-1)!).body.match(
      /\d{6}/,
    )[0];
    const token = await post(url, "/oauth/token", {
      grant_type: "http://auth0.com/oauth/grant-type/passwordless/otp",
      client_id: "textlock-dev",
      username: phone,
      otp: code,
      realm: "sms",
    });
    expect(token.status).toBe(200);

    await expect
      .poll(
        async () => {
          const { stdout } = await cli(["logs", "tail", "--no-follow", "--config", file]);
          return stdout
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l).data.type);
        },
        { timeout: 20_000, interval: 500 },
      )
      .toEqual(["cs", "ss", "s"]);
    const { stdout: two } = await cli(["logs", "tail", "--no-follow", "--limit", "1", "--config", file]);
    const last = JSON.parse(two.trim());
    expect(last).toMatchObject({ data: { type: "s", user_name: "+*******0188" } });
    expect(two).not.toContain(code);

    const { stdout: streams } = await cli(["logs", "streams", "--config", file]);
    expect(JSON.parse(streams.trim())).toMatchObject({
      stream: "siem",
      pending: 3,
      deadLetters: 0,
      lastError: expect.stringMatching(/network error/),
    });

    const tail = spawn(
      process.execPath,
      ["--no-node-snapshot", "--import", "tsx", "cli/index.ts", "logs", "tail", "--config", file],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    children.push(tail);
    let out = "";
    tail.stdout!.on("data", (d) => {
      out += d;
    });
    await expect.poll(() => out.trim().split("\n").filter(Boolean).length, { timeout: 20_000 }).toBe(3);
    await post(url, "/passwordless/start", {
      client_id: "textlock-dev",
      connection: "sms",
      phone_number: "+14155550199",
    });
    await expect
      .poll(
        () =>
          out
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l).data.user_name),
        { timeout: 10_000 },
      )
      .toEqual(["+*******0188", "+*******0188", "+*******0188", "+*******0199"]);
  });
});
