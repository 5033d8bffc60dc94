// Turns one run's measurements into the targets of issue 18 and docs/performance.md.
import type { LoadResult, TargetResult } from "./run.js";

interface Trips {
  roundTrips: number;
  commands: number;
  byCommand: Record<string, number>;
}
/** Redis main-thread CPU per request, 20 in flight, default protection (bench/redis-cpu.ts). */
export interface RedisCpu {
  count: number;
  concurrency: number;
  startCpuUs: number;
  exchangeCpuUs: number;
  /** Per primary; `shared` holds the counters shared between phones (every primary of a single Redis). */
  primaries: Array<{ shared: boolean; startCpuUs: number; exchangeCpuUs: number }>;
}
interface PgPerLogin {
  xact_commit: number;
  tup_inserted: number;
  tup_updated: number;
  tup_deleted: number;
  wal_records: number;
  wal_sync: number;
}

/** Everything one run measured (bench/results/*.json). */
export interface Measured {
  date: string;
  quick: boolean;
  /** `--core`: only the targets' rows were measured. */
  core?: boolean;
  seconds: number;
  connections: number;
  loginConnections: number;
  pipelining: number;
  pinned: boolean;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  bare: LoadResult;
  barePipelined: LoadResult;
  sign: Record<string, number>;
  loginCeiling: number;
  textlock: TargetResult;
  betterAuth: TargetResult;
  betterAuthMemory?: TargetResult;
  adapters: Record<string, TargetResult>;
  algorithms: Record<string, LoadResult>;
  redis?: Partial<TargetResult> & {
    bytesPerCode: number;
    trips: { count: number; start: Trips; login: Trips };
    cpu?: RedisCpu;
  };
  /** The same logins on a Redis Cluster of three primaries (a replica each). */
  redisCluster?: RedisCpu;
  postgres?: { count: number; newUsers: PgPerLogin; returning: PgPerLogin; returningOneAtATime: PgPerLogin };
  /**
   * Returning logins without the audit log or refresh tokens (`lean`, scope `openid`) and with both
   * (`full`, audit on, scope `openid offline_access`), in alternating rounds.
   */
  state?: { lean: LoadResult[]; full: LoadResult[] };
  /** Rounds of bare node:http, textlock and better-auth (SQLite) measured back to back, every server up. */
  paired?: PairedRound[];
  memCount: number;
  memory: { count: number; bytesPerCode: number; bytesPerResendableCode?: number };
  targets?: Record<string, Target>;
}

/** One round of the side-by-side section: each side measured within about half a minute of the others. */
export interface PairedRound {
  bareStart: LoadResult;
  start: LoadResult;
  login: LoadResult;
  peerLogin: LoadResult;
  loginNew: LoadResult;
  peerLoginNew: LoadResult;
  /** The round's floors (results of runs before they were measured have none). */
  floors?: Floors;
}

/**
 * Work no server can skip for the targets' requests, ms of one core each, measured in the round
 * (`bench/sign.ts`, `bench/floors.ts`): an RS256 signature (every login signs its id_token), typing a
 * new number (the default phone policy refuses premium-rate, VoIP… numbers), a code's HMAC.
 */
export interface Floors {
  signMs: number;
  phoneMs: number;
  hmacMs: number;
}

/**
 * The best each peer or bare ratio could be in one round, for a server that spent nothing beyond the
 * floors and what bare node:http spends on a request (its CPU per request in the round) and kept its
 * core fully busy: an upper bound, not a prediction. A login is two requests and at least one
 * signature (two with an API audience); a start is a request, a typed number and an HMAC.
 */
