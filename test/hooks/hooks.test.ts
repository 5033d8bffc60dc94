import { Writable } from "node:stream";
import { createLocalJWKSet, jwtVerify } from "jose";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeSmsGateway } from "../fakes/fake-sms-gateway.js";
import { createTestTextlock } from "../helpers/create-test-textlock.js";
import { ISSUER, login, start, wire } from "../helpers/hook-login.js";

const examples = new URL("../../docs/examples/hooks/", import.meta.url).pathname;
const hostile = new URL("./hostile.js", import.meta.url).pathname;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function make(config: Record<string, unknown>, logger?: ReturnType<typeof pino>) {
  const tl = await createTestTextlock(config, logger ? { logger: logger as never } : undefined);
  cleanup.push(() => tl.close());
  return tl;
}

describe("custom-phone-provider script", () => {
  it("delivers codes to a loopback SMS API through the allowed fetch, and the login completes", async () => {
    const api = await startFakeSmsGateway();
    cleanup.push(api.close);
    const tl = await make({
      connections: [{ name: "sms", enabled_clients: ["textlock-dev"], options: { provider: "action" } }],
      hooks: {
        scripts: { "custom-phone-provider": `${examples}custom-phone-provider.js` },
        secrets: { SMS_API_URL: `${api.url}/messages`, SMS_API_KEY: "sms-api-key" },
        allowedHosts: [new URL(api.url).host],
      },
    });
    await start(tl, "+14155550101");
    const sent = api.accepted[0] as unknown as { to: string; text: string; authorization: string };
    expect(sent).toMatchObject({ to: "+14155550101", authorization: "Bearer sms-api-key" });
    const tokens = await login(tl, "+14155550101", sent.text.match(/\d{6}/)![0]);
    expect(tokens.id_token).toBeDefined();
  });

  it("leaves no valid code when the script fails after sending, and maps drop/retry", async () => {
    const api = await startFakeSmsGateway();
    cleanup.push(api.close);
    const tl = await make({
      connections: [{ name: "sms", enabled_clients: ["textlock-dev"], options: { provider: "action" } }],
      hooks: {
        scripts: { "custom-phone-provider": `${examples}custom-phone-provider.js` },
        secrets: { SMS_API_URL: `${api.url}/messages`, SMS_API_KEY: "k" },
        allowedHosts: [new URL(api.url).host],
      },
      delivery: { retries: 0 },
    });
    api.script.push({ status: 400 });
    expect(await wire(start(tl, "+14155550102"))).toMatchObject({ status: 400, body: { error: "sms_provider_error" } });
    // The API received the request (the code left) but answered 400: the script dropped it, so the code is void.
    const code = (api.requests[0]!.fields as { text: string }).text.match(/\d{6}/)![0];
    expect(await wire(login(tl, "+14155550102", code))).toMatchObject({
      status: 403,
      body: { error: "invalid_grant" },
    });
  });
});

describe("login triggers", () => {
  it("a post-login script adds a claim that appears in the id_token and the access token", async () => {
    const tl = await make({ hooks: { scripts: { "post-login": `${examples}post-login.js` } } });
    await start(tl, "+14155550110");
    const tokens = await login(tl, "+14155550110", tl.lastCode("+14155550110"));
    const jwks = createLocalJWKSet(tl.keys.jwks());
    const { payload } = await jwtVerify(tokens.id_token!, jwks, { issuer: ISSUER });
    expect(payload["https://example.com/plan"]).toBe("free");
    const access = await jwtVerify(tokens.access_token, jwks);
    expect(access.payload["https://example.com/plan"]).toBe("free");
    const users = await tl.users.list();
    expect(users[0]!.app_metadata).toEqual({ last_client: "textlock-dev" });
  });

  it("pre-user-registration deny blocks the sign-up with the script's message; allowed numbers get metadata", async () => {
    const tl = await make({ hooks: { scripts: { "pre-user-registration": `${examples}pre-user-registration.js` } } });
    await start(tl, "+33612345678");
    expect(await wire(login(tl, "+33612345678", tl.lastCode("+33612345678")))).toEqual({
      status: 403,
      headers: {},
      body: { error: "access_denied", error_description: "Sign-ups are open to North American numbers only." },
    });
    const users = tl.users;
    expect(await users.findByPhone("sms", "+33612345678")).toBeUndefined();
    await start(tl, "+14155550111");
    await login(tl, "+14155550111", tl.lastCode("+14155550111"));
    expect((await users.findByPhone("sms", "+14155550111"))!.app_metadata).toEqual({ plan: "free" });
  });
});

describe("hostile scripts fail safely while other logins are served", () => {
  it("loops, hangs, memory bombs, escapes, throws and forbidden fetches each give extensibility_error", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (c, _e, done) => {
        lines.push(String(c));
        done();
      },
    });
    const tl = await make(
      {
        hooks: {
          scripts: { "pre-user-registration": hostile },
          secrets: { TOKEN: "hook-secret-value" },
          // Long enough for the memory bomb to reach its heap limit while three other scripts spin on a
          // loaded 2-core machine (it is otherwise, honestly, stopped by the clock first).
          timeoutMs: 3000,
          memoryLimitMb: 32,
        },
      },
      pino({ level: "info" }, sink),
    );
    const bad = ["9001", "9002", "9003", "9004", "9005", "9006", "9007"].map((s) => `+1415555${s}`);
    for (const p of bad) await start(tl, p);
    const good = Array.from({ length: 6 }, (_, i) => `+1415555100${i}`);
    for (const p of good) await start(tl, p);

    const began = Date.now();
    const badResults = Promise.all(bad.map((p) => wire(login(tl, p, tl.lastCode(p)))));
    // Normal logins keep completing promptly while the hostile scripts run.
    const goodTimes = await Promise.all(
      good.map(async (p, i) => {
        await new Promise((r) => setTimeout(r, i * 100));
        const t = Date.now();
        const res = await login(tl, p, tl.lastCode(p));
        expect(res.id_token).toBeDefined();
        return Date.now() - t;
      }),
    );
    for (const t of goodTimes) expect(t).toBeLessThan(1500);
    const results = await badResults;
    expect(Date.now() - began).toBeLessThan(10_000);
    for (const r of results) {
      expect(r).toMatchObject({
        status: 400,
        body: {
          error: "extensibility_error",
          error_description: "A hook failed, so the login could not be completed.",
        },
      });
      expect(JSON.stringify(r)).not.toContain("hook-secret-value");
    }
    // The script's console output goes to the log, never to the caller.
    const log = lines.join("");
    expect(log).toContain("hook output");
    // Each failed for its own reason: CPU/wall-clock limit, heap limit, or an exception (escape, throw, fetch).
    for (const reason of ["timeout", "memory", "threw"]) expect(log).toContain(`"reason":"${reason}"`);
    // Secrets a script prints or throws are redacted from the log too.
    expect(log).toContain("leak [redacted]");
    expect(log).not.toContain("hook-secret-value");
    // No user was created for the hostile numbers, and the process is alive to say so.
    const users = tl.users;
    for (const p of bad) expect(await users.findByPhone("sms", p)).toBeUndefined();
    expect((await users.findByPhone("sms", good[0]!))!.user_metadata).toEqual({ checked: true });
  }, 30_000);
});
