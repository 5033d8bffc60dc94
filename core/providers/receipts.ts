import type { DeliveryStatus } from "../delivery/delivery-store.js";

export type { DeliveryStatus } from "../delivery/delivery-store.js";

/**
 * A status callback as a vendor sent it to `POST /delivery-receipts/<provider>/<connection>`, handed to
 * the provider of that connection to authenticate and read.
 */
export interface ReceiptRequest {
  /**
   * The public URL the vendor called (`delivery.receipts.publicUrl` or the issuer, plus the route path
   * and query): what the vendor signed, whatever a proxy rewrote on the way in.
   */
  url: string;
  /** Lower-cased header names. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The body exactly as received (signatures and payload hashes are over these bytes). */
  rawBody: string;
  /** The body's fields (form or JSON), values as sent. */
  params: Readonly<Record<string, unknown>>;
  /** The provider's own options (its signing secret or auth token is among them). */
  options: Readonly<Record<string, unknown>>;
  /** Epoch ms now, and how old a signed callback may be (`delivery.receipts.maxAgeSeconds`). */
  now: number;
  maxAgeSeconds: number;
}

/** One message status a receipt reports. */
export interface VendorReceipt {
  /** The vendor's message id, as the provider's `send` returned it. */
  messageId: string;
  /** The vendor status mapped to textlock's (`accepted` → `queued`, `read` → `delivered`...). */
  status: DeliveryStatus;
  /** The vendor's own status word, for logs. */
  vendorStatus: string;
  /** The vendor's error code on a failure, if any. */
  errorCode?: string;
}

/**
 * What a provider concluded about a callback: authentic (with what it reports, possibly nothing
 * textlock tracks), or refused: `unsigned` (no signature at all, 401) or `forged` (a signature that
 * does not verify, a stale one, or a body that does not match it, 403).
 */
export type ReceiptVerdict = { ok: true; receipts: VendorReceipt[] } | { ok: false; reason: "unsigned" | "forged" };
