// The load generator, in its own process: `tsx bench/load.ts '<json spec>'`; prints one JSON result line.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import autocannon from "autocannon";
import { Pool } from "undici";

interface Spec {
  kind: "start" | "wrong" | "login";
  url: string;
  seconds: number;
  connections: number;
  outbox?: string;
}
const spec = JSON.parse(process.argv[2]!) as Spec;
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const offset = Math.floor(Math.random() * 1e6);

async function cannon(body: (i: number) => string, path: string) {
  let i = 0;
  const result = await autocannon({
    url: `${spec.url}${path}`,
    method: "POST",
    connections: spec.connections,
    duration: spec.seconds,
    headers: { "content-type": "application/json" },
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: body(i++) }) }],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
  };
}

const phone = (i: number) => `+1${String(2_000_000_000 + ((offset + i) % 7_000_000_000)).padStart(10, "0")}`;

if (spec.kind === "start") {
  console.log(
    JSON.stringify(
      await cannon(
        (i) => JSON.stringify({ client_id: "textlock-dev", connection: "sms", phone_number: phone(i) }),
        "/passwordless/start",
      ),
    ),
  );
} else if (spec.kind === "wrong") {
  // 1,000 phones with pending codes, then wrong codes spread over them.
  const pool = new Pool(spec.url, { connections: 10 });
  for (let i = 0; i < 1000; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, j) =>
        pool
          .request({
            method: "POST",
            path: "/passwordless/start",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ client_id: "textlock-dev", connection: "sms", phone_number: phone(i + j) }),
          })
          .then((r) => r.body.dump()),
      ),
    );
  }
  await pool.close();
  console.log(
    JSON.stringify(
      await cannon(
        (i) =>
          JSON.stringify({
            grant_type: OTP,
            client_id: "textlock-dev",
            username: phone(i % 1000),
            otp: "0000000",
            realm: "sms",
          }),
        "/oauth/token",
      ),
    ),
  );
} else {
  // Full logins: start, read the code from the console provider's outbox (as a person reads the SMS), token.
  const pool = new Pool(spec.url, { connections: spec.connections });
  const codes = new Map<string, string>();
  let read = 0;
  const tail = () => {
    let buf: Buffer;
    try {
      buf = readFileSync(spec.outbox!);
    } catch {
      return;
    }
    const end = buf.lastIndexOf(10);
    if (end < read) return;
    for (const line of buf.subarray(read, end).toString("utf8").split("\n")) {
      if (!line) continue;
      const m = JSON.parse(line) as { to: string; body: string };
      codes.set(m.to, m.body.match(/\d{6}/)![0]);
    }
    read = end + 1;
  };
  const post = (path: string, body: object, type = "application/json") =>
    pool
      .request({ method: "POST", path, headers: { "content-type": type }, body: JSON.stringify(body) })
      .then(async (r) => ({ status: r.statusCode, text: await r.body.text() }));
  const deadline = Date.now() + spec.seconds * 1000;
  let done = 0;
  let failed = 0;
  let n = 0;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      while (Date.now() < deadline) {
        const p = phone(1_000_000 + n++);
        const began = performance.now();
        const s = await post("/passwordless/start", { client_id: "textlock-dev", connection: "sms", phone_number: p });
        let code: string | undefined;
        for (let k = 0; k < 200 && !(code = codes.get(p)); k++) {
          tail();
          if (!codes.get(p)) await sleep(1);
        }
        const t = code
          ? await post("/oauth/token", {
              grant_type: OTP,
              client_id: "textlock-dev",
              username: p,
              otp: code,
              realm: "sms",
              scope: "openid",
            })
          : { status: 0 };
        if (s.status === 200 && t.status === 200) {
          done++;
          latencies.push(performance.now() - began);
        } else failed++;
        codes.delete(p);
      }
    }),
  );
  await pool.close();
  latencies.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      rps: done / spec.seconds,
      p50: latencies[Math.floor(latencies.length / 2)] ?? 0,
      p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
      failed,
      total: done,
    }),
  );
}
