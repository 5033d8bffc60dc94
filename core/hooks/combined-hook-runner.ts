import type { TextlockConfig } from "../config/schema.js";
import type { ApiCall } from "./api-calls.js";
import { TriggerHookRunner } from "./trigger-hook-runner.js";
import type { HookTrigger } from "./types.js";

/** Script files for some triggers, trusted functions for others: each trigger runs in the runner that has it. */
export class CombinedHookRunner extends TriggerHookRunner {
  constructor(
    config: TextlockConfig,
    private readonly parts: readonly TriggerHookRunner[],
  ) {
    super(config);
  }

  has(trigger: HookTrigger): boolean {
    return this.parts.some((p) => p.has(trigger));
  }

  async run(trigger: HookTrigger, event: object): Promise<ApiCall[]> {
    return this.parts.find((p) => p.has(trigger))?.run(trigger, event) ?? [];
  }

  override async close(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.close()));
  }
}
