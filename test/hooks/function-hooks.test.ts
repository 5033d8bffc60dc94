import { execFile } from "node:child_process";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { createLocalJWKSet, jwtVerify } from "jose";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { HookFunctions } from "../../core/hooks/index.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { ISSUER, login, start, wire } from "../helpers/hook-login.js";

const EXTENSIBILITY_ERROR = {
  error: "extensibility_error",
  error_description: "A hook failed, so the login could not be completed.",
};
const examples = new URL("../../docs/examples/hooks/", import.meta.url).pathname;
// The documented example is plain JS, typed by JSDoc (checked by hook-types.test.ts); imported by path
// so this project's compiler does not need allowJs.
interface ExampleApp {
  isBlocked(phone: string): Promise<boolean>;
  welcome(userId: string): Promise<void>;
  planOf(phone: string): Promise<string>;
}
const { createHooks } = (await import(`${examples}function-hooks.js`)) as {
  createHooks: (app: ExampleApp) => HookFunctions;
};
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function make(hooks: Record<string, unknown>, extra: Record<string, unknown> = {}, logLines?: string[]) {
  const logger = logLines
    ? pino(
        { level: "info" },
        new Writable({
          write: (c, _e, done) => {
            logLines.push(String(c));
            done();
          },
        }),
      )
    : undefined;
  const tl = await createTestTextlock({ hooks, ...extra }, logger ? { logger: logger as never } : undefined);
  cleanup.push(() => tl.close());
  return tl;
}
const users = (tl: TestTextlock) => tl.users;
const claimsOf = async (tl: TestTextlock, token: string) =>
  (await jwtVerify(token, createLocalJWKSet(tl.keys.jwks()))).payload;

