import type { Context, Next } from "koa";
import type { Textlock } from "../../core/create-textlock.js";
import { adapterErrorResponse, createHttpHandler, fromNodeRequest, type HttpHandlerOptions, readNodeBody } from "../../core/http/index.js";

/** Koa middleware serving the Auth0-compatible API: `app.use(textlockKoa(textlock))`. Unmatched requests go downstream. */
export function textlockKoa(textlock: Textlock, options: HttpHandlerOptions = {}) {
  const handle = createHttpHandler(textlock, options);
  const limit = textlock.config.server.bodyLimitBytes;
  return async function textlockMiddleware(ctx: Context, next: Next): Promise<void> {
    const parsed = (ctx.request as { body?: unknown }).body;
    let response;
    try {
      const body = parsed && typeof parsed === "object" && Object.keys(parsed).length ? (parsed as Record<string, unknown>) : await readNodeBody(ctx.req, limit);
      response = await handle({ ...fromNodeRequest(ctx.req, Buffer.isBuffer(body) && !body.length ? undefined : body), ip: ctx.ip });
    } catch (err) {
      response = adapterErrorResponse(err);
    }
    if (response.status === 404) return next();
    ctx.status = response.status;
    ctx.set(response.headers as Record<string, string>);
    ctx.body = response.body;
  };
}
