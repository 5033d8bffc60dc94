import { TextlockError } from "../errors/textlock-error.js";
import type { User } from "./user-store.js";

/**
 * A parsed user search (`q` of `GET /api/v2/users`, Auth0's Lucene-style syntax): terms
 * `field:value`, `field:"quoted value"`, `field:*wild*`, `_exists_:field`, combined with `AND`, `OR`,
 * `NOT` and parentheses; terms side by side mean AND. Values match the field's text form exactly
 * (case-sensitive; `true`/`false` for booleans), `*` matches any run of characters, `\` escapes.
 */
export type UserQuery =
  | { op: "and" | "or"; terms: UserQuery[] }
  | { op: "not"; term: UserQuery }
  /** `field` is a path into the profile: `["phone_number"]`, `["app_metadata", "plan"]`. */
  | { op: "match"; field: string[]; value: string; wildcard: boolean }
  | { op: "exists"; field: string[] };

/** Searchable top-level fields (Auth0 names); `app_metadata.*` and `user_metadata.*` are searchable too. */
const FIELDS = new Set([
  "user_id",
  "phone_number",
  "phone_verified",
  "blocked",
  "name",
  "nickname",
  "picture",
  "created_at",
  "updated_at",
  "last_login",
  "last_ip",
  "logins_count",
  "connection",
]);
const SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;

/** The longest `q` accepted (Auth0 answers an over-long query with an error too). */
export const MAX_QUERY_LENGTH = 2_000;

const invalid = (why: string) =>
  new TextlockError("ERR_MGMT_INVALID_QUERY", { description: `Query validation error: ${why}` });

/** The profile path of a search field, or a 400 for a field that cannot be searched. */
function fieldPath(name: string): string[] {
  if (name === "identities.connection") return ["connection"];
  const parts = name.split(".");
  if (parts.length === 1 && FIELDS.has(name)) return parts;
  if ((parts[0] === "app_metadata" || parts[0] === "user_metadata") && parts.length >= 2 && parts.length <= 4) {
    if (parts.every((p) => SEGMENT.test(p))) return parts;
  }
  throw invalid(`'${name}' is not a searchable field`);
}

type Token =
  | { kind: "(" | ")" | "AND" | "OR" | "NOT" }
  | { kind: "term"; field: string; value: string; wildcard: boolean; quoted: boolean };

function tokenize(q: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const ch = q[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "(" || ch === ")") {
      tokens.push({ kind: ch });
      i++;
      continue;
    }
    const fieldMatch = /^[A-Za-z_][\w.]*(?=:)/.exec(q.slice(i));
    if (!fieldMatch) {
      const word = /^\S+/.exec(q.slice(i))![0].replace(/\).*$/, "");
      if (word === "AND" || word === "OR" || word === "NOT") {
        tokens.push({ kind: word });
        i += word.length;
        continue;
      }
      if (word === "&&" || word === "||") {
        tokens.push({ kind: word === "&&" ? "AND" : "OR" });
        i += 2;
        continue;
      }
      throw invalid(`expected field:value at "${q.slice(i, i + 20)}"`);
    }
    const field = fieldMatch[0];
    i += field.length + 1;
    let value = "";
    let wildcard = false;
    let quoted = false;
    if (q[i] === '"') {
      quoted = true;
      i++;
      let closed = false;
      while (i < q.length) {
        const c = q[i]!;
        if (c === "\\" && i + 1 < q.length) {
          value += q[i + 1];
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw invalid("unterminated quoted value");
    } else {
      let escaped = "";
      while (i < q.length && !/[\s()]/.test(q[i]!)) {
        const c = q[i]!;
        if (c === "\\" && i + 1 < q.length) {
          escaped += `\\${q[i + 1]}`;
          i += 2;
          continue;
        }
        if (c === "*") wildcard = true;
        if (c === '"' || c === ":" || c === "[" || c === "]" || c === "{" || c === "}" || c === "~" || c === "^") {
          throw invalid(`unsupported character '${c}' in the value of ${field}`);
        }
        escaped += c;
        i++;
      }
      if (!escaped) throw invalid(`missing value for ${field}`);
      value = escaped;
    }
    tokens.push({ kind: "term", field, value, wildcard, quoted });
  }
  return tokens;
}

