// Builds the bench's textlock server (bench/server.ts) the way the package is published: one esbuild
// bundle through tsup, ES2022 for Node 20, npm packages left external, without keepNames. The bench
// then measures what `npm start` and an app importing `textlock` run, not the TypeScript sources
// through tsx (whose esbuild transform keeps every function's name, a call per function defined,
// ~5% of a start's CPU).
import { join } from "node:path";
import { build } from "tsup";

/**
 * Builds bench/server.ts into `<root>/node_modules/.cache/textlock-bench/<tag>/server.js`; returns that file.
 * `source`: the tree to build from (default `root`; bench/ab.ts passes a revision's files), whose npm
 * packages are then those installed under `root`.
 */
export async function buildBenchServer(root: string, tag = String(process.pid), source = root): Promise<string> {
  const outDir = join(root, "node_modules", ".cache", "textlock-bench", tag);
  await build({
    config: false,
    entry: { server: join(source, "bench", "server.ts") },
    format: ["esm"],
    target: "node20",
    outDir,
    clean: true,
    dts: false,
    sourcemap: false,
    silent: true,
    tsconfig: join(source, "tsconfig.json"),
    esbuildOptions(options) {
      options.packages = "external";
    },
  });
  return join(outDir, "server.js");
}
