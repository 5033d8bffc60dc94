import { toWireError } from "../../core/errors/to-wire-error.js";
import type { TestTextlock } from "./create-test-textlock.js";

/** The issuer the hook suites' tokens are checked against. */
export const ISSUER = "https://auth.example.test/";

/** Sends a code to `phone` through the dev client. */
export const start = (tl: TestTextlock, phone: string) =>
  tl.api.start({ client_id: "textlock-dev", connection: "sms", phone_number: phone });

/** The API the hook suites' logins ask an access token for (custom access-token claims go to APIs). */
export const API = "https://api.example.test";

/** Logs in with the code last sent to `phone` (or `otp`), as the token endpoint would, for {@link API}. */
export const login = (tl: TestTextlock, phone: string, otp = tl.lastCode(phone)) =>
  tl.api.login(
    { client_id: "textlock-dev", phone_number: phone, code: otp, scope: "openid profile", audience: API },
    { issuer: ISSUER },
  );

/** A call's outcome as the wire would show it. */
export const wire = (p: Promise<unknown>) =>
  p.then(
    () => ({ status: 200, body: {} as Record<string, string> }),
    (e) => toWireError(e),
  );
