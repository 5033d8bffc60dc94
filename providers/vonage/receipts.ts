import { createHash, timingSafeEqual } from "node:crypto";
import { AlgorithmTypes } from "@vonage/auth";
import { verifySignature } from "@vonage/jwt";
import type { SMS } from "@vonage/sms";
import { decodeJwt } from "jose";
import type { ReceiptRequest, ReceiptVerdict, VendorReceipt } from "../../core/plugin/index.js";

/** Messages API statuses (SMS, WhatsApp...) as textlock's. */
const MESSAGES_STATUS: Record<string, VendorReceipt["status"]> = {
  submitted: "sent",
  delivered: "delivered",
  read: "delivered",
  rejected: "failed",
  undeliverable: "undelivered",
};
/** SMS API delivery receipt statuses; `accepted` and `buffered` are on the way, `expired` never arrived. */
const SMS_DLR_STATUS: Record<string, VendorReceipt["status"]> = {
  accepted: "sent",
  buffered: "sent",
  delivered: "delivered",
  expired: "undelivered",
  failed: "failed",
  rejected: "failed",
};

/** How the account signs SMS API receipts (the dashboard's setting). */
export type VonageSignatureMethod = "md5hash" | "md5" | "sha1" | "sha256" | "sha512";
const ALGORITHMS: Record<VonageSignatureMethod, AlgorithmTypes> = {
  md5hash: AlgorithmTypes.md5hash,
  md5: AlgorithmTypes.md5hmac,
  sha1: AlgorithmTypes.sha1hmac,
  sha256: AlgorithmTypes.sha256hmac,
  sha512: AlgorithmTypes.sha512hmac,
};

/**
 * A Vonage status callback, keyed by the account's signature secret:
 * - Messages API (JSON, `Authorization: Bearer <JWT>`): the JWT is verified with `@vonage/jwt`'s
 *   `verifySignature` (HS256 with the secret), its `payload_hash` must be the SHA-256 of the body as
 *   received, and its `iat` no older than `maxAgeSeconds`;
 * - SMS API delivery receipts (signed messages: `sig`, `timestamp`, `nonce` among the fields): the
 *   `sig` is checked with `@vonage/sms`'s `verifySignature` and the `timestamp` must be recent.
 * Anything else is unsigned (Vonage may send an unsigned callback after an internal error; it is
 * refused, and Vonage retries on an error answer).
 */
export function parseVonageReceipt(
  sms: Pick<SMS, "verifySignature">,
  secret: string,
  method: VonageSignatureMethod,
  request: ReceiptRequest,
): ReceiptVerdict {
  const auth = request.headers.authorization ?? "";
  if (/^bearer\s+\S/i.test(auth)) return messagesReceipt(secret, auth.replace(/^bearer\s+/i, "").trim(), request);
  if (typeof request.params.sig === "string") return smsReceipt(sms, secret, method, request);
  return { ok: false, reason: "unsigned" };
}

function messagesReceipt(secret: string, token: string, request: ReceiptRequest): ReceiptVerdict {
  let claims: { iat?: unknown; payload_hash?: unknown };
  try {
    if (!verifySignature(token, secret)) return { ok: false, reason: "forged" };
    claims = decodeJwt(token);
  } catch {
    return { ok: false, reason: "forged" };
  }
  const hash = createHash("sha256").update(request.rawBody).digest("hex");
  if (typeof claims.payload_hash !== "string" || !sameText(claims.payload_hash.toLowerCase(), hash))
    return { ok: false, reason: "forged" };
  if (typeof claims.iat !== "number" || request.now / 1000 - claims.iat > request.maxAgeSeconds)
    return { ok: false, reason: "forged" };
  const p = request.params;
  const vendorStatus = typeof p.status === "string" ? p.status : undefined;
  const status = vendorStatus ? MESSAGES_STATUS[vendorStatus] : undefined;
  if (typeof p.message_uuid !== "string" || !vendorStatus || !status) return { ok: true, receipts: [] };
  const error = p.error as { type?: unknown } | undefined;
  const errorCode = typeof error?.type === "string" ? error.type.split("/").at(-1) : undefined;
  return {
    ok: true,
    receipts: [{ messageId: p.message_uuid, status, vendorStatus, ...(errorCode ? { errorCode } : {}) }],
  };
}

function smsReceipt(
  sms: Pick<SMS, "verifySignature">,
  secret: string,
  method: VonageSignatureMethod,
  request: ReceiptRequest,
): ReceiptVerdict {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.params)) params[k] = typeof v === "string" ? v : String(v);
  const signature = params.sig!;
  if (!sms.verifySignature(signature, params, secret, ALGORITHMS[method])) return { ok: false, reason: "forged" };
  const timestamp = Number(params.timestamp);
  if (!Number.isFinite(timestamp) || Math.abs(request.now / 1000 - timestamp) > request.maxAgeSeconds)
    return { ok: false, reason: "forged" };
  const vendorStatus = params.status;
  const status = vendorStatus ? SMS_DLR_STATUS[vendorStatus] : undefined;
  const id = params.messageId ?? params["message-id"];
  if (!id || !vendorStatus || !status) return { ok: true, receipts: [] };
  const errorCode = params["err-code"] && params["err-code"] !== "0" ? params["err-code"] : undefined;
  return { ok: true, receipts: [{ messageId: id, status, vendorStatus, ...(errorCode ? { errorCode } : {}) }] };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
