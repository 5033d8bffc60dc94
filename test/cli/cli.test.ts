// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${NAME}` placeholders are config-file syntax under test
import { type ChildProcess, execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { spawnServe } from "../helpers/serve-process.js";

// Runs the command line from source through tsx, as `npm start` runs the built one.
const root = new URL("../..", import.meta.url).pathname;
const tsx = join(root, "node_modules", ".bin", "tsx");
const run = promisify(execFile);
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGTERM");
});

function configFile(dataDir: string, extra: object = {}): string {
  const file = join(dataDir, "textlock.config.json");
  writeFileSync(file, JSON.stringify({ dataDir, logging: { level: "warn" }, ...extra }));
  return file;
}

describe("textlock command line", () => {
  it("serve starts the standalone server on embedded defaults, and a login works against it", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "textlock-cli-"));
    const { url, child } = await spawnServe(configFile(dataDir));
    children.push(child);
    const phone = "+14155550123";
    const start = await fetch(`${url}/passwordless/start`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: "textlock-dev", connection: "sms", phone_number: phone }),
    });
    expect(start.status).toBe(200);
    const sent = readFileSync(join(dataDir, "outbox.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const code = sent.at(-1).body.match(/\d{6}/)[0];
    const token = await fetch(`${url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "http://auth0.com/oauth/grant-type/passwordless/otp",
        client_id: "textlock-dev",
        username: phone,
        otp: code,
        realm: "sms",
        scope: "openid",
      }),
    });
    expect(token.status).toBe(200);
    expect(await token.json()).toHaveProperty("id_token");

    const users = await run(tsx, ["cli/index.ts", "users", "list", "--config", configFile(dataDir)], { cwd: root });
    expect(JSON.parse(users.stdout.trim())).toMatchObject({ phone_number: phone, logins_count: 1 });
  }, 60_000);

  it("keys rotate adds a signing key and keeps the old one", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "textlock-cli-"));
    const first = await run(tsx, ["cli/index.ts", "keys", "rotate", "--config", configFile(dataDir)], { cwd: root });
    expect(first.stdout).toMatch(/new signing key \S+/);
    const keys = JSON.parse(readFileSync(join(dataDir, "keys.json"), "utf8")).keys;
    expect(keys).toHaveLength(2);

    // keys retire: the signing key is refused; the old one leaves the file.
    const [current, old] = keys.map((k: { kid: string }) => k.kid);
    // A kid is a JWK thumbprint (base64url), so 1 in 64 starts with "-", which node's parseArgs reads as
    // options: the command takes it anywhere, in front of the options as well as last after "--".
    const refused = await run(tsx, ["cli/index.ts", "keys", "retire", current, "--config", configFile(dataDir)], {
      cwd: root,
    }).catch((e) => e);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/signs new tokens: rotate first/);
    const dashed = `-${"I".repeat(42)}`;
    const unknown = await run(tsx, ["cli/index.ts", "keys", "retire", dashed, "--config", configFile(dataDir)], {
      cwd: root,
    }).catch((e) => e);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`No signing key ${dashed}.`);
    const retired = await run(tsx, ["cli/index.ts", "keys", "retire", "--config", configFile(dataDir), "--", old], {
      cwd: root,
    });
    expect(retired.stdout).toContain(`retired signing key ${old}`);
    const after = JSON.parse(readFileSync(join(dataDir, "keys.json"), "utf8")).keys;
    expect(after.map((k: { kid: string }) => k.kid)).toEqual([current]);
  }, 90_000);

  it("reports every config mistake and exits non-zero", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "textlock-cli-"));
    const file = configFile(dataDir, { otp: { maxAttempts: 99 }, secret: "short" });
    const err = await run(tsx, ["cli/index.ts", "serve", "--config", file], { cwd: root }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/2 problems[\s\S]*secret[\s\S]*otp\.maxAttempts/);
  }, 60_000);

  it("refuses an unknown option with a suggestion instead of dropping it (server.tls would serve plain HTTP)", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "textlock-cli-"));
    const file = configFile(dataDir, { server: { tls: { cert: "c.pem", key: "k.pem" } }, code_lifetime: 300 });
    const err = await run(tsx, ["cli/index.ts", "serve", "--config", file], { cwd: root }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toContain('server.tls: unknown option (did you mean "https"?)');
    expect(err.stderr).toMatch(/code_lifetime: unknown option/);
  }, 60_000);

  it("substitutes ${NAME} from the environment and names a missing variable with its option", async () => {
    const dir = mkdtempSync(join(tmpdir(), "textlock-cli-"));
    const file = join(dir, "textlock.config.yaml");
    writeFileSync(file, 'dataDir: "${TL_DATA}"\nsecret: "${TL_SECRET}"\nlogging: { level: warn }\n');
    const env = { ...process.env, TL_DATA: join(dir, "from-env"), TL_SECRET: "k3P9vXq2LmN8rT4wYz6bC1dF5gH7jQ0s" };
    await run(tsx, ["cli/index.ts", "keys", "rotate", "--config", file], { cwd: root, env });
    expect(existsSync(join(dir, "from-env", "keys.json"))).toBe(true);

    const { TL_SECRET: _, ...missing } = env;
    const err = await run(tsx, ["cli/index.ts", "serve", "--config", file], { cwd: root, env: missing }).catch(
      (e) => e,
    );
    expect(err.code).toBe(1);
    expect(err.stderr).toContain("secret: environment variable TL_SECRET is not set");
  }, 60_000);

  it("resolves paths in the file against the file's folder, and names a missing certificate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "textlock-cli-"));
    mkdirSync(join(dir, "conf"));
    const file = join(dir, "conf", "textlock.config.json");
    writeFileSync(file, JSON.stringify({ dataDir: "data", logging: { level: "warn" } }));
    await run(tsx, [join(root, "cli/index.ts"), "keys", "rotate", "--config", file], {
      cwd: tmpdir(),
      env: { ...process.env, TSX_TSCONFIG_PATH: join(root, "tsconfig.json") },
    });
    expect(existsSync(join(dir, "conf", "data", "keys.json"))).toBe(true);

    writeFileSync(
      file,
      JSON.stringify({ dataDir: "data", server: { https: { cert: "tls/cert.pem", key: "tls/key.pem" } } }),
    );
    const err = await run(tsx, ["cli/index.ts", "serve", "--config", file], { cwd: root }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toContain(`server.https.cert: file not found: ${join(dir, "conf", "tls", "cert.pem")}`);
    expect(err.stderr).toContain(`server.https.key: file not found: ${join(dir, "conf", "tls", "key.pem")}`);
  }, 60_000);

  it("SIGTERM (then SIGINT) lets a request in flight finish (its send included), refuses new connections, then exits 0", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "textlock-cli-"));
    const entered = join(dataDir, "entered");
    const release = join(dataDir, "release");
    const file = join(dataDir, "textlock.config.mjs");
    // The SMS provider says it has the message, then waits until the test lets it go.
    writeFileSync(
      file,
      `import { existsSync, writeFileSync } from "node:fs";
export default {
  dataDir: ${JSON.stringify(dataDir)},
  logging: { level: "warn" },
  connections: [{ name: "sms", enabled_clients: ["textlock-dev"], options: { provider: "action" } }],
  hooks: {
    functions: {
      "custom-phone-provider": async () => {
        writeFileSync(${JSON.stringify(entered)}, "");
        while (!existsSync(${JSON.stringify(release)})) await new Promise((r) => setTimeout(r, 20));
      },
    },
  },
};
`,
    );
    const { url, child } = await spawnServe(file);
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const inFlight = fetch(`${url}/passwordless/start`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: "textlock-dev", connection: "sms", phone_number: "+14155550140" }),
    });
    await expect.poll(() => existsSync(entered)).toBe(true);
    child.kill("SIGTERM");
    // The listening socket goes at once; the request keeps its connection.
    await expect
      .poll(() =>
        fetch(`${url}/.well-known/jwks.json`).then(
          () => "accepted",
          () => "refused",
        ),
      )
      .toBe("refused");
    // A worker of `serve --workers` gets SIGINT as well when Ctrl-C reaches the whole process group:
    // it must not cut the drain short.
    child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 300));
    expect(child.exitCode).toBeNull();
    writeFileSync(release, "");
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ phone_number: "+14155550140" });
    expect(await exited).toBe(0);
  }, 60_000);
});
