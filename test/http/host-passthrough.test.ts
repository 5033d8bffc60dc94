import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { decodeJwt } from "jose";
import Koa, { type Context, type Next } from "koa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { textlockExpress } from "../../adapters/express/index.js";
import { textlockFastify } from "../../adapters/fastify/index.js";
import { textlockKoa } from "../../adapters/koa/index.js";
import { listen, type Served, serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

// textlock shares an app with the host's own routes, body parser and 404 handler. Whatever the order of
// the middlewares and wherever textlock is mounted, a request that is not textlock's must reach the
// host exactly as if textlock were absent: body unread, host's 404. And textlock's own routes must work.
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const APP = "https://app.example.test";
const HOST_404 = { host: "not found" };
const TEXTLOCK_404 = { error: "not_found", error_description: "Not found" };

/** A JSON object of about `bytes` bytes once serialized. */
const payload = (bytes: number) => ({
  kind: "echo",
  n: [1, 2.5, null, true],
  text: "é-x".repeat(Math.ceil(bytes / 3)).slice(0, bytes),
});

/** The host's own JSON body reader for Koa (no dependency): leaves non-JSON requests alone. */
async function koaJson(ctx: Context, next: Next) {
  if (ctx.is("application/json")) {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    (ctx.request as { body?: unknown }).body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  }
  await next();
}

type Parser = "before" | "after";
/** How textlock is mounted: at the root, under /auth by the framework's own mounting, or by textlock's `prefix` option. */
type Mount = "root" | "framework" | "option";

interface HostSetup {
  adapter: "express" | "koa" | "fastify";
  parser: Parser;
  mount: Mount;
}

/**
 * A host app: its body parser before or after textlock, its echo route (`POST /app/echo`) after
 * textlock, and its own 404 answer (`{host: "not found"}`).
 */
async function host(tl: TestTextlock, { adapter, parser, mount }: HostSetup): Promise<Served> {
  switch (adapter) {
    case "express": {
      const app = express();
      const textlock =
        mount === "framework"
          ? [textlockExpress(tl)]
          : [textlockExpress(tl, mount === "option" ? { prefix: "/auth" } : {})];
      if (parser === "before") app.use(express.json({ limit: "1mb" }));
      if (mount === "framework") app.use("/auth", ...textlock);
      else app.use(...textlock);
      if (parser === "after") app.use(express.json({ limit: "1mb" }));
      app.post("/app/echo", (req, res) => {
        res.json({ received: req.body ?? null });
      });
      app.use((_req, res) => {
        res.status(404).json(HOST_404);
      });
      return listen(app.listen(0, "127.0.0.1"));
    }
    case "koa": {
      const app = new Koa();
      if (parser === "before") app.use(koaJson);
      app.use(textlockKoa(tl, mount === "root" ? {} : { prefix: "/auth" }));
      if (parser === "after") app.use(koaJson);
      app.use(async (ctx, next) => {
        if (ctx.method !== "POST" || ctx.path !== "/app/echo") return next();
        ctx.body = { received: (ctx.request as { body?: unknown }).body ?? null };
      });
      app.use((ctx) => {
        ctx.status = 404;
        ctx.body = HOST_404;
      });
      return listen(app.listen(0, "127.0.0.1"));
    }
    case "fastify": {
      // Fastify has no middleware order: "before" declares the host route before textlock's plugin.
      const app = Fastify({ bodyLimit: 2 * 1_048_576 });
      const echo = () => app.post("/app/echo", async (req) => ({ received: req.body ?? null }));
      if (parser === "before") echo();
      await app.register(textlockFastify, { textlock: tl, ...(mount === "root" ? {} : { prefix: "/auth" }) });
      if (parser === "after") echo();
      app.setNotFoundHandler((_req, reply) => reply.code(404).send(HOST_404));
      await app.listen({ port: 0, host: "127.0.0.1" });
      const { port } = app.server.address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
    }
  }
}

const SETUPS: HostSetup[] = [];
for (const parser of ["before", "after"] as const) {
  for (const mount of ["root", "framework", "option"] as const) SETUPS.push({ adapter: "express", parser, mount });
  for (const mount of ["root", "option"] as const) SETUPS.push({ adapter: "koa", parser, mount });
  // Fastify mounts by its own register prefix only.
  for (const mount of ["root", "framework"] as const) SETUPS.push({ adapter: "fastify", parser, mount });
}

let tl: TestTextlock;
let phoneSeq = 0;
const phone = () => `+1415555${String(2000 + ++phoneSeq).padStart(4, "0")}`;

beforeAll(async () => {
  tl = await createTestTextlock({
    clients: [{ client_id: "spa", allowed_origins: [APP] }],
    connections: [{ name: "sms", enabled_clients: ["spa"] }],
    server: { bodyLimitBytes: 16_384 },
  });
});
afterAll(async () => {
  await tl?.close();
});

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

/** A whole OTP login through textlock at `base`: start, read the SMS, exchange the code. */
async function otpLogin(base: string) {
  const p = phone();
  const started = await postJson(`${base}/passwordless/start`, {
    client_id: "spa",
    connection: "sms",
    phone_number: p,
    send: "code",
  });
  expect(started.status).toBe(200);
  expect(await started.json()).toMatchObject({ phone_number: p, phone_verified: false });
  const res = await postJson(`${base}/oauth/token`, {
    grant_type: OTP,
    client_id: "spa",
    username: p,
    otp: tl.lastCode(p),
    realm: "sms",
    scope: "openid",
  });
  expect(res.status).toBe(200);
  const tokens = (await res.json()) as { id_token: string; access_token: string; token_type: string };
  expect(tokens.token_type).toBe("Bearer");
  expect(decodeJwt(tokens.id_token).sub).toMatch(/^sms\|[0-9a-f]{24}$/);
  return tokens;
}

describe.each(SETUPS)(
  "host app around textlock: $adapter, host body parser $parser textlock, textlock mounted at $mount",
  (setup) => {
    let server: Served;
    const prefix = setup.mount === "root" ? "" : "/auth";
    const base = () => `${server.url}${prefix}`;

    beforeAll(async () => {
      server = await host(tl, setup);
    });
    afterAll(async () => {
      await server?.close();
    });

    it.each([1_024, 200_000])("the host's route receives a %i-byte JSON body intact", async (bytes) => {
      const body = payload(bytes);
      expect(JSON.stringify(body).length).toBeGreaterThanOrEqual(bytes);
      const res = await postJson(`${server.url}/app/echo`, body);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ received: body });
    });

    it("the host's 404 answers paths textlock does not own, with or without a body", async () => {
      for (const res of [
        await fetch(`${server.url}/nope`),
        await postJson(`${server.url}/nope`, payload(1_024)),
        await postJson(`${server.url}/nope`, payload(200_000)),
        await fetch(`${base()}/client/not-a-script`),
        await fetch(`${base()}/passwordless/start/more`),
      ]) {
        expect(res.status).toBe(404);
        expect(await res.json()).toEqual(HOST_404);
      }
    });

    it("textlock's routes work: an OTP login, discovery, a route's own 404, a wrong method's 405, a preflight", async () => {
      const tokens = await otpLogin(base());
      // The derived (development) issuer is the server's own URL with its real scheme, mount path included.
      expect(decodeJwt(tokens.id_token).iss).toBe(`http://${new URL(server.url).host}${prefix}/`);
      const discovery = await fetch(`${base()}/.well-known/openid-configuration`);
      expect(discovery.status).toBe(200);
      expect(((await discovery.json()) as { token_endpoint: string }).token_endpoint).toBe(
        `http://${new URL(server.url).host}${prefix}/oauth/token`,
      );

      // An unknown client on textlock's Lock script route is textlock's 404, not the host's.
      const script = await fetch(`${base()}/client/nobody.js`);
      expect(script.status).toBe(404);
      expect(await script.json()).toEqual(TEXTLOCK_404);
      const known = await fetch(`${base()}/client/spa.js`);
      expect(known.status).toBe(200);
      expect(await known.text()).toMatch(/^Auth0\.setClient\(/);

      const wrongMethod = await fetch(`${base()}/oauth/token`);
      expect(wrongMethod.status).toBe(405);
      expect(await wrongMethod.json()).toMatchObject({ error: "method_not_allowed" });

      const preflight = await fetch(`${base()}/oauth/token`, {
        method: "OPTIONS",
        headers: { origin: APP, "access-control-request-method": "POST" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe(APP);
    });

    it("a form-encoded token request reaches textlock whatever JSON parser the host runs", async () => {
      const p = phone();
      expect(
        (await postJson(`${base()}/passwordless/start`, { client_id: "spa", connection: "sms", phone_number: p }))
          .status,
      ).toBe(200);
      const form = new URLSearchParams({
        grant_type: OTP,
        client_id: "spa",
        username: p,
        otp: tl.lastCode(p),
        realm: "sms",
        scope: "openid",
      });
      const res = await fetch(`${base()}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ token_type: "Bearer" });
    });

    if (prefix) {
      it("under a prefix, textlock's paths at the root are the host's", async () => {
        const res = await postJson(`${server.url}/passwordless/start`, {
          client_id: "spa",
          connection: "sms",
          phone_number: phone(),
        });
        expect(res.status).toBe(404);
        expect(await res.json()).toEqual(HOST_404);
        const page = await fetch(`${server.url}/authorize?client_id=spa`);
        expect(page.status).toBe(404);
        expect(await page.json()).toEqual(HOST_404);
      });
    }

    if (setup.parser === "after" || setup.adapter === "fastify") {
      // Nothing parsed the body before textlock: it reads it and enforces its own limit.
      it("a body over textlock's limit on textlock's route gets textlock's 413", async () => {
        const res = await postJson(`${base()}/passwordless/start`, {
          client_id: "spa",
          connection: "sms",
          phone_number: phone(),
          pad: "x".repeat(200_000),
        });
        expect(res.status).toBe(413);
        expect(await res.json()).toMatchObject({ error: expect.any(String) });
      });
    }
  },
);

describe("standalone (textlock owns the server)", () => {
  it.each(["", "/auth"])("serves textlock at prefix '%s' and answers its own 404 elsewhere", async (prefix) => {
    const server = await serve("standalone", tl, { prefix });
    try {
      await otpLogin(`${server.url}${prefix}`);
      const res = await postJson(`${server.url}/app/echo`, payload(1_024));
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual(TEXTLOCK_404);
      if (prefix) {
        const root = await postJson(`${server.url}/passwordless/start`, {
          client_id: "spa",
          connection: "sms",
          phone_number: phone(),
        });
        expect(root.status).toBe(404);
      }
    } finally {
      await server.close();
    }
  });
});

describe.each(["express", "koa", "fastify"] as const)("serve() helper through %s under a prefix", (adapter) => {
  it("does an OTP login under /auth and leaves the root alone", async () => {
    const server = await serve(adapter, tl, { prefix: "/auth" });
    try {
      await otpLogin(`${server.url}/auth`);
      const root = await fetch(`${server.url}/.well-known/jwks.json`);
      expect(root.status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe("Fastify route table", () => {
  it("refuses an extra RegExp route without a pattern instead of silently not serving it", async () => {
    const app = Fastify();
    const route = {
      method: "GET" as const,
      path: /^\/extra\/\d+$/,
      handle: () => ({ status: 200, headers: {}, body: "" }),
    };
    await expect(app.register(textlockFastify, { textlock: tl, routes: [route] })).rejects.toThrow(/needs a `pattern`/);
    await app.close();
  });

  it("serves an extra RegExp route by its pattern, and leaves what the RegExp refuses to the host", async () => {
    const app = Fastify();
    const route = {
      method: "GET" as const,
      path: /^\/extra\/\d+$/,
      pattern: "/extra/:n",
      handle: () => ({ status: 200, headers: {}, body: "extra" }),
    };
    await app.register(textlockFastify, { textlock: tl, routes: [route], prefix: "/auth" });
    app.setNotFoundHandler((_req, reply) => reply.code(404).send(HOST_404));
    try {
      const ok = await app.inject({ method: "GET", url: "/auth/extra/42" });
      expect([ok.statusCode, ok.body]).toEqual([200, "extra"]);
      const refused = await app.inject({ method: "GET", url: "/auth/extra/abc" });
      expect([refused.statusCode, refused.json()]).toEqual([404, HOST_404]);
    } finally {
      await app.close();
    }
  });
});
