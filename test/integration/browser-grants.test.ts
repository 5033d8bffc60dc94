import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { OTP_GRANT } from "../../core/config/schema.js";
import { type Served, serve } from "../helpers/adapters.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { isolatedDatabase } from "../helpers/services.js";

const redisUrl = inject("redisUrl");
// Its own database: see isolatedDatabase.
const postgresUrl = await isolatedDatabase(inject("postgresUrl"), "browser_grants");
const APP = "https://app.example.test";
const CB = `${APP}/callback`;

// Two textlock instances on one Redis: a login ticket or an authorization code made by one is redeemed
// by the other, exactly once, whichever instance the parallel redemptions reach. Users are in PostgreSQL,
// as in any scale-out deployment.
describe.skipIf(!redisUrl || !postgresUrl)("login tickets and authorization codes shared through Redis", () => {
  const instances: Array<{ tl: TestTextlock; server: Served }> = [];

  beforeAll(async () => {
    const namespace = `grants-${process.pid}-${Date.now()}`;
    for (let i = 0; i < 2; i++) {
      const tl = await createTestTextlock({
        store: { type: "redis", url: redisUrl!, namespace },
        users: { type: "postgres", url: postgresUrl! },
        clients: [{ client_id: "spa", callbacks: [CB], web_origins: [APP], cross_origin_authentication: true }],
        connections: [{ name: "sms", enabled_clients: ["spa"] }],
      });
      instances.push({ tl, server: await serve("standalone", tl) });
    }
  });
  afterAll(async () => {
    for (const { tl, server } of instances) {
      await server.close();
      await tl.close();
    }
  });

  const url = (i: number) => instances[i]!.server.url;
  const post = (i: number, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url(i)}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  async function ticket(phone: string) {
    await post(0, "/passwordless/start", { client_id: "spa", connection: "sms", phone_number: phone, send: "code" });
    const res = await post(
      0,
      "/co/authenticate",
      {
        client_id: "spa",
        username: phone,
        otp: instances[0]!.tl.lastCode(phone),
        realm: "sms",
        credential_type: OTP_GRANT,
      },
      { origin: APP },
    );
    expect(res.status).toBe(200);
    return (await res.json()) as { login_ticket: string; co_verifier: string; co_id: string };
  }

  it("a ticket from instance A is redeemed once across 16 parallel /authorize calls spread over A and B", async () => {
    const t = await ticket("+14155553001");
    const query = new URLSearchParams({
      client_id: "spa",
      redirect_uri: CB,
      response_type: "token id_token",
      nonce: "n",
      login_ticket: t.login_ticket,
    });
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        fetch(`${url(i % 2)}/authorize?${query}`, {
          redirect: "manual",
          headers: { cookie: `tl_co_${t.co_id}=${t.co_verifier}` },
        }),
      ),
    );
    const locations = answers.map((a) => a.headers.get("location") ?? "");
    expect(locations.filter((l) => l.includes("access_token="))).toHaveLength(1);
    expect(locations.filter((l) => l.includes("error=access_denied"))).toHaveLength(15);
  });

  it("a code from a ticket redeemed at B is exchanged once across 16 parallel token calls on A and B", async () => {
    const t = await ticket("+14155553002");
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const query = new URLSearchParams({
      client_id: "spa",
      redirect_uri: CB,
      response_type: "code",
      code_challenge: challenge,
      code_challenge_method: "S256",
      login_ticket: t.login_ticket,
    });
    const redirect = await fetch(`${url(1)}/authorize?${query}`, {
      redirect: "manual",
      headers: { cookie: `tl_co_${t.co_id}=${t.co_verifier}` },
    });
    const location = new URL(redirect.headers.get("location")!);
    const code = location.searchParams.get("code")!;
    expect(code, location.toString()).toBeTruthy();
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        post(i % 2, "/oauth/token", {
          grant_type: "authorization_code",
          client_id: "spa",
          code,
          redirect_uri: CB,
          code_verifier: verifier,
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, ...Array(15).fill(403)]);
  });
});
