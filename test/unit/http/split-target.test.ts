import { describe, expect, it } from "vitest";
import { readTarget, splitTarget } from "../../../core/http/node.js";

/** The WHATWG URL parser's path and query string of a target (an origin-form one appended to the origin). */
const byUrl = (target: string) => {
  const url = target.startsWith("/") ? new URL(`http://localhost${target}`) : new URL(target, "http://localhost");
  return { path: url.pathname, search: url.search.slice(1) };
};
const queryOf = (search: string) => [...new URLSearchParams(search)];

describe("splitTarget (a request target's path and query without new URL)", () => {
  it.each([
    "/",
    "/oauth/token",
    "/.well-known/openid-configuration",
    "/passwordless/start?",
    "/authorize?client_id=app&redirect_uri=http%3A%2F%2Fa%2Fcb&scope=openid+profile",
    "/a/",
    "/..x/.y/~z_-",
    "?a=1",
    "",
    // Not plain: new URL normalizes each of these, and splitTarget must hand them to it.
    "/a/../b",
    "/a/./b",
    "/a/..",
    "/a/.",
    "/..?x=1",
    "//evil.example/x",
    "/a//b",
    "/%2e%2e/x",
    "/caf\u00e9",
    "/a b",
    "/a\\b",
    "/a?x=1#frag",
    "/a#frag",
    "/a?q=\"<'>`{}|^",
    "/a?q=%zz&r=%41",
    "*",
  ])("reads %j as new URL does", (target) => {
    const mine = splitTarget(target);
    const url = byUrl(target);
    expect(mine.path).toBe(url.path);
    expect(queryOf(mine.search)).toEqual(queryOf(url.search));
  });

  it("reads a target starting with // as a path, not a host, and one URL cannot parse as no route's path", () => {
    expect(splitTarget("//evil.example/oauth/token")).toEqual({ path: "//evil.example/oauth/token", search: "" });
    expect(splitTarget("http://[::1/x").path).toBe("http://[::1/x");
  });

  it("agrees with new URL on 20,000 generated targets", () => {
    // Targets mixing the characters where the two could part: dots, slashes, escapes, query and fragment marks.
    const alphabet = [
      "/",
      "/",
      "/",
      ".",
      ".",
      "a",
      "Z",
      "0",
      "_",
      "-",
      "~",
      "%",
      "2e",
      "?",
      "&",
      "=",
      "#",
      "+",
      " ",
      "\\",
      "é",
      "'",
    ];
    let seed = 42;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 20_000; i++) {
      let target = "/";
      for (let n = next() % 12; n > 0; n--) target += alphabet[next() % alphabet.length];
      const mine = splitTarget(target);
      const url = byUrl(target);
      expect({ target, path: mine.path }).toEqual({ target, path: url.path });
      expect({ target, query: queryOf(mine.search) }).toEqual({ target, query: queryOf(url.search) });
    }
  });
});

describe("readTarget (what every adapter gives the handler)", () => {
  it("decodes the query, the first value of a repeated key winning", () => {
    expect(readTarget("/authorize?a=1&b=x%20y&a=2&c=+")).toEqual({
      path: "/authorize",
      query: { a: "1", b: "x y", c: " " },
    });
    expect(readTarget("/x")).toEqual({ path: "/x", query: {} });
  });

  it("keeps keys named like Object.prototype's as own fields, never the prototype", () => {
    const { query } = readTarget("/x?constructor=c&__proto__=p&toString=t");
    expect(Object.getPrototypeOf(query)).toBe(Object.prototype);
    expect(Object.keys(query)).toEqual(["constructor", "__proto__", "toString"]);
    expect(query.constructor).toBe("c");
    expect(Object.getOwnPropertyDescriptor(query, "__proto__")?.value).toBe("p");
  });
});
