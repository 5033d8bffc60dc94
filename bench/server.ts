// A benchmark server in its own process: `tsx bench/server.ts <adapter> <dataDir>`; prints its URL.
// adapters: bare (node:http fixed JSON, the baseline), standalone, fastify, koa, express.
// BENCH_AUDIT=off turns the audit log off (the "durable state per login" comparison).
import "reflect-metadata";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pino } from "pino";
import { createTextlock } from "../lib/index.js";
import { createConsoleProvider } from "../providers/console/console-provider.js";
import { serve } from "../test/helpers/adapters.js";

const [adapter = "standalone", dataDir = ".textlock-bench", algorithm = "RS256", redisUrl] = process.argv.slice(2);

if (adapter === "bare") {
  const body = JSON.stringify({
    _id: "0123456789abcdef01234567",
    phone_number: "+14155550100",
    phone_verified: false,
    request_language: "en",
  });
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      res.end(body);
    });
  }).listen(0, "127.0.0.1", () => console.log(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}`));
} else {
  const textlock = await createTextlock(
    {
      secret: "bench-secret-bench-secret-bench-secret-0",
      dataDir,
      users: { type: "sqlite" },
      store: redisUrl ? { type: "redis", url: redisUrl, namespace: `bench${process.pid}` } : { type: "memory" },
      tokens: { algorithm: algorithm as "RS256" },
      ...(process.env.BENCH_AUDIT === "off" ? { audit: { enabled: false } } : {}),
      // The console provider, appending each message to the outbox the load generator reads codes from,
      // without also printing it (to this process's stdout, a file here: a blocking write per message):
      // the same work as the peer's `sendOTP`, which writes the outbox line only.
      providers: { outbox: createConsoleProvider({ outboxFile: join(dataDir, "outbox.jsonl"), stream: null }) },
      // One load generator is one IP sending to many numbers: send limits would measure 429s.
      protection: { enabled: false },
      // Per-phone failure ceiling off so the wrong-code scenario measures the attempt path, not a 429.
      connections: [
        {
          name: "sms",
          enabled_clients: ["textlock-dev"],
          options: { brute_force_protection: false, provider: "outbox" },
        },
      ],
    },
    { logger: pino({ level: "silent" }) },
  );
  const served = await serve(adapter as "standalone", textlock);
  console.log(`READY ${served.url}`);
}
