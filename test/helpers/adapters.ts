import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import Koa from "koa";
import { textlockExpress } from "../../adapters/express/index.js";
import { textlockFastify } from "../../adapters/fastify/index.js";
import { textlockKoa } from "../../adapters/koa/index.js";
import { startServer } from "../../adapters/standalone/index.js";
import type { Textlock } from "../../core/create-textlock.js";

export type AdapterName = "standalone" | "express" | "koa" | "fastify";
export const ADAPTERS: AdapterName[] = ["standalone", "express", "koa", "fastify"];

export interface Served {
  url: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /**
   * Serve textlock under this path (`"/auth"`), the way each framework mounts: Express `app.use(prefix, …)`,
   * Fastify's register `prefix`, the `prefix` option for Koa and standalone. `url` stays the server's root.
   */
  prefix?: string;
}

/** Serves a textlock instance through one adapter on 127.0.0.1, on a free port. */
export async function serve(adapter: AdapterName, textlock: Textlock, { prefix }: ServeOptions = {}): Promise<Served> {
  switch (adapter) {
    case "standalone": {
      const s = await startServer(textlock, { host: "127.0.0.1", port: 0, ...(prefix ? { prefix } : {}) });
      return { url: s.url, close: s.close };
    }
    case "express": {
      const app = express();
      if (prefix) app.use(prefix, textlockExpress(textlock));
      else app.use(textlockExpress(textlock));
      return listen(app.listen(0, "127.0.0.1"));
    }
    case "koa": {
      const app = new Koa();
      app.use(textlockKoa(textlock, prefix ? { prefix } : {}));
      return listen(app.listen(0, "127.0.0.1"));
    }
    case "fastify": {
      const app = Fastify();
      await app.register(textlockFastify, { textlock, ...(prefix ? { prefix } : {}) });
      await app.listen({ port: 0, host: "127.0.0.1" });
      const { port } = app.server.address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
    }
  }
}

/** Waits for a node:http server to listen; `close` also drops keep-alive connections. */
export async function listen(server: import("node:http").Server): Promise<Served> {
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once("listening", () => resolve())));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
