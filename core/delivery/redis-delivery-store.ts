import { TextlockError } from "../errors/textlock-error.js";
import { extend } from "../extend.js";
import { type RedisKeys, redisKeys } from "../otp/redis-keys.js";
import { evalScript, type RedisEval } from "../protection/redis-eval.js";
import {
  DELIVERY_GRACE_MS,
  type DeliveryState,
  type DeliveryStatus,
  type DeliveryStore,
  type EscalationPlan,
  type MessageState,
  type ReceiptInput,
  type ReceiptUpdate,
  type SentMessage,
} from "./delivery-store.js";

type RedisClient = RedisEval & {
  get(key: string): Promise<string | null>;
  hGetAll(key: string): Promise<Record<string, string>>;
  zRangeByScore(key: string, min: number | string, max: number | string, options?: unknown): Promise<string[]>;
};

// Messages are fields `m:<provider>:<id>` of the code's own hash (a new code deletes the hash, and
// with it the old code's delivery record); the plan is its field `esc`. The hash outlives the code by
// a grace period for late receipts: the code store checks `expiresAt` itself, never the TTL.
// KEYS[1] is the code's hash (the phone's slot); KEYS[2] (the message index) and KEYS[3] (the due
// escalations) are given on a single Redis only: on a cluster they are other slots, written after.
const RECORD_SEND = `
if redis.call('HGET', KEYS[1], 'codeId') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
local exp = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
redis.call('PEXPIREAT', KEYS[1], exp + tonumber(ARGV[5]))
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'esc', ARGV[6]) end
if KEYS[2] then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5]) end
if KEYS[3] and ARGV[6] ~= '' then redis.call('ZADD', KEYS[3], ARGV[7], ARGV[8]) end
return 1`;
const SET_INDEX = `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1`;
// A status moves forward only: ranks queued 0, sent 1, final 2.
const RECORD_RECEIPT = `
if redis.call('HGET', KEYS[1], 'codeId') ~= ARGV[1] then return false end
local raw = redis.call('HGET', KEYS[1], ARGV[2])
if not raw then return false end
local m = cjson.decode(raw)
local rank = { queued = 0, sent = 1, delivered = 2, failed = 2, undelivered = 2 }
local previous = m.status
if rank[ARGV[3]] > rank[previous] then
  m.status = ARGV[3]
  m.updatedAt = tonumber(ARGV[4])
  redis.call('HSET', KEYS[1], ARGV[2], cjson.encode(m))
end
return { previous, cjson.encode(m) }`;
// The step moves in the code's hash (one winner); the due set follows: in the same script on a single
// Redis (KEYS[2] given), else by DUE after it. Reply: {moved, action}, action '' | 'rem' | 'add'.
const ADVANCE = `
local function due(action)
  if KEYS[2] and action == 'rem' then redis.call('ZREM', KEYS[2], ARGV[5]) end
  if KEYS[2] and action == 'add' then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5]) end
  return action
end
if redis.call('HGET', KEYS[1], 'codeId') ~= ARGV[1] then return {0, due('rem')} end
local raw = redis.call('HGET', KEYS[1], 'esc')
if not raw then return {0, due('rem')} end
local p = cjson.decode(raw)
if p.step ~= tonumber(ARGV[2]) then return {0, ''} end
local action = 'add'
if ARGV[3] == '' then
  p.step = #p.channels
  action = 'rem'
else
  p.step = tonumber(ARGV[3])
  p.dueAt = tonumber(ARGV[4])
end
redis.call('HSET', KEYS[1], 'esc', cjson.encode(p))
return {1, due(action)}`;
const DUE = `
if ARGV[1] == 'rem' then redis.call('ZREM', KEYS[1], ARGV[3]) else redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3]) end
return 1`;

/**
 * Delivery state in Redis, in the code's own hash (the Redis code store's `<ns>:code:{<key>}`), shared
 * by every textlock process: a receipt answered by one process updates the state another reads, and
 * escalations due in the sorted set `{<ns>}:escalations` are carried out by whichever process claims
 * the step first (one Lua step on the code's hash, one winner). Shares the code store's node-redis
 * client. On a Redis Cluster the code's hash is in the phone's slot, the message index
 * `<ns>:dmsg:{<provider>:<id>}` in the message's and the due set in the shared `{<ns>}` slot (one
 * sorted set, so one slot: every sweep reads it there); a send or a step then writes the code's hash
 * first (the atomic part) and the index or due set after it, each its own call.
 */
export class RedisDeliveryStore implements DeliveryStore {
  private readonly keys: RedisKeys;

