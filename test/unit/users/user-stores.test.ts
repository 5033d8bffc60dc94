import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runUserStoreContract } from "../../../core/testing/user-store-contract.js";
import { MemoryUserStore } from "../../../core/users/memory-user-store.js";
import { SqliteUserStore } from "../../../core/users/sqlite-user-store.js";
import { vitestRunner } from "../../helpers/vitest-runner.js";

runUserStoreContract("memory", async () => new MemoryUserStore(), vitestRunner);
runUserStoreContract(
  "sqlite",
  async () => new SqliteUserStore(join(mkdtempSync(join(tmpdir(), "textlock-users-")), "users.db")),
  vitestRunner,
);

describe("SqliteUserStore durability", () => {
  it("keeps users across reopen, and two handles on one file share one user per phone", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "textlock-users-")), "nested", "users.db");
    const a = new SqliteUserStore(file);
    const b = new SqliteUserStore(file);
    const [x, y] = await Promise.all([a.create("sms", "+14155550100"), b.create("sms", "+14155550100")]);
    expect(x.user.user_id).toBe(y.user.user_id);
    expect([x.created, y.created].filter(Boolean)).toHaveLength(1);
    await a.recordLogin(x.user.user_id, { at: new Date() });
    await a.close();
    await b.close();
    const reopened = new SqliteUserStore(file);
    expect(await reopened.findByPhone("sms", "+14155550100")).toMatchObject({
      user_id: x.user.user_id,
      logins_count: 1,
    });
    await reopened.close();
  });
});
