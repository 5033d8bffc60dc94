/**
 * Errors cross package copies: a plugin built against the CommonJS build throws errors made by a
 * different class than the ESM host's, so `instanceof` fails. Each textlock error carries a brand
 * under a registry symbol (`Symbol.for` is shared by every copy in the process) and is recognised
 * by it alone.
 */
const BRAND = Symbol.for("textlock.error-brand");

export type ErrorBrand = "TextlockError" | "TextlockConfigError" | "ProviderError";

/** Marks `error` as a textlock error of `brand` (non-enumerable, so it never reaches logs or JSON). */
export function brand(error: Error, name: ErrorBrand): void {
  Object.defineProperty(error, BRAND, { value: name, enumerable: false });
}

/** True when `value` was branded `name`, whichever copy of textlock made it. */
export function hasBrand(value: unknown, name: ErrorBrand): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === name;
}
