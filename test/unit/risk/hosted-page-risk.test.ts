import { describe, expect, it } from "vitest";
import { pageError } from "../../../core/browser/hosted-page-steps.js";
import { translator } from "../../../core/browser/i18n.js";
import { TextlockError } from "../../../core/errors/textlock-error.js";

describe("hosted page: a pre-send risk refusal", () => {
  it("is shown as the generic denial, with the 403 status and no reason", () => {
    expect(pageError(new TextlockError("ERR_RISK_REFUSED"), translator("fr"))).toEqual({
      text: "Accès refusé.",
      status: 403,
      headers: {},
    });
  });
});
