import type { IncomingMessage, ServerResponse } from "node:http";
import type { HttpRequest, HttpResponse } from "./types.js";

/** The plain request for a Node request whose body has been read (or parsed by a framework). */
export function fromNodeRequest(req: IncomingMessage, body: HttpRequest["body"]): HttpRequest {
  const url = new URL(req.url ?? "/", "http://localhost");
  const headers: HttpRequest["headers"] = {};
  for (const [name, value] of Object.entries(req.headers))
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (!(k in query)) query[k] = v;
  return {
    method: req.method ?? "GET",
    path: url.pathname,
    query,
    headers,
    body,
    ip: req.socket.remoteAddress,
    secure: "encrypted" in req.socket && Boolean((req.socket as { encrypted?: boolean }).encrypted),
    local: { address: req.socket.localAddress, port: req.socket.localPort },
  };
}

/** Writes a plain response to a Node response. */
export function writeNodeResponse(res: ServerResponse, response: HttpResponse): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}
