import { describe, expect, it } from "vitest";
import { TextlockError } from "../../../core/errors/textlock-error.js";
import { toWireError } from "../../../core/errors/to-wire-error.js";

describe("TextlockError", () => {
  it("captures a stack only for server-side errors, and leaves the stack limit as it found it", () => {
    const limit = Error.stackTraceLimit;
    const answer = new TextlockError("ERR_INVALID_REQUEST", { description: "otp must be a string" });
    expect(answer.stack).toBe("TextlockError: otp must be a string");
    const fault = new TextlockError("ERR_STORE_UNAVAILABLE", { cause: new Error("ECONNREFUSED") });
    expect(fault.stack).toContain("textlock-error.test.ts");
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error("plain").stack).toContain("textlock-error.test.ts");
  });

  it("still reaches the wire as an Auth0-shaped body", () => {
    expect(
      toWireError(new TextlockError("ERR_INVALID_REQUEST", { description: "otp must be a string" })),
    ).toMatchObject({ status: 400, body: { error: "invalid_request", error_description: "otp must be a string" } });
  });
});