export function roundBounds(r: PairedRound & { floors: Floors }): {
  login: number;
  loginNew: number;
  start: number;
  twoSignatures: number;
} {
  const { signMs, phoneMs, hmacMs } = r.floors;
  const request = r.bareStart.cpuMs;
  const bestLoginsPerSecond = 1000 / (signMs + 2 * request);
  return {
    login: bestLoginsPerSecond / r.peerLogin.rps,
    loginNew: bestLoginsPerSecond / r.peerLoginNew.rps,
    // No server answers faster than bare node:http under the same driver (bare may not fill its core).
    start: Math.min(1, 1000 / (request + phoneMs + hmacMs) / r.bareStart.rps),
    // Against the ceiling of signatures alone (2 per login).
    twoSignatures: (2 * signMs) / (2 * signMs + 2 * request),
  };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export interface Target {
  label: string;
  value: number;
  goal: string;
  met: boolean;
  unit: "ratio" | "ms" | "bytes" | "count";
  /** The best the figure could be in this run (see {@link roundBounds}), where one is computed. */
  bound?: number;
  /** Whether the bound meets the goal: false means no server could have met it on this machine in this run. */
  reachable?: boolean;
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n)
    ? "—"
    : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (r: number) => `${fmt(r * 100, 0)}%`;
const times = (r: number) => `${fmt(r, 1)}×`;

function show(t: Target, value = t.value): string {
  if (value === undefined) return "—";
  if (t.unit === "ratio") return value >= 3 ? times(value) : pct(value);
  if (t.unit === "ms") return `${fmt(value, 1)} ms`;
  if (t.unit === "bytes") return `${fmt(value)} B`;
  return fmt(value, 1);
}

export function report(m: Measured): { targets: Record<string, Target>; markdown: string } {
  const tl = m.textlock;
  const ba = m.betterAuth;
  const targets: Record<string, Target> = {};
  /** A target: `pass` judges the figure, and the bound when there is one. */
  const add = (
    key: string,
    t: Omit<Target, "met" | "bound" | "reachable">,
    pass: (v: number) => boolean,
    bound?: number,
  ) => {
    targets[key] = {
      ...t,
      met: pass(t.value),
      ...(bound === undefined ? {} : { bound, reachable: pass(bound) }),
    };
  };
  // The peer and bare ratios come from the alternating rounds when there are some (median of the rounds).
  const paired = m.paired?.length ? m.paired : undefined;
  // The bounds, from the rounds that measured their floors (median of the rounds' bounds).
  const measured = paired?.filter((r): r is PairedRound & { floors: Floors } => r.floors !== undefined) ?? [];
  const bounds = measured.length ? measured.map(roundBounds) : undefined;
  const boundOf = (k: keyof ReturnType<typeof roundBounds>) => (bounds ? median(bounds.map((b) => b[k])) : undefined);
  const floorOf = (k: keyof Floors) => median(measured.map((r) => r.floors[k]));
  const hmacMs = measured.length ? floorOf("hmacMs") : undefined;
  const roundsNote = paired ? ` (median of ${paired.length} alternating round${paired.length > 1 ? "s" : ""})` : "";
  const loginVsPeer = paired ? median(paired.map((r) => r.login.rps / r.peerLogin.rps)) : tl.login.rps / ba.login.rps;
  add(
    "loginVsBetterAuth",
    {
      label: `returning-user logins vs better-auth (SQLite)${roundsNote}`,
      value: loginVsPeer,
      goal: "≥ 10×",
      unit: "ratio",
    },
    (v) => v >= 10,
    boundOf("login"),
  );
  // Like for like: logins that sign two tokens (an API audience) against the two-signature ceiling.
  const twoSignatureLogins = tl.loginApi ?? tl.login;
  const loginVsCeiling = twoSignatureLogins.rps / m.loginCeiling;
  add(
    "loginVsSignatures",
    {
      label: `returning-user logins${tl.loginApi ? " with an API audience (two signatures)" : ""} vs the two-signature RS256 ceiling`,
      value: loginVsCeiling,
      goal: "≥ 75%",
      unit: "ratio",
    },
    (v) => v >= 0.75,
    tl.loginApi ? boundOf("twoSignatures") : undefined,
  );
  if (paired || (tl.loginNew && ba.loginNew)) {
    const v = paired
      ? median(paired.map((r) => r.loginNew.rps / r.peerLoginNew.rps))
      : tl.loginNew!.rps / ba.loginNew!.rps;
    add(
      "newLoginVsBetterAuth",
      { label: `new-user logins vs better-auth (SQLite)${roundsNote}`, value: v, goal: "≥ 5×", unit: "ratio" },
      (x) => x >= 5,
      paired ? boundOf("loginNew") : undefined,
    );
  }
  const startVsBare = paired ? median(paired.map((r) => r.start.rps / r.bareStart.rps)) : tl.start.rps / m.bare.rps;
  add(
    "startVsBare",
    { label: `start-only vs bare node:http${roundsNote}`, value: startVsBare, goal: "≥ 50%", unit: "ratio" },
    (v) => v >= 0.5,
    paired ? boundOf("start") : undefined,
  );
  const wrongVsBare = tl.wrong.rps / m.barePipelined.rps;
  add(
    "wrongVsBare",
    {
      label: `wrong codes vs bare node:http (both pipelined ×${m.pipelining})`,
      value: wrongVsBare,
      goal: "≥ 60%",
      unit: "ratio",
    },
    (v) => v >= 0.6,
    // A wrong code is a request and an HMAC at least.
    hmacMs === undefined ? undefined : Math.min(1, 1000 / (m.barePipelined.cpuMs + hmacMs) / m.barePipelined.rps),
  );
  if (tl.login10)
    add(
      "loginP99",
      {
        label: "p99 login server time at 10 connections (start + exchange)",
        value: tl.login10.p99,
        goal: "< 10 ms",
        unit: "ms",
      },
      (v) => v < 10,
    );
  const mean = (rs: LoadResult[], f: (r: LoadResult) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
  const state = m.state && {
    lean: mean(m.state.lean, (r) => r.rps),
    full: mean(m.state.full, (r) => r.rps),
    leanCpu: mean(m.state.lean, (r) => r.cpuMs),
    fullCpu: mean(m.state.full, (r) => r.cpuMs),
    // Each round's drop (its two sides run back to back); the target is their median.
    drops: m.state.lean.map((lean, i) => 1 - m.state!.full[i]!.rps / lean.rps),
  };
  if (state) {
    const drop = median(state.drops);
    add(
      "stateDrop",
      {
        label: "returning-login drop with the audit log and refresh tokens on (vs both off)",
        value: drop,
        goal: "< 20%",
        unit: "ratio",
      },
      (v) => v < 0.2,
    );
  }
  add(
    "bytesPerPendingCode",
    {
      label: `memory per pending code (memory store, ${fmt(m.memCount)} codes)`,
      value: m.memory.bytesPerCode,
      goal: "< 300 B",
      unit: "bytes",
    },
    (v) => v < 300,
  );
  if (m.redis) {
    add(
      "redisBytesPerCode",
      { label: "memory per pending code in Redis", value: m.redis.bytesPerCode, goal: "< 300 B", unit: "bytes" },
      (v) => v < 300,
    );
    add(
      "redisTripsPerStart",
      {
        label: "Redis round trips per start (default protection)",
        value: m.redis.trips.start.roundTrips,
        goal: "1",
        unit: "count",
      },
      (v) => v <= 1,
    );
    add(
      "redisTripsPerLogin",
      { label: "Redis round trips per code exchange", value: m.redis.trips.login.roundTrips, goal: "1", unit: "count" },
      (v) => v <= 1,
    );
  }

  const met = (t: Target) => (t.met ? "met" : t.reachable === false ? "**missed** (out of reach here)" : "**missed**");
  const row = (name: string, r: TargetResult) =>
    `| ${name} | ${fmt(r.start.rps)} | ${fmt(r.start.cpuMs, 2)} | ${fmt(r.wrong.rps)} | ${r.loginNew ? fmt(r.loginNew.rps) : "—"} | ${fmt(r.login.rps)} | ${fmt(r.login.cpuMs, 2)} | ${pct(r.login.busy)} | ${r.login10 ? `${fmt(r.login10.p50, 1)} / ${fmt(r.login10.p99, 1)}` : "—"} |`;
  const peerRatio = (r: TargetResult, peer: TargetResult) =>
    `| ${times(r.start.rps / peer.start.rps)} | ${times(r.wrong.rps / peer.wrong.rps)} | ${r.loginNew && peer.loginNew ? times(r.loginNew.rps / peer.loginNew.rps) : "—"} | ${times(r.login.rps / peer.login.rps)} |`;
  const pg = m.postgres;
  const trips = m.redis?.trips;
  const lines = [
    "# Performance",
    "",
    `Measured ${m.date} by \`npm run bench${m.quick ? " -- --quick" : m.core ? " -- --core" : ""}\` on ${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}: absolute numbers drift between runs and machines (other work on the same cores lowers them), so every figure that matters is a ratio to baselines measured in the same run.`,
    `${m.pinned ? "Each server runs pinned to core 0 and the load generator to core 1 (`taskset`)" : "Servers and the load generator were not pinned (fewer than 2 cores or no `taskset`)"}; each scenario runs ${m.seconds} s with ${m.connections} connections (logins: ${m.loginConnections}; the latency row: 10). Start-only uses autocannon; wrong codes use autocannon with HTTP pipelining ×${m.pipelining}, so the driver is not the limit; logins use an undici pool that reads each code from the outbox file as a person reads an SMS. textlock's bench server runs built as the package is published (one tsup/esbuild bundle, \`bench/build.ts\`), not from its TypeScript sources.`,
    `Baselines: bare node:http answering a fixed JSON body (**${fmt(m.bare.rps)} req/s**; pipelined ×${m.pipelining}: **${fmt(m.barePipelined.rps)} req/s**), RS256 signatures (**${fmt(m.sign.RS256)}/s** on one core, signed synchronously with node:crypto, the cheapest way, as textlock signs in a process with one CPU; a login that names an API \`audience\` signs 2 tokens, so at most **${fmt(m.loginCeiling)} logins/s** per core; without an audience the access token is opaque, as Auth0's, and a login signs only its id_token), and the peer: better-auth ${"1.7"}'s phone-number plugin on SQLite (better-sqlite3), same machine, same driver.`,
    "",
    "## Targets (issue 18)",
    "",
    "| target | measured | goal | best possible in this run | |",
    "|---|---|---|---|---|",
    ...Object.values(targets).map(
      (t) => `| ${t.label} | ${show(t)} | ${t.goal} | ${t.bound === undefined ? "—" : show(t, t.bound)} | ${met(t)} |`,
    ),
    "",
    ...(bounds
      ? [
          `*Best possible in this run* is an upper bound, the median of the rounds' (see *The same, in alternating rounds*): the figure of a server that spent no CPU beyond what bare node:http spends on a request and the work no server can skip (measured in each round on the servers' core: an RS256 signature, ${fmt(floorOf("signMs"), 3)} ms; typing a new number with libphonenumber-js, as the default phone policy must to refuse premium-rate and VoIP numbers, ${fmt(floorOf("phoneMs"), 3)} ms; a code's HMAC, ${fmt(hmacMs, 4)} ms), with its core always busy. A login is two requests and one signature (two with an API audience), a start a request, a typed number and an HMAC, a wrong code a request and an HMAC; a ratio to bare node:http is at most 100% (bare may not have filled its core). *Out of reach here*: not even that server would meet the goal in this run.`,
          "",
        ]
      : []),
    "## textlock and the peer, side by side (memory code store; users in SQLite)",
    "",
    "CPU figures are the server process's own CPU time (from `/proc`) per completed request or login during the timed phase; *core busy* is that CPU time over the phase's wall time. Latency is server time (the start and the exchange), not the wait for the SMS.",
    "",
    "| server | start-only req/s | CPU ms per start | wrong codes req/s | new-user logins/s | returning logins/s | CPU ms per login | core busy (logins) | login p50 / p99 ms (10 conns) |",
    "|---|---|---|---|---|---|---|---|---|",
    `| bare node:http | ${fmt(m.bare.rps)} | ${fmt(m.bare.cpuMs, 3)} | ${fmt(m.barePipelined.rps)} (pipelined) | — | — | — | — | — |`,
    row("textlock (standalone)", tl),
    row("better-auth, SQLite", ba),
    ...(m.betterAuthMemory ? [row("better-auth, memory", m.betterAuthMemory)] : []),
    ...Object.entries(m.adapters).map(([name, r]) => row(`textlock (${name})`, r)),
    ...(m.redis?.start ? [row("textlock (standalone), codes in Redis", m.redis as TargetResult)] : []),
    "",
    "| textlock vs | start-only | wrong codes | new-user logins | returning logins |",
    "|---|---|---|---|---|",
    `| better-auth, SQLite ${peerRatio(tl, ba)}`,
    ...(m.betterAuthMemory ? [`| better-auth, memory ${peerRatio(tl, m.betterAuthMemory)}`] : []),
    `| bare node:http | ${pct(tl.start.rps / m.bare.rps)} | ${pct(tl.wrong.rps / m.barePipelined.rps)} | — | — |`,
    `| two-signature RS256 ceiling (${fmt(m.loginCeiling)} logins/s) | — | — | ${tl.loginNew ? pct(tl.loginNew.rps / m.loginCeiling) : "—"} | ${pct(tl.login.rps / m.loginCeiling)} (one signature)${tl.loginApi ? `; with an API audience (two signatures): ${fmt(tl.loginApi.rps)}/s = ${pct(tl.loginApi.rps / m.loginCeiling)}` : ""} |`,
    "",
    ...(tl.login10?.start && tl.login10.exchange
      ? [
          `textlock's logins at 10 connections (the latency target): ${fmt(tl.login10.rps)} logins/s with the core ${pct(tl.login10.busy)} busy; a start's server time ${fmt(tl.login10.start.p50, 1)} ms p50, ${fmt(tl.login10.start.p99, 1)} ms p99, a code exchange's (which waits for its group commit) ${fmt(tl.login10.exchange.p50, 1)} / ${fmt(tl.login10.exchange.p99, 1)} ms. With the core that busy each request queues behind the others: a login's server time is then about 10 / logins per second.`,
          "",
        ]
      : []),
    ...(paired
      ? [
          "## The same, in alternating rounds",
          "",
          "The rows above run one target after another, minutes apart; on a shared machine a slow spell can land on one and miss the other. Here bare node:http, textlock and better-auth (SQLite) are all up at once and measured back to back in each round (same scenarios, same driver); the targets take the median of the rounds' ratios.",
          "",
          "| round | bare req/s | textlock start-only req/s | start vs bare | textlock logins/s | better-auth logins/s | ratio | textlock new-user logins/s | better-auth new-user logins/s | ratio |",
          "|---|---|---|---|---|---|---|---|---|---|",
          ...paired.map(
            (r, i) =>
              `| ${i + 1} | ${fmt(r.bareStart.rps)} | ${fmt(r.start.rps)} | ${pct(r.start.rps / r.bareStart.rps)} | ${fmt(r.login.rps)} | ${fmt(r.peerLogin.rps)} | ${times(r.login.rps / r.peerLogin.rps)} | ${fmt(r.loginNew.rps)} | ${fmt(r.peerLoginNew.rps)} | ${times(r.loginNew.rps / r.peerLoginNew.rps)} |`,
          ),
          "",
        ]
      : []),
    ...(bounds
      ? [
          "Each round's floors (ms of CPU on the servers' core, measured after the round's loads) and the bounds they give:",
          "",
          "| round | bare node:http per request | RS256 signature | typing a number | HMAC | best logins vs better-auth | best new-user logins vs better-auth | best start vs bare |",
          "|---|---|---|---|---|---|---|---|",
          ...measured.map(
            (r, i) =>
              `| ${paired!.indexOf(r) + 1} | ${fmt(r.bareStart.cpuMs, 3)} | ${fmt(r.floors.signMs, 3)} | ${fmt(r.floors.phoneMs, 3)} | ${fmt(r.floors.hmacMs, 4)} | ${times(bounds[i]!.login)} | ${times(bounds[i]!.loginNew)} | ${pct(bounds[i]!.start)} |`,
          ),
          "",
        ]
      : []),
    ...(state
      ? [
          "## Durable state per login",
          "",
          `Returning logins (${m.loginConnections} connections) on fresh servers in ${m.state!.lean.length} alternating round(s): *off* has the audit log disabled and asks for \`scope=openid\`; *on* keeps the audit log (a \`cs\` and an \`s\` record per login, SQLite) and asks for \`openid offline_access\`, so every login also stores a refresh token (SQLite, group-committed). Login sessions are started by hosted-page logins, not by this grant, so they are not in this row.`,
          "",
          "| | logins/s | CPU ms per login |",
          "|---|---|---|",
          `| audit log and refresh tokens off | ${fmt(state.lean)} | ${fmt(state.leanCpu, 2)} |`,
          `| audit log and refresh tokens on | ${fmt(state.full)} | ${fmt(state.fullCpu, 2)} |`,
          `| drop (median of the rounds' drops: ${state.drops.map(pct).join(", ")}) | ${pct(median(state.drops))} | |`,
          "",
        ]
      : []),
    "## Storage work per request",
    "",
    ...(trips
      ? [
          `Redis (default protection on, one request at a time through a counting proxy, ${fmt(trips.count)} each; commands from \`INFO commandstats\`, including those run inside scripts):`,
          "",
          "| request | round trips | commands | by command |",
          "|---|---|---|---|",
          ...(["start", "login"] as const).map(
            (k) =>
              `| ${k === "start" ? "start" : "code exchange (login)"} | ${fmt(trips[k].roundTrips, 1)} | ${fmt(trips[k].commands, 1)} | ${Object.entries(
                trips[k].byCommand,
              )
                .map(([c, n]) => `${c} ${fmt(n, 1)}`)
                .join(", ")} |`,
          ),
          "",
          `Memory per pending code: ${fmt(m.memory.bytesPerCode)} B in the memory store${m.memory.bytesPerResendableCode ? ` (${fmt(m.memory.bytesPerResendableCode)} B for a code kept re-sendable over another channel: its sealed copy)` : ""}, ${fmt(m.redis!.bytesPerCode)} B in Redis.`,
          ...redisCpuLines(m.redis?.cpu, m.redisCluster),
        ]
      : ["redis-server was not installed on this machine; run again where it is."]),
    "",
    ...(pg
      ? [
          `PostgreSQL (users there; ${fmt(pg.count)} logins per row; statistics deltas of \`pg_stat_database\` and \`pg_stat_wal\`, per login). Group commit batches concurrent writes: compare the WAL fsyncs of 20 concurrent logins with one at a time.`,
          "",
          "| logins | transactions | rows inserted | rows updated | WAL records | WAL fsyncs |",
          "|---|---|---|---|---|---|",
          ...(
            [
              ["new users, 20 concurrent", pg.newUsers],
              ["returning users, 20 concurrent", pg.returning],
              ["returning users, one at a time", pg.returningOneAtATime],
            ] as const
          ).map(
            ([name, r]) =>
              `| ${name} | ${fmt(r.xact_commit, 2)} | ${fmt(r.tup_inserted, 2)} | ${fmt(r.tup_updated, 2)} | ${fmt(r.wal_records, 1)} | ${fmt(r.wal_sync, 2)} |`,
          ),
        ]
      : ["PostgreSQL was not installed on this machine; run again where it is."]),
    "",
    "## Signing algorithms",
    "",
    "| algorithm | signatures/s | vs RS256 | returning logins/s (standalone) | vs RS256 logins |",
    "|---|---|---|---|---|",
    `| RS256 | ${fmt(m.sign.RS256)} | 100% | ${fmt(tl.login.rps)} | 100% |`,
    ...Object.entries(m.algorithms).map(
      ([alg, r]) =>
        `| ${alg} | ${fmt(m.sign[alg])} | ${pct(m.sign[alg]! / m.sign.RS256!)} | ${fmt(r.rps)} | ${pct(r.rps / tl.login.rps)} |`,
    ),
    "",
    "## Notes",
    "",
    "- One server process per target serves all its scenarios in order (start-only, wrong codes, new-user logins, returning logins, the latency row), so pending codes and users accumulate as in real use.",
    "- Phone numbers are valid US numbers (ten area codes), each start-only request a number not seen before. Start-only sends through the console provider, appending to the outbox without printing (textlock), or a `sendOTP` callback writing the same outbox line (better-auth). Wrong codes spread over 1,000 pending codes; textlock's per-phone failure ceiling and both servers' rate limits are off, so after 3 tries per code requests take the dead-code path.",
    "- Returning-user logins first register every phone they use (untimed), then log them in again and again (scope `openid`): textlock issues an RS256 id_token and an opaque access token for `/userinfo` (as Auth0 does without an `audience`; the `audience` row adds a signed JWT access token); better-auth creates a session row.",
    "- Durable writes (users, last login, refresh tokens) are group-committed: concurrent logins share one SQLite transaction (one fsync, `synchronous=FULL`) or one PostgreSQL transaction, and each is answered only after that commit.",
    "- See docs/capacity.md for these costs turned into sizing.",
    "",
  ];
  return { targets, markdown: lines.join("\n") };
}

/**
 * Redis's own CPU per request, on a single Redis and on a cluster, and the login rate one Redis core
 * allows: on a cluster that is the primary of the shared counters' slot, which every start and every
 * verified code reaches whatever the number of primaries.
 */
export function redisCpuLines(single: RedisCpu | undefined, cluster: RedisCpu | undefined): string[] {
  if (!single && !cluster) return [];
  const perCore = (us: number) => fmt(1e6 / us);
  const row = (name: string, start: number, exchange: number, ceiling: string) =>
    `| ${name} | ${fmt(start)} | ${fmt(exchange)} | ${fmt(start + exchange)} | ${ceiling} |`;
  const lines = [
    "",
    `Redis's own CPU (its main thread's, from \`INFO cpu\`; ${fmt((single ?? cluster)!.count)} logins with ${(single ?? cluster)!.concurrency} in flight, default protection, \`bench/redis-cpu.ts\`), in µs:`,
    "",
    "| Redis | per start | per code exchange | per login | logins/s one Redis core allows (always busy) |",
    "|---|---|---|---|---|",
  ];
  if (single)
    lines.push(
      row("single Redis", single.startCpuUs, single.exchangeCpuUs, perCore(single.startCpuUs + single.exchangeCpuUs)),
    );
  if (cluster) {
    const shared = cluster.primaries.find((p) => p.shared);
    const others = cluster.primaries.filter((p) => !p.shared);
    const mean = (f: (p: RedisCpu["primaries"][number]) => number) =>
      others.reduce((a, p) => a + f(p), 0) / Math.max(1, others.length);
    const n = cluster.primaries.length;
    lines.push(
      row(`Redis Cluster, all ${n} primaries (a replica each)`, cluster.startCpuUs, cluster.exchangeCpuUs, "—"),
    );
    if (shared && others.length) {
      // The shared primary also holds its share of the phones' slots: what it does beyond the others is the shared counters'.
      const start = shared.startCpuUs - mean((p) => p.startCpuUs);
      const exchange = shared.exchangeCpuUs - mean((p) => p.exchangeCpuUs);
      lines.push(
        row(
          "  of which the shared counters' primary, beyond a phone primary's share",
          start,
          exchange,
          `${perCore(start + exchange)}: **the cluster's ceiling**, whatever its number of primaries`,
        ),
      );
      lines.push(
        row(
          "  each other primary (its share of the phones)",
          mean((p) => p.startCpuUs),
          mean((p) => p.exchangeCpuUs),
          "—",
        ),
      );
    }
  }
  return lines;
}
