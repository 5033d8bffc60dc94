import { containerOf } from "../container/internals.js";
import { EVENTS, PROVIDERS } from "../di-tokens.js";
import { TextlockError } from "../errors/textlock-error.js";
import { parseBody } from "../http/body.js";
import type { Route } from "../http/handler.js";
import { DeliveryTracker } from "./delivery-tracker.js";

const PATH = /^\/delivery-receipts\/([^/]+)\/([^/]+)$/;

/**
 * `POST /delivery-receipts/<provider>/<connection>`: a vendor's status callback. The connection's
 * provider authenticates it with the vendor's own check, over the public URL the vendor called
 * (`delivery.receipts.publicUrl` or the issuer: what the vendor signed, whatever a proxy rewrote) and
 * the body as received. No signature is 401, a wrong, stale or tampered one 403, both Auth0-shaped and
 * counted; an authentic one updates the code's delivery state and answers 204. Never CORS.
 */
export function receiptRoute(publicUrl: string): Route {
  const base = publicUrl.endsWith("/") ? publicUrl : `${publicUrl}/`;
  return {
    method: "POST",
    path: PATH,
    pattern: "/delivery-receipts/:provider/:connection",
    async handle(req, { textlock }) {
      const [, providerName, connectionName] = req.path.match(PATH)!.map((p) => safeDecode(p));
      const connection = textlock.config.connections.find((c) => c.name === connectionName);
      if (!connection || !providerName) throw new TextlockError("ERR_NOT_FOUND");
      const parts = containerOf(textlock);
      const rawBody =
        typeof req.body === "string" ? req.body : Buffer.isBuffer(req.body) ? req.body.toString("utf8") : undefined;
      const params = parseBody(req, textlock.config.server.bodyLimitBytes);
      const query = new URLSearchParams(req.query).toString();
      const url = `${base}${req.path.slice(1)}${query ? `?${query}` : ""}`;
      const verdict = await parts.resolve(PROVIDERS).parseReceipt(connection, providerName, {
        url,
        headers: req.headers,
        // A body the host framework already parsed has lost its bytes: a payload hash cannot match it.
        rawBody: rawBody ?? "",
        params,
      });
      if (!verdict) throw new TextlockError("ERR_NOT_FOUND");
      if (!verdict.ok) {
        parts
          .resolve(EVENTS)
          .emit("receipt.refused", { provider: providerName, connection: connection.name, reason: verdict.reason });
        throw new TextlockError(verdict.reason === "unsigned" ? "ERR_RECEIPT_UNSIGNED" : "ERR_RECEIPT_FORGED");
      }
      await parts.resolve(DeliveryTracker).apply(providerName, verdict.receipts);
      return { status: 204, headers: { "cache-control": "no-store" }, body: "" };
    },
  };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return "";
  }
}
