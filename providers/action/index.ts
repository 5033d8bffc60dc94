import { HookScriptError } from "../../core/hooks/hook-script-error.js";
import type { TriggerHookRunner } from "../../core/hooks/trigger-hook-runner.js";
import { defineSmsProvider, ProviderError, type SmsProvider } from "../../core/providers/sms-provider.js";

/**
 * The user-scripted provider: the `custom-phone-provider` hook (Auth0's
 * `onExecuteCustomPhoneProvider(event, api)`), a sandboxed script or a trusted function, delivers the
 * message (a script through the sandbox's allowed `fetch`). `api.notification.retry(reason)` is a
 * transient failure, `api.notification.drop(reason)` a lasting one; a hook that throws, times out or
 * runs out of memory is transient.
 */
export function createActionProvider(runner: TriggerHookRunner): SmsProvider {
  return defineSmsProvider({
    name: "action",
    channels: ["sms", "voice"],
    async send(message, ctx) {
      let calls;
      try {
        calls = await runner.deliver(message, ctx.request);
      } catch (err) {
        const reason = err instanceof HookScriptError ? err.reason : "threw";
        throw new ProviderError("transient", `The phone provider script failed (${reason})`, { cause: err });
      }
      const last = calls.filter(([m]) => m === "notification.drop" || m === "notification.retry").at(-1);
      if (last?.[0] === "notification.drop") throw new ProviderError("rejected", "The phone provider script dropped the message");
      if (last?.[0] === "notification.retry") throw new ProviderError("transient", "The phone provider script asked to retry");
      return { id: `action-${Date.now().toString(36)}` };
    },
  });
}
