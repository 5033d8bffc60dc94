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
  if (Buffer.byteLength(text) > limitBytes) throw bodyTooLarge();
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

/**
 * The 413 for an oversized body. It closes the connection (`Connection: close`): the client may still
 * be sending, so the socket cannot serve another request, and a pooled keep-alive client must open a
 * new one rather than have the next request reset mid-flight.
 */
export function bodyTooLarge(): TextlockError {
  return new TextlockError("ERR_BODY_TOO_LARGE", { headers: { connection: "close" } });
}

/** How much of an oversized body is read and thrown away so the client is not reset while sending it. */
const DRAIN_LIMIT_BYTES = 1024 * 1024;

/**
 * Reads a Node request stream into a Buffer, refusing more than `limitBytes`. An oversized body is
 * drained (up to 1 MiB past the limit, and never kept) before the 413 goes out, so the client reads
 * the answer instead of a reset; a bigger one, or a declared `Content-Length` that is, is refused at
 * once with the stream paused. Never destroys the stream: the response still has to be written.
 */
export function readNodeBody(
  stream: NodeJS.ReadableStream & { readableEnded?: boolean; headers?: Record<string, unknown> },
  limitBytes: number,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    if (stream.readableEnded) return resolve(Buffer.alloc(0));
    const declared = Number(stream.headers?.["content-length"] ?? Number.NaN);
    if (declared > limitBytes + DRAIN_LIMIT_BYTES) return reject(bodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (fn: () => void) => {
      stream.removeListener("data", onData);
      stream.removeListener("end", onEnd);
      stream.removeListener("error", onError);
      stream.removeListener("close", onClose);
      fn();
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size <= limitBytes) return void chunks.push(buf);
      chunks.length = 0;
      if (size > limitBytes + DRAIN_LIMIT_BYTES)
        settle(() => {
          stream.pause();
          reject(bodyTooLarge());
        });
    };
    const onEnd = () => settle(() => (size > limitBytes ? reject(bodyTooLarge()) : resolve(Buffer.concat(chunks))));
    const onError = (err: unknown) => settle(() => reject(err));
    const onClose = () => settle(() => reject(new Error("The request was aborted")));
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.on("close", onClose);
  });
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
