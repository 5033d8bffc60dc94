// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${NAME}` placeholders are config-file syntax under test
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { readConfigFile } from "../../../core/config/load-config.js";
import { TextlockConfigError } from "../../../core/errors/textlock-error.js";
import { createTextlock, defineProvider, validateConfig } from "../../../lib/index.js";

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

describe("store: one Redis or a Redis Cluster", () => {
  it("takes `url` or `cluster`, never both or neither, and no braces in the namespace (they are hash tags)", () => {
    const store = (s: Record<string, unknown>) => problemsOf(() => validateConfig({ store: s } as never, {}));
    expect(
      validateConfig({ store: { type: "redis", cluster: ["redis://a:1", "redis://b:2"] } }, {}).store,
    ).toMatchObject({
      type: "redis",
      cluster: ["redis://a:1", "redis://b:2"],
      namespace: "textlock",
    });
    expect(store({ type: "redis", url: "redis://a:1", cluster: ["redis://b:2"] })).toEqual([
      expect.stringMatching(/^store: set either `url` .* or `cluster`/),
    ]);
    expect(store({ type: "redis" })).toEqual([expect.stringMatching(/^store: set either `url`/)]);
    expect(store({ type: "redis", cluster: [] })).toEqual([expect.stringMatching(/^store\.cluster: /)]);
    expect(store({ type: "redis", cluster: ["http://a:1"] })).toEqual([
      expect.stringMatching(/^store\.cluster\.0: must be a redis:\/\//),
    ]);
    expect(store({ type: "redis", url: "redis://a:1", namespace: "{tl}" })).toEqual([
      expect.stringMatching(/^store\.namespace: must not contain/),
    ]);
  });
});

describe("unknown options", () => {
  it("are errors at every level, each with the closest known name, reported with the other problems", () => {
    const problems = problemsOf(() =>
      validateConfig(
        {
          code_lifetime: 300,
          secret: "short",
          server: { tls: { cert: "c.pem", key: "k.pem" } },
          clients: [{ client_id: "a", allowedOrigins: ["https://app.example.com"] }],
          connections: [
            { name: "sms", enabled_clients: ["a"], options: { templat: "x @@password@@", totp: { lenght: 6 } } },
          ],
          store: { type: "memory", url: "redis://x" },
          users: { type: "sqlite", fil: "users.db" },
          protection: { perPhone: { point: 3 } },
        } as never,
        {},
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'server.tls: unknown option (did you mean "https"?)',
        'code_lifetime: unknown option (did you mean "connections[].options.totp.time_step"?)',
        'clients.0.allowedOrigins: unknown option (did you mean "allowed_origins"?)',
        'connections.0.options.totp.lenght: unknown option (did you mean "length"?)',
        'connections.0.options.templat: unknown option (did you mean "template"?)',
        "store.url: unknown option",
        'users.fil: unknown option (did you mean "file"?)',
        'protection.perPhone.point: unknown option (did you mean "points"?)',
        expect.stringMatching(/^secret: .*32/),
      ]),
    );
  });

  it("in connection options, accepts what textlock or any registered provider declares, and nothing else", () => {
    const acme = defineProvider({
      id: "acme",
      version: "1.0.0",
      textlock: "^0.1.0",
      options: z.object({ acme_api_key: z.string() }),
      create: () => ({ name: "acme", send: async () => ({ id: "1" }) }),
    });
    const connection = (options: Record<string, unknown>) => ({
      name: "sms",
      enabled_clients: ["textlock-dev"],
      options,
    });
    // A plugin's option, and a built-in provider's option on a connection using another provider, are known.
    expect(() =>
      validateConfig({ providers: [acme], connections: [connection({ provider: "acme", acme_api_key: "k" })] }, {}),
    ).not.toThrow();
    expect(() =>
      validateConfig({ connections: [connection({ provider: "console", twilio_sid: "AC1" })] }, {}),
    ).not.toThrow();
    const problems = problemsOf(() =>
      validateConfig(
        {
          providers: [acme],
          connections: [connection({ provider: "acme", acme_api_key: "k", acme_apikey: "k", twilio_tokn: "t" })],
        },
        {},
      ),
    );
    expect(problems).toEqual([
      'connections.0.options.acme_apikey: unknown option (did you mean "acme_api_key"?)',
      'connections.0.options.twilio_tokn: unknown option (did you mean "twilio_token"?)',
    ]);
  });
});

