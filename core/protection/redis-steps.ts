import { evalScript, type RedisEval } from "./redis-eval.js";

/**
 * One Lua script that runs a list of steps (the failure ceiling, the send limits, pumping, money
 * budgets, the code itself) as one atomic Redis call, so a `/passwordless/start` or a code exchange is
 * one round trip for codes and limits. Every step has a check (may refuse) and/or a commit (writes);
 * all checks run first, in the order given, and the first refusal ends the script before anything is
 * written (a refused request consumes nothing); then every commit runs. A Redis Cluster runs one such
 * script per hash slot (see core/otp/redis-keys.ts).
 *
 * Wire format: ARGV[1] is the caller's clock (epoch ms); then, per step, its name, its number of keys,
 * its number of arguments and the arguments; its keys follow in KEYS in the same order. The reply is
 * `{status, events, ...}`: `{'ok', events, reply}` (the reply of `redeem` or `issue`),
 * `{'locked', events, resetAt}` or `{'refused', events, reason, msBeforeNext, shownPoints}`. Events are `{'cleared', i, sent, verified}`
 * (a pumping quarantine ended), `{'detected', i, until, sent, verified}` (a send flagged subject i) and
 * `{'crossed', line, threshold, spent}` (a money budget passed an alert threshold).
 */
export const STEPS_SCRIPT = `
local now = tonumber(ARGV[1])
local events, reply, notVerified = {}, {}, false
local check, commit = {}, {}

-- Pumping: one hash per subject, fields s<bucket> and v<bucket> (counts) and q (quarantined until).
local function window(key, cur, n)
  local all = redis.call('HGETALL', key)
  local s, v = 0, 0
  for i = 1, #all, 2 do
    local kind = string.sub(all[i], 1, 1)
    if kind == 's' or kind == 'v' then
      if tonumber(string.sub(all[i], 2)) <= cur - n then redis.call('HDEL', key, all[i])
      elseif kind == 's' then s = s + tonumber(all[i + 1])
      else v = v + tonumber(all[i + 1]) end
    end
  end
  return s, v
end

-- ceil {fail} {max}: the phone's consecutive-failure ceiling.
check.ceil = function(K, A)
  local r = redis.call('HMGET', K[1], 'count', 'resetAt')
  if r[1] and tonumber(r[2]) > now and tonumber(r[1]) >= tonumber(A[1]) then return {'locked', events, r[2]} end
end

-- pump {subjects} {bucketMs, buckets, ratio, quarantineMs, ttl, enforce, minSends...}: refuses a
-- quarantined subject; an ended quarantine is renewed if the window still shows pumping, else cleared.
check.pump = function(K, A)
  local bucket, n, ratio, quarantine, ttl = tonumber(A[1]), tonumber(A[2]), tonumber(A[3]), tonumber(A[4]), A[5]
  local cur, untilMax = math.floor(now / bucket), 0
  for i, key in ipairs(K) do
    local q = tonumber(redis.call('HGET', key, 'q') or '0')
    if q > now then untilMax = math.max(untilMax, q)
    elseif q > 0 then
      local s, v = window(key, cur, n)
      if s >= tonumber(A[6 + i]) and v < ratio * s then
        redis.call('HSET', key, 'q', now + quarantine)
        redis.call('PEXPIRE', key, ttl)
        untilMax = math.max(untilMax, now + quarantine)
      else
        redis.call('HDEL', key, 'q')
        events[#events + 1] = {'cleared', i, s, v}
      end
    end
  end
  if untilMax > 0 and A[6] == '1' then return {'refused', events, 'pumping', untilMax - now, ''} end
end

-- lim {counter} {reason, points, windowMs, shownPoints}: a fixed-window send limit.
check.lim = function(K, A)
  local r = redis.call('HMGET', K[1], 'c', 'r')
  local live = r[1] and tonumber(r[2]) > now
  local count = live and tonumber(r[1]) or 0
  if count + 1 > tonumber(A[2]) then
    return {'refused', events, A[1], live and (tonumber(r[2]) - now) or tonumber(A[3]), A[4]}
  end
end
commit.lim = function(K, A)
  local r = redis.call('HMGET', K[1], 'c', 'r')
  if r[1] and tonumber(r[2]) > now then redis.call('HINCRBY', K[1], 'c', 1)
  else
    redis.call('HSET', K[1], 'c', 1, 'r', now + tonumber(A[3]))
    redis.call('PEXPIRE', K[1], A[3])
  end
end
-- unlim {counter} {}: gives one send back while the window lasts.
commit.unlim = function(K, A)
  local r = redis.call('HMGET', K[1], 'c', 'r')
  if r[1] and tonumber(r[2]) > now and tonumber(r[1]) > 0 then redis.call('HINCRBY', K[1], 'c', -1) end
end

-- bud {lines} {price, ttl, thresholds, threshold..., cap...}: money budgets, all charged or none.
check.bud = function(K, A)
  local price, nt = tonumber(A[1]), tonumber(A[3])
  for i, key in ipairs(K) do
    if tonumber(redis.call('GET', key) or '0') + price > tonumber(A[3 + nt + i]) then
      return {'refused', events, 'cost_budget', 0, ''}
    end
  end
end
commit.bud = function(K, A)
  local price, ttl, nt = tonumber(A[1]), A[2], tonumber(A[3])
  for i, key in ipairs(K) do
    local cap = tonumber(A[3 + nt + i])
    local spent = redis.call('INCRBY', key, price)
    redis.call('PEXPIRE', key, ttl)
    for t = 1, nt do
      local at = tonumber(A[3 + t]) * cap
      if spent - price < at and spent >= at and redis.call('SADD', key .. ':alerted', A[3 + t]) == 1 then
        redis.call('PEXPIRE', key .. ':alerted', ttl)
        events[#events + 1] = {'crossed', i, t, spent}
      end
    end
  end
end
-- unbud {lines} {price}
commit.unbud = function(K, A)
  for _, key in ipairs(K) do
    if redis.call('EXISTS', key) == 1 then redis.call('DECRBY', key, A[1]) end
  end
end

-- psent {subjects} {bucketMs, buckets, ratio, quarantineMs, ttl, minSends...}: counts a send; may flag.
commit.psent = function(K, A)
  local bucket, n, ratio, quarantine, ttl = tonumber(A[1]), tonumber(A[2]), tonumber(A[3]), tonumber(A[4]), A[5]
  local cur = math.floor(now / bucket)
  for i, key in ipairs(K) do
    redis.call('HINCRBY', key, 's' .. cur, 1)
    redis.call('PEXPIRE', key, ttl)
    if not redis.call('HGET', key, 'q') then
      local s, v = window(key, cur, n)
      if s >= tonumber(A[5 + i]) and v < ratio * s then
        redis.call('HSET', key, 'q', now + quarantine)
        events[#events + 1] = {'detected', i, now + quarantine, s, v}
      end
    end
  end
end
-- unsent {subjects} {bucket}: takes back a send counted in that bucket (it never left).
commit.unsent = function(K, A)
  for _, key in ipairs(K) do
    if redis.call('HEXISTS', key, 's' .. A[1]) == 1 then redis.call('HINCRBY', key, 's' .. A[1], -1) end
  end
end
-- pver {subjects} {bucketMs, ttl, n?}: counts n verified codes (1 when not given; a batch sends more);
-- skipped when this script's redeem failed.
commit.pver = function(K, A)
  if notVerified then return end
  local cur, n = math.floor(now / tonumber(A[1])), tonumber(A[3] or '1')
  for _, key in ipairs(K) do
    redis.call('HINCRBY', key, 'v' .. cur, n)
    redis.call('PEXPIRE', key, A[2])
  end
end

-- issue {code} {codeId, hash, expiresAt, maxAttempts, sealed, channel, claim}: the new code replaces
-- any earlier one (and with it the earlier code's delivery fields); with a sealed copy it records the
-- channel it is first sent over. With claim = '1' a live code (not expired, used or out of attempts,
-- issued with a sealed copy) never sent over this channel is claimed for it instead (a channel switch
-- sends the same code again): the reply is {'claimed', codeId, sealed, expiresAt}, else {'issued'}.
commit.issue = function(K, A)
  if A[7] == '1' then
    local h = redis.call('HMGET', K[1], 'codeId', 'expiresAt', 'attempts', 'maxAttempts', 'used', 'sealed', 'ch')
    if h[1] and h[6] and tonumber(h[2]) > now and h[5] ~= '1' and tonumber(h[3]) < tonumber(h[4]) then
      local ch = h[7] or ','
      if not string.find(ch, ',' .. A[6] .. ',', 1, true) then
        redis.call('HSET', K[1], 'ch', ch .. A[6] .. ',')
        reply = {'claimed', h[1], h[6], h[2]}
        return
      end
    end
  end
  redis.call('DEL', K[1])
  redis.call('HSET', K[1], 'codeId', A[1], 'hash', A[2], 'expiresAt', A[3], 'attempts', 0, 'maxAttempts', A[4])
  if A[5] ~= '' then redis.call('HSET', K[1], 'sealed', A[5], 'ch', ',' .. A[6] .. ',') end
  redis.call('PEXPIREAT', K[1], A[3])
  reply = {'issued'}
end

-- redeem {code, fail} {hash, bruteForceProtection, failureWindowMs}: count, then compare, then
-- consume; a match clears the failure window, a guess (anything but a double submission) adds to it.
-- Lua 5.1 interns strings, so == on the hashes is a pointer comparison (constant time).
commit.redeem = function(K, A)
  local h = redis.call('HMGET', K[1], 'codeId', 'hash', 'expiresAt', 'maxAttempts', 'used')
  local status, x, y = 'missing', '', ''
  if not h[1] then status = 'missing'
  elseif tonumber(h[3]) <= now then redis.call('DEL', K[1]) status = 'expired'
  elseif h[5] == '1' then
    if h[2] == A[1] then status = 'used' else status = 'missing' end
  else
    local a = redis.call('HINCRBY', K[1], 'attempts', 1)
    if a > tonumber(h[4]) then status = 'exhausted'
    elseif h[2] ~= A[1] then status, x, y = 'wrong', tostring(a), h[4]
    else
      redis.call('HSET', K[1], 'used', '1')
      status, x = 'verified', h[1]
    end
  end
  if status == 'verified' then redis.call('DEL', K[2])
  else
    notVerified = true
    if status ~= 'used' and A[2] == '1' then
      local r = redis.call('HMGET', K[2], 'count', 'resetAt')
      if (not r[1]) or tonumber(r[2]) <= now then
        redis.call('HSET', K[2], 'count', 1, 'resetAt', now + tonumber(A[3]))
        redis.call('PEXPIRE', K[2], A[3])
      else redis.call('HINCRBY', K[2], 'count', 1) end
    end
  end
  reply = {status, x, y}
end

local ops, i, k = {}, 2, 1
while i <= #ARGV do
  local nk, na = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local op = {name = ARGV[i], keys = {}, args = {}}
  for j = 1, nk do op.keys[j] = KEYS[k + j - 1] end
  for j = 1, na do op.args[j] = ARGV[i + 2 + j] end
  k, i = k + nk, i + 3 + na
  ops[#ops + 1] = op
end
for _, op in ipairs(ops) do
  local f = check[op.name]
  if f then
    local refusal = f(op.keys, op.args)
    if refusal then return refusal end
  end
end
for _, op in ipairs(ops) do
  local f = commit[op.name]
  if f then f(op.keys, op.args) end
end
return {'ok', events, reply}`;

