// `npm start` / `npm run demo`: builds dist/ only when the sources are newer, without the build log
// (printed only when the build fails), then runs the built command line with the given arguments.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const SOURCES = ["core", "lib", "cli", "adapters", "providers", "package.json", "tsup.config.ts", "tsconfig.json"];
const OUTPUTS = ["dist/cli.js", "dist/index.js", "dist/index.cjs", "dist/standalone.js"];

/** Newest modification time (ms) of a file, or of any file under a folder; 0 when it does not exist. */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = 0;
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
  return max;
}

/** True when every built entry the command line needs exists and is newer than every source. */
export function isDistFresh(root) {
  const outputs = OUTPUTS.map((f) => join(root, f));
  if (!outputs.every((f) => existsSync(f))) return false;
  const built = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  return SOURCES.every((s) => newest(join(root, s)) <= built);
}

/** Runs the build with its output captured: `{ ok, output }`, the output to show only when it failed. */
export function buildQuietly(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? `${result.error.message}\n` : ""}`;
  return { ok: result.status === 0 && !result.error, output };
}

function main(args) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  if (!isDistFresh(root)) {
    process.stderr.write("textlock: building dist/ (sources changed)…\n");
    const build = buildQuietly(join(root, "node_modules", ".bin", "tsup"), [], root);
    if (!build.ok) {
      process.stderr.write(`${build.output}\ntextlock: the build failed (output above)\n`);
      process.exit(1);
    }
  }
  // isolated-vm (hook sandbox) needs --no-node-snapshot on Node 20+.
  const child = spawn(process.execPath, ["--no-node-snapshot", join(root, "dist", "cli.js"), ...args], {
    stdio: "inherit",
  });
  // Ctrl-C reaches the whole process group, the server included: only SIGTERM needs passing on.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
