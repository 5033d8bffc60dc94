import { readFileSync } from "node:fs";
import type { TextlockConfig } from "../config/schema.js";
import type { Logger } from "../logger.js";
import { API_METHODS, type ApiCall, HANDLER_EXPORTS } from "./api-calls.js";
import { HookSandbox } from "./sandbox.js";
import { TriggerHookRunner } from "./trigger-hook-runner.js";
import type { HookTrigger } from "./types.js";

/** Runs the configured `hooks.scripts` in the isolated-vm sandbox. */
export class SandboxHookRunner extends TriggerHookRunner {
  private readonly sources = new Map<HookTrigger, string>();
  private readonly sandbox: HookSandbox;

  constructor(config: TextlockConfig, logger: Logger) {
    super(config);
    for (const [trigger, file] of Object.entries(config.hooks.scripts) as Array<[HookTrigger, string | undefined]>) {
      if (file) this.sources.set(trigger, readFileSync(file, "utf8"));
    }
    this.sandbox = new HookSandbox({ ...config.hooks, redact: Object.values(config.hooks.secrets) }, logger);
  }

  has(trigger: HookTrigger): boolean {
    return this.sources.has(trigger);
  }

  async run(trigger: HookTrigger, event: object): Promise<ApiCall[]> {
    const source = this.sources.get(trigger);
    if (!source) return [];
    return this.sandbox.run(trigger, source, HANDLER_EXPORTS[trigger], this.withSecrets(event), API_METHODS[trigger]);
  }
}
