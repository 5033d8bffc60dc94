import "reflect-metadata";
import cluster from "node:cluster";
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import { type RunningServer, startServer } from "../adapters/standalone/index.js";
import { readConfigFile } from "../core/config/load-config.js";
import type { TextlockConfigInput } from "../core/config/schema.js";
import { AUDIT_DELIVERY } from "../core/di-tokens.js";
import { isTextlockError, TextlockConfigError, TextlockError } from "../core/errors/textlock-error.js";
import { createTextlock, provide, type Textlock } from "../lib/index.js";
import { demoRoutes, withDemoClient } from "./demo.js";
import { runLogsCommand } from "./logs.js";
import { DRAIN_MS, parseWorkers, runPrimary, STOP_MS, workersRefusal } from "./workers.js";

const USAGE = `Usage: textlock <command> [options]

Commands:
  serve            Start the standalone server (embedded defaults without --config)
  keys rotate      Make a new signing key; earlier keys stay in the JWKS
  keys retire <kid>
                   Remove a key from the JWKS (tokens it signed stop verifying); not the signing key
  users list       Print users as JSON lines (--q to search, --page/--per-page to page)
  users get <user_id>
                   Print one user as JSON
  users block <user_id>
                   Block a user: logins and refreshes are refused, refresh tokens revoked
  users unblock <user_id>
                   Unblock a user
  users delete <user_id>
                   Delete a user with their refresh tokens (their number signs up anew)
  logs tail        Print the newest audit records (JSON lines {log_id, data}) of the configured store, then
                   follow it (--no-follow: print and exit)
  logs streams     Print each log stream's outbox: pending events, dead letters, last error

  The users commands work in-process on the configured user store (SQLite file or PostgreSQL), the
  same code as /api/v2/users; a running server sees the change at once.

Options:
  --config <file>  Configuration file (.json, .yaml, .yml, .js, .mjs)
  --port <n>       Listen port (serve)
  --host <addr>    Listen address (serve)
  --demo           Also serve a demo app at /demo that logs in through the hosted page (serve)
  --workers <n>    Serve with n worker processes sharing the port (node:cluster); needs shared
                   stores: store.type "redis" and users in SQLite or PostgreSQL (serve)
  --limit <n>      How many users to list (default 50; without --q, up to 1000); how many records
                   logs tail prints first (default 10)
  --q <query>      users list: Auth0 search query, e.g. 'phone_number:"+14155550100"' or 'blocked:true'
  --page <n>       users list --q: 0-based page (default 0)
  --per-page <n>   users list --q: page size, 1-100 (default 50)
  -h, --help       Show this help
`;

/**
 * A kid is a JWK thumbprint, 43 base64url characters, so 1 in 64 starts with "-", and node's parseArgs
 * would read it as short options and refuse it ("Unknown option '-I'"). For `keys retire`, such a token
 * is the kid wherever it stands: it is moved behind a "--", where parseArgs takes it as it is.
 */
function kidsAsPositionals(argv: readonly string[]): string[] {
  const end = argv.indexOf("--");
  const head = end < 0 ? [...argv] : argv.slice(0, end);
  const at = head.indexOf("keys");
  if (at < 0 || head[at + 1] !== "retire") return [...argv];
  const kids = head.filter((a) => KID_WITH_DASH.test(a));
  if (!kids.length) return [...argv];
  return [...head.filter((a) => !KID_WITH_DASH.test(a)), "--", ...kids, ...(end < 0 ? [] : argv.slice(end + 1))];
}

