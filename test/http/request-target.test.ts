import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Served, serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";

/** Sends one request with the target exactly as written (fetch would normalize it). */
function raw(url: string, method: string, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, path: target }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

// The standalone server reads request targets itself (the framework adapters take the framework's path).
describe("request targets on the standalone server", () => {
  let tl: TestTextlock;
  let server: Served;
  beforeAll(async () => {
    tl = await createTestTextlock();
    server = await serve("standalone", tl);
  });
  afterAll(async () => {
    await server?.close();
    await tl?.close();
  });

  it("resolves dot segments and reads the query as the URL parser does", async () => {
    const jwks = await raw(server.url, "GET", "/oauth/../.well-known/./jwks.json");
    expect(jwks.status).toBe(200);
    expect(JSON.parse(jwks.body).keys.length).toBeGreaterThan(0);
    const plain = await raw(server.url, "GET", "/.well-known/jwks.json?x=%41&y=1");
    expect(plain.status).toBe(200);
  });

  it.each([
    "//evil.example/.well-known/jwks.json", // a path, not a host: no route
    "//[::1/.well-known/jwks.json", // no URL at all: still an answer, not a 500
    "http://[::1/.well-known/jwks.json",
  ])("answers %s with an Auth0-shaped 404", async (target) => {
    const res = await raw(server.url, "GET", target);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ error: expect.any(String) });
  });
});
