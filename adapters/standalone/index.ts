import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import {
  createHttpHandler,
  errorResponse,
  fromNodeRequest,
  type HttpHandlerOptions,
  healthRoutes,
  readNodeBody,
  type Textlock,
  writeNodeResponse,
} from "../../core/http/index.js";

export interface StandaloneOptions extends HttpHandlerOptions {
  /** `GET /health/live` and `/health/ready` for load balancers and probes (default true; see healthRoutes). */
  health?: boolean;
  /** Defaults to `config.server.host`. */
  host?: string;
  /** Defaults to `config.server.port`; 0 picks a free port. */
  port?: number;
}

export interface RunningServer {
  server: Server;
  /** `http(s)://host:port` */
  url: string;
  port: number;
  /**
   * Stops accepting connections and lets the requests in flight finish (each answered with
   * `Connection: close`, idle keep-alive connections closed at once); connections still open after
   * `graceMs` (default 10 s) are cut. Resolves once every connection is gone; a second call returns
   * the first one's promise.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** The standalone server: node:http, or node:https when `config.server.https` names a certificate. */
export async function startServer(textlock: Textlock, options: StandaloneOptions = {}): Promise<RunningServer> {
  const handle = createHttpHandler(
    textlock,
    options.health === false ? options : { ...options, routes: [...(options.routes ?? []), ...healthRoutes()] },
  );
  const limit = textlock.config.server.bodyLimitBytes;
  // Set by the first close(): from then on each answer ends its connection, so draining ends with the
  // last of them.
  let closed: Promise<void> | undefined;
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const body = await readNodeBody(req, limit);
      const response = await handle(fromNodeRequest(req, body.length ? body : undefined));
      if (closed) res.shouldKeepAlive = false;
      writeNodeResponse(res, response);
    } catch (err) {
      if (closed) res.shouldKeepAlive = false;
      writeNodeResponse(res, errorResponse(err));
    }
  };
  const tls = textlock.config.server.https;
  const server = tls
    ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, listener)
    : createHttpServer(listener);
  server.keepAliveTimeout = textlock.config.server.keepAliveTimeoutSeconds * 1000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const host = options.host ?? textlock.config.server.host;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? textlock.config.server.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`,
    // A second call waits for the first (it does not cut the drain short).
    close: ({ graceMs = 10_000 } = {}) =>
      (closed ??= new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      })),
  };
}
