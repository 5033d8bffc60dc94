import KeyvRedis from "@keyv/redis";
import { TextlockError } from "../errors/textlock-error.js";
import type { Logger } from "../logger.js";
import { evalScript, type RedisEval } from "../protection/redis-eval.js";
import { runSteps, type Step, type StepsReply } from "../protection/redis-steps.js";
import type {
  ChannelClaim,
  ChargeResult,
  FailureWindow,
  OtpStore,
  PendingCode,
  RedeemResult,
  RedisSteps,
} from "./otp-store.js";
import { connectCluster } from "./redis-cluster.js";
import { type RedisKeys, redisKeys } from "./redis-keys.js";

export interface RedisOtpStoreOptions {
  /** A single Redis (`url`) or the nodes of a Redis Cluster (`cluster`): one of them. */
  url?: string;
  /** Some nodes of a Redis Cluster (`redis://` URLs); the client discovers the rest. */
  cluster?: string[];
  namespace: string;
  /** A command not answered within this time fails with 503 `temporarily_unavailable`. */
  commandTimeoutMs: number;
}

// Each step is one Lua script, so it is atomic across every textlock process sharing the Redis.
const ISSUE = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'codeId', ARGV[1], 'hash', ARGV[2], 'expiresAt', ARGV[3], 'attempts', 0, 'maxAttempts', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'sealed', ARGV[5], 'ch', ',' .. ARGV[6] .. ',') end
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1`;
// A live code (not expired, used or out of attempts) with a sealed copy: record the channel once.
const CLAIM_CHANNEL = `
local h = redis.call('HMGET', KEYS[1], 'codeId', 'expiresAt', 'attempts', 'maxAttempts', 'used', 'sealed', 'ch')
if not h[1] or not h[6] then return {'none'} end
if tonumber(h[2]) <= tonumber(ARGV[1]) or h[5] == '1' or tonumber(h[3]) >= tonumber(h[4]) then return {'none'} end
local ch = h[7] or ','
if string.find(ch, ',' .. ARGV[2] .. ',', 1, true) then return {'already_sent', h[1]} end
redis.call('HSET', KEYS[1], 'ch', ch .. ARGV[2] .. ',')
return {'claimed', h[1], h[6], h[2]}`;
const RELEASE_CHANNEL = `
local h = redis.call('HMGET', KEYS[1], 'codeId', 'ch')
if h[1] ~= ARGV[1] or not h[2] then return 0 end
local s, e = string.find(h[2], ',' .. ARGV[2] .. ',', 1, true)
if not s then return 0 end
redis.call('HSET', KEYS[1], 'ch', string.sub(h[2], 1, s) .. string.sub(h[2], e + 1))
return 1`;
// Count, then compare, then consume, in one step. Lua 5.1 interns every string, so == between the
// stored and the submitted hash is a pointer comparison: its time does not depend on the contents.
// A redeemed code stays as a tombstone ('used') until it expires or is replaced.
const REDEEM = `
local h = redis.call('HMGET', KEYS[1], 'codeId', 'hash', 'expiresAt', 'maxAttempts', 'used')
if not h[1] then return {'missing'} end
if tonumber(h[3]) <= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) return {'expired'} end
if h[5] == '1' then
  if h[2] == ARGV[2] then return {'used'} end
  return {'missing'}
end
local a = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if a > tonumber(h[4]) then return {'exhausted'} end
if h[2] ~= ARGV[2] then return {'wrong', tostring(a), h[4]} end
redis.call('HSET', KEYS[1], 'used', '1')
return {'verified', h[1]}`;
// Vendor-checked codes: charge an attempt first, consume once the vendor approved.
const CHARGE = `
local h = redis.call('HMGET', KEYS[1], 'codeId', 'expiresAt', 'maxAttempts', 'used')
if not h[1] then return {'missing'} end
if tonumber(h[2]) <= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) return {'expired'} end
if h[4] == '1' then return {'used'} end
local a = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if a > tonumber(h[3]) then return {'exhausted'} end
return {'charged', h[1], tostring(a), h[3]}`;
const CONSUME = `
local h = redis.call('HMGET', KEYS[1], 'codeId', 'used')
if h[1] ~= ARGV[1] or h[2] == '1' then return 0 end
redis.call('HSET', KEYS[1], 'used', '1')
return 1`;
const REMOVE_IF_CURRENT = `
if redis.call('HGET', KEYS[1], 'codeId') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
const RECORD_FAILURE = `
local r = redis.call('HMGET', KEYS[1], 'count', 'resetAt')
local now = tonumber(ARGV[1])
if (not r[1]) or tonumber(r[2]) <= now then
  redis.call('HSET', KEYS[1], 'count', 1, 'resetAt', now + tonumber(ARGV[2]))
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return redis.call('HINCRBY', KEYS[1], 'count', 1)`;

