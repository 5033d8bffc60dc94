import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { extend } from "../../../core/extend.js";

describe("extend", () => {
  it("is { ...base, ...more }: a new object, later keys winning, base untouched", () => {
    const base = { a: 1, b: 2 };
    const out = extend(base, { b: 3, c: 4 });
    expect(out).toEqual({ a: 1, b: 3, c: 4 });
    expect(Object.keys(out)).toEqual(["a", "b", "c"]);
    expect(base).toEqual({ a: 1, b: 2 });
    expect(out).not.toBe(base);
  });

  it("keeps an own __proto__ key of parsed input a plain field, as a spread does (never the copy's prototype)", () => {
    const parsed = JSON.parse('{"client_id":"app","__proto__":{"admin":true}}') as Record<string, unknown>;
    const out = extend(parsed, { client_secret: "s" }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.admin).toBeUndefined();
    expect(Object.hasOwn(out, "__proto__")).toBe(true);
    expect(out).toEqual({ ...parsed, client_secret: "s" });
  });

  // Why it exists (docs/performance.md): on Node 20 `{ ...user, last_login }` gets a hidden class of its
  // own on every call; extend's objects share one. If a Node upgrade fixes the literal, the first
  // expectation fails and says so: extend can then go.
  it("builds objects that share V8's hidden class, where the spread literal does not", () => {
    const script = fileURLToPath(new URL("./fixtures/hidden-classes.ts", import.meta.url));
    const out = execFileSync(process.execPath, ["--allow-natives-syntax", "--import", "tsx", script], {
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual({ spreadLiteral: false, extend: true, applyLogin: true });
  });
});
