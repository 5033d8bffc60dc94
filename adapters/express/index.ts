import type { NextFunction, Request, Response } from "express";
import type { Textlock } from "../../core/create-textlock.js";
import { adapterErrorResponse, createHttpHandler, fromNodeRequest, type HttpHandlerOptions, readNodeBody, writeNodeResponse } from "../../core/http/index.js";

/**
 * Express middleware serving the Auth0-compatible API: `app.use(textlockExpress(textlock))`.
 * Requests no route matches go to `next()`. Works whether or not a body parser ran before it.
 */
export function textlockExpress(textlock: Textlock, options: HttpHandlerOptions = {}) {
  const handle = createHttpHandler(textlock, options);
  const limit = textlock.config.server.bodyLimitBytes;
  return async function textlockMiddleware(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      const parsed = req.body !== undefined && typeof req.body === "object" && !Buffer.isBuffer(req.body) && Object.keys(req.body).length ? req.body : undefined;
      const body = parsed ?? (req.readableEnded ? undefined : await readNodeBody(req, limit));
      const request = { ...fromNodeRequest(req, body), ip: req.ip ?? req.socket.remoteAddress, path: req.path };
      const response = await handle(request);
      if (response.status === 404 && !res.headersSent) return next();
      writeNodeResponse(res, response);
    } catch (err) {
      if (!res.headersSent) writeNodeResponse(res, adapterErrorResponse(err));
    }
  };
}
