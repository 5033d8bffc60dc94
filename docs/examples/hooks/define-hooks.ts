import { defineHooks } from "textlock/hooks";

/** Your own SMS client, called in-process (no sandbox, no allowed-hosts list). */
declare const smsClient: { send(to: string, text: string): Promise<void> };

// defineHooks only types the handlers: `event` and `api` are inferred per trigger.
export const hooks = defineHooks({
  "send-phone-message": async (event) => {
    await smsClient.send(event.message_options.recipient, event.message_options.text);
  },
  "post-login": (event, api) => {
    if (event.user.app_metadata.banned) api.access.deny("This account is suspended.");
    api.idToken.setCustomClaim("https://example.com/logins", event.stats.logins_count);
  },
});