/** A base64url SHA-256 JWK thumbprint that starts with "-" (no option name or option value looks like it). */
const KID_WITH_DASH = /^-[A-Za-z0-9_-]{42}$/;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: kidsAsPositionals(argv),
    allowPositionals: true,
    options: {
      config: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      limit: { type: "string" },
      q: { type: "string" },
      page: { type: "string" },
      "per-page": { type: "string" },
      demo: { type: "boolean" },
      "no-follow": { type: "boolean" },
      workers: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, sub, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 1;
  }
  let config: TextlockConfigInput = values.config ? await readConfigFile(values.config) : {};
  const server = { ...(config.server ?? {}) };
  if (values.port !== undefined) server.port = Number(values.port);
  if (values.host !== undefined) server.host = values.host;
  const demo = command === "serve" && values.demo === true;
  if (demo) {
    // The demo client's callbacks name the port, so an "any free port" request is settled first.
    if (!server.port) server.port = await freePort(server.host ?? "127.0.0.1");
    config = withDemoClient(config, demoBaseUrls(config, server.host ?? "127.0.0.1", server.port ?? 3000));
  }
  if (command === "serve" && values.workers !== undefined && cluster.isPrimary) {
    const workers = parseWorkers(values.workers);
    if (workers === undefined) {
      process.stderr.write(`textlock: --workers must be a whole number from 1 to 256, not "${values.workers}"\n`);
      return 2;
    }
    // Checked (and the stores opened once: migrations, the first signing key) before any worker starts.
    const probe = await createTextlock({ ...config, server });
    const refusal = workersRefusal(probe.config);
    await probe.close();
    if (refusal) {
      process.stderr.write(`textlock: --workers needs stores every worker shares: ${refusal}\n`);
      return 2;
    }
    // Every worker listens on the same port, so an "any free port" request is settled here.
    const port = probe.config.server.port || (await freePort(probe.config.server.host));
    const args = argv.filter((a, i) => a !== "--port" && argv[i - 1] !== "--port" && !a.startsWith("--port="));
    return runPrimary(workers, [...args, "--port", String(port)]);
  }
  // Only `serve` delivers log streams: another command's process (users block, logs tail) still queues
  // its records for them, but never takes a stream's lease.
  const textlock = await createTextlock(
    { ...config, server },
    command === "serve" ? {} : { provide: [provide(AUDIT_DELIVERY, { enabled: false })] },
  );

  if (command === "serve") {
    let running: RunningServer;
    try {
      running = await startServer(textlock, demo ? { routes: demoRoutes } : {});
    } catch (err) {
      // The stores are open by now (a Redis client, SQLite's checkpoint worker): left open they would
      // keep the process alive after the error is printed, a server that neither serves nor exits.
      await closeWithin(textlock, 5_000);
      throw listenError(err);
    }
    process.stdout.write(`textlock listening on ${running.url}\n`);
    if (demo) process.stdout.write(`demo app: ${running.url.replace(/\/?$/, "/")}demo\n`);
    // Once: Ctrl-C in a terminal signals the workers of `serve --workers` as well as their primary,
    // which then passes SIGTERM on, so a worker gets both; the second must not cut the first's drain.
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      // The requests in flight finish first (at most DRAIN_MS); then the stores close, which can wait
      // on reconnects to a server that is gone: shutdown exits after STOP_MS whatever is left.
      setTimeout(() => process.exit(0), STOP_MS).unref();
      await running.close({ graceMs: DRAIN_MS });
      await textlock.close();
      process.exit(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    return -1;
  }
  let following = false;
  try {
    if (command === "keys" && sub === "rotate") {
      const { kid } = await textlock.keys.rotate();
      process.stdout.write(`new signing key ${kid}\n`);
      return 0;
    }
    if (command === "keys" && sub === "retire" && arg) {
      await textlock.keys.retire(arg);
      process.stdout.write(`retired signing key ${arg}\n`);
      return 0;
    }
    if (command === "users") {
      const code = await usersCommand(textlock, sub, arg, values);
      if (code !== undefined) return code;
    }
    if (command === "logs") {
      const limit = values.limit ? Number(values.limit) : undefined;
      const code = await runLogsCommand(textlock, sub, {
        follow: values["no-follow"] !== true,
        ...(limit ? { lines: limit } : {}),
      });
      if (code === -1) following = true;
      if (code !== undefined) return code;
    }
    process.stderr.write(`textlock: unknown command "${positionals.join(" ")}"\n\n${USAGE}`);
    return 1;
  } finally {
    if (!following) await textlock.close();
  }
}

