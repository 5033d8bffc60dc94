import type { TextlockConfig } from "../config/schema.js";
import type { Logger } from "../logger.js";
import { CombinedHookRunner } from "./combined-hook-runner.js";
import { FunctionHookRunner } from "./function-hook-runner.js";
import { type HookRunner, NO_HOOKS } from "./hook-runner.js";

/**
 * The hook runner for a configuration: {@link NO_HOOKS} when no hook is configured. The sandbox (and
 * isolated-vm with it) is loaded only when a script file is configured.
 */
export async function createHookRunner(config: TextlockConfig, logger: Logger): Promise<HookRunner> {
  const hasScripts = Object.values(config.hooks.scripts).some(Boolean);
  const functions = Object.values(config.hooks.functions).some(Boolean)
    ? new FunctionHookRunner(config, logger)
    : undefined;
  if (!hasScripts) return functions ?? NO_HOOKS;
  const { SandboxHookRunner } = await import("./sandbox-hook-runner.js");
  const scripts = new SandboxHookRunner(config, logger);
  return functions ? new CombinedHookRunner(config, [scripts, functions]) : scripts;
}
