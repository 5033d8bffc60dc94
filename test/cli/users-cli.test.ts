import { type ChildProcess, execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnServe } from "../helpers/serve-process.js";

// `textlock users list|get|block|unblock|delete` on the SQLite file a running `textlock serve` uses.
const root = new URL("../..", import.meta.url).pathname;
const tsx = join(root, "node_modules", ".bin", "tsx");
const run = promisify(execFile);
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";

describe("textlock users commands", () => {
  let dataDir: string;
  let config: string;
  let url: string;
  let child: ChildProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "textlock-users-cli-"));
    config = join(dataDir, "textlock.config.json");
    writeFileSync(
      config,
      JSON.stringify({
        dataDir,
        logging: { level: "warn" },
        secret: "users-cli-secret-users-cli-secret-0001",
        protection: { enabled: false },
      }),
    );
    ({ url, child } = await spawnServe(config));
  }, 60_000);
  afterAll(() => {
    child?.kill("SIGTERM");
  });

  const cli = (...args: string[]) => run(tsx, ["cli/index.ts", ...args, "--config", config], { cwd: root });
  const cliFails = async (...args: string[]) => {
    try {
      await cli(...args);
    } catch (err) {
      return err as { code: number; stderr: string };
    }
    throw new Error("the command succeeded");
  };
  const post = async (path: string, body: object) => {
    const res = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };
  const login = async (phone: string) => {
    await post("/passwordless/start", { client_id: "textlock-dev", connection: "sms", phone_number: phone });
    const sent = readFileSync(join(dataDir, "outbox.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((m) => m.to === phone);
    const code = sent.at(-1).body.match(/\d{6}/)[0];
    return post("/oauth/token", {
      grant_type: OTP,
      client_id: "textlock-dev",
      username: phone,
      otp: code,
      realm: "sms",
      scope: "openid offline_access",
    });
  };
  const subOf = (idToken: string) => JSON.parse(Buffer.from(idToken.split(".")[1]!, "base64url").toString()).sub;

  it("lists, searches, gets, blocks, unblocks and deletes users of the running server's store", async () => {
    const phone = "+14155550171";
    const first = await login(phone);
    expect(first).toMatchObject({ status: 200 });
    const userId = subOf(first.body.id_token!);

    const listed = (await cli("users", "list", "--q", `phone_number:"${phone}"`)).stdout.trim().split("\n");
    expect(listed.map((l) => JSON.parse(l).user_id)).toEqual([userId]);
    expect(JSON.parse((await cli("users", "get", userId)).stdout)).toMatchObject({
      user_id: userId,
      phone_number: phone,
    });

    expect(JSON.parse((await cli("users", "block", userId)).stdout)).toMatchObject({ blocked: true });
    const refresh = await post("/oauth/token", {
      grant_type: "refresh_token",
      client_id: "textlock-dev",
      refresh_token: first.body.refresh_token,
    });
    expect(refresh.status).toBe(403);
    const blockedList = (await cli("users", "list", "--q", "blocked:true")).stdout.trim().split("\n");
    expect(blockedList.map((l) => JSON.parse(l).user_id)).toContain(userId);

    expect(JSON.parse((await cli("users", "unblock", userId)).stdout)).toMatchObject({ blocked: false });
    const back = await login(phone);
    expect(back).toMatchObject({ status: 200 });
    expect(subOf(back.body.id_token!)).toBe(userId);

    expect((await cli("users", "delete", userId)).stdout).toBe(`deleted ${userId}\n`);
    const gone = await cliFails("users", "get", userId);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("The user does not exist. (ERR_MGMT_USER_NOT_FOUND)");
    const again = await login(phone);
    expect(again).toMatchObject({ status: 200 });
    expect(subOf(again.body.id_token!)).not.toBe(userId);

    const bad = await cliFails("users", "list", "--q", 'phone_number:"+1');
    expect(bad.stderr).toContain("ERR_MGMT_INVALID_QUERY");
  }, 300_000);
});
