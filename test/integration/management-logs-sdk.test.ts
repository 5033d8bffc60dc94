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

// node-auth0's ManagementClient, unmodified (current and v4 `auth0/legacy`), reads the audit log of
// the real `textlock serve` over HTTPS: logs search, checkpoint paging, one log, a user's logs, scopes.
const run = promisify(execFile);
const AUDITOR = { id: "auditor", secret: "auditor-secret-0123456789" };
const READER = { id: "reader", secret: "reader-secret-0123456789" };
const APP_ID = "mobile-app";
const postgresUrl = await isolatedDatabase(inject("postgresUrl"), "management_logs_sdk");

const STORES = [
  ["sqlite", () => ({ type: "sqlite" })],
  ["postgres", () => ({ type: "postgres", url: postgresUrl })],
] as const;

describe.each(STORES)("node-auth0 ManagementClient logs against textlock serve (users in %s)", (store, users) => {
  let dir: string;
  let child: ChildProcess | undefined;
  let domain: string;

  beforeAll(async () => {
    if (store === "postgres" && !postgresUrl) return;
    dir = mkdtempSync(join(tmpdir(), "textlock-mgmt-logs-"));
    const { cert, key } = selfSignedCert(dir);
    const configFile = join(dir, "textlock.config.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        secret: "management-logs-secret-management-logs-01",
        dataDir: dir,
        users: users(),
        protection: { enabled: false },
        logging: { level: "error" },
        server: { https: { cert, key } },
        clients: [
          { client_id: APP_ID },
          { client_id: AUDITOR.id, client_secret: AUDITOR.secret, grant_types: ["client_credentials"] },
          { client_id: READER.id, client_secret: READER.secret, grant_types: ["client_credentials"] },
        ],
        connections: [{ name: "sms", enabled_clients: [APP_ID] }],
        client_grants: [
          { client_id: AUDITOR.id, audience: "https://textlock.invalid/api/v2/", scope: ["read:logs"] },
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
    "%s SDK: search, checkpoint, one log, a user's logs, 403 without read:logs",
    async (sdk) => {
      if (store === "postgres" && !postgresUrl) return;
      const phone = sdk === "legacy" ? "+14155550291" : "+14155550281";
      const { stdout } = await run(
        process.execPath,
        [new URL("./fixtures/management-logs-sdk.mjs", import.meta.url).pathname],
        {
          env: {
            ...process.env,
            NODE_EXTRA_CA_CERTS: join(dir, "cert.pem"),
            DOMAIN: domain,
            OUTBOX: join(dir, "outbox.jsonl"),
            AUDITOR_ID: AUDITOR.id,
            AUDITOR_SECRET: AUDITOR.secret,
            READER_ID: READER.id,
            READER_SECRET: READER.secret,
            APP_ID,
            SDK: sdk,
            PHONE: phone,
          },
          timeout: 60_000,
        },
      );
      const out = JSON.parse(stdout.trim().split("\n").at(-1)!);
      const masked = `+*******${phone.slice(-4)}`;
      expect(out.fails).toEqual([
        expect.objectContaining({
          type: "fepotpft",
          client_id: APP_ID,
          user_name: masked,
          connection: "sms",
          user_agent: "logs-sdk-test/1.0",
          log_id: expect.stringMatching(/^\d{56}$/),
        }),
      ]);
      expect(out.userLogs.types).toEqual(["s", "ss"]);
      expect(out.one).toMatchObject({ type: "s", user_id: out.userId, user_name: masked });
      if (sdk === "legacy") {
        // After the failed exchange: the sign-up and the login, in log_id order.
        const mine = out.checkpoint.filter((l: { user_id?: string }) => l.user_id === out.userId);
        expect(mine.map((l: { type: string }) => l.type)).toEqual(["ss", "s"]);
        const ids = out.checkpoint.map((l: { log_id: string }) => l.log_id);
        expect(ids).toEqual([...ids].sort());
      }
      expect(out.readerLogs).toMatchObject({
        status: 403,
        body: { statusCode: 403, errorCode: "insufficient_scope" },
      });
      expect(JSON.stringify(out.fails) + JSON.stringify(out.one)).not.toContain(out.code);
    },
    90_000,
  );
});
