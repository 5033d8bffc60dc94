// Memory per pending code in the memory store: run with --expose-gc; prints one JSON line.
// Two shapes, as the engine issues them: a code of a one-channel connection (the default: no sealed copy)
// and a re-sendable one (a connection with several channels or escalation: a sealed copy and its channel).
import { randomBytes } from "node:crypto";
import { randomId } from "../core/otp/generate-code.js";
import { hashCode } from "../core/otp/hash-code.js";
import { MemoryOtpStore } from "../core/otp/memory-otp-store.js";
import type { PendingCode } from "../core/otp/otp-store.js";
import { CodeSealer } from "../core/otp/seal-code.js";

const count = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
const secret = randomBytes(32);
const sealer = new CodeSealer(secret);

async function bytesPerCode(resendable: boolean): Promise<number> {
  const store = new MemoryOtpStore({ sweepIntervalMs: 3_600_000 });
  gc!();
  gc!();
  const before = process.memoryUsage().heapUsed;
  const expiresAt = Date.now() + 180_000;
  for (let i = 0; i < count; i++) {
    const phone = `+1${2_000_000_000 + i}`;
    const key = `sms:${phone}`;
    const code: PendingCode = {
      codeId: randomId(),
      hash: hashCode(secret, { connection: "sms", clientId: "bench", phone }, "123456"),
      expiresAt,
      maxAttempts: 3,
    };
    if (resendable) {
      code.sealed = sealer.seal(key, code.codeId, { code: "123456", clientId: "bench" });
      code.channel = "sms";
    }
    await store.issue(key, code);
  }
  gc!();
  gc!();
  const bytes = (process.memoryUsage().heapUsed - before) / count;
  if (store.size !== count) throw new Error(`stored ${store.size} of ${count} codes`);
  await store.close();
  return bytes;
}

const plain = await bytesPerCode(false);
const resendable = await bytesPerCode(true);
console.log(JSON.stringify({ count, bytesPerCode: plain, bytesPerResendableCode: resendable }));
