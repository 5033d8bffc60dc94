import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ContractRunner } from "../../core/testing/runner.js";

/** vitest's functions for the contract suites of `textlock/testing`. */
export const vitestRunner = { describe, it, expect, beforeEach, afterEach } as unknown as ContractRunner;
