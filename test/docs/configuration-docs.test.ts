import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderConfigurationReference } from "../../core/config/config-docs.js";
import { configSchema } from "../../core/config/schema.js";
import { builtinProviders } from "../../providers/builtin.js";

describe("docs/reference/configuration.md", () => {
  it("is fresh: regenerate with `npm run docs:config` after changing the schema", () => {
    const committed = readFileSync(new URL("../../docs/reference/configuration.md", import.meta.url), "utf8");
    expect(committed).toBe(renderConfigurationReference(builtinProviders));
  });

  it("documents every top-level option of the schema", () => {
    const doc = renderConfigurationReference(builtinProviders);
    for (const key of Object.keys(configSchema.shape)) expect(doc).toContain(`| \`${key}\` |`);
  });
});