type RawClient = RedisEval & {
  hmGet(key: string, fields: string[]): Promise<Array<string | null>>;
  del(key: string): Promise<number>;
};

/** What the store closes: the Keyv wrapper of a single Redis, or the cluster connection. */
interface Closable {
  disconnect(): Promise<void>;
}

/**
 * Pending codes and failure counters in Redis, shared by every textlock process. Connections come
 * from `@keyv/redis`; the atomic steps run as Lua scripts on its raw client. No offline queue and a
 * command timeout: when Redis is down or stalled, calls fail within `commandTimeoutMs` with
 * `ERR_STORE_UNAVAILABLE` (503) instead of hanging, and there is no fallback that would weaken the
 * limits. The client reconnects on its own, so textlock recovers without a restart.
 */
export class RedisOtpStore implements OtpStore {
  private readonly keys: RedisKeys;
  /** Codes and limits of one start or exchange in one script (core/protection/redis-steps.ts). */
  readonly redisSteps: RedisSteps;

  private constructor(
    private readonly connection: Closable,
    private readonly client: RawClient,
    private readonly options: RedisOtpStoreOptions,
    private readonly logger: Logger,
  ) {
    this.keys = redisKeys(options.namespace);
    this.redisSteps = {
      client,
      keys: this.keys,
      cluster: !!options.cluster,
      run: (steps: Step[], now: number): Promise<StepsReply> => this.call(() => runSteps(this.client, now, steps)),
    };
  }

