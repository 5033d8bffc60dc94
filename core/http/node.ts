import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { HttpRequest, HttpResponse } from "./types.js";

/**
 * A request target whose path the URL parser would return unchanged: segments of unreserved characters,
 * no `.`/`..` segment, no empty segment, an optional query of printable ASCII, no fragment. Anything
 * else (a leading `//` included) is parsed by `new URL` in {@link splitTarget}.
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

/**
 * A request target's path (see {@link splitTarget}) and decoded query parameters, the first value of a
 * repeated key winning (`?a=1&a=2` is `{ a: "1" }`): how every textlock adapter reads a target.
 */
export function readTarget(target: string): Pick<HttpRequest, "path" | "query"> {
  const { path, search } = splitTarget(target);
  if (!search) return { path, query: {} };
  const params = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(search)) if (!params.has(k)) params.set(k, v);
  // fromEntries makes own fields of any name (`__proto__`, `constructor`), as a JSON body's parse does.
  return { path, query: Object.fromEntries(params) };
}

/** Node's headers as plain strings: a repeated header's values joined with `, `. */
export function plainHeaders(raw: IncomingHttpHeaders): HttpRequest["headers"] {
  const headers: HttpRequest["headers"] = {};
  for (const name of Object.keys(raw)) {
    const value = raw[name];
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

/** The plain request for a Node request whose body has been read (or parsed by a framework). */
export function fromNodeRequest(req: IncomingMessage, body: HttpRequest["body"]): HttpRequest {
  const { path, query } = readTarget(req.url ?? "/");
  return {
    method: req.method ?? "GET",
    path,
    query,
    headers: plainHeaders(req.headers),
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
