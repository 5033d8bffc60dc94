import type { IncomingMessage, ServerResponse } from "node:http";
import type { HttpRequest, HttpResponse } from "./types.js";

/**
 * A request target whose path `new URL` would return unchanged: segments of unreserved characters, no
 * `.`/`..` segment, no empty segment (a leading `//` would even be read as a host), an optional query of
 * printable ASCII, no fragment. Anything else is parsed by `new URL`.
 */
const PLAIN_TARGET = /^((?:\/(?!\.{1,2}(?:[/?]|$))[\w.~-]+)*\/?)(?:\?([\x21-\x22\x24-\x7e]*))?$/;

/**
 * The path and query string of a request target, as the WHATWG URL parser reads them (dot segments
 * resolved, unsafe characters escaped). A target that starts with `/` is a path even when it starts
 * with `//` (HTTP's origin form; `new URL("//host/x", base)` would read a host). One that cannot be
 * parsed at all is returned as its own path, which no route matches.
 */
export function splitTarget(target: string): { path: string; search: string } {
  const plain = PLAIN_TARGET.exec(target);
  if (plain) return { path: plain[1] || "/", search: plain[2] ?? "" };
  try {
    const url = target.startsWith("/") ? new URL(`http://localhost${target}`) : new URL(target, "http://localhost");
    return { path: url.pathname, search: url.search.slice(1) };
  } catch {
    return { path: target, search: "" };
  }
}

/** The plain request for a Node request whose body has been read (or parsed by a framework). */
export function fromNodeRequest(req: IncomingMessage, body: HttpRequest["body"]): HttpRequest {
  const { path, search } = splitTarget(req.url ?? "/");
  const headers: HttpRequest["headers"] = {};
  const raw = req.headers;
  for (const name of Object.keys(raw)) {
    const value = raw[name];
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  const query: Record<string, string> = {};
  if (search) for (const [k, v] of new URLSearchParams(search)) if (!(k in query)) query[k] = v;
  return {
    method: req.method ?? "GET",
    path,
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