  static async connect(options: RedisOtpStoreOptions, logger: Logger): Promise<RedisOtpStore> {
    if (options.cluster) {
      const cluster = await connectCluster(options.cluster, options.commandTimeoutMs, logger);
      return new RedisOtpStore(cluster, cluster.client as RawClient, options, logger);
    }
    const keyv = new KeyvRedis(
      {
        url: options.url,
        disableOfflineQueue: true,
        commandOptions: { timeout: options.commandTimeoutMs },
        socket: {
          connectTimeout: options.commandTimeoutMs * 2,
          reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000),
        },
      } as never,
      {
        namespace: options.namespace,
        throwOnConnectError: false,
        throwOnErrors: true,
        connectionTimeout: options.commandTimeoutMs * 2,
      },
    );
    keyv.on("error", (err: Error) => logger.warn({ err: { message: err.message } }, "redis error"));
    const client = (await keyv.getClient()) as unknown as RawClient & {
      on?: (e: string, f: (err: Error) => void) => void;
    };
    client.on?.("error", (err: Error) => logger.warn({ err: { message: err.message } }, "redis connection error"));
    return new RedisOtpStore(keyv, client, options, logger);
  }

  /** The node-redis client, shared with the Redis rate limiters. */
  get rawClient(): unknown {
    return this.client;
  }

  private key(kind: "code" | "fail", key: string): string {
    return kind === "code" ? this.keys.code(key) : this.keys.fail(key);
  }

  /** Runs a command with the command timeout; any failure is a 503 for the caller. */
  private async call<T>(work: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("redis command timed out")), this.options.commandTimeoutMs);
        }),
      ]);
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, "code store unavailable");
      throw new TextlockError("ERR_STORE_UNAVAILABLE", { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A script on the shared counters' key slot, with the command timeout: every start runs a script
   * there, so on a Redis Cluster this asks the primary every start needs.
   */
  async ping(): Promise<void> {
    await this.call(() => evalScript(this.client, "return 1", { keys: [this.keys.shared("ping")], arguments: [] }));
  }

  async issue(key: string, code: PendingCode): Promise<void> {
    await this.call(() =>
      evalScript(this.client, ISSUE, {
        keys: [this.key("code", key)],
        arguments: [
          code.codeId,
          code.hash,
          String(code.expiresAt),
          String(code.maxAttempts),
          code.sealed ?? "",
          code.channel ?? "",
        ],
      }),
    );
  }

  async claimChannel(key: string, channel: string, now: number): Promise<ChannelClaim> {
    const reply = (await this.call(() =>
      evalScript(this.client, CLAIM_CHANNEL, { keys: [this.key("code", key)], arguments: [String(now), channel] }),
    )) as string[];
    const [status, codeId, sealed, expiresAt] = reply;
    if (status === "claimed") return { status, codeId: codeId!, sealed: sealed!, expiresAt: Number(expiresAt) };
    if (status === "already_sent") return { status, codeId: codeId! };
    return { status: "none" };
  }

  async releaseChannel(key: string, codeId: string, channel: string): Promise<void> {
    await this.call(() =>
      evalScript(this.client, RELEASE_CHANNEL, { keys: [this.key("code", key)], arguments: [codeId, channel] }),
    );
  }

  async redeem(key: string, hash: string, now: number): Promise<RedeemResult> {
    const reply = (await this.call(() =>
      evalScript(this.client, REDEEM, { keys: [this.key("code", key)], arguments: [String(now), hash] }),
    )) as string[];
    const [status, a, b] = reply;
    if (status === "verified") return { status, codeId: a! };
    if (status === "wrong") return { status, attempts: Number(a), maxAttempts: Number(b) };
    if (status === "missing" || status === "expired" || status === "exhausted" || status === "used") return { status };
    throw new TextlockError("ERR_STORE_UNAVAILABLE", { description: "unexpected reply from the code store" });
  }

  async charge(key: string, now: number): Promise<ChargeResult> {
    const reply = (await this.call(() =>
      evalScript(this.client, CHARGE, { keys: [this.key("code", key)], arguments: [String(now)] }),
    )) as string[];
    const [status, codeId, attempts, maxAttempts] = reply;
    if (status === "charged")
      return { status, codeId: codeId!, attempts: Number(attempts), maxAttempts: Number(maxAttempts) };
    if (status === "missing" || status === "expired" || status === "exhausted" || status === "used") return { status };
    throw new TextlockError("ERR_STORE_UNAVAILABLE", { description: "unexpected reply from the code store" });
  }

  async consume(key: string, codeId: string): Promise<boolean> {
    const reply = await this.call(() =>
      evalScript(this.client, CONSUME, { keys: [this.key("code", key)], arguments: [codeId] }),
    );
    return Number(reply) === 1;
  }

  async discard(key: string, codeId: string): Promise<void> {
    await this.call(() =>
      evalScript(this.client, REMOVE_IF_CURRENT, { keys: [this.key("code", key)], arguments: [codeId] }),
    );
  }

  async recordFailure(key: string, windowMs: number, now: number): Promise<number> {
    return Number(
      await this.call(() =>
        evalScript(this.client, RECORD_FAILURE, {
          keys: [this.key("fail", key)],
          arguments: [String(now), String(windowMs)],
        }),
      ),
    );
  }

  async failureCount(key: string, now: number): Promise<number> {
    const [count, resetAt] = await this.call(() => this.client.hmGet(this.key("fail", key), ["count", "resetAt"]));
    return count && Number(resetAt) > now ? Number(count) : 0;
  }

  async failureWindow(key: string, now: number): Promise<FailureWindow> {
    const [count, resetAt] = await this.call(() => this.client.hmGet(this.key("fail", key), ["count", "resetAt"]));
    return count && Number(resetAt) > now
      ? { count: Number(count), resetAt: Number(resetAt) }
      : { count: 0, resetAt: now };
  }

  async clearFailures(key: string): Promise<void> {
    await this.call(() => this.client.del(this.key("fail", key)));
  }

  async close(): Promise<void> {
    await this.connection.disconnect().catch(() => {});
  }
}
