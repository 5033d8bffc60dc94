// @ts-check
/**
 * pre-user-registration: sign-ups only for North American numbers; new users start on the free plan.
 * @type {import("textlock/hooks").PreUserRegistrationHandler}
 */
exports.onExecutePreUserRegistration = async (event, api) => {
  if (!event.user.phone_number.startsWith("+1")) {
    return api.access.deny("country_not_allowed", "Sign-ups are open to North American numbers only.");
  }
  api.user.setAppMetadata("plan", "free");
};
