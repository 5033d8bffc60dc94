import type { UserQuery } from "./user-query.js";
import { wildcardParts } from "./user-query.js";
import type { UserSearchOptions } from "./user-store.js";

/** A WHERE clause and its parameters. Field paths are checked by the parser (`[A-Za-z0-9_-]` segments). */
export interface SqlWhere {
  sql: string;
  params: unknown[];
}

/** How one SQL dialect reads a profile field's text and matches it. */
interface Dialect {
  /** The field's text (strings as is, numbers and booleans as JSON text, else NULL). */
  text(field: string[], param: (v: unknown) => string): string;
  /** A wildcard match of an expression against a value with `*` runs. */
  like(expr: string, value: string, param: (v: unknown) => string): string;
}

const sqlite: Dialect = {
  text(field, param) {
    const path = param(`$.${field.map((s) => `"${s}"`).join(".")}`);
    return `(CASE json_type(profile, ${path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'text' THEN json_extract(profile, ${path}) WHEN 'integer' THEN CAST(json_extract(profile, ${path}) AS TEXT) WHEN 'real' THEN CAST(json_extract(profile, ${path}) AS TEXT) END)`;
  },
  // GLOB is case-sensitive (LIKE is not in SQLite); its special characters are escaped as classes.
  like(expr, value, param) {
    const glob = wildcardParts(value)
      .map((p) => (typeof p === "string" ? p.replace(/[*?[]/g, (c) => `[${c}]`) : "*"))
      .join("");
    return `${expr} GLOB ${param(glob)}`;
  },
};

const postgres: Dialect = {
  text(field, param) {
    const path = `${param(field)}::text[]`;
    return `(CASE WHEN jsonb_typeof(profile #> ${path}) IN ('string', 'number', 'boolean') THEN profile #>> ${path} END)`;
  },
  like(expr, value, param) {
    const pattern = wildcardParts(value)
      .map((p) => (typeof p === "string" ? p.replace(/[\\%_]/g, (c) => `\\${c}`) : "%"))
      .join("");
    return `${expr} LIKE ${param(pattern)} ESCAPE '\\'`;
  },
};

function compile(query: UserQuery, d: Dialect, param: (v: unknown) => string): string {
  switch (query.op) {
    case "and":
    case "or":
      return `(${query.terms.map((t) => compile(t, d, param)).join(query.op === "and" ? " AND " : " OR ")})`;
    case "not":
      return `(NOT COALESCE(${compile(query.term, d, param)}, FALSE))`;
    case "exists":
      return `(${d.text(query.field, param)} IS NOT NULL)`;
    case "match":
      return query.wildcard
        ? `(${d.like(d.text(query.field, param), query.value, param)})`
        : `(${d.text(query.field, param)} = ${param(query.value)})`;
  }
}

/**
 * The WHERE clause of a user search for SQLite (named `@pN` parameters: bind {@link namedParams}) or
 * PostgreSQL (`$N`), numbered from `firstParam`. Values are always parameters; field paths come from the parser's allow-list.
 */
export function userSearchWhere(
  dialect: "sqlite" | "postgres",
  options: Pick<UserSearchOptions, "query" | "connection">,
  firstParam = 1,
): SqlWhere {
  const params: unknown[] = [];
  const param = (v: unknown) => {
    params.push(v);
    // Numbered or named, so one parameter can be used several times (the field path in `text`).
    return `${dialect === "sqlite" ? "@p" : "$"}${firstParam + params.length - 1}`;
  };
  const d = dialect === "sqlite" ? sqlite : postgres;
  const parts: string[] = [];
  if (options.connection !== undefined) parts.push(`connection = ${param(options.connection)}`);
  if (options.query) parts.push(`COALESCE(${compile(options.query, d, param)}, FALSE)`);
  return { sql: parts.length ? parts.join(" AND ") : "TRUE", params };
}

/** The ORDER BY of a user search (the field names come from a fixed list, never from input). */
export function userSearchOrder(dialect: "sqlite" | "postgres", sort: UserSearchOptions["sort"]): string {
  const dir = sort?.descending ? "DESC" : "ASC";
  const field = sort?.field ?? "created_at";
  if (field === "created_at") return `created_at ${dir}, user_id ${dir}`;
  if (field === "user_id" || field === "phone_number") return `${field} ${dir}`;
  const expr =
    dialect === "sqlite"
      ? `json_extract(profile, '$.${field}')`
      : field === "logins_count"
        ? `(profile->>'logins_count')::bigint`
        : `(profile->>'${field}')`;
  return `${expr} ${dir}, user_id ${dir}`;
}

/** SQLite's named parameters of a {@link SqlWhere} (`@p1`… → `{p1: …}`), from `firstParam` 1. */
export function namedParams(where: SqlWhere): Record<string, unknown> {
  return Object.fromEntries(where.params.map((v, i) => [`p${i + 1}`, v]));
}
