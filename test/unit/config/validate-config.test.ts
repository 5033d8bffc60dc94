import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readConfigFile } from "../../../core/config/load-config.js";
import { TextlockConfigError } from "../../../core/errors/textlock-error.js";
import { createTextlock, validateConfig } from "../../../lib/index.js";

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TextlockConfigError);
    return [...(err as TextlockConfigError).problems];
  }
  throw new Error("expected a TextlockConfigError");
}

describe("validateConfig", () => {
  it("gives embedded defaults: a dev client, an sms connection on the console provider, Auth0's OTP rules", () => {
    const config = validateConfig({}, {});
    expect(config.clients).toEqual([
      expect.objectContaining({ client_id: "textlock-dev", token_endpoint_auth_method: "none" }),
    ]);
    expect(config.connections[0]).toMatchObject({
      name: "sms",
      strategy: "sms",
      enabled_clients: ["textlock-dev"],
      options: {
        provider: "console",
        syntax: "md_with_macros",
        totp: { time_step: 180, length: 6 },
        disable_signup: false,
      },
    });
    expect(config.otp).toEqual({ maxAttempts: 3, failureCeiling: { max: 10, windowSeconds: 3600 } });
    expect(config.store).toEqual({ type: "memory" });
    expect(config.users).toEqual({ type: "sqlite" });
  });

  it("reports every mistake at once, each with its path", () => {
    const problems = problemsOf(() =>
      validateConfig(
        {
          secret: "short",
          clients: [
            { client_id: "a", token_endpoint_auth_method: "client_secret_post" },
            { client_id: "a", callbacks: ["not a url"] },
          ],
          connections: [
            {
              name: "sms",
              enabled_clients: ["a", "ghost"],
              options: { totp: { time_step: 5000, length: 12 }, provider: "carrier-pigeon" },
            },
          ],
          store: { type: "redis", url: "http://nope" },
        } as never,
        {},
      ),
    );
    const text = problems.join("\n");
    expect(text).toMatch(/^secret: .*32/m);
    expect(text).toMatch(/clients\.1\.callbacks\.0/);
    expect(text).toMatch(/connections\.0\.options\.totp\.time_step/);
    expect(text).toMatch(/connections\.0\.options\.totp\.length/);
    expect(text).toMatch(/store\.url: must be a redis:\/\//);
    expect(problems.length).toBeGreaterThanOrEqual(5);
  });

  it("reports cross-field mistakes together", () => {
    const problems = problemsOf(() =>
      validateConfig(
        {
          clients: [{ client_id: "a", token_endpoint_auth_method: "client_secret_basic" }, { client_id: "a" }],
          connections: [
            { name: "sms", enabled_clients: ["ghost"], options: { totp: { length: 4, time_step: 300 } } },
            { name: "sms", options: { provider: ["console", "carrier-pigeon"] } },
          ],
        },
        {},
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/clients\.1\.client_id: duplicate client_id "a"/),
        expect.stringMatching(/clients\.0\.client_secret: required/),
        expect.stringMatching(/connections\.1\.name: duplicate connection name "sms"/),
        expect.stringMatching(/connections\.0\.enabled_clients\.0: unknown client "ghost"/),
        expect.stringMatching(/connections\.0\.options\.totp: a 4-digit code may not live 300 s/),
      ]),
    );
  });

  it("names unknown providers", () => {
    const problems = problemsOf(() =>
      validateConfig({ connections: [{ name: "sms", options: { provider: "carrier-pigeon" } }] }, {}),
    );
    expect(problems).toEqual([expect.stringMatching(/unknown provider "carrier-pigeon"/)]);
  });

  it("refuses development defaults in production", () => {
    const problems = problemsOf(() => validateConfig({}, { NODE_ENV: "production" }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/console provider .* refused/),
        expect.stringMatching(/^secret: a generated secret is refused/),
        expect.stringMatching(/^issuer: required when NODE_ENV=production/),
      ]),
    );
    const configured = problemsOf(() =>
      validateConfig({ issuer: "https://auth.example.com/" }, { NODE_ENV: "production" }),
    );
    expect(configured.filter((p) => p.startsWith("issuer"))).toEqual([]);
  });

  it("createTextlock throws the same single error", async () => {
    const err = await createTextlock({ otp: { maxAttempts: 0 }, secret: "x" } as never).catch((e: Error) => e);
    expect(err).toBeInstanceOf(TextlockConfigError);
    expect((err as Error).message).toMatch(/^Invalid textlock configuration \(2 problems\)/);
    expect((err as Error).message).toMatch(/- otp\.maxAttempts: /);
    expect((err as Error).message).toMatch(/- secret: /);
  });

  it("refuses a broken Liquid template at startup", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "textlock-cfg-"));
    await expect(
      createTextlock({
        dataDir,
        connections: [
          { name: "sms", enabled_clients: ["textlock-dev"], options: { syntax: "liquid", template: "{% if %}" } },
        ],
      }),
    ).rejects.toThrow();
  });
});

describe("readConfigFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "textlock-cfgfile-"));

  it("reads JSON and YAML", async () => {
    writeFileSync(join(dir, "a.json"), JSON.stringify({ otp: { maxAttempts: 5 } }));
    writeFileSync(join(dir, "b.yaml"), "otp:\n  maxAttempts: 4\n");
    expect(await readConfigFile(join(dir, "a.json"))).toEqual({ otp: { maxAttempts: 5 } });
    expect(await readConfigFile(join(dir, "b.yaml"))).toEqual({ otp: { maxAttempts: 4 } });
  });

  it("explains an unreadable or malformed file", async () => {
    writeFileSync(join(dir, "bad.json"), "{ nope");
    await expect(readConfigFile(join(dir, "bad.json"))).rejects.toThrow(/bad\.json: is not valid JSON/);
    await expect(readConfigFile(join(dir, "missing.json"))).rejects.toThrow(/missing\.json: cannot be read/);
  });
});
