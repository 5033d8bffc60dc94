import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// The type tests are programs the compiler must accept; a doctored copy must be refused, so the
// checks can fail.
const root = new URL("../..", import.meta.url).pathname;
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const fixture = join(root, "test", "types", "options-match-schema.ts");

function compile(file: string): string {
  const args = [
    tsc,
    "--noEmit",
    "--strict",
    "--skipLibCheck",
    "--module",
    "nodenext",
    "--moduleResolution",
    "nodenext",
    "--target",
    "es2022",
    "--experimentalDecorators",
    "--types",
    "node",
    file,
  ];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
  return `${r.stdout}${r.stderr}`.trim();
}

describe("TextlockOptions (hand-written, documented) matches the config schema", () => {
  it("key for key at every level, and every documented value is a valid input", () => {
    expect(compile(fixture)).toBe("");
  }, 60_000);

  it("a missing key is caught", () => {
    const dir = mkdtempSync(join(root, "test", "types", ".tmp-"));
    const doctored = readFileSync(fixture, "utf8")
      .replaceAll('"../../core/', '"../../../core/')
      .replace("type Options = Defined<TextlockOptions>;", 'type Options = Omit<Defined<TextlockOptions>, "otp">;');
    writeFileSync(join(dir, "doctored.ts"), doctored);
    try {
      expect(compile(join(dir, "doctored.ts"))).toContain("error TS2344");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
