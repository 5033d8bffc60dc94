import type { TextlockConfig } from "../config/schema.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { SmsMessage } from "../providers/sms-provider.js";
import type { User } from "../users/user-store.js";
import { type ApiCall, postLoginResult, preSendResult, preUserRegistrationResult } from "./api-calls.js";
import {
  deliveryEvent,
  postLoginEvent,
  postUserRegistrationEvent,
  preSendEvent,
  preUserRegistrationEvent,
} from "./events.js";
import type {
  HookContext,
  HookRunner,
  PostLoginResult,
  PreSendResult,
  PreUserRegistrationResult,
} from "./hook-runner.js";
import type { HookTrigger } from "./types.js";

/**
 * What every hook runner shares, whatever runs the handler (sandboxed script or trusted function):
 * the `event` of each trigger, the meaning of the recorded `api` calls, and the failure rule (a
 * failed login hook stops the login with `extensibility_error`; its output never reaches the caller).
 * Subclasses only run one trigger's handler and return its `api` calls.
 */
export abstract class TriggerHookRunner implements HookRunner {
  constructor(protected readonly config: TextlockConfig) {}

  abstract has(trigger: HookTrigger): boolean;

  /** Runs a trigger's handler with `event` (secrets are added here); `[]` when the trigger has none. */
  abstract run(trigger: HookTrigger, event: object): Promise<ApiCall[]>;

  async close(): Promise<void> {}

  async preUserRegistration(ctx: HookContext & { phone_number: string }): Promise<PreUserRegistrationResult> {
    return preUserRegistrationResult(
      await this.guard(() => this.run("pre-user-registration", preUserRegistrationEvent(ctx))),
    );
  }

  async postUserRegistration(ctx: HookContext & { user: User }): Promise<void> {
    // Like Auth0's, this trigger cannot stop the login: a failure is logged (by the runner) and ignored.
    await this.run("post-user-registration", postUserRegistrationEvent(ctx)).catch(() => {});
  }

  async postLogin(ctx: HookContext & { user: User }): Promise<PostLoginResult> {
    return postLoginResult(await this.guard(() => this.run("post-login", postLoginEvent(ctx, new Date()))));
  }

  /** No guard: a failure reaches the risk step as is, which fails closed unless configured open. */
  async preSend(ctx: HookContext & { phone: string; channel: "sms" | "voice" | "whatsapp" }): Promise<PreSendResult> {
    if (!this.has("pre-send")) return {};
    return preSendResult(await this.run("pre-send", preSendEvent(ctx)));
  }

  /** Runs the delivery trigger of the `action` provider; returns the api calls (drop/retry). */
  async deliver(message: SmsMessage, request: { ip?: string; userAgent?: string }): Promise<ApiCall[]> {
    const trigger = this.has("custom-phone-provider") ? "custom-phone-provider" : "send-phone-message";
    return this.run(trigger, deliveryEvent(trigger, message, this.config, request));
  }

  protected withSecrets(event: object): Record<string, unknown> {
    return { ...event, secrets: { ...this.config.hooks.secrets } };
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw new TextlockError("ERR_HOOK_FAILED", { cause: err });
    }
  }
}
