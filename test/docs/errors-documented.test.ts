import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { errorCatalog } from "../../core/errors/catalog.js";

describe("docs/reference/errors.md", () => {
  const doc = readFileSync(new URL("../../docs/reference/errors.md", import.meta.url), "utf8");

  it.each(Object.entries(errorCatalog))("documents %s with its status and wire error", (code, spec) => {
    const row = doc.split("\n").find((line) => line.startsWith(`| \`${code}\` |`));
    expect(row, `${code} has no row`).toBeDefined();
    expect(row).toContain(`| ${spec.status} |`);
    expect(row).toContain(`\`${spec.error}\``);
  });
});
