import type { LogFilter } from "./audit-store.js";

/** The WHERE clause of a log search, for SQLite (`?`) or PostgreSQL (`$n`) placeholders. */
export function whereOf(filter: LogFilter, placeholder: (index: number) => string): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    parts.push(clause(placeholder(params.length)));
  };
  if (filter.type?.length) {
    const marks = filter.type.map((t) => {
      params.push(t);
      return placeholder(params.length);
    });
    parts.push(`type IN (${marks.join(", ")})`);
  }
  if (filter.user_id !== undefined) add((p) => `user_id = ${p}`, filter.user_id);
  if (filter.client_id !== undefined) add((p) => `client_id = ${p}`, filter.client_id);
  if (filter.connection !== undefined) add((p) => `connection = ${p}`, filter.connection);
  if (filter.ip !== undefined) add((p) => `ip = ${p}`, filter.ip);
  if (filter.dateFrom !== undefined) add((p) => `date >= ${p}`, filter.dateFrom);
  if (filter.dateTo !== undefined) add((p) => `date <= ${p}`, filter.dateTo);
  return { sql: parts.length ? `WHERE ${parts.join(" AND ")}` : "", params };
}
