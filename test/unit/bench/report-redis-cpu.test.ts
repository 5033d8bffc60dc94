import { describe, expect, it } from "vitest";
import { type RedisCpu, redisCpuLines } from "../../../bench/report.js";

// Redis's CPU per request sizes Redis (docs/capacity.md). On a cluster, every start and every verified
// code also runs a script on the primary of the counters shared between phones: what that primary does
// beyond a phone primary's share bounds the cluster's login rate, whatever its number of primaries.
const cpu = (primaries: RedisCpu["primaries"]): RedisCpu => ({
  count: 2000,
  concurrency: 20,
  startCpuUs: primaries.reduce((a, p) => a + p.startCpuUs, 0),
  exchangeCpuUs: primaries.reduce((a, p) => a + p.exchangeCpuUs, 0),
  primaries,
});

describe("redisCpuLines", () => {
  it("gives one Redis core's login rate from its CPU per start and per code exchange", () => {
    const lines = redisCpuLines(cpu([{ shared: true, startCpuUs: 130, exchangeCpuUs: 70 }]), undefined);
    // 1e6 / (130 + 70) = 5,000 logins/s.
    expect(lines).toContain("| single Redis | 130 | 70 | 200 | 5,000 |");
  });

  it("bounds a cluster by what its shared counters' primary does beyond a phone primary's share", () => {
    const cluster = cpu([
      { shared: false, startCpuUs: 50, exchangeCpuUs: 42 },
      { shared: true, startCpuUs: 136, exchangeCpuUs: 86 },
      { shared: false, startCpuUs: 42, exchangeCpuUs: 38 },
    ]);
    const lines = redisCpuLines(undefined, cluster).join("\n");
    expect(lines).toContain("| Redis Cluster, all 3 primaries (a replica each) | 228 | 166 | 394 | — |");
    // Beyond the others' mean (46, 40): 90 + 46 = 136 µs a login, 1e6 / 136 = 7,353 logins/s.
    expect(lines).toMatch(/shared counters' primary, beyond a phone primary's share \| 90 \| 46 \| 136 \| 7,353:/);
    expect(lines).toMatch(/each other primary \(its share of the phones\) \| 46 \| 40 \| 86 \| — \|/);
  });

  it("writes nothing when neither was measured", () => {
    expect(redisCpuLines(undefined, undefined)).toEqual([]);
  });
});
