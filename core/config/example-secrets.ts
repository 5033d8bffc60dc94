/**
 * Values copied from an example instead of a real secret: the words people type as a stand-in, and
 * the stand-ins textlock's own docs show (`AC...`, `...`, `<the same 32+ character secret everywhere>`,
 * `${a random string of 32+ characters}`). Matched case-insensitively anywhere in the value, so
 * `changeme-changeme-changeme-changeme` (long enough to pass the length check) is refused too.
 */
const EXAMPLE_WORDS = [
  "changeme",
  "change-me",
  "change_me",
  "changethis",
  "replaceme",
  "replace-me",
  "replace_me",
  "your-secret",
  "your_secret",
  "yoursecret",
  "your-token",
  "your_token",
  "your-api",
  "your_api",
  "secret-here",
  "secret_here",
  "example-secret",
  "example_secret",
  "placeholder",
  "a random string of",
  "32+ character",
];

/** Why `value` looks like a placeholder or an example rather than a secret, or undefined. */
export function exampleSecretReason(value: string): string | undefined {
  const v = value.trim().toLowerCase();
  if (/\$\{[^}]*\}/.test(value)) return "is a placeholder that was never substituted";
  if (/^<.*>$/.test(v)) return "is a placeholder from an example";
  if (/^(\.\.\.|…)$/.test(v) || /(\.\.\.|…)$/.test(v)) return "is an example value, not a real secret";
  if (["secret", "password", "token", "test", "example"].includes(v)) return "is an example value, not a real secret";
  const word = EXAMPLE_WORDS.find((w) => v.includes(w));
  return word ? `is an example value ("${word}"), not a real secret` : undefined;
}

/** Every string inside a secret option (a provider's secret may be an object, e.g. `gateway_authentication`). */
export function secretStrings(value: unknown, path: string): Array<[string, string]> {
  if (typeof value === "string") return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => secretStrings(v, `${path}.${i}`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => secretStrings(v, `${path}.${k}`));
  }
  return [];
}
