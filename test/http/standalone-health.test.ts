import express from "express";
import Fastify from "fastify";
import Koa from "koa";
import pg from "pg";
import { afterEach, describe, expect, inject, it } from "vitest";
import { textlockExpress } from "../../adapters/express/index.js";
import { textlockFastify } from "../../adapters/fastify/index.js";
import { textlockKoa } from "../../adapters/koa/index.js";
import type { RunningServer } from "../../adapters/standalone/index.js";
import { createHttpHandler, healthRoutes } from "../../core/http/index.js";
import { listen, type Served } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { isolatedDatabase, type RunningService, redisBinary, startRedis } from "../helpers/services.js";
import { closeStandalone, serveStandalone } from "../helpers/standalone.js";

// /health/live and /health/ready on the standalone server, for load balancers and Kubernetes probes:
// readiness asks the real stores (a Redis this test stops and starts again, a PostgreSQL database it
// drops), liveness touches none.
const postgresUrl = inject("postgresUrl");
const services: RunningService[] = [];
afterEach(async () => {
  await closeStandalone();
  for (const s of services.splice(0)) await s.stop();
});

async function get(server: RunningServer, path: string) {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, body: await res.json(), cacheControl: res.headers.get("cache-control") };
}

describe("health routes in an app that embeds textlock", () => {
  // An app asks for them through its adapter's `routes`; otherwise its own /health/live answers.
  const apps: Record<string, (t: TestTextlock, withHealth: boolean) => Promise<Served>> = {
    express: async (t, withHealth) => {
      const app = express();
      app.use(textlockExpress(t, withHealth ? { routes: healthRoutes() } : {}));
      app.get("/health/live", (_req, res) => res.json({ app: "own" }));
      return listen(app.listen(0, "127.0.0.1"));
    },
    koa: async (t, withHealth) => {
      const app = new Koa();
      app.use(textlockKoa(t, withHealth ? { routes: healthRoutes() } : {}));
      app.use((ctx) => {
        ctx.body = { app: "own" };
      });
      return listen(app.listen(0, "127.0.0.1"));
    },
    fastify: async (t, withHealth) => {
      const app = Fastify();
      await app.register(textlockFastify, { textlock: t, ...(withHealth ? { routes: healthRoutes() } : {}) });
      if (!withHealth) app.get("/health/live", async () => ({ app: "own" }));
      await app.listen({ port: 0, host: "127.0.0.1" });
      const { port } = app.server.address() as { port: number };
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
    },
  };
  for (const [name, make] of Object.entries(apps)) {
    it(`${name}: with healthRoutes() textlock answers /health/live and /health/ready; without, the app does`, async () => {
      const textlock = await createTestTextlock();
      const served: Served[] = [];
      try {
        served.push(await make(textlock, true), await make(textlock, false));
        const [withHealth, without] = served as [Served, Served];
        expect(await (await fetch(`${withHealth.url}/health/live`)).json()).toEqual({ status: "ok" });
        expect(await (await fetch(`${withHealth.url}/health/ready`)).json()).toEqual({
          status: "ok",
          checks: { codes: "ok", users: "ok" },
        });
        expect(await (await fetch(`${without.url}/health/live`)).json()).toEqual({ app: "own" });
      } finally {
        for (const s of served) await s.close();
        await textlock.close();
      }
    });
  }
});

describe("standalone server health", () => {
  it("embedded defaults (codes in memory, users in SQLite): live and ready", async () => {
    const { server } = await serveStandalone({ users: { type: "sqlite" } });
    expect(await get(server, "/health/live")).toEqual({
      status: 200,
      body: { status: "ok" },
      cacheControl: "no-store",
    });
    expect(await get(server, "/health/ready")).toEqual({
      status: 200,
      body: { status: "ok", checks: { codes: "ok", users: "ok" } },
      cacheControl: "no-store",
    });
  });

  it.skipIf(!redisBinary())(
    "codes in Redis: not ready while Redis is down (503, Auth0-shaped), ready again once it is back; live throughout",
    async () => {
      const redis = await startRedis();
      services.push(redis);
      const { server } = await serveStandalone({ store: { type: "redis", url: redis.url, commandTimeoutMs: 300 } });
      expect((await get(server, "/health/ready")).status).toBe(200);

      await redis.stop();
      const down = await get(server, "/health/ready");
      expect(down).toEqual({
        status: 503,
        body: {
          error: "temporarily_unavailable",
          error_description: "A store does not answer: codes",
          checks: { codes: "unavailable", users: "ok" },
        },
        cacheControl: "no-store",
      });
      expect((await get(server, "/health/live")).status).toBe(200);

      services.push(await startRedis(redis.port));
      await expect.poll(async () => (await get(server, "/health/ready")).status, { timeout: 15_000 }).toBe(200);
    },
    60_000,
  );

  it.skipIf(!postgresUrl)("users in PostgreSQL: not ready once the database is gone", async () => {
    const url = (await isolatedDatabase(postgresUrl, "health"))!;
    const { server } = await serveStandalone({ users: { type: "postgres", url } });
    expect(await get(server, "/health/ready")).toMatchObject({ status: 200, body: { checks: { users: "ok" } } });

    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
    await admin.end();
    expect(await get(server, "/health/ready")).toMatchObject({
      status: 503,
      body: { error: "temporarily_unavailable", checks: { codes: "ok", users: "unavailable" } },
    });
  });

  it("health: false leaves them out (textlock's JSON 404); an embedding app's router gets them only if it asks", async () => {
    const { textlock, server } = await serveStandalone({}, { health: false });
    expect((await get(server, "/health/live")).status).toBe(404);
    // An adapter's handler does not claim the paths, so the host's own /health/… routes still answer.
    expect(createHttpHandler(textlock).matches("GET", "/health/live")).toBe(false);
  });
});
