import type { TextlockConfig } from "../config/schema.js";
import type { Logger } from "../logger.js";
import { type HookRunner, NO_HOOKS } from "./hook-runner.js";

/** The hook runner for a configuration; {@link NO_HOOKS} when no script is configured (isolated-vm is then never loaded). */
export async function createHookRunner(config: TextlockConfig, logger: Logger): Promise<HookRunner> {
  if (!Object.values(config.hooks.scripts).some(Boolean)) return NO_HOOKS;
  const { SandboxHookRunner } = await import("./sandbox-hook-runner.js");
  return new SandboxHookRunner(config, logger);
}
