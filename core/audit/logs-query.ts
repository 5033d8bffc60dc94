import type { LogFilter } from "./audit-store.js";

/** Fields a log search `q` may name (Auth0's log search fields textlock indexes). */
const FIELDS = ["type", "user_id", "client_id", "connection", "ip", "date"] as const;

/**
 * Parses the Lucene-style `q` of `GET /api/v2/logs` into a filter: terms `field:value` joined by
 * spaces or `AND`; values may be quoted; `type:(s OR f)` lists types; `date:[2026-01-01 TO *]` is a
 * range (`*` open). Throws a message (the caller makes it Auth0's `invalid_query_string`).
 */
export function parseLogQuery(q: string): LogFilter {
  const filter: LogFilter = {};
  const term = /\s*(?:AND\s+)?([a-z_]+):("(?:[^"\\]|\\.)*"|\([^)]*\)|\[[^\]]*\]|[^\s()[\]]+)/y;
  let at = 0;
  const text = q.trim();
  while (at < text.length) {
    term.lastIndex = at;
    const m = term.exec(text);
    if (!m) throw new Error(`cannot parse q near "${text.slice(at, at + 20)}"`);
    at = term.lastIndex;
    const field = m[1] as (typeof FIELDS)[number];
    if (!FIELDS.includes(field)) throw new Error(`unknown field "${m[1]}" (searchable: ${FIELDS.join(", ")})`);
    const raw = m[2]!;
    if (field === "date") {
      const range = /^\[\s*(\S+)\s+TO\s+(\S+)\s*\]$/.exec(raw);
      const [from, to] = range ? [range[1]!, range[2]!] : [unquote(raw), unquote(raw)];
      if (from !== "*") filter.dateFrom = isoDate(from, false);
      if (to !== "*") filter.dateTo = isoDate(to, true);
      continue;
    }
    if (field === "type") {
      const list = raw.startsWith("(")
        ? raw
            .slice(1, -1)
            .split(/\s+OR\s+/)
            .map((t) => unquote(t.trim()))
        : [unquote(raw)];
      filter.type = [...(filter.type ?? []), ...list];
      continue;
    }
    filter[field] = unquote(raw);
  }
  return filter;
}

function unquote(v: string): string {
  return v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, "$1") : v;
}

/** A date or time of a range bound as ISO; a bare day covers the whole day. */
function isoDate(v: string, end: boolean): string {
  const value = unquote(v);
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const d = new Date(day ? `${value}T${end ? "23:59:59.999" : "00:00:00.000"}Z` : value);
  if (Number.isNaN(d.getTime())) throw new Error(`invalid date "${value}"`);
  return d.toISOString();
}
