import { TextlockError } from "../errors/textlock-error.js";
import type { TextlockEvents } from "../events/events.js";
import { parseUserQuery } from "./user-query.js";
import type { NewUserFields, User, UserPatch, UserSearchOptions, UserSortField, UserStore } from "./user-store.js";

/** A search as the Management API takes it (`GET /api/v2/users`), typed. */
export interface UserSearchInput {
  /** Lucene-style query (`phone_number:"+14155550100"`, `blocked:true`, `app_metadata.plan:pro`…). */
  q?: string;
  /** Only users of this connection. */
  connection?: string;
  /** `field:1` (ascending) or `field:-1` (descending): created_at, updated_at, last_login, logins_count, user_id, phone_number, name. */
  sort?: string;
  /** 0-based page. @default 0 */
  page?: number;
  /** 1–100. @default 50 */
  per_page?: number;
}

/** A page of users with Auth0's totals (`include_totals=true`). */
export interface UserSearchPage {
  users: User[];
  /** Offset of the first user. */
  start: number;
  /** The page size asked for. */
  limit: number;
  /** Users on this page. */
  length: number;
  /** Users matching in all. */
  total: number;
}

/** Users of the instance's user store: lookups, search, changes, deletion. */
export interface TextlockUsers {
  get(userId: string): Promise<User | undefined>;
  findByPhone(connection: string, phoneNumber: string): Promise<User | undefined>;
  list(options?: import("./user-store.js").ListUsersOptions): Promise<User[]>;
  /** Creates a user (an import); an existing user of that number is returned with `created: false`. */
  create(connection: string, phoneNumber: string, fields?: NewUserFields): Promise<{ user: User; created: boolean }>;
  /**
   * Searches users like `GET /api/v2/users` (Auth0 can page through the first 1,000 results only; a
   * page past them, a bad `q` or `sort` is `ERR_MGMT_INVALID_QUERY`).
   */
  search(input?: UserSearchInput): Promise<UserSearchPage>;
  /**
   * Changes a user (Auth0's PATCH semantics, see {@link UserPatch}). Blocking revokes their refresh
   * tokens; a blocked user can no longer log in or refresh. Unknown user: `ERR_MGMT_USER_NOT_FOUND`.
   */
  update(userId: string, patch: UserPatch): Promise<User>;
  /**
   * Deletes a user with their refresh tokens and login sessions. Their number signs up as a new user
   * at its next login. False when there was no such user.
   */
  delete(userId: string): Promise<boolean>;
}

/** Revokes something a user holds (their refresh tokens, their login sessions). */
export type UserEraser = (userId: string) => Promise<unknown>;

/**
 * What a user holds, and when it goes. Login sessions end when the user is blocked or deleted. Refresh
 * tokens go when the user is deleted or unblocked, not at the block itself: while blocked, a refresh is
 * answered `invalid_grant` "user is blocked" (and revokes that family), which is the answer Auth0 gives
 * and the text auth0-spa-js looks for to log the person out; the unblock then revokes what is left, so
 * no token from before the block ever works again.
 */
export interface UserErasers {
  refreshTokens: UserEraser;
  sessions: UserEraser;
}

const SORT_FIELDS = new Set<UserSortField>([
  "created_at",
  "updated_at",
  "last_login",
  "logins_count",
  "user_id",
  "phone_number",
  "name",
]);
/** Auth0 lets a search page through its first 1,000 results. */
export const SEARCH_WINDOW = 1_000;

const invalidQuery = (why: string) => new TextlockError("ERR_MGMT_INVALID_QUERY", { description: why });

function searchOptions(input: UserSearchInput): UserSearchOptions {
  const page = input.page ?? 0;
  const perPage = input.per_page ?? 50;
  if (!Number.isInteger(page) || page < 0)
    throw invalidQuery('Query validation error: "page" must be an integer of at least 0');
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) {
    throw invalidQuery('Query validation error: "per_page" must be an integer from 1 to 100');
  }
  if (page * perPage + perPage > SEARCH_WINDOW) {
    throw invalidQuery(
      "You can only page through the first 1000 records. See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation",
    );
  }
  let sort: UserSearchOptions["sort"];
  if (input.sort !== undefined) {
    const m = /^([a-z_]+):(1|-1)$/.exec(input.sort);
    if (!m || !SORT_FIELDS.has(m[1] as UserSortField)) {
      throw invalidQuery(`Query validation error: "sort" must be field:1 or field:-1 with a sortable field`);
    }
    sort = { field: m[1] as UserSortField, descending: m[2] === "-1" };
  }
  const query = input.q !== undefined && input.q.trim() !== "" ? parseUserQuery(input.q) : undefined;
  return {
    ...(query ? { query } : {}),
    ...(input.connection !== undefined ? { connection: input.connection } : {}),
    ...(sort ? { sort } : {}),
    offset: page * perPage,
    limit: perPage,
  };
}

/** The `textlock.users` facade over a user store (the Management API and the CLI use it too). */
export function createUserAdmin(store: UserStore, events: TextlockEvents, erasers: UserErasers): TextlockUsers {
  const eraseAll = async (userId: string) => {
    await erasers.refreshTokens(userId);
    await erasers.sessions(userId);
  };
  return {
    get: (userId) => store.findById(userId),
    findByPhone: (connection, phone) => store.findByPhone(connection, phone),
    list: (options) => store.list(options),
    create: (connection, phone, fields) => store.create(connection, phone, fields),
    async search(input = {}) {
      const options = searchOptions(input);
      const { users, total } = await store.search(options);
      return { users, start: options.offset, limit: options.limit, length: users.length, total };
    },
    async update(userId, patch) {
      const before = await store.findById(userId);
      if (!before) throw new TextlockError("ERR_MGMT_USER_NOT_FOUND");
      const user = await store.update(userId, patch);
      const fields = Object.keys(patch).filter((k) => patch[k as keyof UserPatch] !== undefined);
      events.emit("user.updated", { user_id: userId, connection: user.connection, fields });
      if (patch.blocked === true) {
        // Ended even when already blocked: a session started in a race with the first block goes too.
        await erasers.sessions(userId);
        if (!before.blocked) events.emit("user.blocked", { user_id: userId, connection: user.connection });
      }
      if (patch.blocked === false && before.blocked) {
        await erasers.refreshTokens(userId);
        events.emit("user.unblocked", { user_id: userId, connection: user.connection });
      }
      return user;
    },
    async delete(userId) {
      const user = await store.findById(userId);
      if (!user) return false;
      // Tokens and sessions first: a failure leaves a user who can log in again, never a live token for a deleted user.
      await eraseAll(userId);
      const deleted = await store.delete(userId);
      await eraseAll(userId);
      if (deleted) {
        events.emit("user.deleted", { user_id: userId, connection: user.connection, phone_number: user.phone_number });
      }
      return deleted;
    },
  };
}
