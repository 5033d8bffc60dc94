// `npm run bench:ab -- <A> <B> [--kind start|wrong|login] [--users new|returning] [--rounds 8]
//   [--seconds 2] [--connections N] [--pipelining N] [--scope "openid offline_access"]
//   [--env-a K=V,…] [--env-b K=V,…]`
//
// Is B cheaper than A per request? A and B are git revisions (a commit, branch or tag) or `.` (the
// working tree); each is built as the package is published (bench/build.ts) from its own files, with
// the npm packages installed here. Both servers run at once on the servers' core, and short loads
// alternate between them (A then B, then B then A, …): a slow spell of this shared machine lands on
// both sides of a round, so the paired difference of each round's CPU per request (from /proc) resolves
// changes of a few percent that one-server runs minutes apart cannot. Run A against itself for the
// noise floor. Prints each round and the median paired difference; exits 0 either way.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBenchServer } from "./build.js";
import { benchProcesses, root } from "./processes.js";
import { median } from "./report.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const positional = args.filter((a, i) => !a.startsWith("--") && !args[i - 1]?.startsWith("--"));
const [refA, refB] = positional;
if (!refA || !refB) {
  console.error(
    "usage: npm run bench:ab -- <A> <B> [--kind start|wrong|login] [--rounds 8] … (A, B: git revisions or .)",
  );
  process.exit(2);
}
const kind = flag("--kind", "start");
const users = flag("--users", kind === "start" ? "new" : "returning");
const rounds = Number(flag("--rounds", "8"));
const seconds = Number(flag("--seconds", "2"));
const connections = Number(flag("--connections", kind === "login" ? "20" : "50"));
const pipelining = Number(flag("--pipelining", kind === "wrong" ? "10" : "1"));
/** Logins: the scope asked for (`openid offline_access` also stores a refresh token per login). */
const scope = flag("--scope", "openid");
const envOf = (name: string) =>
  Object.fromEntries(
    flag(name, "")
      .split(",")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );

/** Builds revision `ref` (or the working tree for `.`); returns the server script. */
async function build(ref: string, side: string): Promise<string> {
  if (ref === ".") return buildBenchServer(root, `ab-${side}-worktree`);
  const sha = execFileSync("git", ["rev-parse", "--verify", `${ref}^{commit}`], { cwd: root })
    .toString()
    .trim();
  const source = mkdtempSync(join(tmpdir(), "textlock-ab-"));
  try {
    execFileSync("sh", ["-c", `git archive ${sha} | tar -x -C '${source}'`], { cwd: root });
    return await buildBenchServer(root, `ab-${side}-${sha.slice(0, 12)}`, source);
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
}

const signed = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(1)}`;

const processes = benchProcesses();
if (!processes.pin)
  console.error("warning: not pinned (needs two cores and taskset): the load shares the servers' core");
console.error(`building ${refA} and ${refB}`);
const [scriptA, scriptB] = [await build(refA, "a"), await build(refB, "b")];
const serverArgs = (dataDir: string) => ["standalone", dataDir, "RS256"];
const a = await processes.startServer(scriptA, serverArgs, envOf("--env-a"));
const b = await processes.startServer(scriptB, serverArgs, envOf("--env-b"));
try {
  const spec = { kind, users, seconds, connections, pipelining, scope, usersPerConnection: 10 };
  const cpuUs = async (server: typeof a) => (await processes.load(server, spec)).cpuMs * 1000;
  // Warm both (JIT, caches, the users a returning login needs) before anything is kept.
  await cpuUs(a);
  await cpuUs(b);
  const diffs: number[] = [];
  const [costsA, costsB]: [number[], number[]] = [[], []];
  for (let round = 1; round <= rounds; round++) {
    let x: number;
    let y: number;
    if (round % 2) {
      x = await cpuUs(a);
      y = await cpuUs(b);
    } else {
      y = await cpuUs(b);
      x = await cpuUs(a);
    }
    costsA.push(x);
    costsB.push(y);
    diffs.push(((y - x) / x) * 100);
    console.log(`round ${round}: A ${x.toFixed(1)} µs  B ${y.toFixed(1)} µs  (${signed(diffs.at(-1)!)}%)`);
  }
  const cheaper = diffs.filter((d) => d < 0).length;
  console.log(
    `${kind} (${users}, ${connections} connections${pipelining > 1 ? `, pipelined ×${pipelining}` : ""}): ` +
      `A ${refA} median ${median(costsA).toFixed(1)} µs, B ${refB} median ${median(costsB).toFixed(1)} µs of CPU per ${kind === "login" ? "login" : "request"}; ` +
      `B vs A paired: median ${signed(median(diffs))}%, B cheaper in ${cheaper} of ${rounds} rounds`,
  );
} finally {
  await Promise.all([processes.stop(a), processes.stop(b)]);
}
