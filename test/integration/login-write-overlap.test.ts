import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryRefreshTokenStore } from "../../core/tokens/refresh-token-store.js";
import { MemoryUserStore } from "../../core/users/memory-user-store.js";
import { SqliteUserStore } from "../../core/users/sqlite-user-store.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

// A login's write (last login, login count) and its tokens: the tokens are issued while the write
// commits, so the signature overlaps the fsync and a refresh token shares the write's transaction; the
// answer still waits for the write to be durable, and a write that fails fails the login.
const PHONE = "+14155550100";
const CLIENT = "textlock-dev";
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const ISSUER = "https://auth.example.test/";

let tl: TestTextlock | undefined;
afterEach(async () => {
  await tl?.close();
  tl = undefined;
});

const start = () => tl!.api.start({ client_id: CLIENT, connection: "sms", phone_number: PHONE, send: "code" });
const login = (scope = "openid offline_access") =>
  tl!.api.token(
    { grant_type: OTP, client_id: CLIENT, username: PHONE, otp: tl!.lastCode(PHONE), realm: "sms", scope },
    { issuer: ISSUER },
  );

/** Resolves `release` when called; `released` is its promise. */
function gate() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { release, released };
}

describe("a login's write and its tokens", () => {
  it("the tokens are made while the write commits: the refresh token is stored before the last-login write resolves", async () => {
    const users = new MemoryUserStore();
    const tokens = new MemoryRefreshTokenStore();
    const order: string[] = [];
    const saved = gate();
    const save = tokens.save.bind(tokens);
    tokens.save = async (hash, record) => {
      order.push("refresh token stored");
      await save(hash, record);
      saved.release();
    };
    tl = await createTestTextlock({}, { userStore: users, refreshTokenStore: tokens });
    await start();
    await login("openid"); // signs the user up (the sign-up counts the login itself)

    const recordLogin = users.recordLogin.bind(users);
    users.recordLogin = async (id, facts) => {
      order.push("write started");
      // Waits for the refresh token: if the tokens were issued only after this write, this login would
      // hang here and the test time out.
      await saved.released;
      const user = await recordLogin(id, facts);
      order.push("write done");
      return user;
    };
    const loggedIn: number[] = [];
    tl.events.on("user.logged_in", (e) => loggedIn.push(e.logins_count ?? -1));
    await start();
    const answer = await login();
    expect(answer.refresh_token).toEqual(expect.any(String));
    expect(order).toEqual(["write started", "refresh token stored", "write done"]);
    // Emitted once both are done, with the count the write leaves.
    expect(loggedIn).toEqual([2]);
    expect((await users.findByPhone("sms", PHONE))?.logins_count).toBe(2);
  });

  it("a write that fails fails the login: no tokens are answered and no login is logged", async () => {
    const users = new MemoryUserStore();
    tl = await createTestTextlock({}, { userStore: users });
    await start();
    await login("openid");
    users.recordLogin = async () => {
      await new Promise((resolve) => setTimeout(resolve, 20)); // fails after the tokens are signed
      throw new Error("disk full");
    };
    const loggedIn: unknown[] = [];
    tl.events.on("user.logged_in", (e) => loggedIn.push(e));
    await start();
    await expect(login()).rejects.toThrow();
    expect(loggedIn).toEqual([]);
  });

  it("on SQLite, a returning login with offline_access is one transaction (its last login and its refresh token)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "textlock-overlap-"));
    const users = new SqliteUserStore(join(dir, "users.db"));
    const tokens = users.refreshTokenStore();
    tl = await createTestTextlock({}, { userStore: users, refreshTokenStore: tokens });
    await start();
    await login();
    for (let i = 0; i < 3; i++) {
      await start();
      const before = users.writeStats.commits;
      const answer = await login();
      expect(answer.refresh_token).toEqual(expect.any(String));
      expect(users.writeStats.commits - before).toBe(1);
    }
    expect((await users.findByPhone("sms", PHONE))?.logins_count).toBe(4);
    await tl.close();
    tl = undefined;
    await Promise.all([tokens.close(), users.close()]);
    rmSync(dir, { recursive: true, force: true });
  });
});
