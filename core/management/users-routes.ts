import { TextlockError } from "../errors/textlock-error.js";
import type { RouteContext } from "../http/handler.js";
import { json } from "../http/response.js";
import type { HttpRequest } from "../http/types.js";
import type { User, UserPatch } from "../users/user-store.js";
import { managementRoute } from "./route.js";

const NO_STORE = { "cache-control": "no-store" };
const USER_PATH = /^\/api\/v2\/users\/([^/]+)$/;

const invalidQuery = (why: string) =>
  new TextlockError("ERR_MGMT_INVALID_QUERY", { description: `Query validation error: ${why}` });
const invalidBody = (why: string) =>
  new TextlockError("ERR_MGMT_INVALID_BODY", { description: `Payload validation error: ${why}` });

/** Refuses query parameters the endpoint does not have (Auth0 does the same). */
function onlyParams(query: Record<string, string>, allowed: readonly string[]): void {
  const extra = Object.keys(query).filter((k) => !allowed.includes(k));
  if (extra.length) throw invalidQuery(`'Additional properties not allowed: ${extra.join(",")}'.`);
}

function integerParam(query: Record<string, string>, name: string): number | undefined {
  const raw = query[name];
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw invalidQuery(`'Expected type integer but found type string' on property ${name}.`);
  return Number(raw);
}

function booleanParam(query: Record<string, string>, name: string): boolean | undefined {
  const raw = query[name];
  if (raw === undefined || raw === "") return undefined;
  if (raw !== "true" && raw !== "false") throw invalidQuery(`'Expected type boolean' on property ${name}.`);
  return raw === "true";
}

/** `fields` / `include_fields`: the profile with only (or without) the listed fields. */
function projection(query: Record<string, string>): (user: User) => Partial<User> {
  const list =
    query.fields
      ?.split(",")
      .map((f) => f.trim())
      .filter(Boolean) ?? [];
  const include = booleanParam(query, "include_fields") ?? true;
  if (!list.length) return (u) => u;
  const fields = new Set(list);
  return (u) => Object.fromEntries(Object.entries(u).filter(([k]) => fields.has(k) === include)) as Partial<User>;
}

/** The user id of `/api/v2/users/{id}` (URL-decoded; `sms|…`). */
function userIdOf(req: HttpRequest): string {
  const raw = USER_PATH.exec(req.path)?.[1] ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new TextlockError("ERR_MGMT_USER_NOT_FOUND");
  }
}

