import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

// Proves the benchmark harness works end to end (separate server and load processes, the bare and
// RS256 baselines, better-auth as the same-run peer, ratios, Redis and PostgreSQL work per request,
// report files) with 1-second scenarios. The figures themselves are not asserted: speed targets live
// in `npm run bench` and docs/performance.md, not in timed tests.
const root = new URL("../..", import.meta.url).pathname;

describe("npm run bench -- --quick", () => {
  it("measures textlock and better-auth against same-run baselines and writes the report", async () => {
    const out = mkdtempSync(join(tmpdir(), "textlock-bench-smoke-"));
    await promisify(execFile)(join(root, "node_modules", ".bin", "tsx"), ["bench/run.ts", "--quick", "--out", out], {
      cwd: root,
      timeout: 570_000,
    });
    const results = JSON.parse(readFileSync(join(out, "results", "quick.json"), "utf8"));
    expect(results.bare.rps).toBeGreaterThan(0);
    expect(results.sign.RS256).toBeGreaterThan(0);
    for (const server of ["textlock", "betterAuth"]) {
      for (const kind of ["start", "wrong", "loginNew", "login", "login10"]) {
        const r = results[server][kind];
        expect(r.total, `${server} ${kind}`).toBeGreaterThan(0);
        // Wrong codes are refused by design; every other request must succeed.
        if (kind !== "wrong") expect(r.non2xx ?? r.failed ?? 0, `${server} ${kind} had failed requests`).toBe(0);
        else expect(r.non2xx, `${server} wrong codes`).toBe(r.total);
      }
    }
    for (const [name, target] of Object.entries(results.targets) as Array<[string, { value: number }]>) {
      expect(Number.isFinite(target.value), name).toBe(true);
      // A drop can come out negative in a one-second quick run (noise); every other figure is positive.
      if (name !== "stateDrop") expect(target.value, name).toBeGreaterThan(0);
    }
    // Both sides of the durable-state comparison logged in.
    for (const side of ["lean", "full"]) expect(results.state[side][0].total, side).toBeGreaterThan(0);
    expect(results.textlock.loginApi.total).toBeGreaterThan(0);
    // The alternating rounds: every side measured, every login answered, and the targets' ratios are theirs.
    expect(results.paired).toHaveLength(1);
    const [round] = results.paired;
    for (const side of ["bareStart", "start", "login", "peerLogin", "loginNew", "peerLoginNew"]) {
      expect(round[side].total, side).toBeGreaterThan(0);
      expect(round[side].non2xx ?? round[side].failed ?? 0, side).toBe(0);
    }
    expect(results.targets.loginVsBetterAuth.value).toBeCloseTo(round.login.rps / round.peerLogin.rps, 6);
    expect(results.targets.startVsBare.value).toBeCloseTo(round.start.rps / round.bareStart.rps, 6);
    expect(results.targets.loginVsBetterAuth.value).toBeGreaterThan(0);
    // The round's floors were measured, and the targets they bound carry a bound.
    for (const floor of ["signMs", "phoneMs", "hmacMs"]) expect(round.floors[floor], floor).toBeGreaterThan(0);
    for (const name of ["loginVsBetterAuth", "newLoginVsBetterAuth", "startVsBare", "wrongVsBare", "loginVsSignatures"])
      expect(results.targets[name].bound, name).toBeGreaterThan(0);
    if (results.redis) {
      expect(results.redis.trips.start.roundTrips).toBeGreaterThanOrEqual(1);
      expect(results.redis.trips.login.commands).toBeGreaterThanOrEqual(1);
      // Redis's own CPU per request was read, on one Redis and on a cluster, whose shared counters'
      // primary (the one every start reaches) was found among the cluster's three.
      expect(results.redis.cpu.startCpuUs).toBeGreaterThan(0);
      expect(results.redis.cpu.exchangeCpuUs).toBeGreaterThan(0);
      expect(results.redisCluster.primaries).toHaveLength(3);
      expect(results.redisCluster.primaries.filter((p: { shared: boolean }) => p.shared)).toHaveLength(1);
    }
    if (results.postgres) expect(results.postgres.newUsers.tup_inserted).toBeGreaterThanOrEqual(1);
    expect(results.memory.count).toBe(100_000);
    const doc = readFileSync(join(out, "performance.md"), "utf8");
    expect(doc).toMatch(/start-only vs bare node:http/);
    expect(doc).toMatch(/\| better-auth, SQLite \|/);
    expect(doc).toMatch(/## The same, in alternating rounds/);
    if (results.redis) expect(doc).toMatch(/\| single Redis \| \d/);
    expect(doc).toMatch(/\| target \| measured \| goal \| best possible in this run \|/);
  }, 600_000);
});