/** Parses a `q` parameter; malformed input is a 400 `invalid_query_string` in Auth0's words. */
export function parseUserQuery(q: string): UserQuery | undefined {
  if (q.length > MAX_QUERY_LENGTH) throw invalid(`the query is longer than ${MAX_QUERY_LENGTH} characters`);
  const tokens = tokenize(q);
  if (!tokens.length) return undefined;
  let pos = 0;
  const peek = () => tokens[pos];

  const primary = (): UserQuery => {
    const t = tokens[pos++];
    if (!t) throw invalid("unexpected end of query");
    if (t.kind === "(") {
      const inner = orExpr();
      if (tokens[pos++]?.kind !== ")") throw invalid("missing ')'");
      return inner;
    }
    if (t.kind === "NOT") return { op: "not", term: primary() };
    if (t.kind !== "term") throw invalid(`unexpected '${t.kind}'`);
    if (t.field === "_exists_") return { op: "exists", field: fieldPath(t.value) };
    const field = fieldPath(t.field);
    if (!t.quoted && t.wildcard) {
      const literal = t.value.replace(/\\(.)/g, "$1").replace(/\*/g, "");
      if (literal.length < 3 && t.value !== "*") throw invalid("wildcard values need at least 3 characters");
      if (t.value === "*") return { op: "exists", field };
      return { op: "match", field, value: t.value, wildcard: true };
    }
    return { op: "match", field, value: t.quoted ? t.value : t.value.replace(/\\(.)/g, "$1"), wildcard: false };
  };
  const andExpr = (): UserQuery => {
    const terms = [primary()];
    for (;;) {
      const t = peek();
      if (!t || t.kind === ")" || t.kind === "OR") break;
      if (t.kind === "AND") pos++;
      terms.push(primary());
    }
    return terms.length === 1 ? terms[0]! : { op: "and", terms };
  };
  const orExpr = (): UserQuery => {
    const terms = [andExpr()];
    while (peek()?.kind === "OR") {
      pos++;
      terms.push(andExpr());
    }
    return terms.length === 1 ? terms[0]! : { op: "or", terms };
  };
  const query = orExpr();
  if (pos < tokens.length) throw invalid(`unexpected '${tokens[pos]!.kind === "term" ? "term" : tokens[pos]!.kind}'`);
  return query;
}

/** A wildcard value's pieces: literal text and `*` runs (escapes resolved). */
export function wildcardParts(value: string): Array<string | { any: true }> {
  const parts: Array<string | { any: true }> = [];
  let text = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === "\\" && i + 1 < value.length) text += value[++i];
    else if (c === "*") {
      if (text) parts.push(text);
      text = "";
      parts.push({ any: true });
    } else text += c;
  }
  if (text) parts.push(text);
  return parts;
}

/** The text a field is matched against: strings as they are, numbers and booleans as JSON; else none. */
function fieldText(user: User, field: string[]): string | undefined {
  let v: unknown = user;
  for (const seg of field) {
    if (!v || typeof v !== "object" || Array.isArray(v) || !Object.hasOwn(v, seg)) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

/** Evaluates a query against a profile (the memory store; the SQL stores compile it instead). */
export function matchesUserQuery(user: User, query: UserQuery | undefined): boolean {
  if (!query) return true;
  switch (query.op) {
    case "and":
      return query.terms.every((t) => matchesUserQuery(user, t));
    case "or":
      return query.terms.some((t) => matchesUserQuery(user, t));
    case "not":
      return !matchesUserQuery(user, query.term);
    case "exists":
      return fieldText(user, query.field) !== undefined;
    case "match": {
      const text = fieldText(user, query.field);
      if (text === undefined) return false;
      if (!query.wildcard) return text === query.value;
      const pattern = wildcardParts(query.value)
        .map((p) => (typeof p === "string" ? p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : "[\\s\\S]*"))
        .join("");
      return new RegExp(`^${pattern}$`).test(text);
    }
  }
}
