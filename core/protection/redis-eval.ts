/** The slice of the node-redis client (shared with the rate limiters) the Lua-scripted counters use. */
export interface RedisEval {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}
