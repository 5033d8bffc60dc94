import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createLocalJWKSet, jwtVerify } from "jose";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../adapters/standalone/index.js";
import { createTextlock, type Textlock } from "../../lib/index.js";
import { TEST_SECRET } from "../helpers/create-test-textlock.js";
import { selfSignedCert } from "../helpers/tls.js";

// The official SDKs, unmodified, against the standalone server over HTTPS on 127.0.0.1.
const run = promisify(execFile);
const CLIENT_ID = "server-app";
const CLIENT_SECRET = "server-app-secret-0123456789";

describe("official Auth0 SDKs over HTTPS", () => {
  let dir: string;
  let textlock: Textlock;
  let server: RunningServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "textlock-sdk-"));
    selfSignedCert(dir);
    textlock = await createTextlock(
      {
        secret: TEST_SECRET,
        dataDir: dir,
        users: { type: "memory" },
        clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, app_type: "regular_web" }],
        connections: [{ name: "sms", enabled_clients: [CLIENT_ID] }],
        server: { https: { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") } },
      },
      { logger: pino({ level: "silent" }) },
    );
    server = await startServer(textlock, { host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await textlock?.close();
  });

  it("node-auth0, @auth0/auth0-auth-js and openid-client complete logins; id_tokens verify against the JWKS", async () => {
    const domain = `127.0.0.1:${server.port}`;
    const { stdout } = await run(process.execPath, [new URL("./fixtures/sdk-login.mjs", import.meta.url).pathname], {
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: join(dir, "cert.pem"),
        DOMAIN: domain,
        OUTBOX: join(dir, "outbox.jsonl"),
        CLIENT_ID,
        CLIENT_SECRET,
      },
      timeout: 60_000,
    });
    const out = JSON.parse(stdout.trim().split("\n").at(-1)!);
    const issuer = `https://${domain}/`;
    const jwks = createLocalJWKSet(textlock.keys.jwks());
    expect(out.discoveredIssuer).toBe(issuer);

    const a = await jwtVerify(out.nodeAuth0.id_token, jwks, { issuer, audience: CLIENT_ID });
    expect(a.payload).toMatchObject({
      sub: expect.stringMatching(/^sms\|[0-9a-f]{24}$/),
      phone_number: "+14155550161",
    });
    expect(out.nodeAuth0).toMatchObject({ token_type: "Bearer", refresh_token: expect.any(String) });

    const b = await jwtVerify(out.openidClient.id_token, jwks, { issuer, audience: CLIENT_ID });
    expect(b.payload.phone_number).toBe("+14155550162");
    expect(out.openidClient.claims.sub).toBe(b.payload.sub);

    const c = await jwtVerify(out.auth0AuthJsRefresh.idToken, jwks, { issuer, audience: CLIENT_ID });
    expect(c.payload.sub).toBe(b.payload.sub);
    expect(out.auth0AuthJsRefresh.refreshToken).not.toBe(out.openidClient.refresh_token);
    expect(out.userinfo).toMatchObject({ sub: b.payload.sub, phone_number: "+14155550162" });
  }, 90_000);
});
