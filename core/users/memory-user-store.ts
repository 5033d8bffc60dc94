import { TextlockError } from "../errors/textlock-error.js";
import { applyLogin, applyPatch, newUserProfile, sortKey } from "./profile.js";
import { matchesUserQuery } from "./user-query.js";
import type { ListUsersOptions, NewUserFields, User, UserPatch, UserSearchOptions, UserStore } from "./user-store.js";

/** Users in memory (tests, throwaway demos). Not durable. */
export class MemoryUserStore implements UserStore {
  private readonly byId = new Map<string, User>();
  private readonly byPhone = new Map<string, string>();

  async findByPhone(connection: string, phone: string): Promise<User | undefined> {
    const id = this.byPhone.get(`${connection}\0${phone}`);
    return id ? structuredClone(this.byId.get(id)) : undefined;
  }

  async findById(userId: string): Promise<User | undefined> {
    const user = this.byId.get(userId);
    return user ? structuredClone(user) : undefined;
  }

  async create(connection: string, phone: string, fields?: NewUserFields): Promise<{ user: User; created: boolean }> {
    const key = `${connection}\0${phone}`;
    const existing = this.byPhone.get(key);
    if (existing) return { user: structuredClone(this.byId.get(existing)!), created: false };
    const user = newUserProfile(connection, phone, fields);
    this.byId.set(user.user_id, user);
    this.byPhone.set(key, user.user_id);
    return { user: structuredClone(user), created: true };
  }

  async recordLogin(userId: string, facts: { ip?: string; at: Date }): Promise<User> {
    return this.replace(userId, (u) => applyLogin(u, facts));
  }

  async update(userId: string, patch: UserPatch): Promise<User> {
    const user = this.byId.get(userId);
    if (!user) throw new TextlockError("ERR_MGMT_USER_NOT_FOUND");
    const next = applyPatch(user, patch);
    if (next.phone_number !== user.phone_number) {
      const key = `${user.connection}\0${next.phone_number}`;
      if (this.byPhone.has(key)) throw new TextlockError("ERR_MGMT_PHONE_CONFLICT");
      this.byPhone.delete(`${user.connection}\0${user.phone_number}`);
      this.byPhone.set(key, userId);
    }
    this.byId.set(userId, next);
    return structuredClone(next);
  }

  async search(options: UserSearchOptions): Promise<{ users: User[]; total: number }> {
    const field = options.sort?.field ?? "created_at";
    const dir = options.sort?.descending ? -1 : 1;
    const matched = [...this.byId.values()]
      .filter(
        (u) =>
          (options.connection === undefined || u.connection === options.connection) &&
          matchesUserQuery(u, options.query),
      )
      .sort((a, b) => {
        const x = sortKey(a, field);
        const y = sortKey(b, field);
        return dir * (x < y ? -1 : x > y ? 1 : a.user_id.localeCompare(b.user_id));
      });
    return {
      users: matched.slice(options.offset, options.offset + options.limit).map((u) => structuredClone(u)),
      total: matched.length,
    };
  }

  async delete(userId: string): Promise<boolean> {
    const user = this.byId.get(userId);
    if (!user) return false;
    this.byId.delete(userId);
    this.byPhone.delete(`${user.connection}\0${user.phone_number}`);
    return true;
  }

  async list(options: ListUsersOptions = {}): Promise<User[]> {
    const { limit = 50, offset = 0, connection } = options;
    return [...this.byId.values()]
      .filter((u) => !connection || u.connection === connection)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.user_id.localeCompare(b.user_id))
      .slice(offset, offset + Math.min(limit, 1000))
      .map((u) => structuredClone(u));
  }

  async close(): Promise<void> {}

  private replace(userId: string, change: (u: User) => User): User {
    const user = this.byId.get(userId);
    if (!user) throw new TextlockError("ERR_MGMT_USER_NOT_FOUND");
    const next = change(user);
    this.byId.set(userId, next);
    return structuredClone(next);
  }
}
