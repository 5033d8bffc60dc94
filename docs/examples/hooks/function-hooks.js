// @ts-check
/**
 * In-process function hooks: trusted code of the embedding application, passed to
 * `createTextlock({ hooks: { functions: createHooks(app) } })`. They get the same `event` and `api`
 * as script files, and reach the application's own services directly instead of through `fetch`.
 *
 * @param {{
 *   isBlocked(phone: string): Promise<boolean>;
 *   welcome(userId: string): Promise<void>;
 *   planOf(phone: string): Promise<string>;
 * }} app
 * @returns {import("textlock/hooks").HookFunctions}
 */
export function createHooks(app) {
  return {
    "pre-user-registration": async (event, api) => {
      if (await app.isBlocked(event.user.phone_number)) api.access.deny("blocked", "This number cannot sign up.");
    },
    "post-user-registration": async (event) => {
      await app.welcome(event.user.user_id);
    },
    "post-login": async (event, api) => {
      const plan = await app.planOf(event.user.phone_number);
      api.idToken.setCustomClaim("https://example.com/plan", plan);
      api.accessToken.setCustomClaim("https://example.com/plan", plan);
      api.user.setAppMetadata("plan", plan);
    },
  };
}