/** The steps {@link STEPS_SCRIPT} knows. */
export type StepName =
  | "ceil"
  | "pump"
  | "lim"
  | "unlim"
  | "bud"
  | "unbud"
  | "psent"
  | "unsent"
  | "pver"
  | "issue"
  | "redeem";

/** One step of a script run. */
export interface Step {
  name: StepName;
  keys: string[];
  args: Array<string | number>;
}

/** Something a step reported while the script ran. */
export type StepEvent =
  | { kind: "cleared"; index: number; sent: number; verified: number }
  | { kind: "detected"; index: number; until: number; sent: number; verified: number }
  | { kind: "crossed"; line: number; threshold: number; spent: number };

export type StepsReply =
  /** `redeem`: the reply of the script's `redeem` or `issue` step. */
  | { status: "ok"; events: StepEvent[]; redeem: string[] }
  | { status: "locked"; events: StepEvent[]; resetAt: number }
  | { status: "refused"; events: StepEvent[]; reason: string; msBeforeNext: number; shownPoints?: number };

/** Runs `steps` as one script (one round trip); all their keys must be in one hash slot on a cluster. */
export async function runSteps(client: RedisEval, now: number, steps: Step[]): Promise<StepsReply> {
  const keys: string[] = [];
  const args: string[] = [String(now)];
  for (const step of steps) {
    keys.push(...step.keys);
    args.push(step.name, String(step.keys.length), String(step.args.length), ...step.args.map(String));
  }
  const raw = (await evalScript(client, STEPS_SCRIPT, { keys, arguments: args })) as unknown[];
  const events = ((raw[1] as unknown[][]) ?? []).map(parseEvent);
  const status = String(raw[0]);
  if (status === "locked") return { status, events, resetAt: Number(raw[2]) };
  if (status === "refused") {
    const shown = String(raw[4] ?? "");
    return {
      status,
      events,
      reason: String(raw[2]),
      msBeforeNext: Number(raw[3]),
      ...(shown === "" ? {} : { shownPoints: Number(shown) }),
    };
  }
  if (status === "ok") return { status, events, redeem: ((raw[2] as unknown[]) ?? []).map(String) };
  throw new Error(`unexpected reply from the steps script: ${status}`);
}

function parseEvent(e: unknown[]): StepEvent {
  const [kind, a, b, c, d] = [String(e[0]), Number(e[1]), Number(e[2]), Number(e[3]), Number(e[4])];
  if (kind === "cleared") return { kind, index: a, sent: b, verified: c };
  if (kind === "detected") return { kind, index: a, until: b, sent: c, verified: d };
  return { kind: "crossed", line: a, threshold: b, spent: c };
}