  constructor(
    private readonly client: RedisClient,
    namespace: string,
    private readonly cluster = false,
  ) {
    this.keys = redisKeys(namespace);
  }

  private codeKey(key: string): string {
    return this.keys.code(key);
  }

  private messageKey(provider: string, messageId: string): string {
    return this.keys.message(provider, messageId);
  }

  private get dueKey(): string {
    return this.keys.shared("escalations");
  }

  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw new TextlockError("ERR_STORE_UNAVAILABLE", { cause: err });
    }
  }

  async recordSend(
    key: string,
    code: { codeId: string; expiresAt: number },
    message: SentMessage,
    plan?: EscalationPlan,
  ): Promise<boolean> {
    const state: MessageState = extend(message, { status: "queued" as const, updatedAt: message.sentAt });
    const index = this.messageKey(message.provider, message.messageId);
    const ttl = String(Math.max(1, code.expiresAt - Date.now()) + DELIVERY_GRACE_MS);
    const reply = await this.call(() =>
      evalScript(this.client, RECORD_SEND, {
        keys: this.cluster ? [this.codeKey(key)] : [this.codeKey(key), index, this.dueKey],
        arguments: [
          code.codeId,
          `m:${message.provider}:${message.messageId}`,
          JSON.stringify(state),
          `${code.codeId}\n${key}`,
          ttl,
          plan ? JSON.stringify(plan) : "",
          plan ? String(plan.dueAt) : "0",
          key,
        ],
      }),
    );
    if (Number(reply) !== 1) return false;
    if (this.cluster) {
      await this.call(() =>
        evalScript(this.client, SET_INDEX, { keys: [index], arguments: [`${code.codeId}\n${key}`, ttl] }),
      );
      if (plan) await this.due("add", plan.dueAt, key);
    }
    return true;
  }

  async recordReceipt(receipt: ReceiptInput): Promise<ReceiptUpdate | undefined> {
    const index = await this.call(() => this.client.get(this.messageKey(receipt.provider, receipt.messageId)));
    if (!index) return undefined;
    const cut = index.indexOf("\n");
    const codeId = index.slice(0, cut);
    const key = index.slice(cut + 1);
    const reply = (await this.call(() =>
      evalScript(this.client, RECORD_RECEIPT, {
        keys: [this.codeKey(key)],
        arguments: [codeId, `m:${receipt.provider}:${receipt.messageId}`, receipt.status, String(receipt.at)],
      }),
    )) as [string, string] | null;
    if (!reply) return undefined;
    return { key, codeId, previous: reply[0] as DeliveryStatus, message: JSON.parse(reply[1]) as MessageState };
  }

  async state(key: string): Promise<DeliveryState | undefined> {
    const hash = await this.call(() => this.client.hGetAll(this.codeKey(key)));
    if (!hash?.codeId) return undefined;
    const messages = Object.entries(hash)
      .filter(([field]) => field.startsWith("m:"))
      .map(([, value]) => JSON.parse(value) as MessageState)
      .sort((a, b) => a.sentAt - b.sentAt);
    return {
      codeId: hash.codeId,
      messages,
      ...(hash.esc ? { escalation: JSON.parse(hash.esc) as EscalationPlan } : {}),
    };
  }

  async dueEscalations(now: number, limit: number): Promise<string[]> {
    return this.call(() => this.client.zRangeByScore(this.dueKey, "-inf", now, { LIMIT: { offset: 0, count: limit } }));
  }

  async advanceEscalation(
    key: string,
    codeId: string,
    fromStep: number,
    next: { step: number; dueAt: number } | null,
  ): Promise<boolean> {
    const [moved, action] = (await this.call(() =>
      evalScript(this.client, ADVANCE, {
        keys: this.cluster ? [this.codeKey(key)] : [this.codeKey(key), this.dueKey],
        arguments: [codeId, String(fromStep), next ? String(next.step) : "", next ? String(next.dueAt) : "", key],
      }),
    )) as [number, string];
    if (this.cluster && (action === "add" || action === "rem")) await this.due(action, next?.dueAt ?? 0, key);
    return Number(moved) === 1;
  }

  /** On a cluster: the due set (the shared slot) follows what a step wrote in the code's hash. */
  private async due(action: "add" | "rem", dueAt: number, key: string): Promise<void> {
    await this.call(() =>
      evalScript(this.client, DUE, { keys: [this.dueKey], arguments: [action, String(dueAt), key] }),
    );
  }

  async close(): Promise<void> {}
}
