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
}

export interface UserPatch {
  user_metadata?: Record<string, unknown>;
  app_metadata?: Record<string, unknown>;
  blocked?: boolean;
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
  /** Shallow-merges metadata (a `null` value deletes the key) and sets `blocked`. */
  update(userId: string, patch: UserPatch): Promise<User>;
  list(options?: ListUsersOptions): Promise<User[]>;
  close(): Promise<void>;
}
