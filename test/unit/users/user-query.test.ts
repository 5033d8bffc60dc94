import { describe, expect, it } from "vitest";
import { newUserProfile } from "../../../core/users/profile.js";
import { userSearchWhere } from "../../../core/users/sql-query.js";
import { matchesUserQuery, parseUserQuery } from "../../../core/users/user-query.js";

describe("user search queries (q)", () => {
  it("parses terms, quotes, wildcards, _exists_, AND/OR/NOT and parentheses", () => {
    expect(parseUserQuery('phone_number:"+14155550100"')).toEqual({
      op: "match",
      field: ["phone_number"],
      value: "+14155550100",
      wildcard: false,
    });
    expect(parseUserQuery("blocked:true app_metadata.plan:pro")).toEqual({
      op: "and",
      terms: [
        { op: "match", field: ["blocked"], value: "true", wildcard: false },
        { op: "match", field: ["app_metadata", "plan"], value: "pro", wildcard: false },
      ],
    });
    expect(parseUserQuery("(name:x OR NOT blocked:true) AND _exists_:user_metadata.x")).toEqual({
      op: "and",
      terms: [
        {
          op: "or",
          terms: [
            { op: "match", field: ["name"], value: "x", wildcard: false },
            { op: "not", term: { op: "match", field: ["blocked"], value: "true", wildcard: false } },
          ],
        },
        { op: "exists", field: ["user_metadata", "x"] },
      ],
    });
    expect(parseUserQuery("phone_number:+1415*")).toMatchObject({ wildcard: true, value: "+1415*" });
    expect(parseUserQuery("identities.connection:sms")).toMatchObject({ field: ["connection"] });
    expect(parseUserQuery("   ")).toBeUndefined();
  });

  it.each([
    ['phone_number:"+1', /unterminated/],
    ["password:x", /not a searchable field/],
    ["app_metadata.a.b.c.d:x", /not a searchable field/],
    ["app_metadata.bad$name:x", /expected field:value|not a searchable field|unsupported/],
    ["(blocked:true", /missing '\)'/],
    ["blocked:true)", /unexpected/],
    ["blocked:", /missing value/],
    ["AND blocked:true", /unexpected/],
    ["just words", /expected field:value/],
    ["logins_count:[1 TO 5]", /unsupported character/],
    ["phone_number:1*", /at least 3/],
    ["x".repeat(2_001), /longer than/],
  ])("refuses %j with a 400 invalid_query_string", (q, why) => {
    let error: unknown;
    try {
      parseUserQuery(q);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: "ERR_MGMT_INVALID_QUERY" });
    expect((error as Error).message).toMatch(/^Query validation error: /);
    expect((error as Error).message).toMatch(why);
  });

  it("matches profiles by the text of a field, case-sensitively, with * and escapes", () => {
    const user = newUserProfile("sms", "+14155550100", { app_metadata: { plan: "Pro*Max", n: 2, ok: true } });
    const match = (q: string) => matchesUserQuery(user, parseUserQuery(q));
    expect(match('phone_number:"+14155550100"')).toBe(true);
    expect(match("phone_number:+1415*")).toBe(true);
    expect(match("phone_number:*0100")).toBe(true);
    expect(match("phone_number:+1416*")).toBe(false);
    expect(match("app_metadata.n:2 AND app_metadata.ok:true AND blocked:false")).toBe(true);
    expect(match("app_metadata.plan:pro*")).toBe(false);
    expect(match("app_metadata.plan:Pro\\*M*")).toBe(true);
    expect(match("app_metadata.plan:Pro\\*X*")).toBe(false);
    expect(match("_exists_:app_metadata.plan AND NOT _exists_:app_metadata.gone")).toBe(true);
    // An object is not a value: it neither matches nor "exists" as text.
    const nested = newUserProfile("sms", "+14155550101", { app_metadata: { a: { b: 1 } } });
    expect(matchesUserQuery(nested, parseUserQuery("_exists_:app_metadata.a"))).toBe(false);
    expect(matchesUserQuery(nested, parseUserQuery("app_metadata.a.b:1"))).toBe(true);
  });

  it("compiles to SQL with every value a parameter", () => {
    const where = userSearchWhere("postgres", {
      connection: "sms",
      query: parseUserQuery(`phone_number:"'; DROP TABLE textlock_users; --" OR app_metadata.plan:x%_*`)!,
    });
    expect(where.sql).not.toContain("DROP");
    expect(where.params).toContain("'; DROP TABLE textlock_users; --");
    expect(where.params).toContain("x\\%\\_%");
    expect(where.sql).toMatch(/^connection = \$1 AND /);
  });
});
