import { type ChildProcess, spawn } from "node:child_process";

const root = new URL("../..", import.meta.url).pathname;

/**
 * Starts `textlock serve --config <file> --port 0` from source in a child process; resolves with its URL.
 * The log (stderr) is inherited unless `stderr: "pipe"` asks for it on `child.stderr`.
 */
export async function spawnServe(
  configFile: string,
  extraArgs: string[] = [],
  /** `listening`: how many "listening on" lines to wait for (one per worker of `--workers N`; default 1). */
  options: { stderr?: "inherit" | "pipe"; listening?: number } = {},
): Promise<{ url: string; child: ChildProcess }> {
  // One process (node with tsx's loader, not the tsx wrapper), so signals reach the server itself.
  const child = spawn(
    process.execPath,
    [
      "--no-node-snapshot",
      "--import",
      "tsx",
      "cli/index.ts",
      "serve",
      "--config",
      configFile,
      "--port",
      "0",
      ...extraArgs,
    ],
    {
      cwd: root,
      stdio: ["ignore", "pipe", options.stderr ?? "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const lines = [...out.matchAll(/listening on (https?:\/\/\S+)/g)];
      if (lines.length >= (options.listening ?? 1)) resolve(lines[0]![1]!);
    });
    child.once("exit", (code) => reject(new Error(`textlock serve exited with ${code}`)));
  });
  return { url, child };
}
