import { describe, expect, it } from "vitest";
import { type Measured, type PairedRound, report, roundBounds } from "../../../bench/report.js";
import type { LoadResult, TargetResult } from "../../../bench/run.js";

// The bench bounds each peer or bare ratio by what a server spending only the unavoidable work (bare
// node:http's cost per request, an RS256 signature, typing the number, the code's HMAC) could reach.
const load = (rps: number, cpuMs: number): LoadResult => ({ rps, cpuMs, p50: 1, p99: 2, total: 100, busy: 1 });

const round = (peerLoginRps: number): PairedRound => ({
  bareStart: load(20_000, 0.05),
  start: load(4_000, 0.25),
  login: load(900, 1.1),
  peerLogin: load(peerLoginRps, 5),
  loginNew: load(800, 1.25),
  peerLoginNew: load(250, 4),
  floors: { signMs: 0.4, phoneMs: 0.02, hmacMs: 0.005 },
});

describe("roundBounds", () => {
  it("counts a login as two requests and a signature, a start as a request, a typed number and an HMAC", () => {
    const b = roundBounds(round(200) as PairedRound & { floors: NonNullable<PairedRound["floors"]> });
    // 1000 / (0.4 + 2 × 0.05) = 2,000 logins/s at best.
    expect(b.login).toBeCloseTo(2000 / 200, 9);
    expect(b.loginNew).toBeCloseTo(2000 / 250, 9);
    // 1000 / (0.05 + 0.02 + 0.005) = 13,333 starts/s at best, against bare's 20,000.
    expect(b.start).toBeCloseTo(13_333.33 / 20_000, 4);
    expect(b.twoSignatures).toBeCloseTo(0.8 / 0.9, 9);
  });

  it("never puts a start above bare node:http, which the driver may have held below its core", () => {
    const r = round(200);
    r.bareStart = load(5_000, 0.05);
    expect(roundBounds(r as PairedRound & { floors: NonNullable<PairedRound["floors"]> }).start).toBe(1);
  });
});

describe("report with floors", () => {
  const target = (): TargetResult => ({
    start: load(4_000, 0.25),
    wrong: load(5_000, 0.2),
    login: load(900, 1.1),
    loginNew: load(800, 1.25),
    loginApi: load(700, 1.4),
  });
  const measured = (peerLoginRps: number[]): Measured =>
    ({
      date: "2026-12-02T00:00:00.000Z",
      quick: false,
      core: true,
      seconds: 4,
      connections: 50,
      loginConnections: 20,
      pipelining: 10,
      pinned: true,
      cpus: 2,
      cpuModel: "test",
      memoryGiB: 24,
      node: "v20",
      bare: load(20_000, 0.05),
      barePipelined: load(30_000, 0.033),
      sign: { RS256: 2_500 },
      loginCeiling: 1_250,
      textlock: target(),
      betterAuth: target(),
      adapters: {},
      algorithms: {},
      paired: peerLoginRps.map(round),
      memCount: 1000,
      memory: { count: 1000, bytesPerCode: 290 },
    }) as Measured;

  it("marks a goal above the bound out of reach, and one below it merely missed", () => {
    // Peer at 400 logins/s: at best 5×, so 10× is out of reach; starts could reach 67% of bare.
    const { targets, markdown } = report(measured([400, 400, 400]));
    expect(targets.loginVsBetterAuth).toMatchObject({ met: false, reachable: false });
    expect(targets.loginVsBetterAuth!.bound).toBeCloseTo(5, 9);
    expect(targets.startVsBare).toMatchObject({ met: false, reachable: true });
    expect(targets.bytesPerPendingCode!.bound).toBeUndefined();
    expect(markdown).toMatch(
      /\| returning-user logins vs better-auth[^\n]*\| 5\.0× \| \*\*missed\*\* \(out of reach here\) \|/,
    );
    expect(markdown).toMatch(/\| start-only vs bare[^\n]*\| 67% \| \*\*missed\*\* \|/);
  });

  it("takes the median of the rounds' bounds", () => {
    // Rounds bound the login ratio at 2000/100, 2000/400 and 2000/250: median 8×.
    const { targets } = report(measured([100, 400, 250]));
    expect(targets.loginVsBetterAuth!.bound).toBeCloseTo(8, 9);
  });

  it("leaves the bounds out for rounds measured before floors were", () => {
    const m = measured([400]);
    for (const r of m.paired!) delete r.floors;
    const { targets, markdown } = report(m);
    expect(targets.loginVsBetterAuth!.bound).toBeUndefined();
    expect(markdown).not.toMatch(/out of reach/);
  });
});
