// The same-run peer: better-auth's phone-number plugin in its own process, `tsx bench/better-auth-server.ts
// <sqlite|memory> <dataDir>`; prints its URL. Codes go to `<dataDir>/outbox.jsonl` exactly as textlock's
// console provider writes them, so the load generator reads them the same way. Rate limits are off, as
// textlock's protection is in its bench server.
import { createWriteStream } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { phoneNumber } from "better-auth/plugins/phone-number";
import Database from "better-sqlite3";

const [storage = "sqlite", dataDir = ".better-auth-bench"] = process.argv.slice(2);
const outbox = createWriteStream(join(dataDir, "outbox.jsonl"), { flags: "a" });

const options = {
  secret: "bench-secret-bench-secret-bench-secret-0",
  baseURL: "http://127.0.0.1",
  logger: { disabled: true },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  database:
    storage === "memory"
      ? memoryAdapter({ user: [], session: [], account: [], verification: [] })
      : (() => {
          const db = new Database(join(dataDir, "better-auth.db"));
          db.pragma("journal_mode = WAL");
          return db;
        })(),
  plugins: [
    phoneNumber({
      sendOTP: ({ phoneNumber: to, code }) => {
        outbox.write(`${JSON.stringify({ to, body: `Your code is ${code}` })}\n`);
      },
      signUpOnVerification: {
        getTempEmail: (phone) => `${phone.replace(/\D/g, "")}@phone.invalid`,
        getTempName: (phone) => phone,
      },
    }),
  ],
};
if (storage !== "memory") await (await getMigrations(options)).runMigrations();
const auth = betterAuth(options);
const handler = toNodeHandler(auth);
const server = createServer((req, res) => void handler(req, res)).listen(0, "127.0.0.1", () =>
  console.log(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}`),
);
