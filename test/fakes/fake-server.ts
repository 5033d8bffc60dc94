import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the fake received, parsed. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Query string parameters. */
  query: Record<string, string>;
  headers: IncomingMessage["headers"];
  /** Raw body text. */
  raw: string;
  /** Body parsed as JSON or form fields. */
  fields: Record<string, unknown>;
  /** When the request arrived (epoch ms). */
  at: number;
}

/**
 * A fault for the next request(s): answer with a status/body, wait first, never answer (`hang`),
 * or destroy the socket (`reset`).
 */
export interface Fault {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  hang?: boolean;
  reset?: boolean;
}

export interface FakeServer {
  url: string;
  /** Every request, oldest first. */
  requests: RecordedRequest[];
  /** Faults applied to the next requests, one each, in order (then `always`, then normal). */
  script: Fault[];
  /** A fault applied to every request while set. */
  always: Fault | undefined;
  close(): Promise<void>;
}

/**
 * A loopback HTTP server that plays a vendor: `respond` gives the normal answer for a request; the
 * fault knobs override it. Used by the Twilio, Vonage and SMS-gateway fakes.
 */
export async function startFakeServer(
  respond: (
    req: RecordedRequest,
  ) =>
    | { status: number; body: unknown; headers?: Record<string, string> }
    | Promise<{ status: number; body: unknown; headers?: Record<string, string> }>,
): Promise<FakeServer> {
  const hanging = new Set<ServerResponse>();
  const state: Omit<FakeServer, "url" | "close"> = { requests: [], script: [], always: undefined };
  const server: Server = createServer(async (req, res) => {
    const at = Date.now();
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const type = req.headers["content-type"] ?? "";
    let fields: Record<string, unknown> = {};
    try {
      fields = type.includes("json") ? JSON.parse(raw || "{}") : Object.fromEntries(new URLSearchParams(raw));
    } catch {
      fields = {};
    }
    const recorded: RecordedRequest = {
      method: req.method ?? "",
      path: (req.url ?? "").split("?")[0]!,
      query: Object.fromEntries(new URL(req.url ?? "/", "http://fake").searchParams),
      headers: req.headers,
      raw,
      fields,
      at,
    };
    state.requests.push(recorded);
    const fault = state.script.shift() ?? state.always;
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.reset) return req.socket.destroy();
    if (fault?.hang) return void hanging.add(res);
    // A faulted request is answered by the fault alone: the vendor never accepted it.
    const normal = fault?.status
      ? { status: fault.status, body: fault.body ?? { message: "fault", status: fault.status }, headers: {} }
      : await respond(recorded);
    const status = normal.status;
    const body = normal.body;
    res.writeHead(status, { "content-type": "application/json", ...normal.headers, ...fault?.headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
