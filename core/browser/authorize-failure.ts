import { isTextlockError } from "../errors/textlock-error.js";
import { toWireError } from "../errors/to-wire-error.js";
import { errorResponse } from "../http/response.js";
import type { HttpRequest, HttpResponse } from "../http/types.js";
import { AuthorizeRedirectError } from "./authorize-request.js";
import type { PageLanguage, Translate } from "./i18n.js";
import { errorPage } from "./login-page.js";
import { answerCallback } from "./response-modes.js";

/** Failures of `/authorize`: to the callback when it is trusted, else textlock's error page (or JSON for non-browsers). */
export function authorizeFailure(err: unknown, req: HttpRequest, language: PageLanguage, t: Translate): HttpResponse {
  if (err instanceof AuthorizeRedirectError) {
    const wire = toWireError(err.error).body;
    return answerCallback(err.target, { error: wire.error, error_description: wire.error_description }, language, t);
  }
  if (!isTextlockError(err)) throw err;
  if ((req.headers.accept ?? "").includes("text/html")) {
    const wire = toWireError(err);
    return errorPage(language, t, wire.body, wire.status);
  }
  return errorResponse(err);
}
