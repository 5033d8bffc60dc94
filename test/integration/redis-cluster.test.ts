import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { toWireError } from "../../core/errors/to-wire-error.js";
import { STEPS_SCRIPT } from "../../core/protection/redis-steps.js";
import { createTestTextlock, type TestTextlock } from "../helpers/create-test-textlock.js";
import { type RedisCluster, startRedisCluster } from "../helpers/redis-cluster.js";
import { monitorRedis } from "../helpers/redis-monitor.js";

// Issue 18: codes and limits on a real Redis Cluster (three primaries, one replica each, made by
// `redis-cli --cluster create`), including the crash of a primary: while its replica is promoted,
// starts are refused with 503 and nothing is sent or counted; afterwards service resumes with the
// counts it had.
const enabled = !!inject("redisUrl");

describe.skipIf(!enabled)("Redis Cluster", () => {
  let cluster: RedisCluster;
  const open: TestTextlock[] = [];
  beforeAll(async () => {
    cluster = await startRedisCluster(3, 1, 1_000);
  }, 60_000);
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const make = async (namespace: string, protection: Record<string, unknown>) => {
    const tl = await createTestTextlock({
      store: { type: "redis", cluster: cluster.urls, namespace, commandTimeoutMs: 500 },
      protection: {
        enabled: true,
        perIp: { points: 1000, seconds: 3600 },
        perPrefix: { points: 1000, seconds: 3600 },
        ...protection,
      },
    });
    open.push(tl);
    return tl;
  };
  const start = (tl: TestTextlock, phone: string, ip = "198.51.100.7") =>
    tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: phone }, { ip }).then(
      () => ({ status: 200, body: {} as Record<string, unknown> }),
      (e) => toWireError(e),
    );
  /** Verified codes counted for pumping in the US's window (its `v<bucket>` fields), read on the primary at `port`. */
  const verifiedInCountry = async (port: number, namespace: string) => {
    const fields = (await cluster.cli(port, "hgetall", `{${namespace}}:pump:country:US`)).trim().split("\n");
    return fields.reduce((sum, f, i) => (i % 2 === 0 && f.startsWith("v") ? sum + Number(fields[i + 1]) : sum), 0);
  };
  const login = (tl: TestTextlock, phone: string) =>
    tl.api.login({ client_id: "textlock-dev", phone_number: phone, code: tl.lastCode(phone), scope: "openid" });

  it("logs in with codes spread over every primary, redeemed on another instance, with exact limits", async () => {
    const limits = { perPhone: { points: 2, seconds: 3600 }, resendCooldownSeconds: 0 };
    const a = await make("cl1", limits);
    const b = await make("cl1", limits);
    const phones = Array.from({ length: 12 }, (_, i) => `+1415555${String(2100 + i)}`);
    const primaries = new Set(await Promise.all(phones.map((p) => cluster.primaryOf(`{sms:${p}}`))));
    expect(primaries.size).toBe(3);
    for (const phone of phones) expect(await start(a, phone)).toMatchObject({ status: 200 });
    for (const phone of phones) {
      // The outbox is per instance: B redeems the code A sent.
      const tokens = await b.api.login({
        client_id: "textlock-dev",
        phone_number: phone,
        code: a.lastCode(phone),
        scope: "openid",
      });
      expect(tokens.id_token).toEqual(expect.any(String));
    }
    // Per-phone limit of 2 shared by both instances, under concurrency.
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => start(i % 2 ? a : b, phones[0]!, `198.51.100.${i}`)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 429)).toHaveLength(5);
  });

  it("a start is two scripts (shared counters, then the phone's slot), a login one; verified codes are counted in batches", async () => {
    const tl = await make("cl3", { resendCooldownSeconds: 0 });
    // Primaries only: a replica's MONITOR shows what its primary replicates to it.
    const roles = await Promise.all(cluster.nodes.map(async (n) => (await cluster.cli(n.port, "role")).split("\n")[0]));
    const primaries = cluster.nodes.filter((_, i) => roles[i] === "master");
    expect(primaries).toHaveLength(3);
    // Numbers whose slots are not on the shared counters' primary, so each script's primary tells what it was.
    const shared = await cluster.primaryOf("{cl3}");
    const phones: string[] = [];
    for (let i = 0; phones.length < 3; i++) {
      const phone = `+141555524${String(i).padStart(2, "0")}`;
      if ((await cluster.primaryOf(`{sms:${phone}}`)) !== shared) phones.push(phone);
    }
    const monitors = await Promise.all(primaries.map((n) => monitorRedis(n.port)));
    const isShared = primaries.map((n) => n.port === shared);
    try {
      await start(tl, "+14155552300"); // warm up: connections to every primary
      // The steps script cached on every primary (a node that lacks it answers NOSCRIPT once, then gets it).
      for (const n of primaries) await cluster.cli(n.port, "script", "load", STEPS_SCRIPT);
      await Promise.all(monitors.map((m) => m.reset()));
      for (const phone of phones) expect(await start(tl, phone)).toMatchObject({ status: 200 });
      const starts = await Promise.all(monitors.map((m) => m.commands()));
      expect(starts.flat()).toEqual(Array(6).fill("evalsha"));
      expect(starts.filter((_, i) => isShared[i]).flat()).toHaveLength(3);
      await Promise.all(monitors.map((m) => m.reset()));
      const tokens = await Promise.all(phones.map((phone) => login(tl, phone)));
      for (const t of tokens) expect(t.id_token).toEqual(expect.any(String));
      // Each login is one script, in its phone's slot; their pumping counts reach the shared slot after
      // at most 0.1 s, summed (three logins this close together are one batch, unless the machine stalls).
      await expect.poll(() => verifiedInCountry(shared, "cl3")).toBe(3);
      const logins = await Promise.all(monitors.map((m) => m.commands()));
      expect(logins.filter((_, i) => !isShared[i]).flat()).toEqual(Array(3).fill("evalsha"));
      // (The HGETALLs on the shared primary are this test's own reads.)
      const batches = logins
        .filter((_, i) => isShared[i])
        .flat()
        .filter((c) => c !== "hgetall");
      expect(batches.length).toBeGreaterThanOrEqual(1);
      expect(batches.length).toBeLessThanOrEqual(3);
      expect(new Set(batches)).toEqual(new Set(["evalsha"]));
    } finally {
      for (const m of monitors) m.stop();
    }
  });

  it("sends the verified counts still waiting for their batch when textlock closes", async () => {
    const tl = await make("cl4", { resendCooldownSeconds: 0 });
    const phones = ["+14155552501", "+14155552502"];
    for (const phone of phones) expect(await start(tl, phone)).toMatchObject({ status: 200 });
    for (const phone of phones) await login(tl, phone);
    await tl.close(); // well within the 0.1 s a count may wait
    expect(await verifiedInCountry(await cluster.primaryOf("{cl4}"), "cl4")).toBe(2);
  });

  it("fails closed while a primary fails over, sends nothing uncounted, and resumes with its counts", async () => {
    const tl = await make("cl2", { perPhone: { points: 3, seconds: 3600 }, resendCooldownSeconds: 0 });
    const shared = await cluster.primaryOf("{cl2}");
    let phone = "";
    for (let i = 0; !phone; i++) {
      const candidate = `+1415555${String(3100 + i)}`;
      if ((await cluster.primaryOf(`{sms:${candidate}}`)) !== shared) phone = candidate;
    }
    const victim = await cluster.primaryOf(`{sms:${phone}}`);
    expect(await start(tl, phone)).toMatchObject({ status: 200 });
    await new Promise((r) => setTimeout(r, 300)); // let the replica catch up (replication is asynchronous)

    cluster.nodes.find((n) => n.port === victim)!.kill();
    const during: Array<{ status: number; body: Record<string, unknown> }> = [];
    const until = Date.now() + 30_000;
    let resumed = false;
    while (Date.now() < until) {
      const r = await start(tl, phone);
      if (r.status === 200) {
        resumed = true;
        break;
      }
      during.push(r);
      await new Promise((res) => setTimeout(res, 100));
    }
    expect({ resumed, last: during.at(-1) }).toMatchObject({ resumed: true });
    expect(during.length).toBeGreaterThan(0);
    for (const r of during) {
      expect(r).toMatchObject({ status: 503, body: { error: "temporarily_unavailable" } });
    }
    // One code before the crash, one after: nothing was sent while the slot had no primary.
    expect(tl.messages(phone)).toHaveLength(2);
    expect(await cluster.primaryOf(`{sms:${phone}}`)).not.toBe(victim);

    // The per-phone count survived the failover (3 allowed: 2 used), and the refused starts were not counted.
    expect(await start(tl, phone)).toMatchObject({ status: 200 });
    expect(await start(tl, phone)).toMatchObject({ status: 429 });
    // The shared per-IP counter (another slot) was given back for every refused start.
    const ipCount = await cluster.cli(shared, "hget", "{cl2}:rl:ip:198.51.100.7", "c");
    expect(Number(ipCount.trim())).toBe(3);
    const tokens = await login(tl, phone);
    expect(tokens.id_token).toEqual(expect.any(String));
  }, 60_000);
});
