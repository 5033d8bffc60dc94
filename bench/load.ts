// The load generator, in its own process: `tsx bench/load.ts '<json spec>'`; prints one JSON result line.
// Targets: textlock (Auth0's /passwordless/start and /oauth/token) or better-auth's phone-number plugin.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import autocannon from "autocannon";
import { Pool } from "undici";
import { benchPhone } from "./phones.js";

interface Spec {
  kind: "start" | "wrong" | "login";
  target?: "textlock" | "better-auth";
  url: string;
  seconds: number;
  connections: number;
  /** HTTP pipelining depth for autocannon (start, wrong): a light driver that is not itself the limit. */
  pipelining?: number;
  /** Logins: `new` users (a fresh phone each time) or `returning` ones (registered first, untimed). */
  users?: "new" | "returning";
  outbox?: string;
  /** Logins: returning users per connection (default 50). */
  usersPerConnection?: number;
  /** Logins: the scope asked for (default `openid`; `openid offline_access` also stores a refresh token). */
  scope?: string;
  /** Logins: an API to ask the access token for (a JWT: the login then signs two tokens, not one). */
  audience?: string;
  /** The server's pid: its CPU time over the timed phase is read from /proc (Linux). */
  serverPid?: number;
}
const spec = JSON.parse(process.argv[2]!) as Spec;
const OTP = "http://auth0.com/oauth/grant-type/passwordless/otp";
const offset = Math.floor(Math.random() * 1e6);
const phone = (i: number) => benchPhone(offset, i);

/** The two calls of a login on each target: send a code, exchange it. */
const api =
  spec.target === "better-auth"
    ? {
        start: { path: "/api/auth/phone-number/send-otp", body: (p: string) => ({ phoneNumber: p }) },
        verify: {
          path: "/api/auth/phone-number/verify",
          body: (p: string, code: string) => ({ phoneNumber: p, code }),
        },
      }
    : {
        start: {
          path: "/passwordless/start",
          body: (p: string) => ({ client_id: "textlock-dev", connection: "sms", phone_number: p }),
        },
        verify: {
          path: "/oauth/token",
          body: (p: string, code: string) => ({
            grant_type: OTP,
            client_id: "textlock-dev",
            username: p,
            otp: code,
            realm: "sms",
            scope: spec.scope ?? "openid",
            ...(spec.audience ? { audience: spec.audience } : {}),
          }),
        },
      };