/** `textlock users …` on the instance's user store; undefined for an unknown subcommand. */
async function usersCommand(
  textlock: Textlock,
  sub: string | undefined,
  userId: string | undefined,
  values: { limit?: string; q?: string; page?: string; "per-page"?: string },
): Promise<number | undefined> {
  const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  const int = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  if (sub === "list") {
    if (values.q !== undefined || values.page !== undefined || values["per-page"] !== undefined) {
      const page = await textlock.users.search({
        ...(values.q !== undefined ? { q: values.q } : {}),
        ...(values.page !== undefined ? { page: int(values.page) } : {}),
        per_page: int(values["per-page"] ?? values.limit) ?? 50,
      });
      for (const user of page.users) print(user);
      return 0;
    }
    for (const user of await textlock.users.list({ limit: values.limit ? Number(values.limit) : 50 })) print(user);
    return 0;
  }
  if (!userId || !["get", "block", "unblock", "delete"].includes(sub ?? "")) return undefined;
  if (sub === "get") {
    const user = await textlock.users.get(userId);
    if (!user) throw new TextlockError("ERR_MGMT_USER_NOT_FOUND");
    print(user);
  } else if (sub === "delete") {
    if (!(await textlock.users.delete(userId))) throw new TextlockError("ERR_MGMT_USER_NOT_FOUND");
    process.stdout.write(`deleted ${userId}\n`);
  } else {
    print(await textlock.users.update(userId, { blocked: sub === "block" }));
  }
  return 0;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Every base URL a browser may use for the demo: the issuer, and the listen address (plus localhost for loopback). */
function demoBaseUrls(config: TextlockConfigInput, host: string, port: number): string[] {
  const scheme = config.server?.https ? "https" : "http";
  const hosts = new Set([host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host, "localhost", "127.0.0.1"]);
  return [
    ...(config.issuer ? [config.issuer] : []),
    ...[...hosts].map((h) => `${scheme}://${h.includes(":") ? `[${h}]` : h}:${port}/`),
  ];
}

/** Closes the instance, waiting at most `ms` (a store whose server is gone can wait on reconnects). */
async function closeWithin(textlock: Textlock, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    textlock.close().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * What a person can act on when the server cannot listen: node's `listen EADDRINUSE: address already
 * in use 127.0.0.1:3000` (or node:cluster's `bind EADDRINUSE 127.0.0.1:3000` in a worker) names neither
 * the cause in plain words nor the option that changes the port.
 */
function listenError(err: unknown): unknown {
  const { code, address, port } = (err ?? {}) as { code?: string; address?: string; port?: number };
  if (port === undefined) return err;
  const where = address ? `${address.includes(":") ? `[${address}]` : address}:${port}` : `port ${port}`;
  if (code === "EADDRINUSE") {
    return new Error(
      `${where} is already in use (EADDRINUSE): stop the process using it, or choose another port with --port or server.port`,
    );
  }
  if (code === "EACCES") {
    return new Error(
      `not allowed to listen on ${where} (EACCES): ports below 1024 need privileges; choose another with --port or server.port`,
    );
  }
  if (code === "EADDRNOTAVAIL") {
    return new Error(
      `cannot listen on ${where} (EADDRNOTAVAIL): this machine has no such address; check --host or server.host`,
    );
  }
  return err;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(
      err instanceof TextlockConfigError
        ? `${err.message}\n`
        : `textlock: ${(err as Error).message}${isTextlockError(err) ? ` (${err.code})` : ""}\n`,
    );
    process.exitCode = 1;
    // A worker of `serve --workers` is held alive by its channel to the primary, which waits for it to
    // exit; it has closed what it opened, so it goes now.
    if (cluster.isWorker) process.exit(1);
    // A command that failed has nothing left to do: if something it opened still holds the event loop
    // (a store that failed half-way through opening), exit anyway rather than hang after the error.
    setTimeout(() => process.exit(1), 5_000).unref();
  },
);
