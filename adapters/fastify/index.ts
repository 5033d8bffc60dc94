import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import {
  adapterErrorResponse,
  createHttpHandler,
  type HttpHandlerOptions,
  type HttpRequest,
  plainHeaders,
  readTarget,
  type Textlock,
} from "../../core/http/index.js";

export interface TextlockFastifyOptions extends HttpHandlerOptions {
  textlock: Textlock;
}

/**
 * A Fastify plugin serving the Auth0-compatible API: `app.register(textlockFastify, { textlock })`, or under
 * a path with `app.register(textlockFastify, { textlock, prefix: "/auth" })`. It registers only textlock's
 * own paths, so every other path reaches the app's routes and its setNotFoundHandler. Body parsing is
 * encapsulated: inside the plugin raw bodies are read up to `server.bodyLimitBytes`; the app's parsers are untouched.
 */
export const textlockFastify: FastifyPluginAsync<TextlockFastifyOptions> = async (app: FastifyInstance, options) => {
  const unnamed = options.routes?.find((r) => typeof r.path !== "string" && !r.pattern);
  if (unnamed)
    throw new Error(
      `textlock route ${unnamed.path} needs a \`pattern\` (like "/client/:file") to be registered in Fastify`,
    );
  // app.prefix is the full prefix of this plugin context (nested registers add up); the handler strips it.
  const handle = createHttpHandler(options.textlock, { ...options, prefix: app.prefix });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "*",
    { parseAs: "buffer", bodyLimit: options.textlock.config.server.bodyLimitBytes },
    (_req, body, done) => done(null, body),
  );
  const route = async (req: FastifyRequest, reply: FastifyReply) => {
    const { path, query } = readTarget(req.url);
    // A parametric route (/client/:file) is wider than textlock's RegExp: what it does not own goes to the app's 404.
    if (!handle.matches(req.method, path)) return reply.callNotFound();
    const request: HttpRequest = {
      method: req.method,
      path,
      query,
      headers: plainHeaders(req.headers),
      body: Buffer.isBuffer(req.body) && req.body.length ? req.body : undefined,
      ip: req.ip,
      secure: "encrypted" in req.raw.socket && Boolean((req.raw.socket as { encrypted?: boolean }).encrypted),
      local: { address: req.raw.socket.localAddress, port: req.raw.socket.localPort },
    };
    const response = await handle(request);
    return reply.code(response.status).headers(response.headers).send(response.body);
  };
  app.setErrorHandler(async (err, _req, reply) => {
    const response = adapterErrorResponse(err);
    return reply.code(response.status).headers(response.headers).send(response.body);
  });
  // Every method on textlock's paths: a preflight is answered, a wrong method gets textlock's 405.
  for (const { path } of handle.routes) app.all(path, route);
};
