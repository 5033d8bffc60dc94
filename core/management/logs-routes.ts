import type { LogEntry } from "../audit/log-entry.js";
import { parseLogQuery } from "../audit/logs-query.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { RouteContext } from "../http/handler.js";
import { json } from "../http/response.js";
import type { HttpRequest } from "../http/types.js";
import { managementRoute } from "./route.js";

const NO_STORE = { "cache-control": "no-store" };
const SCOPES = ["read:logs", "read:logs_users"] as const;
const LOG_PATH = /^\/api\/v2\/logs\/([^/]+)$/;
const USER_LOGS_PATH = /^\/api\/v2\/users\/([^/]+)\/logs$/;
/** Auth0: at most 100 per request and 1,000 results in all through paging. */
const MAX_PER_PAGE = 100;
const MAX_RESULTS = 1_000;

const invalidQuery = (why: string) =>
  new TextlockError("ERR_MGMT_INVALID_QUERY", { description: `Query validation error: ${why}` });

function onlyParams(query: Record<string, string>, allowed: readonly string[]): void {
  const extra = Object.keys(query).filter((k) => !allowed.includes(k));
  if (extra.length) throw invalidQuery(`'Additional properties not allowed: ${extra.join(",")}'.`);
}

function integer(query: Record<string, string>, name: string, max: number): number | undefined {
  const raw = query[name];
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw invalidQuery(`'Expected type integer but found type string' on property ${name}.`);
  const n = Number(raw);
  if (n > max) throw invalidQuery(`'Must be less than or equal to ${max}' on property ${name}.`);
  return n;
}

function boolean(query: Record<string, string>, name: string): boolean | undefined {
  const raw = query[name];
  if (raw === undefined || raw === "") return undefined;
  if (raw !== "true" && raw !== "false") throw invalidQuery(`'Expected type boolean' on property ${name}.`);
  return raw === "true";
}

/** `sort=date:-1` (newest first, the default) or `date:1`. */
function sortOrder(query: Record<string, string>): 1 | -1 {
  const raw = query.sort;
  if (raw === undefined || raw === "") return -1;
  const m = /^(?:date|log_id):(-?1)$/.exec(raw);
  if (!m) throw invalidQuery(`'String does not match pattern: ^(date|log_id):(-1|1)$' on property sort.`);
  return m[1] === "1" ? 1 : -1;
}

function projection(query: Record<string, string>): (e: LogEntry) => Partial<LogEntry> {
  const list =
    query.fields
      ?.split(",")
      .map((f) => f.trim())
      .filter(Boolean) ?? [];
  const include = boolean(query, "include_fields") ?? true;
  if (!list.length) return (e) => e;
  const fields = new Set(list);
  return (e) => Object.fromEntries(Object.entries(e).filter(([k]) => fields.has(k) === include)) as Partial<LogEntry>;
}

/** Search mode: `page`/`per_page` (≤ 100, ≤ 1,000 results in all), optional totals. */
async function searchPage(ctx: RouteContext, query: Record<string, string>, filter: ReturnType<typeof parseLogQuery>) {
  const page = integer(query, "page", MAX_RESULTS) ?? 0;
  const perPage = integer(query, "per_page", MAX_PER_PAGE) ?? 50;
  if (page * perPage >= MAX_RESULTS)
    throw invalidQuery(`'You can only page through the first ${MAX_RESULTS} records'.`);
  const limit = Math.min(perPage, MAX_RESULTS - page * perPage);
  const { logs, total } = await ctx.textlock.audit.search({
    filter,
    order: sortOrder(query),
    offset: page * perPage,
    limit,
  });
  const shown = logs.map(projection(query));
  if (boolean(query, "include_totals") !== true) return json(200, shown, NO_STORE);
  return json(
    200,
    { start: page * perPage, limit: perPage, length: shown.length, total: Math.min(total, MAX_RESULTS), logs: shown },
    NO_STORE,
  );
}

/** Checkpoint mode: records after `from` (a log_id), oldest first, with a `Link: <…>; rel="next"`. */
async function checkpoint(req: HttpRequest, ctx: RouteContext) {
  const take = integer(req.query, "take", MAX_PER_PAGE) ?? 50;
  const from = req.query.from || undefined;
  if (from !== undefined && !/^\d{1,56}$/.test(from)) throw invalidQuery("'from' must be a log_id.");
  let logs: LogEntry[];
  try {
    logs = await ctx.textlock.audit.after(from, take);
  } catch (err) {
    if (err instanceof TextlockError && err.code === "ERR_INVALID_REQUEST")
      throw invalidQuery("'from' must be a log_id.");
    throw err;
  }
  const next = new URL(`${ctx.issuer.replace(/\/$/, "")}${req.path}`);
  const cursor = logs.at(-1)?.log_id ?? from;
  if (cursor) next.searchParams.set("from", cursor);
  next.searchParams.set("take", String(take));
  return json(200, logs, { ...NO_STORE, link: `<${next.toString()}>; rel="next"` });
}

function decoded(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalidQuery("malformed id.");
  }
}

/** `/api/v2/logs`, `/api/v2/logs/{id}` and `/api/v2/users/{id}/logs` (Auth0's shapes and scopes). */
export const logRoutes = [
  managementRoute({
    method: "GET",
    path: "/api/v2/logs",
    scopes: SCOPES,
    async handle(req, ctx) {
      const query = req.query;
      onlyParams(query, [
        "q",
        "search",
        "page",
        "per_page",
        "include_totals",
        "sort",
        "fields",
        "include_fields",
        "from",
        "take",
      ]);
      // Checkpoint mode ignores every other parameter (Auth0).
      if (query.from !== undefined || query.take !== undefined) return checkpoint(req, ctx);
      const q = query.q ?? query.search ?? "";
      let filter: ReturnType<typeof parseLogQuery>;
      try {
        filter = parseLogQuery(q);
      } catch (err) {
        throw invalidQuery((err as Error).message);
      }
      return searchPage(ctx, query, filter);
    },
  }),
  managementRoute({
    method: "GET",
    path: LOG_PATH,
    pattern: "/api/v2/logs/:id",
    scopes: SCOPES,
    async handle(req, ctx) {
      onlyParams(req.query, []);
      const id = decoded(LOG_PATH.exec(req.path)?.[1] ?? "");
      const notFound = new TextlockError("ERR_MGMT_NOT_FOUND", { description: "The log does not exist." });
      if (!/^\d{56}$/.test(id)) throw notFound;
      const before = (BigInt(id) - 1n).toString().padStart(56, "0");
      const [entry] = await ctx.textlock.audit.after(before, 1).catch(() => []);
      if (!entry || entry.log_id !== id) throw notFound;
      return json(200, entry, NO_STORE);
    },
  }),
  managementRoute({
    method: "GET",
    path: USER_LOGS_PATH,
    pattern: "/api/v2/users/:id/logs",
    scopes: SCOPES,
    async handle(req, ctx) {
      onlyParams(req.query, ["page", "per_page", "sort", "include_totals"]);
      const userId = decoded(USER_LOGS_PATH.exec(req.path)?.[1] ?? "");
      return searchPage(ctx, req.query, { user_id: userId });
    },
  }),
];