async function existingUser(ctx: RouteContext, userId: string): Promise<User> {
  const user = await ctx.textlock.users.get(userId);
  if (!user) throw new TextlockError("ERR_MGMT_USER_NOT_FOUND");
  return user;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

/**
 * The body of `PATCH /api/v2/users/{id}`, checked field by field. Unknown fields and wrong types
 * are a 400 `invalid_body` naming the property; `null` metadata empties it (Auth0).
 */
export function parseUserPatch(body: Record<string, unknown>, user: User): UserPatch {
  const keys = Object.keys(body);
  if (!keys.length) throw invalidBody("'Too few properties defined (0), minimum 1'.");
  const patch: UserPatch = {};
  for (const key of keys) {
    const v = body[key];
    switch (key) {
      case "blocked":
      case "phone_verified":
        if (typeof v !== "boolean")
          throw invalidBody(`'Expected type boolean but found type ${typeOf(v)}' on property ${key}.`);
        patch[key] = v;
        break;
      case "user_metadata":
      case "app_metadata":
        if (v !== null && !isObject(v))
          throw invalidBody(`'Expected type object but found type ${typeOf(v)}' on property ${key}.`);
        patch[key] = v ?? {};
        break;
      case "phone_number":
        if (typeof v !== "string" || !/^\+[0-9]{1,15}$/.test(v)) {
          throw invalidBody(`'String does not match pattern: ^\\+[0-9]{1,15}$' on property ${key}.`);
        }
        patch.phone_number = v;
        break;
      case "name":
      case "nickname":
      case "picture":
        if (typeof v !== "string" || v.length < 1 || v.length > 300) {
          throw invalidBody(`'Expected a string of 1 to 300 characters' on property ${key}.`);
        }
        patch[key] = v;
        break;
      case "connection":
        if (v !== user.connection)
          throw invalidBody(`'connection must be the user's connection (${user.connection})' on property connection.`);
        break;
      case "verify_phone_number":
        if (v !== false) throw invalidBody("'verify_phone_number is not supported' on property verify_phone_number.");
        break;
      default:
        throw invalidBody(`'Additional properties not allowed: ${key}'.`);
    }
  }
  return patch;
}

/** The body of `POST /api/v2/users` for an SMS connection: the connection and number, then optional fields. */
export function parseNewUser(body: Record<string, unknown>): {
  connection: string;
  phone_number: string;
  patch: UserPatch;
} {
  const { connection, phone_number, ...rest } = body;
  if (typeof connection !== "string" || !connection) throw invalidBody("'Missing required property: connection'.");
  if (typeof phone_number !== "string" || !/^\+[0-9]{1,15}$/.test(phone_number)) {
    throw invalidBody("'String does not match pattern: ^\\+[0-9]{1,15}$' on property phone_number.");
  }
  const patch = Object.keys(rest).length ? parseUserPatch(rest, { connection } as User) : {};
  return { connection, phone_number, patch };
}

function typeOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** `/api/v2/users` and `/api/v2/users/{id}` (Auth0's shapes; see docs/guides/management-api.md). */
export const userRoutes = [
  managementRoute({
    method: "GET",
    path: "/api/v2/users",
    scopes: ["read:users", "read:user_idp_tokens"],
    async handle(req, { textlock }) {
      const q = req.query;
      onlyParams(q, [
        "page",
        "per_page",
        "include_totals",
        "sort",
        "connection",
        "fields",
        "include_fields",
        "q",
        "search_engine",
        "primary_order",
      ]);
      if (q.search_engine !== undefined && q.search_engine !== "v3" && q.search_engine !== "v2") {
        throw invalidQuery("'search_engine' must be v3 (v2 is read as v3).");
      }
      const includeTotals = booleanParam(q, "include_totals") ?? false;
      booleanParam(q, "primary_order");
      const project = projection(q);
      const page = integerParam(q, "page");
      const perPage = integerParam(q, "per_page");
      const result = await textlock.users.search({
        ...(q.q !== undefined ? { q: q.q } : {}),
        ...(q.connection ? { connection: q.connection } : {}),
        ...(q.sort ? { sort: q.sort } : {}),
        ...(page !== undefined ? { page } : {}),
        ...(perPage !== undefined ? { per_page: perPage } : {}),
      });
      const users = result.users.map(project);
      return json(
        200,
        includeTotals
          ? { start: result.start, limit: result.limit, length: result.length, users, total: result.total }
          : users,
        NO_STORE,
      );
    },
  }),
  managementRoute({
    method: "POST",
    path: "/api/v2/users",
    scopes: ["create:users"],
    async handle(_req, { textlock, body }) {
      const input = parseNewUser(body());
      if (!textlock.config.connections.some((c) => c.name === input.connection)) {
        throw new TextlockError("ERR_MGMT_UNKNOWN_CONNECTION");
      }
      const { user_metadata, app_metadata, ...others } = input.patch;
      const { user, created } = await textlock.users.create(input.connection, input.phone_number, {
        ...(user_metadata ? { user_metadata } : {}),
        ...(app_metadata ? { app_metadata } : {}),
      });
      if (!created) throw new TextlockError("ERR_MGMT_USER_EXISTS");
      textlock.events.emit("user.created", { user_id: user.user_id, connection: user.connection });
      // An imported number is unverified until its first login (or the caller says otherwise).
      const final = await textlock.users.update(user.user_id, { phone_verified: false, ...others });
      return json(201, final, NO_STORE);
    },
  }),
  managementRoute({
    method: "GET",
    path: USER_PATH,
    pattern: "/api/v2/users/:id",
    scopes: ["read:users", "read:current_user", "read:user_idp_tokens"],
    async handle(req, ctx) {
      onlyParams(req.query, ["fields", "include_fields"]);
      const project = projection(req.query);
      return json(200, project(await existingUser(ctx, userIdOf(req))), NO_STORE);
    },
  }),
  managementRoute({
    method: "PATCH",
    path: USER_PATH,
    pattern: "/api/v2/users/:id",
    scopes: ["update:users", "update:users_app_metadata", "update:current_user_metadata"],
    async handle(req, ctx, caller) {
      const userId = userIdOf(req);
      const user = await existingUser(ctx, userId);
      const patch = parseUserPatch(ctx.body(), user);
      // Auth0's update:users_app_metadata lets a client change metadata only.
      if (!caller.scopes.has("update:users")) {
        const other = Object.keys(patch).filter((k) => k !== "app_metadata" && k !== "user_metadata");
        if (other.length) {
          throw new TextlockError("ERR_MGMT_INSUFFICIENT_SCOPE", {
            description: "Insufficient scope, expected any of: update:users",
          });
        }
      }
      return json(200, await ctx.textlock.users.update(userId, patch), NO_STORE);
    },
  }),
  managementRoute({
    method: "DELETE",
    path: USER_PATH,
    pattern: "/api/v2/users/:id",
    scopes: ["delete:users", "delete:current_user"],
    async handle(req, { textlock }) {
      if (!(await textlock.users.delete(userIdOf(req)))) throw new TextlockError("ERR_MGMT_USER_NOT_FOUND");
      return { status: 204, headers: { ...NO_STORE }, body: "" };
    },
  }),
];
