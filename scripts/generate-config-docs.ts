import { writeFileSync } from "node:fs";
import { renderConfigurationReference } from "../core/config/config-docs.js";
import { builtinProviders } from "../providers/builtin.js";

writeFileSync(
  new URL("../docs/reference/configuration.md", import.meta.url),
  renderConfigurationReference(builtinProviders),
);
console.log("wrote docs/reference/configuration.md");