/** The server's CPU seconds so far (user + system), or NaN where /proc is missing. */
function serverCpu(): number {
  try {
    const stat = readFileSync(`/proc/${spec.serverPid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
/** Linux's USER_HZ: /proc reports CPU time in 1/100 s on every mainstream architecture. */
const CLOCK_TICKS = 100;

/** Runs the timed phase and adds the server's CPU per completed operation and how busy its core was. */
async function timed<R extends { total: number }>(
  phase: () => Promise<R>,
): Promise<R & { cpuMs: number; busy: number }> {
  const cpu0 = serverCpu();
  const t0 = performance.now();
  const result = await phase();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = serverCpu() - cpu0;
  return { ...result, cpuMs: (cpu * 1000) / Math.max(1, result.total), busy: cpu / seconds };
}

async function cannon(body: (i: number) => string, path: string) {
  let i = 0;
  const result = await autocannon({
    url: `${spec.url}${path}`,
    method: "POST",
    connections: spec.connections,
    pipelining: spec.pipelining ?? 1,
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

const pool = new Pool(spec.url, { connections: spec.connections });
const post = (path: string, body: object) =>
  pool
    .request({ method: "POST", path, headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    .then(async (r) => ({ status: r.statusCode, text: await r.body.text() }));

if (spec.kind === "start") {
  await pool.close();
  console.log(
    JSON.stringify(await timed(() => cannon((i) => JSON.stringify(api.start.body(phone(i))), api.start.path))),
  );
} else if (spec.kind === "wrong") {
  // 1,000 phones with pending codes, then wrong codes spread over them.
  for (let i = 0; i < 1000; i += 50)
    await Promise.all(Array.from({ length: 50 }, (_, j) => post(api.start.path, api.start.body(phone(i + j)))));
  await pool.close();
  console.log(
    JSON.stringify(
      await timed(() => cannon((i) => JSON.stringify(api.verify.body(phone(i % 1000), "000000")), api.verify.path)),
    ),
  );
} else {
  // Full logins: start, read the code from the outbox (as a person reads the SMS), exchange it. The
  // outbox is read incrementally, from its end when the scenario began.
  const codes = new Map<string, string>();
  const fd = openSync(spec.outbox!, "a+");
  let read = fstatSync(fd).size;
  let partial = "";
  const chunk = Buffer.alloc(1 << 20);
  const tail = () => {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, read);
      if (n <= 0) return;
      read += n;
      const lines = (partial + chunk.toString("utf8", 0, n)).split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line) continue;
        const m = JSON.parse(line) as { to: string; body: string };
        codes.set(m.to, m.body.match(/\d{6}/)![0]);
      }
    }
  };
  let done = 0;
  let failed = 0;
  const latencies: number[] = [];
  /** Server time of each login's start and of its code exchange, apart. */
  const starts: number[] = [];
  const exchanges: number[] = [];
  /** One login; resolves with the server time (start + exchange, not the wait for the SMS) or undefined. */
  const login = (p: string): Promise<number | undefined> => loginOnce(p).catch(() => undefined);
  const loginOnce = async (p: string): Promise<number | undefined> => {
    codes.delete(p);
    const t0 = performance.now();
    const s = await post(api.start.path, api.start.body(p));
    const t1 = performance.now();
    let code: string | undefined;
    for (let k = 0; k < 2000 && !(code = codes.get(p)); k++) {
      tail();
      if (!codes.get(p)) await sleep(1);
    }
    if (!code || s.status !== 200) return undefined;
    const t2 = performance.now();
    const t = await post(api.verify.path, api.verify.body(p, code));
    const t3 = performance.now();
    if (t.status !== 200) return undefined;
    starts.push(t1 - t0);
    exchanges.push(t3 - t2);
    return t1 - t0 + (t3 - t2);
  };
  const perConnection = spec.usersPerConnection ?? 50;
  const phonesOf = (c: number) => Array.from({ length: perConnection }, (_, k) => phone(1_000_000 + c * 1000 + k));
  if (spec.users === "returning")
    // Registered first, untimed.
    await Promise.all(
      Array.from({ length: spec.connections }, async (_, c) => {
        for (const p of phonesOf(c)) await login(p);
      }),
    );
  let n = 0;
  const cpu0 = serverCpu();
  const began = performance.now();
  const deadline = Date.now() + spec.seconds * 1000;
  await Promise.all(
    Array.from({ length: spec.connections }, async (_, c) => {
      const mine = phonesOf(c);
      for (let k = 0; Date.now() < deadline; k++) {
        const p = spec.users === "returning" ? mine[k % mine.length]! : phone(2_000_000 + n++);
        const ms = await login(p);
        if (ms === undefined) failed++;
        else {
          done++;
          latencies.push(ms);
        }
      }
    }),
  );
  const elapsed = (performance.now() - began) / 1000;
  const cpu = serverCpu() - cpu0;
  closeSync(fd);
  await pool.close();
  const percentiles = (ms: number[]) => {
    ms.sort((a, b) => a - b);
    return { p50: ms[Math.floor(ms.length / 2)] ?? 0, p99: ms[Math.floor(ms.length * 0.99)] ?? 0 };
  };
  console.log(
    JSON.stringify({
      rps: done / elapsed,
      ...percentiles(latencies),
      start: percentiles(starts),
      exchange: percentiles(exchanges),
      failed,
      total: done,
      cpuMs: (cpu * 1000) / Math.max(1, done),
      busy: cpu / elapsed,
    }),
  );
}
