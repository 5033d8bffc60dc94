import { defineConfig } from "tsup";

// One entry per subpath export (see package.json "exports"); ESM and CJS with types.
export const entries = {
  index: "lib/index.ts",
  stores: "lib/stores.ts",
  plugin: "core/plugin/index.ts",
  http: "core/http/index.ts",
  hooks: "core/hooks/index.ts",
  express: "adapters/express/index.ts",
  koa: "adapters/koa/index.ts",
  fastify: "adapters/fastify/index.ts",
  standalone: "adapters/standalone/index.ts",
  "providers/console": "providers/console/index.ts",
  "providers/twilio": "providers/twilio/index.ts",
  "providers/vonage": "providers/vonage/index.ts",
  "providers/sms-gateway": "providers/sms-gateway/index.ts",
  testing: "core/testing/index.ts",
};

export default defineConfig([
  {
    entry: entries,
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "node20",
    splitting: true,
    // core/storage/wal-checkpointer.ts resolves better-sqlite3 from `import.meta.url`, which the CommonJS
    // build only has through this shim.
    shims: true,
    outDir: "dist",
    external: ["express", "koa", "fastify"],
  },
  {
    entry: { cli: "cli/index.ts" },
    format: ["esm"],
    sourcemap: true,
    target: "node20",
    outDir: "dist",
    banner: { js: "#!/usr/bin/env node" },
  },
]);
