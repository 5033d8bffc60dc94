import type { RiskChecker, RiskPlugins } from "../core/plugin/index.js";

/**
 * The built-in risk checkers, provided to every instance by the package's root entry. Each loads its
 * module (and the `twilio` SDK) only on its first lookup.
 */
export const builtinRiskPlugins: RiskPlugins = {
  twilioLookup: (options) =>
    lazyChecker("twilioLookup", async () => (await import("./twilio/lookup-risk.js")).createTwilioLookupRisk(options)),
  vonage: (options) =>
    lazyChecker("vonage", async () => (await import("./vonage/insight-risk.js")).createVonageInsightRisk(options)),
};

function lazyChecker(name: string, load: () => Promise<RiskChecker>): RiskChecker {
  let loaded: Promise<RiskChecker> | undefined;
  return {
    name,
    async check(phone, signal) {
      loaded ??= load();
      return (await loaded).check(phone, signal);
    },
  };
}
