import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { errorCatalog } from "../../core/errors/catalog.js";

/** Raise it with the catalog: a new code must be documented, a removed one taken out of the docs. */
const CATALOG_SIZE = 68;

describe("docs/reference/errors.md", () => {
  const doc = readFileSync(new URL("../../docs/reference/errors.md", import.meta.url), "utf8");
  const documented = [...doc.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);

  it.each(Object.entries(errorCatalog))("documents %s with its status and wire error", (code, spec) => {
    const row = doc.split("\n").find((line) => line.startsWith(`| \`${code}\` |`));
    expect(row, `${code} has no row`).toBeDefined();
    expect(row).toContain(`| ${spec.status} |`);
    expect(row).toContain(`\`${spec.error}\``);
  });

  it("documents no code the catalog does not have, and each code once", () => {
    expect(documented.filter((code) => !(code in errorCatalog))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });

  it("has the pinned number of codes in both", () => {
    expect(Object.keys(errorCatalog)).toHaveLength(CATALOG_SIZE);
    expect(documented).toHaveLength(CATALOG_SIZE);
  });
});
