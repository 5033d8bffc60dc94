// Bytes per pending code in Redis (INFO memory delta over N codes issued as the engine issues them).
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { randomId } from "../core/otp/generate-code.js";
import { hashCode } from "../core/otp/hash-code.js";
import { RedisOtpStore } from "../core/otp/redis-otp-store.js";

const [url, countArg = "100000"] = process.argv.slice(2);
const count = Number(countArg);
const store = await RedisOtpStore.connect(
  { url: url!, namespace: "mem", commandTimeoutMs: 5000 },
  pino({ level: "silent" }),
);
const client = store.rawClient as { info(section: string): Promise<string> };
const used = async () => Number((await client.info("memory")).match(/used_memory:(\d+)/)![1]);
const secret = randomBytes(32);
const before = await used();
const expiresAt = Date.now() + 600_000;
for (let i = 0; i < count; i += 500) {
  await Promise.all(
    Array.from({ length: 500 }, (_, j) => {
      const phone = `+1${2_000_000_000 + i + j}`;
      return store.issue(`sms:${phone}`, {
        codeId: randomId(),
        hash: hashCode(secret, { connection: "sms", clientId: "bench", phone }, "123456"),
        expiresAt,
        maxAttempts: 3,
      });
    }),
  );
}
const after = await used();
console.log(JSON.stringify({ count, bytesPerCode: (after - before) / count }));
await store.close();
