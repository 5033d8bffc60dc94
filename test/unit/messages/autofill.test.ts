import { describe, expect, it } from "vitest";
import {
  autofillHost,
  originBoundLine,
  SMS_RETRIEVER_MAX_BYTES,
  smsSegments,
  withAutofill,
} from "../../../core/messages/autofill.js";

const on = { origin_bound: true };
const warnings: unknown[] = [];
const logger = { warn: (...args: unknown[]) => warnings.push(args) } as never;

describe("SMS autofill formats", () => {
  it("appends the origin-bound line last, after a blank line: @<host> #<code>", () => {
    const text = withAutofill("Your verification code is: 482913", "482913", on, "https://login.example.com/");
    expect(text).toBe("Your verification code is: 482913\n\n@login.example.com #482913");
    // The WICG format: the last line, one space between the fields, nothing before the first @.
    expect(text.split("\n").at(-1)).toMatch(/^@[a-z0-9.-]+ #\d+$/);
    expect(originBoundLine("a.example", "0012")).toBe("@a.example #0012");
  });

  it("binds to the host only: no scheme, port, path or upper case; a Host header works too", () => {
    expect(autofillHost("https://Login.Example.com:8443/tenant/")).toBe("login.example.com");
    expect(autofillHost("localhost:3000")).toBe("localhost");
    // An IP address is not a site: no line.
    expect(autofillHost("127.0.0.1:3000")).toBeUndefined();
    expect(autofillHost("[::1]:3000")).toBeUndefined();
    expect(autofillHost(undefined)).toBeUndefined();
    expect(withAutofill("Code 1234", "1234", on, "127.0.0.1:3000")).toBe("Code 1234");
  });

  it("uses the client's own host over the issuer's, and can be turned off per client", () => {
    expect(
      withAutofill("Code 1234", "1234", { origin_bound: true, host: "app.example.org" }, "https://id.example"),
    ).toBe("Code 1234\n\n@app.example.org #1234");
    expect(withAutofill("Code 1234", "1234", { origin_bound: false }, "https://id.example")).toBe("Code 1234");
  });

  it("does not add a second line when the template already ends with one", () => {
    const body = "Code 1234\n\n@id.example #1234";
    expect(withAutofill(body, "1234", on, "https://id.example")).toBe(body);
  });

  it("puts the Android SMS Retriever hash on its own line, before the origin-bound line (or last)", () => {
    const hash = "FA+9qCX9VSu";
    expect(
      withAutofill("Your code: 482913", "482913", { origin_bound: true, android_app_hash: hash }, "https://id.example"),
    ).toBe(`Your code: 482913\n${hash}\n@id.example #482913`);
    expect(
      withAutofill("Your code: 482913", "482913", { origin_bound: false, android_app_hash: hash }, undefined),
    ).toBe(`Your code: 482913\n${hash}`);
  });

  it("warns (without the code) when a message for SMS Retriever passes 140 bytes, and still sends it", () => {
    warnings.length = 0;
    const hash = "FA+9qCX9VSu";
    const short = withAutofill(
      "Code: 482913",
      "482913",
      { origin_bound: true, android_app_hash: hash },
      "id.example",
      logger,
    );
    expect(Buffer.byteLength(short)).toBeLessThanOrEqual(SMS_RETRIEVER_MAX_BYTES);
    expect(warnings).toHaveLength(0);
    const long = withAutofill(
      `${"x".repeat(120)} 482913`,
      "482913",
      { origin_bound: true, android_app_hash: hash },
      "id.example",
      logger,
    );
    expect(Buffer.byteLength(long)).toBeGreaterThan(SMS_RETRIEVER_MAX_BYTES);
    expect(long.endsWith("@id.example #482913")).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings)).not.toContain("482913");
  });

  it("the default template with the line stays one GSM-7 SMS for a typical host; accents and emoji cost UCS-2", () => {
    const text = withAutofill("Your verification code is: 482913", "482913", on, "https://login.example.com");
    expect(smsSegments(text)).toEqual({ encoding: "GSM-7", units: text.length, segments: 1 });
    expect(smsSegments("x".repeat(160)).segments).toBe(1);
    expect(smsSegments("x".repeat(161)).segments).toBe(2);
    expect(smsSegments("€".repeat(80))).toEqual({ encoding: "GSM-7", units: 160, segments: 1 });
    expect(smsSegments("Votre code : 482913 ✓")).toMatchObject({ encoding: "UCS-2", segments: 1 });
    expect(smsSegments("ł".repeat(71))).toEqual({ encoding: "UCS-2", units: 71, segments: 2 });
  });
});
