/** What the contract suites call on a value; vitest's and jest's `expect` both provide it. */
export interface Matchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toMatchObject(expected: object): void;
  toHaveLength(length: number): void;
  toBeUndefined(): void;
  toBeTruthy(): void;
  toContain(item: unknown): void;
  not: Omit<Matchers, "not" | "rejects">;
  rejects: { toThrow(expected?: unknown): Promise<void>; toMatchObject(expected: object): Promise<void> };
}

/**
 * The test runner's functions, passed in so the suites run under vitest or jest:
 * `runOtpStoreContract("mine", create, { describe, it, expect, beforeEach, afterEach })`.
 */
export interface ContractRunner {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>, timeout?: number): void;
  expect: ((value: unknown) => Matchers) & { stringMatching(pattern: RegExp): unknown };
  beforeEach(fn: () => Promise<void> | void): void;
  afterEach(fn: () => Promise<void> | void): void;
}