describe("secrets", () => {
  it("refuses placeholders and example values copied from docs", () => {
    const problems = problemsOf(() =>
      validateConfig(
        {
          secret: "${a random string of 32+ characters}",
          clients: [{ client_id: "a", client_secret: "your-secret-here-0123456789" }],
          connections: [
            {
              name: "sms",
              enabled_clients: ["a"],
              options: { provider: "twilio", twilio_sid: "AC...", twilio_token: "...", from: "+14155550100" },
            },
          ],
          hooks: { secrets: { SMS_API_KEY: "changeme" } },
          risk: {
            twilioLookup: { accountSid: `AC${"0".repeat(32)}`, authToken: "your_token_here" },
            vonage: { apiKey: "abcd1234", apiSecret: "${VONAGE_API_SECRET}" },
          },
        },
        {},
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^secret: is a placeholder that was never substituted/),
        expect.stringMatching(/^clients\.0\.client_secret: is an example value/),
        expect.stringMatching(/^connections\.0\.options\.twilio_token: is an example value/),
        expect.stringMatching(/^hooks\.secrets\.SMS_API_KEY: is an example value/),
        expect.stringMatching(/^risk\.twilioLookup\.authToken: is an example value/),
        expect.stringMatching(/^risk\.vonage\.apiSecret: is a placeholder/),
      ]),
    );
    expect(problemsOf(() => validateConfig({ secret: "changeme-changeme-changeme-changeme" }, {}))).toEqual([
      expect.stringMatching(/^secret: is an example value \("changeme"\)/),
    ]);
    expect(problemsOf(() => validateConfig({ secret: "<the same 32+ character secret everywhere>" }, {}))).toEqual([
      expect.stringMatching(/^secret: is a placeholder/),
    ]);
    expect(() => validateConfig({ secret: "k3P9vXq2LmN8rT4wYz6bC1dF5gH7jQ0s" }, {})).not.toThrow();
  });
});

