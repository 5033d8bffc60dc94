import { TextlockError } from "../errors/textlock-error.js";
import { applyLogin, applyPatch, newUserProfile } from "./profile.js";
import type { ListUsersOptions, NewUserFields, User, UserPatch, UserStore } from "./user-store.js";

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
    return this.replace(userId, (u) => applyPatch(u, patch));
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
    if (!user) throw new TextlockError("ERR_INVALID_REQUEST", { description: `Unknown user ${userId}` });
    const next = change(user);
    this.byId.set(userId, next);
    return structuredClone(next);
  }
}
