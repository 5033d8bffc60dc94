import type { LogEntry } from "../core/audit/log-entry.js";
import type { Textlock } from "../core/create-textlock.js";

/** Options of `textlock logs …`. */
export interface LogsCommandOptions {
  /** How many of the newest records `tail` prints first (default 10). */
  lines?: number;
  /** Keep following (default) or print and exit. */
  follow: boolean;
  /** How often `tail` looks for new records, ms. */
  intervalMs?: number;
}

const line = (e: LogEntry) => `${JSON.stringify({ log_id: e.log_id, data: e })}\n`;

/**
 * `textlock logs tail`: prints the newest records of the configured store's audit log (SQLite file or
 * PostgreSQL, the same one `textlock serve` writes) as JSON lines `{log_id, data}`, then follows it by
 * checkpoint (`log_id` order) until interrupted. `textlock logs streams`: each stream's outbox state.
 * Returns the exit code, or -1 while following.
 */
export async function runLogsCommand(textlock: Textlock, sub: string | undefined, options: LogsCommandOptions) {
  if (sub === "streams") {
    for (const status of await textlock.audit.streams()) process.stdout.write(`${JSON.stringify(status)}\n`);
    return 0;
  }
  if (sub !== "tail") return undefined;
  const newest = (await textlock.audit.search({ limit: options.lines ?? 10 })).logs.reverse();
  for (const e of newest) process.stdout.write(line(e));
  if (!options.follow) return 0;
  let cursor = newest.at(-1)?.log_id ?? (await textlock.audit.search({ limit: 1 })).logs[0]?.log_id;
  const interval = options.intervalMs ?? 1_000;
  const poll = async (): Promise<void> => {
    for (;;) {
      const batch = await textlock.audit.after(cursor, 100);
      for (const e of batch) process.stdout.write(line(e));
      cursor = batch.at(-1)?.log_id ?? cursor;
      if (batch.length < 100) break;
    }
  };
  const timer = setInterval(() => {
    poll().catch((err) => process.stderr.write(`textlock: ${(err as Error).message}\n`));
  }, interval);
  const stop = async () => {
    clearInterval(timer);
    await textlock.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return -1;
}
