import type { TextlockConfig } from "../config/schema.js";
import type { Logger } from "../logger.js";
import { type HookRunner, NO_HOOKS } from "./hook-runner.js";

/** The hook runner for a configuration; {@link NO_HOOKS} when no trigger is configured. */
export async function createHookRunner(_config: TextlockConfig, _logger: Logger): Promise<HookRunner> {
  return NO_HOOKS;
}