describe("files named by the configuration", () => {
  it("a missing certificate names its option at validation time", () => {
    const dir = mkdtempSync(join(tmpdir(), "textlock-cert-"));
    writeFileSync(join(dir, "key.pem"), "");
    const problems = problemsOf(() =>
      validateConfig({ server: { https: { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") } } }, {}),
    );
    expect(problems).toEqual([`server.https.cert: file not found: ${join(dir, "cert.pem")}`]);
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

  it("substitutes ${NAME} from the environment in string values; $${ escapes", async () => {
    writeFileSync(
      join(dir, "env.yaml"),
      'secret: "${TL_SECRET}"\nissuer: https://${TL_HOST}/\nconnections:\n  - name: sms\n    options: { template: "$${NOT_A_VAR} @@password@@", twilio_token: "${TL_TOKEN}" }\n',
    );
    const env = { TL_SECRET: "s".repeat(40), TL_HOST: "auth.example.com", TL_TOKEN: "tok" };
    expect(await readConfigFile(join(dir, "env.yaml"), env)).toEqual({
      secret: "s".repeat(40),
      issuer: "https://auth.example.com/",
      connections: [{ name: "sms", options: { template: "${NOT_A_VAR} @@password@@", twilio_token: "tok" } }],
    });
    writeFileSync(
      join(dir, "env.json"),
      JSON.stringify({ secret: "${TL_SECRET}", clients: [{ client_secret: "${TL_CS}" }] }),
    );
    const err = await readConfigFile(join(dir, "env.json"), {}).catch((e: TextlockConfigError) => e);
    expect(err).toBeInstanceOf(TextlockConfigError);
    expect((err as TextlockConfigError).problems).toEqual([
      "secret: environment variable TL_SECRET is not set (used as ${TL_SECRET})",
      "clients.0.client_secret: environment variable TL_CS is not set (used as ${TL_CS})",
    ]);
  });

  it("resolves paths against the file's folder, not the working directory", async () => {
    const sub = join(dir, "conf");
    mkdirSync(sub, { recursive: true });
    writeFileSync(
      join(sub, "paths.json"),
      JSON.stringify({
        dataDir: "data",
        users: { type: "sqlite", file: "../users.db" },
        server: { https: { cert: "tls/cert.pem", key: "/etc/key.pem" } },
        hooks: { scripts: { "post-login": "hooks/post-login.js" } },
      }),
    );
    expect(await readConfigFile(join(sub, "paths.json"), {})).toEqual({
      dataDir: join(sub, "data"),
      users: { type: "sqlite", file: join(dir, "users.db") },
      server: { https: { cert: join(sub, "tls/cert.pem"), key: "/etc/key.pem" } },
      hooks: { scripts: { "post-login": join(sub, "hooks/post-login.js") } },
    });
  });

  it("explains an unreadable or malformed file", async () => {
    writeFileSync(join(dir, "bad.json"), "{ nope");
    await expect(readConfigFile(join(dir, "bad.json"))).rejects.toThrow(/bad\.json: is not valid JSON/);
    await expect(readConfigFile(join(dir, "missing.json"))).rejects.toThrow(/missing\.json: cannot be read/);
  });
});

describe("client grants and resource servers", () => {
  const m2m = { client_id: "ops", client_secret: "ops-secret-ops-secret", grant_types: ["client_credentials"] };
  it("accepts grants for the Management API and for a resource server", () => {
    const config = validateConfig(
      {
        issuer: "https://login.example.com/",
        clients: [m2m],
        connections: [{ name: "sms", enabled_clients: [] }],
        resource_servers: [{ identifier: "https://api.example.com/", scopes: [{ value: "read:x" }] }],
        client_grants: [
          { client_id: "ops", audience: "https://login.example.com/api/v2/", scope: ["read:users", "delete:users"] },
          { client_id: "ops", audience: "https://api.example.com/", scope: ["read:x"] },
        ],
      },
      {},
    );
    expect(config.resource_servers[0]).toMatchObject({ token_lifetime: 86400 });
    expect(config.client_grants).toHaveLength(2);
  });

  it("refuses grants for unknown, public or grant-less clients, unknown audiences and scopes, all at once", () => {
    const problems = problemsOf(() =>
      validateConfig(
        {
          issuer: "https://login.example.com/",
          clients: [m2m, { client_id: "spa" }, { client_id: "web", client_secret: "web-secret-web-secret" }],
          resource_servers: [
            { identifier: "https://api.example.com/", scopes: [{ value: "read:x" }] },
            { identifier: "https://api.example.com/" },
            { identifier: "https://other.example.com/api/v2/" },
          ],
          client_grants: [
            { client_id: "ghost", audience: "https://api.example.com/" },
            { client_id: "spa", audience: "https://api.example.com/" },
            { client_id: "web", audience: "https://api.example.com/" },
            { client_id: "ops", audience: "https://nowhere.example.com/" },
            { client_id: "ops", audience: "https://api.example.com/", scope: ["write:x"] },
            { client_id: "ops", audience: "https://api.example.com/" },
            { client_id: "ops", audience: "https://elsewhere.example.com/api/v2/", scope: ["read:users"] },
            { client_id: "ops", audience: "https://login.example.com/api/v2/", scope: ["launch:rockets"] },
          ],
        },
        {},
      ),
    );
    const text = problems.join("\n");
    expect(text).toMatch(/client_grants\.0\.client_id: unknown client "ghost"/);
    expect(text).toMatch(/client_grants\.1\.client_id: .*client_secret.*client_credentials/);
    expect(text).toMatch(/client_grants\.2\.client_id: .*client_secret.*client_credentials/);
    expect(text).toMatch(/client_grants\.3\.audience: unknown audience/);
    expect(text).toMatch(/client_grants\.4\.scope\.0: "write:x" is not a scope of this API/);
    expect(text).toMatch(/client_grants\.5\.audience: duplicate grant/);
    expect(text).toMatch(
      /client_grants\.6\.audience: the Management API is "https:\/\/login\.example\.com\/api\/v2\/"/,
    );
    expect(text).toMatch(/client_grants\.7\.scope\.0: "launch:rockets"/);
    expect(text).toMatch(/resource_servers\.1\.identifier: duplicate identifier/);
    expect(text).toMatch(/resource_servers\.2\.identifier: ends with \/api\/v2\//);
  });
});
