import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildQuietly, isDistFresh } from "../../scripts/start.mjs";

const root = new URL("../..", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

describe("npm start", () => {
  it("runs the start script, which builds only when needed and without the build log", () => {
    expect(pkg.scripts.start).toBe("node scripts/start.mjs serve");
    expect(pkg.scripts.demo).toBe("node scripts/start.mjs serve --demo");
  });

  it("skips the build when dist is newer than every source, and rebuilds after a source changes", () => {
    const dir = mkdtempSync(join(tmpdir(), "textlock-start-"));
    const at = (file: string, seconds: number) => {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), "");
      utimesSync(join(dir, file), seconds, seconds);
    };
    at("core/engine/start.ts", 1_000);
    at("package.json", 1_000);
    expect(isDistFresh(dir)).toBe(false);
    for (const f of ["dist/cli.js", "dist/index.js", "dist/index.cjs", "dist/standalone.js"]) at(f, 2_000);
    expect(isDistFresh(dir)).toBe(true);
    at("core/engine/start.ts", 3_000);
    expect(isDistFresh(dir)).toBe(false);
  });

  it("keeps the build's output for a failure only", () => {
    const ok = buildQuietly(process.execPath, ["-e", "console.log('CLI Building entry…'.repeat(50))"], root);
    expect(ok.ok).toBe(true);
    const failed = buildQuietly(process.execPath, ["-e", "console.error('error TS2322: nope'); process.exit(2)"], root);
    expect(failed).toEqual({ ok: false, output: expect.stringContaining("error TS2322: nope") });
  });
});

describe("LICENSE", () => {
  it("is the MIT license package.json declares, held by the textlock contributors", () => {
    expect(pkg.license).toBe("MIT");
    const license = readFileSync(join(root, "LICENSE"), "utf8");
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} textlock contributors\n/);
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND');
  });
});
