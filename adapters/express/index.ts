import type { NextFunction, Request, Response } from "express";
import {
  adapterErrorResponse,
  createHttpHandler,
  fromNodeRequest,
  type HttpHandlerOptions,
  readNodeBody,
  type Textlock,
  writeNodeResponse,
} from "../../core/http/index.js";

/**
 * Express middleware serving the Auth0-compatible API: `app.use(textlockExpress(textlock))`, or under a
 * path with `app.use("/auth", textlockExpress(textlock))` or `textlockExpress(textlock, { prefix: "/auth" })`.
 * Requests for paths textlock does not own go to `next()` untouched (body unread), so host routes and
 * body parsers mounted before or after it see them as if textlock were not there.
 */
export function textlockExpress(textlock: Textlock, options: HttpHandlerOptions = {}) {
  const handle = createHttpHandler(textlock, options);
  const limit = textlock.config.server.bodyLimitBytes;
  return async function textlockMiddleware(req: Request, res: Response, next: NextFunction): Promise<void> {
    // Under app.use("/auth", …) Express has already stripped "/auth" from req.path (it is in req.baseUrl).
    if (!handle.matches(req.method, req.path)) return next();
    try {
      // A host body parser that ran first consumed the stream: use what it parsed.
      const parsed =
        req.body !== undefined &&
        typeof req.body === "object" &&
        !Buffer.isBuffer(req.body) &&
        Object.keys(req.body).length
          ? req.body
          : undefined;
      const body = parsed ?? (req.readableEnded ? undefined : await readNodeBody(req, limit));
      const request = {
        ...fromNodeRequest(req, body),
        ip: req.ip ?? req.socket.remoteAddress,
        path: req.path,
        mountPath: req.baseUrl,
      };
      writeNodeResponse(res, await handle(request));
    } catch (err) {
      if (!res.headersSent) writeNodeResponse(res, adapterErrorResponse(err));
    }
  };
}