describe("function hooks (hooks.functions)", () => {
  it("the documented example: claims in both tokens from a real login, metadata saved, post-user-registration once", async () => {
    const welcomed: string[] = [];
    const tl = await make({
      functions: createHooks({
        isBlocked: async (phone) => phone === "+14155550666",
        welcome: async (id) => void welcomed.push(id),
        planOf: async () => "gold",
      }),
    });
    await start(tl, "+14155550120");
    const tokens = await login(tl, "+14155550120");
    expect((await claimsOf(tl, tokens.id_token!))["https://example.com/plan"]).toBe("gold");
    expect((await claimsOf(tl, tokens.access_token))["https://example.com/plan"]).toBe("gold");
    const user = (await users(tl).findByPhone("sms", "+14155550120"))!;
    expect(user.app_metadata).toEqual({ plan: "gold" });
    await start(tl, "+14155550120");
    await login(tl, "+14155550120");
    expect(welcomed).toEqual([user.user_id]);

    await start(tl, "+14155550666");
    expect(await wire(login(tl, "+14155550666"))).toMatchObject({
      status: 403,
      body: { error: "access_denied", error_description: "This number cannot sign up." },
    });
    expect(await users(tl).findByPhone("sms", "+14155550666")).toBeUndefined();
  });

  it("post-login gets Auth0's event; restricted claims are dropped; deny answers 403 with the reason", async () => {
    const seen: unknown[] = [];
    const tl = await make({
      secrets: { API_KEY: "k1" },
      functions: {
        "post-login": (event, api) => {
          seen.push(event);
          if (event.user.phone_number.endsWith("99")) return api.access.deny("Suspended.");
          api.idToken.setCustomClaim("sub", "someone-else");
          api.accessToken.setCustomClaim("iss", "https://evil.example/");
          api.idToken.setCustomClaim("https://example.com/logins", event.stats.logins_count);
          api.user.setUserMetadata("seen", true);
        },
      } satisfies HookFunctions,
    });
    await start(tl, "+14155550121");
    const tokens = await login(tl, "+14155550121");
    const id = await claimsOf(tl, tokens.id_token!);
    const user = (await users(tl).findByPhone("sms", "+14155550121"))!;
    expect(id.sub).toBe(user.user_id);
    expect(id["https://example.com/logins"]).toBe(1);
    expect((await claimsOf(tl, tokens.access_token)).iss).toBe(ISSUER);
    expect(user.user_metadata).toEqual({ seen: true });
    expect(seen[0]).toMatchObject({
      user: { user_id: user.user_id, phone_number: "+14155550121", logins_count: 1 },
      client: { client_id: "textlock-dev" },
      connection: { id: "con_sms", name: "sms", strategy: "sms" },
      transaction: { protocol: "oauth2-password", requested_scopes: ["openid", "profile"] },
      authentication: { methods: [{ name: "sms" }] },
      tenant: { id: "textlock" },
      secrets: { API_KEY: "k1" },
    });

    await start(tl, "+14155550199");
    expect(await wire(login(tl, "+14155550199"))).toMatchObject({
      status: 403,
      body: { error: "access_denied", error_description: "Suspended." },
    });
  });

  it("a function gets a copy of the event: changing it changes no stored user", async () => {
    const tl = await make({
      functions: {
        "post-login": (event) => {
          (event.user.app_metadata as Record<string, unknown>).admin = true;
        },
      } satisfies HookFunctions,
    });
    await start(tl, "+14155550122");
    await login(tl, "+14155550122");
    expect((await users(tl).findByPhone("sms", "+14155550122"))!.app_metadata).toEqual({});
  });

  it("a throwing function fails the login with 400 extensibility_error, logged but never shown; post-user-registration failures are ignored", async () => {
    const lines: string[] = [];
    const tl = await make(
      {
        functions: {
          "post-user-registration": () => {
            throw new Error("welcome service down");
          },
          "post-login": (event) => {
            if (event.user.phone_number.endsWith("23")) throw new Error("claims service down");
          },
        } satisfies HookFunctions,
      },
      {},
      lines,
    );
    await start(tl, "+14155550123");
    const failed = await wire(login(tl, "+14155550123"));
    expect(failed).toMatchObject({ status: 400, body: EXTENSIBILITY_ERROR });
    expect(JSON.stringify(failed)).not.toContain("claims service down");
    const log = lines.join("");
    expect(log).toContain('"reason":"threw"');
    expect(log).toContain("claims service down");
    expect(log).toContain("welcome service down");
    await start(tl, "+14155550124");
    expect((await login(tl, "+14155550124")).id_token).toBeDefined();
  });

  it("a slow function times out after hooks.timeoutMs with 400 extensibility_error; its late api calls change nothing", async () => {
    const lines: string[] = [];
    let late: Promise<void> | undefined;
    const tl = await make(
      {
        timeoutMs: 200,
        functions: {
          "pre-user-registration": (event, api) => {
            if (!event.user.phone_number.endsWith("25")) return;
            late = new Promise((resolve) => setTimeout(resolve, 600)).then(() => api.user.setAppMetadata("late", true));
            return late;
          },
          "post-login": () => new Promise(() => {}),
        } satisfies HookFunctions,
      },
      {},
      lines,
    );
    await start(tl, "+14155550125");
    const began = Date.now();
    expect(await wire(login(tl, "+14155550125"))).toMatchObject({ status: 400, body: EXTENSIBILITY_ERROR });
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(lines.join("")).toContain('"reason":"timeout"');
    await late;
    expect(await users(tl).findByPhone("sms", "+14155550125")).toBeUndefined();
    await start(tl, "+14155550126");
    expect(await wire(login(tl, "+14155550126"))).toMatchObject({ status: 400, body: EXTENSIBILITY_ERROR });
  });

  it("delivers codes through send-phone-message and custom-phone-provider functions (provider action)", async () => {
    const outbox: Array<{ to: string; text: string }> = [];
    const tl = await make(
      {
        functions: {
          "send-phone-message": (event) => {
            outbox.push({ to: event.message_options.recipient, text: event.message_options.text });
          },
        } satisfies HookFunctions,
      },
      { connections: [{ name: "sms", enabled_clients: ["textlock-dev"], options: { provider: "action" } }] },
    );
    await start(tl, "+14155550126");
    expect(outbox).toHaveLength(1);
    expect(outbox[0]!.to).toBe("+14155550126");
    expect((await login(tl, "+14155550126", outbox[0]!.text.match(/\d{6}/)![0])).id_token).toBeDefined();

    const dropping = await make(
      {
        functions: {
          "custom-phone-provider": (_event, api) => api.notification.drop("number refused"),
        } satisfies HookFunctions,
      },
      {
        connections: [{ name: "sms", enabled_clients: ["textlock-dev"], options: { provider: "action" } }],
        delivery: { retries: 0 },
      },
    );
    expect(await wire(start(dropping, "+14155550127"))).toMatchObject({
      status: 400,
      body: { error: "sms_provider_error" },
    });
  });

  it("scripts and functions mix across triggers in one instance", async () => {
    const tl = await make({
      scripts: { "pre-user-registration": `${examples}pre-user-registration.js` },
      functions: {
        "post-login": (_event, api) => api.idToken.setCustomClaim("https://example.com/fn", 1),
      } satisfies HookFunctions,
    });
    await start(tl, "+14155550128");
    const tokens = await login(tl, "+14155550128");
    expect((await claimsOf(tl, tokens.id_token!))["https://example.com/fn"]).toBe(1);
    expect((await users(tl).findByPhone("sms", "+14155550128"))!.app_metadata).toEqual({ plan: "free" });
    await start(tl, "+33612345678");
    expect(await wire(login(tl, "+33612345678"))).toMatchObject({ status: 403, body: { error: "access_denied" } });
  });

  it("refuses a trigger with both a function and a script, and a function that is not one", async () => {
    await expect(
      createTestTextlock({
        hooks: { scripts: { "post-login": `${examples}post-login.js` }, functions: { "post-login": () => {} } },
      }),
    ).rejects.toThrow('hooks.functions["post-login"] and hooks.scripts["post-login"] are both set');
    await expect(
      createTestTextlock({ hooks: { functions: { "post-login": "exports.x = 1" as never } } }),
    ).rejects.toThrow(/hooks\.functions\.post-login.*must be a function/);
  });
});

describe("an instance with only function hooks", () => {
  const child = new URL("./function-hooks-child.ts", import.meta.url).pathname;
  const run = async (nodeFlags: string[], childArgs: string[] = []) => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [...nodeFlags, "--import", "tsx", child, ...childArgs],
      {
        cwd: new URL("../..", import.meta.url).pathname,
        env: { ...process.env, NODE_OPTIONS: "" },
      },
    );
    return JSON.parse(stdout.trim().split("\n").at(-1)!) as {
      claim: unknown;
      nativeLoaded: boolean;
      moduleLoaded: boolean;
    };
  };

  it("never loads isolated-vm and runs on plain node, without --no-node-snapshot", async () => {
    expect(await run([])).toEqual({ claim: true, nativeLoaded: false, moduleLoaded: false });
    // The same check sees isolated-vm once a script is configured, so the result above means something.
    expect(await run(["--no-node-snapshot"], ["--with-script"])).toEqual({
      claim: true,
      nativeLoaded: true,
      moduleLoaded: true,
    });
  }, 60_000);
});
