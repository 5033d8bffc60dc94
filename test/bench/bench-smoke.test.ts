import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

// Proves the benchmark harness works end to end (separate server and load processes, baselines,
// ratios, report files) with 1-second scenarios. The figures themselves are not asserted: speed
// targets live in `npm run bench` and docs/performance.md, not in timed tests.
const root = new URL("../..", import.meta.url).pathname;

describe("npm run bench -- --quick", () => {
  it("measures every scenario against same-run baselines and writes the report", async () => {
    const out = mkdtempSync(join(tmpdir(), "textlock-bench-smoke-"));
    await promisify(execFile)(join(root, "node_modules", ".bin", "tsx"), ["bench/run.ts", "--quick", "--out", out], {
      cwd: root,
      timeout: 170_000,
    });
    const results = JSON.parse(readFileSync(join(out, "results", "quick.json"), "utf8"));
    expect(results.bare.rps).toBeGreaterThan(0);
    expect(results.sign.RS256).toBeGreaterThan(0);
    const [standalone] = results.rows;
    expect(standalone.adapter).toBe("standalone");
    for (const kind of ["start", "wrong", "login"]) {
      expect(standalone[kind].total, kind).toBeGreaterThan(0);
      expect(standalone[kind].non2xx ?? standalone[kind].failed ?? 0, `${kind} had failed requests`).toBe(
        kind === "wrong" ? standalone[kind].non2xx : 0,
      );
    }
    for (const target of Object.values(results.targets) as Array<{ value: number }>)
      expect(Number.isFinite(target.value) && target.value > 0).toBe(true);
    expect(results.memory.count).toBe(100_000);
    expect(readFileSync(join(out, "performance.md"), "utf8")).toMatch(/start-only vs bare node:http/);
  }, 180_000);
});
