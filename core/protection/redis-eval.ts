import { createHash } from "node:crypto";

/** The slice of the node-redis client (shared with the rate limiters) the Lua-scripted counters use. */
export interface RedisEval {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** node-redis has it (standalone and cluster clients); a client without it gets plain EVAL. */
  evalSha?(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

const sha1s = new Map<string, string>();

/**
 * Runs a Lua script by its SHA1 (`EVALSHA`), so a call sends 40 bytes instead of the script (the start
 * and exchange script is ~10 KB: sending and hashing it on every request was most of what a start on
 * Redis cost over one on the memory store). A server that has not seen the script yet (first call,
 * restart, `SCRIPT FLUSH`, another cluster node) answers `NOSCRIPT`; the script is then sent once with
 * `EVAL`, which also caches it there.
 */
export async function evalScript(
  client: RedisEval,
  script: string,
  options: { keys: string[]; arguments: string[] },
): Promise<unknown> {
  if (!client.evalSha) return client.eval(script, options);
  let sha1 = sha1s.get(script);
  if (!sha1) {
    sha1 = createHash("sha1").update(script).digest("hex");
    sha1s.set(script, sha1);
  }
  try {
    return await client.evalSha(sha1, options);
  } catch (err) {
    if (!String((err as Error)?.message).startsWith("NOSCRIPT")) throw err;
    return client.eval(script, options);
  }
}
