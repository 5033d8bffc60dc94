// PostgreSQL work per login, in its own process: `tsx bench/pg-writes.ts <postgresUrl> [count]`; prints one
// JSON line. Logins (through the in-process API, codes in memory) run `concurrency` at a time; textlock is
// closed after each phase so its connections exit and flush their statistics, then the deltas of
// pg_stat_database (transactions, rows) and pg_stat_wal (WAL fsyncs) are divided by the logins.
import "reflect-metadata";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { pino } from "pino";
import { createTextlock } from "../lib/index.js";

const [url, countArg = "400"] = process.argv.slice(2);
const count = Number(countArg);
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const phone = (i: number) => `+1415${200 + (i % 800)}${String(100 + Math.floor(i / 800)).padStart(4, "0")}`;
const admin = new pg.Client({ connectionString: url });
await admin.connect();

async function stats() {
  await new Promise((r) => setTimeout(r, 300));
  const db = (
    await admin.query(
      "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = current_database()",
    )
  ).rows[0];
  const wal = (await admin.query("SELECT wal_records, wal_sync FROM pg_stat_wal")).rows[0];
  return Object.fromEntries(Object.entries({ ...db, ...wal }).map(([k, v]) => [k, Number(v)]));
}

async function phase(concurrency: number) {
  const dataDir = mkdtempSync(join(tmpdir(), "textlock-pgw-"));
  const tl = await createTextlock(
    {
      secret: "bench-secret-bench-secret-bench-secret-0",
      dataDir,
      users: { type: "postgres", url: url! },
      store: { type: "memory" },
      protection: { enabled: false },
    },
    { logger: pino({ level: "silent" }) },
  );
  const codeOf = (p: string) =>
    readFileSync(join(dataDir, "outbox.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { to: string; body: string })
      .filter((m) => m.to === p)
      .at(-1)!
      .body.match(/\d{6}/)![0];
  const logins = async (phones: string[]) => {
    await Promise.all(
      phones.map((p) => tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: p })),
    );
    await Promise.all(
      phones.map((p) =>
        tl.api.token(
          { grant_type: OTP, client_id: "textlock-dev", username: p, otp: codeOf(p), realm: "sms", scope: "openid" },
          { issuer: "https://bench.example/" },
        ),
      ),
    );
  };
  // Warm-up (not counted): the first login loads the signing keys.
  await logins([phone(7000)]);
  const before = await stats();
  for (let i = 0; i < count; i += concurrency)
    await logins(Array.from({ length: Math.min(concurrency, count - i) }, (_, j) => phone(i + j)));
  await tl.close();
  const after = await stats();
  return Object.fromEntries(Object.keys(after).map((k) => [k, (after[k]! - before[k]!) / count]));
}

const result = {
  count,
  newUsers: await phase(20),
  returning: await phase(20),
  returningOneAtATime: await phase(1),
};
await admin.end();
console.log(JSON.stringify(result));
