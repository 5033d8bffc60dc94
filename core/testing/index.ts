/**
 * `textlock/testing`: the conformance suites textlock runs on its own parts, for plugin and store
 * authors. Each takes the test runner's functions, so it runs under vitest or jest.
 */

export { runOtpStoreContract } from "./otp-store-contract.js";
export type { DeliveredMessage, ProviderHarness, TestRunner } from "./provider-contract.js";
export { runProviderContract } from "./provider-contract.js";
export type { ContractRunner, Matchers } from "./runner.js";
export { runUserStoreContract } from "./user-store-contract.js";
export type { CodeOwnerHarness } from "./verification-contract.js";
export { runCodeOwnerContract } from "./verification-contract.js";
