import { pino } from "pino";
import { describe, inject } from "vitest";
import { RedisDeliveryStore } from "../../core/delivery/redis-delivery-store.js";
import { RedisOtpStore } from "../../core/otp/redis-otp-store.js";
import { runDeliveryStoreContract } from "../../core/testing/delivery-store-contract.js";
import { vitestRunner } from "../helpers/vitest-runner.js";

const logger = pino({ level: "silent" });
const redisUrl = inject("redisUrl");
let ns = 0;

describe.skipIf(!redisUrl)("Redis DeliveryStore", () => {
  runDeliveryStoreContract(
    "redis",
    async () => {
      const namespace = `dlv${process.pid}-${++ns}`;
      const codes = await RedisOtpStore.connect({ url: redisUrl!, namespace, commandTimeoutMs: 1_000 }, logger);
      const deliveries = new RedisDeliveryStore(codes.rawClient as never, namespace);
      return { codes, deliveries, close: () => codes.close() };
    },
    vitestRunner,
  );
});
