import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { Textlock } from "../../core/create-textlock.js";
import { adapterErrorResponse, createHttpHandler, type HttpHandlerOptions, type HttpRequest } from "../../core/http/index.js";

export interface TextlockFastifyOptions extends HttpHandlerOptions {
  textlock: Textlock;
}

/**
 * A Fastify plugin serving the Auth0-compatible API: `app.register(textlockFastify, { textlock })`.
 * Body parsing is encapsulated: the plugin reads raw bodies itself and leaves the app's parsers alone.
 */
export const textlockFastify: FastifyPluginAsync<TextlockFastifyOptions> = async (app: FastifyInstance, options) => {
  const handle = createHttpHandler(options.textlock, options);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: options.textlock.config.server.bodyLimitBytes }, (_req, body, done) => done(null, body));
  const route = async (req: FastifyRequest, reply: FastifyReply) => {
    const url = new URL(req.url, "http://localhost");
    const request: HttpRequest = {
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v])),
      body: Buffer.isBuffer(req.body) && req.body.length ? req.body : undefined,
      ip: req.ip,
      secure: req.protocol === "https",
    };
    const response = await handle(request);
    return reply.code(response.status).headers(response.headers).send(response.body);
  };
  app.setErrorHandler(async (err, _req, reply) => {
    const response = adapterErrorResponse(err);
    return reply.code(response.status).headers(response.headers).send(response.body);
  });
  app.all("/*", route);
};
