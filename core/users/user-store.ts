import type { UserQuery } from "./user-query.js";

/** An identity of a user, Auth0 shape. */
export interface UserIdentity {
  provider: "sms";
  connection: string;
  /** The 24-hex id without the `sms|` prefix. */
  user_id: string;
  isSocial: false;
}

/** A user profile, in the shape Auth0's Management API returns for SMS-connection users. */
export interface User {
  /** `sms|<24 hex>`. */
  user_id: string;
  connection: string;
  phone_number: string;
  phone_verified: boolean;
  name: string;
  nickname: string;
  picture?: string;
  created_at: string;
  updated_at: string;
  last_login?: string;
  last_ip?: string;
  logins_count: number;
  blocked: boolean;
  identities: UserIdentity[];
  user_metadata: Record<string, unknown>;
  app_metadata: Record<string, unknown>;
}

/** What a sign-up may set on a new user (from hooks such as pre-user-registration). */
export interface NewUserFields {
  user_metadata?: Record<string, unknown>;
  app_metadata?: Record<string, unknown>;
  /**
   * The login that creates the user, counted in the same write (`logins_count` 1, `last_login`,
   * `last_ip`), so a sign-up costs one durable write, not two. Only a user this call creates gets it:
   * one that already existed comes back unchanged (`created: false`), and the caller counts its login
   * with `recordLogin`.
   */
  login?: { ip?: string; at: Date };
}

/**
 * A change to a user (Auth0's `PATCH /api/v2/users/{id}` semantics). Metadata merges one level deep:
 * a key set to `null` is deleted, `{}` empties the object; other fields are replaced.
 */
export interface UserPatch {
  user_metadata?: Record<string, unknown>;
  app_metadata?: Record<string, unknown>;
  blocked?: boolean;
  /** A new number; unique per connection (a taken number is a 409 `ERR_MGMT_PHONE_CONFLICT`). */
  phone_number?: string;
  phone_verified?: boolean;
  name?: string;
  nickname?: string;
  picture?: string;
}

/** Fields a search may sort on. */
export type UserSortField =
  | "created_at"
  | "updated_at"
  | "last_login"
  | "logins_count"
  | "user_id"
  | "phone_number"
  | "name";

/** A page of a user search (`GET /api/v2/users`). */
export interface UserSearchOptions {
  /** The parsed `q` (core/users/user-query.ts); absent = every user. */
  query?: UserQuery;
  connection?: string;
  /** Default `created_at` ascending (then `user_id`). */
  sort?: { field: UserSortField; descending?: boolean };
  offset: number;
  limit: number;
}

export interface ListUsersOptions {
  connection?: string;
  /** Default 50, at most 1000. */
  limit?: number;
  offset?: number;
}

/**
 * Durable user records. `(connection, phone_number)` is unique. `create` is idempotent: concurrent
 * first logins for the same phone (even from several processes) converge on one record, and a record
 * is durable once `create` resolves (tokens are only issued after that).
 */
export interface UserStore {
  findByPhone(connection: string, phone: string): Promise<User | undefined>;
  findById(userId: string): Promise<User | undefined>;
  /** Inserts the user unless one exists for (connection, phone); returns the stored one and whether this call created it. */
  create(connection: string, phone: string, fields?: NewUserFields): Promise<{ user: User; created: boolean }>;
  /** Counts a login: `logins_count + 1`, `last_login`, `last_ip`, `updated_at`. */
  recordLogin(userId: string, facts: { ip?: string; at: Date }): Promise<User>;
  /**
   * Applies a {@link UserPatch} atomically (metadata merged one level, `null` deletes a key, `{}`
   * empties it). An unknown user is `ERR_MGMT_USER_NOT_FOUND`; a number another user of the
   * connection has is `ERR_MGMT_PHONE_CONFLICT`.
   */
  update(userId: string, patch: UserPatch): Promise<User>;
  list(options?: ListUsersOptions): Promise<User[]>;
  /** One page of the users matching a query, and how many match in all. */
  search(options: UserSearchOptions): Promise<{ users: User[]; total: number }>;
  /** Removes a user; false when there was none. Their number may sign up again as a new user. */
  delete(userId: string): Promise<boolean>;
  /**
   * Resolves when the database answers a query, rejects when it does not (the standalone server's
   * `/health/ready`). Optional: a store without it counts as answering.
   */
  ping?(): Promise<void>;
  close(): Promise<void>;
}
