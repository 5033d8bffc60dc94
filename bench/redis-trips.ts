// Redis round trips and commands per start and per login, in its own process:
// `tsx bench/redis-trips.ts <redisUrl> [count]`; prints one JSON line.
// textlock talks to Redis through a loopback proxy that counts what the client sends; requests run one
// at a time, so each burst the proxy sees is one round trip (node-redis writes a pipeline in one go).
// Commands come from `INFO commandstats` deltas. Default protection (send limits on), SQLite users.
import "reflect-metadata";
import { createConnection, createServer, type Socket } from "node:net";
import { createClient } from "@redis/client";
import { phone, redisLogins } from "./redis-logins.js";

const [url = "redis://127.0.0.1:6379", countArg = "200"] = process.argv.slice(2);
const count = Number(countArg);
const upstream = new URL(url);
let bursts = 0;
const proxy = createServer((client: Socket) => {
  const server = createConnection(Number(upstream.port), upstream.hostname);
  client.on("data", (d) => {
    bursts++;
    server.write(d);
  });
  server.on("data", (d) => client.write(d));
  client.on("close", () => server.destroy());
  server.on("close", () => client.destroy());
  client.on("error", () => {});
  server.on("error", () => {});
});
await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
const proxied = `redis://127.0.0.1:${(proxy.address() as { port: number }).port}`;

const admin = createClient({ url });
await admin.connect();
const commandstats = async () => {
  const stats = new Map<string, number>();
  for (const m of (await admin.info("commandstats")).matchAll(/cmdstat_(\S+?):calls=(\d+)/g))
    stats.set(m[1]!, Number(m[2]));
  return stats;
};

const {
  tl,
  start: startOf,
  exchange,
  sentCodes,
} = await redisLogins("trips", {
  type: "redis",
  url: proxied,
  namespace: `trips${process.pid}`,
});

/** Round trips (proxy bursts) and commands (INFO commandstats) of one call. */
async function measure(call: () => Promise<unknown>, into: { bursts: number; commands: Map<string, number> }) {
  const before = await commandstats();
  const burstsBefore = bursts;
  await call();
  into.bursts += bursts - burstsBefore;
  const after = await commandstats();
  for (const [name, calls] of after) {
    // The admin connection's own INFO calls are not textlock's.
    const delta = calls - (before.get(name) ?? 0) - (name === "info" ? 1 : 0);
    if (delta > 0) into.commands.set(name, (into.commands.get(name) ?? 0) + delta);
  }
}
const per = (m: { bursts: number; commands: Map<string, number> }) => ({
  roundTrips: m.bursts / count,
  commands: [...m.commands.values()].reduce((a, b) => a + b, 0) / count,
  byCommand: Object.fromEntries([...m.commands].map(([k, v]) => [k, v / count])),
});

// Each phone's start is followed by its login (the code exchange), so every code sent is verified, as in
// real use (pumping detection quarantines prefixes and countries whose codes go unverified).
const starts = { bursts: 0, commands: new Map<string, number>() };
const logins = { bursts: 0, commands: new Map<string, number>() };
for (let i = 0; i < count; i++) {
  await measure(() => startOf(i), starts);
  await measure(() => exchange(i, sentCodes().get(phone(i))!), logins);
}
const start = per(starts);
const login = per(logins);
await tl.close();
await admin.quit();
proxy.close();
console.log(JSON.stringify({ count, start, login }));
process.exit(0);
