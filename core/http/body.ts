import { TextlockError } from "../errors/textlock-error.js";
import type { HttpRequest } from "./types.js";

/**
 * The request body as a plain object. Accepts JSON and `application/x-www-form-urlencoded` (the
 * token endpoint gets both from Auth0 SDKs), or a body the host framework already parsed.
 */
export function parseBody(req: HttpRequest, limitBytes: number): Record<string, unknown> {
  const { body } = req;
  if (body === undefined || body === null) return {};
  if (typeof body === "object" && !Buffer.isBuffer(body)) {
    if (Array.isArray(body))
      throw new TextlockError("ERR_INVALID_BODY", { description: "The request body must be an object" });
    return body;
  }
  const text = Buffer.isBuffer(body) ? body.toString("utf8") : body;
  if (Buffer.byteLength(text) > limitBytes) throw new TextlockError("ERR_BODY_TOO_LARGE");
  if (text.trim() === "") return {};
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json" || type.endsWith("+json")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new TextlockError("ERR_INVALID_BODY", { description: "The request body is not valid JSON" });
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) {
      throw new TextlockError("ERR_INVALID_BODY", { description: "The request body must be a JSON object" });
    }
    return value as Record<string, unknown>;
  }
  if (type === "application/x-www-form-urlencoded") return parseForm(text);
  throw new TextlockError("ERR_UNSUPPORTED_MEDIA_TYPE");
}

/**
 * A form body as an object. A key sent twice (`otp=123456&otp=000000`) is refused rather than resolved
 * to one of its values: which one a parser keeps differs between parsers, and an attacker can use that.
 */
function parseForm(text: string): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    if (Object.hasOwn(fields, key)) {
      throw new TextlockError("ERR_INVALID_REQUEST", { description: `Parameter ${key} was sent more than once` });
    }
    fields[key] = value;
  }
  return { ...fields };
}

/** Reads a Node request stream into a Buffer, refusing more than `limitBytes`. */
export async function readNodeBody(stream: AsyncIterable<Buffer | string>, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > limitBytes) throw new TextlockError("ERR_BODY_TOO_LARGE");
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Client credentials from HTTP Basic (`client_secret_basic`), if present. */
export function basicCredentials(header: string | undefined): { client_id: string; client_secret: string } | undefined {
  if (!header?.toLowerCase().startsWith("basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, " "));
    } catch {
      return s;
    }
  };
  return { client_id: dec(decoded.slice(0, colon)), client_secret: dec(decoded.slice(colon + 1)) };
}
