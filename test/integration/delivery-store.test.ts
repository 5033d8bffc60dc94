import { pino } from "pino";
import { afterAll, beforeAll, describe, inject } from "vitest";
import { RedisDeliveryStore } from "../../core/delivery/redis-delivery-store.js";
import { RedisOtpStore } from "../../core/otp/redis-otp-store.js";
import { runDeliveryStoreContract } from "../../core/testing/delivery-store-contract.js";
import { type RedisCluster, startRedisCluster } from "../helpers/redis-cluster.js";
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

// On a Redis Cluster the code's hash (the phone's slot), the message index (the message's slot) and the
// due escalations (the `{namespace}` slot) are three slots: a send or a step writes each in its own call.
describe.skipIf(!redisUrl)("Redis DeliveryStore on a Redis Cluster", () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster(3, 0, 1_000);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  runDeliveryStoreContract(
    "redis cluster",
    async () => {
      const namespace = `dlvc${process.pid}-${++ns}`;
      const codes = await RedisOtpStore.connect({ cluster: cluster.urls, namespace, commandTimeoutMs: 1_000 }, logger);
      const deliveries = new RedisDeliveryStore(codes.rawClient as never, namespace, true);
      return { codes, deliveries, close: () => codes.close() };
    },
    vitestRunner,
  );
});
