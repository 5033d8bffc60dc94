import type { Context, Next } from "koa";
import {
  adapterErrorResponse,
  createHttpHandler,
  fromNodeRequest,
  type HttpHandlerOptions,
  type HttpResponse,
  readNodeBody,
  type Textlock,
} from "../../core/http/index.js";

/**
 * Koa middleware serving the Auth0-compatible API: `app.use(textlockKoa(textlock))`, or under a path with
 * `textlockKoa(textlock, { prefix: "/auth" })`. Requests for paths textlock does not own go downstream
 * untouched (body unread), so the host's body reader and 404 handling see them as if textlock were not there.
 */
export function textlockKoa(textlock: Textlock, options: HttpHandlerOptions = {}) {
  const handle = createHttpHandler(textlock, options);
  const limit = textlock.config.server.bodyLimitBytes;
  return async function textlockMiddleware(ctx: Context, next: Next): Promise<void> {
    // koa-mount strips its path from ctx.path (keeping it in ctx.mountPath), like Express's app.use(path).
    if (!handle.matches(ctx.method, ctx.path)) return next();
    // A host body reader that ran first consumed the stream: use what it parsed.
    const parsed = (ctx.request as { body?: unknown }).body;
    let response: HttpResponse;
    try {
      const body =
        parsed && typeof parsed === "object" && Object.keys(parsed).length
          ? (parsed as Record<string, unknown>)
          : ctx.req.readableEnded
            ? undefined
            : await readNodeBody(ctx.req, limit);
      response = await handle({
        ...fromNodeRequest(ctx.req, Buffer.isBuffer(body) && !body.length ? undefined : body),
        path: ctx.path,
        ip: ctx.ip,
        mountPath: (ctx as { mountPath?: string }).mountPath,
      });
    } catch (err) {
      response = adapterErrorResponse(err);
    }
    ctx.status = response.status;
    ctx.set(response.headers as Record<string, string>);
    ctx.body = response.body;
  };
}
