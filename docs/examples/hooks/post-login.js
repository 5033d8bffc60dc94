// @ts-check
/**
 * post-login: add the user's plan to the tokens, and refuse banned users.
 * @type {import("textlock/hooks").PostLoginHandler}
 */
exports.onExecutePostLogin = async (event, api) => {
  if (event.user.app_metadata.banned) return api.access.deny("This account is suspended.");
  const plan = event.user.app_metadata.plan ?? "free";
  api.idToken.setCustomClaim("https://example.com/plan", plan);
  api.accessToken.setCustomClaim("https://example.com/plan", plan);
  api.user.setAppMetadata("last_client", event.client.client_id);
};
