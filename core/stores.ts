import { join } from "node:path";
import type { TextlockConfig } from "./config/schema.js";
import type { Logger } from "./logger.js";
import { MemoryOtpStore } from "./otp/memory-otp-store.js";
import type { OtpStore } from "./otp/otp-store.js";
import { MemoryUserStore } from "./users/memory-user-store.js";
import { SqliteUserStore } from "./users/sqlite-user-store.js";
import type { UserStore } from "./users/user-store.js";

/** The OtpStore selected by `config.store`. */
export async function createOtpStore(config: TextlockConfig, logger: Logger): Promise<OtpStore> {
  switch (config.store.type) {
    case "memory":
      return new MemoryOtpStore();
    case "redis": {
      const { RedisOtpStore } = await import("./otp/redis-otp-store.js");
      return RedisOtpStore.connect(config.store, logger);
    }
  }
}

/** The UserStore selected by `config.users`. */
export async function createUserStore(config: TextlockConfig, logger: Logger): Promise<UserStore> {
  switch (config.users.type) {
    case "memory":
      return new MemoryUserStore();
    case "sqlite":
      return new SqliteUserStore(config.users.file ?? join(config.dataDir, "users.db"));
    case "postgres": {
      const { PostgresUserStore } = await import("./users/postgres-user-store.js");
      return PostgresUserStore.connect({ url: config.users.url }, logger);
    }
  }
}
