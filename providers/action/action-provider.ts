import { defineSmsProvider, type ProviderContext, ProviderError, type SmsProvider } from "../../core/plugin/index.js";

type RunDeliveryHook = NonNullable<ProviderContext["runDeliveryHook"]>;

/**
 * The user-scripted provider: the `custom-phone-provider` script (Auth0's
 * `onExecuteCustomPhoneProvider(event, api)`) delivers the message, through the sandbox's allowed
 * `fetch`. `api.notification.retry(reason)` is a transient failure, `api.notification.drop(reason)` a
 * lasting one; a script that throws, times out or runs out of memory is transient.
 */
export function createActionProvider(runDeliveryHook: RunDeliveryHook): SmsProvider {
  return defineSmsProvider({
    name: "action",
    channels: ["sms", "voice"],
    async send(message, ctx) {
      let calls: Array<[string, ...unknown[]]>;
      try {
        calls = await runDeliveryHook(message, ctx.request);
      } catch (err) {
        // The hook runtime's errors carry why the script failed (timeout, memory, threw).
        const reason =
          typeof (err as { reason?: unknown })?.reason === "string" ? (err as { reason: string }).reason : "threw";
        throw new ProviderError("transient", `The phone provider script failed (${reason})`, { cause: err });
      }
      const last = calls.filter(([m]) => m === "notification.drop" || m === "notification.retry").at(-1);
      if (last?.[0] === "notification.drop")
        throw new ProviderError("rejected", "The phone provider script dropped the message");
      if (last?.[0] === "notification.retry")
        throw new ProviderError("transient", "The phone provider script asked to retry");
      return { id: `action-${Date.now().toString(36)}` };
    },
  });
}
