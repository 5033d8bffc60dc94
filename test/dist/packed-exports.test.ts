import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

// Builds the package, packs it as npm would publish it, unpacks the tarball into a folder inside the
// repo (so dependencies resolve from the repo's node_modules) and imports every subpath export both
// as ESM and as CommonJS. This is what a user installing `textlock` gets.
const root = new URL("../..", import.meta.url).pathname;
const work = join(root, "test-results", "packed");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { exports: Record<string, unknown> };
const subpaths = Object.keys(pkg.exports).filter((k) => k !== "./package.json");

describe("packed tarball", () => {
  beforeAll(() => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(join(work, "node_modules", "textlock"), { recursive: true });
    // `npm pack` runs the prepack script, which builds dist/ with tsup.
    const out = execFileSync("npm", ["pack", "--silent", "--pack-destination", work], { cwd: root, encoding: "utf8" });
    const tarball = out.trim().split("\n").at(-1)!;
    execFileSync("tar", ["-xzf", join(work, tarball), "-C", join(work, "node_modules", "textlock"), "--strip-components=1"]);
  }, 180_000);

  it("ships the built files and no sources or tests", () => {
    const files = readdirSync(join(work, "node_modules", "textlock"));
    expect(files).toEqual(expect.arrayContaining(["package.json", "dist", "README.md"]));
    expect(files).not.toContain("test");
    expect(files).not.toContain("core");
  });

  it.each(subpaths)("imports %s as ESM and as CommonJS", (subpath) => {
    const name = `textlock${subpath.slice(1)}`;
    const esm = execFileSync(
      process.execPath,
      ["--no-node-snapshot", "--input-type=module", "-e", `const m = await import(${JSON.stringify(name)}); console.log(Object.keys(m).length)`],
      { cwd: work, encoding: "utf8" },
    );
    const cjs = execFileSync(process.execPath, ["--no-node-snapshot", "-e", `console.log(Object.keys(require(${JSON.stringify(name)})).length)`], {
      cwd: work,
      encoding: "utf8",
    });
    expect(Number(esm.trim())).toBeGreaterThan(0);
    expect(Number(cjs.trim())).toBeGreaterThan(0);
  });
});
