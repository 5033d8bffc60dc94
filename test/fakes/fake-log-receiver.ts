import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One batch a log stream delivered. */
export interface ReceivedBatch {
  headers: IncomingHttpHeaders;
  raw: string;
  /** The events of the batch (`{log_id, data}`), whatever the stream's format. */
  events: Array<{ log_id: string; data: Record<string, unknown> }>;
  at: number;
  /** The status this receiver answered. */
  status: number;
}

/**
 * A loopback receiver of Auth0-style custom-webhook log streams. `status` (default 200) and `delayMs`
 * set how it answers; `port` pins the port, so a test can start it after textlock already points at it
 * (the receiver was down) or restart it.
 */
export interface FakeLogReceiver {
  url: string;
  port: number;
  batches: ReceivedBatch[];
  /** Every event of every accepted (2xx) batch, in arrival order. */
  accepted(): Array<{ log_id: string; data: Record<string, unknown> }>;
  status: number;
  delayMs: number;
  close(): Promise<void>;
}

export async function startLogReceiver(port = 0): Promise<FakeLogReceiver> {
  const receiver = {
    batches: [] as ReceivedBatch[],
    status: 200,
    delayMs: 0,
  };
  const server: Server = createServer(async (req, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const status = receiver.status;
    if (receiver.delayMs) await new Promise((r) => setTimeout(r, receiver.delayMs));
    let events: ReceivedBatch["events"] = [];
    const trimmed = raw.trim();
    if (trimmed.startsWith("[")) events = JSON.parse(trimmed);
    else if (trimmed.startsWith('{"logs"')) events = JSON.parse(trimmed).logs;
    else if (trimmed) events = trimmed.split("\n").map((l) => JSON.parse(l));
    receiver.batches.push({ headers: req.headers, raw, events, at: Date.now(), status });
    res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "fail");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const actual = (server.address() as AddressInfo).port;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${actual}/logs`,
    port: actual,
    accepted: () => receiver.batches.filter((b) => b.status < 300).flatMap((b) => b.events),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Checks a batch's `X-Textlock-Signature` the way a receiver should: recompute, compare in constant time. */
export function signatureValid(secret: string, batch: ReceivedBatch): boolean {
  const header = batch.headers["x-textlock-signature"];
  if (typeof header !== "string" || !header.startsWith("sha256=")) return false;
  const expected = Buffer.from(createHmac("sha256", secret).update(batch.raw).digest("hex"));
  const given = Buffer.from(header.slice("sha256=".length));
  return given.length === expected.length && timingSafeEqual(given, expected);
}
