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

/** Starts loading at once (a configured checker is used), so the first send rarely waits for it. */
function lazyChecker(name: string, load: () => Promise<RiskChecker>): RiskChecker {
  const loaded = load();
  // A load failure surfaces on the first check (fail closed there), not as an unhandled rejection.
  loaded.catch(() => {});
  return {
    name,
    async ready() {
      await loaded;
    },
    async check(phone, signal) {
      return (await loaded).check(phone, signal);
    },
  };
}
