import type { ConnectionConfig, TextlockConfig } from "../config/schema.js";
import type { VerifyResult } from "../engine/types.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { User, UserStore } from "../users/user-store.js";

/** A finished login, waiting to be answered to the application. */
export interface Login {
  user: User;
  connection: ConnectionConfig;
  claims: VerifyResult["claims"];
  /** When the person typed the code, epoch ms (an answer from a login session: that login's). */
  authTime?: number;
  /** The login session the login belongs to (the id_token's `sid`). */
  sid?: string;
}

/**
 * What a login ticket or an authorization code remembers of its login. Only ids: the user is read
 * again on redemption, so a user blocked or deleted in between is refused.
 */
export interface LoginRecord {
  userId: string;
  clientId: string;
  connectionName: string;
  claims: VerifyResult["claims"];
  authTime?: number;
  sid?: string;
}

export function loginRecordOf(login: Login, clientId: string): LoginRecord {
  return {
    userId: login.user.user_id,
    clientId,
    connectionName: login.connection.name,
    claims: login.claims,
    ...(login.authTime !== undefined ? { authTime: login.authTime } : {}),
    ...(login.sid ? { sid: login.sid } : {}),
  };
}

/** The login a record stands for, as it is now. */
export async function restoreLogin(record: LoginRecord, config: TextlockConfig, users: UserStore): Promise<Login> {
  const user = await users.findById(record.userId);
  const connection = config.connections.find((c) => c.name === record.connectionName);
  if (!user || !connection)
    throw new TextlockError("ERR_LOGIN_TICKET", { description: "The user of this login no longer exists." });
  if (user.blocked) throw new TextlockError("ERR_USER_BLOCKED");
  return {
    user,
    connection,
    claims: record.claims,
    ...(record.authTime !== undefined ? { authTime: record.authTime } : {}),
    ...(record.sid ? { sid: record.sid } : {}),
  };
}
