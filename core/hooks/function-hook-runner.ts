import type { TextlockConfig } from "../config/schema.js";
import type { Logger } from "../logger.js";
import { API_METHODS, type ApiCall, recordingApi } from "./api-calls.js";
import { HookScriptError } from "./hook-script-error.js";
import { TriggerHookRunner } from "./trigger-hook-runner.js";
import type { HookTrigger } from "./types.js";

const MAX_LOG = 256;

type AnyHandler = (event: unknown, api: unknown) => unknown;

/**
 * Runs `hooks.functions`: trusted handlers the embedder passed in, called in this process with the
 * same `event` and `api` as a script. There is no sandbox: a function can do anything the process
 * can, and the time limit is a race, so a late function's result is ignored but the function itself
 * keeps running (a synchronous loop even blocks the process; nothing can preempt it).
 */
export class FunctionHookRunner extends TriggerHookRunner {
  private readonly functions: Partial<Record<HookTrigger, AnyHandler>>;

  constructor(
    config: TextlockConfig,
    private readonly logger: Logger,
  ) {
    super(config);
    this.functions = config.hooks.functions as Partial<Record<HookTrigger, AnyHandler>>;
  }

  has(trigger: HookTrigger): boolean {
    return typeof this.functions[trigger] === "function";
  }

  async run(trigger: HookTrigger, event: object): Promise<ApiCall[]> {
    const handler = this.functions[trigger];
    if (!handler) return [];
    const calls: ApiCall[] = [];
    let settled = false;
    // Calls made after the run is over (a timed-out function finishing late) change nothing.
    const api = recordingApi(API_METHODS[trigger], (call) => {
      if (!settled) calls.push(call);
    });
    // A copy, as a script gets: the event holds references to stored users and configuration.
    const copy = structuredClone(this.withSecrets(event));
    const { timeoutMs } = this.config.hooks;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HookScriptError("timeout", `the function did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([Promise.resolve().then(() => handler(copy, api)), timeout]);
      return calls;
    } catch (err) {
      const failure =
        err instanceof HookScriptError ? err : new HookScriptError("threw", (err as Error)?.message ?? String(err));
      this.logger.warn(
        { hook: trigger, reason: failure.reason, message: failure.message.slice(0, MAX_LOG) },
        "hook function failed",
      );
      throw failure;
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }
}
