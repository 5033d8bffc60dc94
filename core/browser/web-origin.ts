/**
 * The origin a browser page at `url` has, or undefined for non-URLs and URLs without one (custom
 * schemes give the opaque `null`, which must never become a postMessage target or a CSP source).
 * Unlike the CORS check's origin helper, which keeps `null`, this one refuses it.
 */
export function webOrigin(url: string): string | undefined {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? undefined : origin;
  } catch {
    return undefined;
  }
}
