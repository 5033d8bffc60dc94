// Logins through textlock's in-process API for the Redis benches (bench/redis-trips.ts, bench/redis-cpu.ts):
// an instance with default protection, users in SQLite and codes in the given Redis, and numbers and IPs
// chosen so that no send limit refuses them.
import "reflect-metadata";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { TextlockConfigInput } from "../core/config/schema.js";
import { createTextlock } from "../lib/index.js";

const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
/** The i-th number: one per prefix (exchange 200–999) for the first 800, so per-prefix limits stay far. */
export const phone = (i: number) => `+1415${200 + (i % 800)}${String(100 + Math.floor(i / 800)).padStart(4, "0")}`;
/** An IP per request, so the per-IP limit is not what is measured. */
const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** A textlock on `store` (a Redis), its starts and code exchanges by number index, and the codes it sent. */
export async function redisLogins(tag: string, store: TextlockConfigInput["store"]) {
  const dataDir = mkdtempSync(join(tmpdir(), `textlock-${tag}-`));
  const tl = await createTextlock(
    { secret: "bench-secret-bench-secret-bench-secret-0", dataDir, users: { type: "sqlite" }, store },
    { logger: pino({ level: "silent" }) },
  );
  return {
    tl,
    start: (i: number) =>
      tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: phone(i) }, { ip: ip(i) }),
    exchange: (i: number, code: string) =>
      tl.api.token(
        { grant_type: OTP, client_id: "textlock-dev", username: phone(i), otp: code, realm: "sms", scope: "openid" },
        { ip: ip(i), issuer: "https://bench.example/" },
      ),
    /** The last code sent to each number (the console provider's outbox). */
    sentCodes() {
      const last = new Map<string, string>();
      for (const line of readFileSync(join(dataDir, "outbox.jsonl"), "utf8").trim().split("\n")) {
        const m = JSON.parse(line) as { to: string; body: string };
        last.set(m.to, m.body.match(/\d{6}/)![0]);
      }
      return last;
    },
  };
}
