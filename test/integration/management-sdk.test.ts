import type { ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { spawnServe } from "../helpers/serve-process.js";
import { isolatedDatabase } from "../helpers/services.js";
import { selfSignedCert } from "../helpers/tls.js";

// node-auth0's ManagementClient, unmodified — the current one and v4 (`auth0/legacy`) — against the
// real `textlock serve` over HTTPS, on SQLite and on PostgreSQL.
const run = promisify(execFile);
const ADMIN = { id: "ops-admin", secret: "ops-admin-secret-0123456789" };
const READER = { id: "ops-reader", secret: "ops-reader-secret-0123456789" };
const APP_ID = "mobile-app";
const postgresUrl = await isolatedDatabase(inject("postgresUrl"), "management_sdk");

const STORES = [
  ["sqlite", () => ({ type: "sqlite" })],
  ["postgres", () => ({ type: "postgres", url: postgresUrl })],
] as const;

describe.each(STORES)("node-auth0 ManagementClient against textlock serve (users in %s)", (store, users) => {
  let dir: string;
  let child: ChildProcess | undefined;
  let domain: string;

  beforeAll(async () => {
    if (store === "postgres" && !postgresUrl) return;
    dir = mkdtempSync(join(tmpdir(), "textlock-mgmt-"));
    const { cert, key } = selfSignedCert(dir);
    const configFile = join(dir, "textlock.config.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        secret: "management-sdk-secret-management-sdk-0001",
        dataDir: dir,
        users: users(),
        protection: { enabled: false },
        logging: { level: "error" },
        server: { https: { cert, key } },
        clients: [
          { client_id: APP_ID },
          {
            client_id: ADMIN.id,
            client_secret: ADMIN.secret,
            app_type: "non_interactive",
            grant_types: ["client_credentials"],
          },
          {
            client_id: READER.id,
            client_secret: READER.secret,
            app_type: "non_interactive",
            grant_types: ["client_credentials"],
          },
        ],
        connections: [{ name: "sms", enabled_clients: [APP_ID] }],
        client_grants: [
          {
            client_id: ADMIN.id,
            audience: "https://textlock.invalid/api/v2/",
            scope: ["read:users", "update:users", "delete:users"],
          },
          { client_id: READER.id, audience: "https://textlock.invalid/api/v2/", scope: ["read:users"] },
        ],
      }),
    );
    const served = await spawnServe(configFile);
    child = served.child;
    domain = new URL(served.url).host;
  }, 60_000);
  afterAll(() => {
    child?.kill("SIGTERM");
  });

  it.each(["current", "legacy"])(
    "%s SDK: search by phone, get, block, unblock, scopes, bad input, delete",
    async (sdk) => {
      if (store === "postgres" && !postgresUrl) return;
      const { stdout } = await run(
        process.execPath,
        [new URL("./fixtures/management-sdk.mjs", import.meta.url).pathname],
        {
          env: {
            ...process.env,
            NODE_EXTRA_CA_CERTS: join(dir, "cert.pem"),
            DOMAIN: domain,
            OUTBOX: join(dir, "outbox.jsonl"),
            ADMIN_ID: ADMIN.id,
            ADMIN_SECRET: ADMIN.secret,
            READER_ID: READER.id,
            READER_SECRET: READER.secret,
            APP_ID,
            SDK: sdk,
          },
          timeout: 60_000,
        },
      );
      const out = JSON.parse(stdout.trim().split("\n").at(-1)!);
      const phone = sdk === "legacy" ? "+14155550191" : "+14155550181";
      const userId = out.firstLogin.sub as string;

      expect(out.firstLogin).toEqual({ status: 200, sub: expect.stringMatching(/^sms\|[0-9a-f]{24}$/) });
      expect(out.found).toEqual([
        expect.objectContaining({
          user_id: userId,
          phone_number: phone,
          phone_verified: true,
          blocked: false,
          logins_count: 1,
          identities: [{ provider: "sms", connection: "sms", user_id: userId.slice(4), isSocial: false }],
        }),
      ]);
      expect(out.totals).toMatchObject({ start: 0, limit: 50, length: 1, total: 1, users: [{ user_id: userId }] });
      expect(out.got).toMatchObject({ user_id: userId, phone_number: phone });

      expect(out.blocked).toMatchObject({ user_id: userId, blocked: true, app_metadata: { plan: "pro" } });
      expect(out.blockedExchange).toEqual({ error: "unauthorized", error_description: "user is blocked" });
      expect(out.blockedExchangeStatus).toBe(401);
      expect(out.blockedCodeSent).toBe(false);
      expect(out.searchBlocked).toEqual([userId]);

      expect(out.unblocked).toMatchObject({ blocked: false, app_metadata: { plan: "pro" } });
      expect(out.afterUnblock).toEqual({ status: 200, sub: userId });

      expect(out.readerDelete).toEqual({
        status: 403,
        body: {
          statusCode: 403,
          error: "Forbidden",
          message: "Insufficient scope, expected any of: delete:users,delete:current_user",
          errorCode: "insufficient_scope",
        },
      });
      expect(out.readerGet).toBe(userId);
      expect(out.unknownField).toMatchObject({
        status: 400,
        body: { statusCode: 400, error: "Bad Request", errorCode: "invalid_body" },
      });
      expect(out.unknownField.body.message).toContain("Additional properties not allowed: email");
      expect(out.badQuery).toMatchObject({
        status: 400,
        body: { statusCode: 400, error: "Bad Request", errorCode: "invalid_query_string" },
      });

      const notFound = {
        status: 404,
        body: {
          statusCode: 404,
          error: "Not Found",
          message: "The user does not exist.",
          errorCode: "inexistent_user",
        },
      };
      expect(out.getDeleted).toEqual(notFound);
      expect(out.deleteDeleted).toEqual(notFound);
      expect(out.afterDelete).toEqual({ status: 200, sub: expect.stringMatching(/^sms\|[0-9a-f]{24}$/) });
      expect(out.afterDelete.sub).not.toBe(userId);
    },
    90_000,
  );
});
