// Memory per pending code in the memory store: run with --expose-gc; prints one JSON line.
import { randomBytes } from "node:crypto";
import { randomId } from "../core/otp/generate-code.js";
import { hashCode } from "../core/otp/hash-code.js";
import { MemoryOtpStore } from "../core/otp/memory-otp-store.js";

const count = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
const secret = randomBytes(32);
const store = new MemoryOtpStore({ sweepIntervalMs: 3_600_000 });
// Keys and values are built as the engine builds them, so their size is realistic.
gc();
gc();
const before = process.memoryUsage().heapUsed;
const expiresAt = Date.now() + 180_000;
for (let i = 0; i < count; i++) {
  const phone = `+1${2_000_000_000 + i}`;
  await store.issue(`sms:${phone}`, {
    codeId: randomId(),
    hash: hashCode(secret, { connection: "sms", clientId: "bench", phone }, "123456"),
    expiresAt,
    maxAttempts: 3,
  });
}
gc();
gc();
const after = process.memoryUsage().heapUsed;
console.log(JSON.stringify({ count: store.size, bytesPerCode: (after - before) / count }));
await store.close();
