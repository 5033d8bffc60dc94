import type { ClientConfig } from "../config/schema.js";
import type { Logger } from "../logger.js";

/** Longest message the Android SMS Retriever API accepts, in bytes (UTF-8). */
export const SMS_RETRIEVER_MAX_BYTES = 140;

/**
 * The origin-bound line of the WICG "origin-bound one-time codes" format, read by WebOTP
 * (`navigator.credentials.get({otp})`) and by iOS/Android autofill: `@<host> #<code>`, exactly one space
 * between the fields, the host without scheme, port or path.
 */
export function originBoundLine(host: string, code: string): string {
  return `@${host} #${code}`;
}

/** The host name of an issuer URL or a Host header value: no scheme, port or path; lower case. */
export function autofillHost(issuerOrHost: string | undefined): string | undefined {
  if (!issuerOrHost) return undefined;
  try {
    const host = new URL(issuerOrHost.includes("://") ? issuerOrHost : `https://${issuerOrHost}`).hostname;
    // The format binds a code to a site: an IP address (a bare development server) gets no line.
    return host && !host.startsWith("[") && !/^\d+(\.\d+){3}$/.test(host) ? host.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A text message with the client's autofill lines appended:
 * - the Android SMS Retriever app hash (11 characters) on its own line, when the client has one;
 * - the origin-bound line `@<host> #<code>` last (the format requires the last line), unless the client
 *   turned it off, there is no host to bind to, or the template already ends with such a line.
 * The SMS Retriever API ignores a message over 140 bytes: such a message is still sent (the code can be
 * typed) and the operator is warned to shorten the template.
 */
export function withAutofill(
  body: string,
  code: string,
  settings: ClientConfig["sms_autofill"] | undefined,
  issuerOrHost: string | undefined,
  logger?: Logger,
): string {
  const lines = [body.replace(/\s+$/, "")];
  const hash = settings?.android_app_hash;
  if (hash && !body.includes(hash)) lines.push(hash);
  const host = settings?.host ?? autofillHost(issuerOrHost);
  const last = lines[0]!.split("\n").at(-1) ?? "";
  if (settings?.origin_bound !== false && host && !/^@\S+ #\S+/.test(last)) {
    lines.push(hash ? originBoundLine(host, code) : `\n${originBoundLine(host, code)}`);
  }
  const text = lines.join("\n");
  if (hash && Buffer.byteLength(text, "utf8") > SMS_RETRIEVER_MAX_BYTES) {
    logger?.warn(
      { bytes: Buffer.byteLength(text, "utf8"), limit: SMS_RETRIEVER_MAX_BYTES },
      "text message too long for the Android SMS Retriever API: shorten the template",
    );
  }
  return text;
}

/** The GSM 03.38 basic character set (one septet each). */
const GSM7_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/** The GSM 03.38 extension table (two septets each: escape + character). */
const GSM7_EXTENDED = "^{}\\[~]|€\f";

/**
 * How a text travels as SMS: GSM-7 (160 characters in one message, 153 per part when split) or, for any
 * other character, UCS-2 (70, or 67 per part). `units` counts septets or UTF-16 code units.
 */
export function smsSegments(text: string): { encoding: "GSM-7" | "UCS-2"; units: number; segments: number } {
  let septets = 0;
  for (const ch of text) {
    if (GSM7_BASIC.includes(ch)) septets += 1;
    else if (GSM7_EXTENDED.includes(ch)) septets += 2;
    else {
      const units = text.length;
      return { encoding: "UCS-2", units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: "GSM-7", units: septets, segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}
