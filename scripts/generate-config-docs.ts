import { writeFileSync } from "node:fs";
import { renderConfigurationReference } from "../core/config/config-docs.js";

writeFileSync(new URL("../docs/reference/configuration.md", import.meta.url), renderConfigurationReference());
console.log("wrote docs/reference/configuration.md");
