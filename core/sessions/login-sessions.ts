import { createHash, timingSafeEqual } from "node:crypto";
import { randomBytesPooled } from "../random-pool.js";
import type { LoginSession, SessionStore } from "./session-store.js";

/** The browser's login-session cookie: `<sid>.<secret>`. */
export const SESSION_COOKIE = "textlock_session";

export interface SessionLifetimes {
  /** Ends a session nobody used for this long, seconds. */
  idleSeconds: number;
  /** Ends a session this long after its login, whatever its use, seconds. */
  absoluteSeconds: number;
}

export interface StartedSession {
  session: LoginSession;
  /** The cookie value to set. */
  cookie: string;
}

const hash = (secret: string) => createHash("sha256").update(secret).digest("base64url");
const TOUCH_GRANULARITY_MS = 60_000;
const COOKIE_FORMAT = /^([\w-]{22})\.([\w-]{43})$/;

/**
 * Login sessions (SSO): started by a hosted-page login, found again from the cookie by a later
 * `/authorize` (which then skips the page, or answers `prompt=none`), ended by logout, by the idle or
 * absolute lifetime, or for a user who is blocked or deleted.
 */
export class LoginSessions {
  constructor(
    private readonly store: SessionStore,
    private readonly lifetimes: SessionLifetimes,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A new session for a login that just happened. A fresh login never continues the browser's old
   * session (no fixation): the old one, if any, is ended.
   */
  async start(
    login: Pick<LoginSession, "userId" | "connection" | "authTime" | "claims">,
    clientId: string,
    previousCookie?: string,
  ): Promise<StartedSession> {
    const previous = parse(previousCookie);
    if (previous) await this.store.delete(previous.sid);
    const sid = randomBytesPooled(16).toString("base64url");
    const secret = randomBytesPooled(32).toString("base64url");
    const now = this.now();
    const expiresAt = login.authTime + this.lifetimes.absoluteSeconds * 1000;
    const session: LoginSession = {
      sid,
      secretHash: hash(secret),
      userId: login.userId,
      connection: login.connection,
      authTime: login.authTime,
      claims: login.claims,
      expiresAt,
      idleExpiresAt: Math.min(expiresAt, now + this.lifetimes.idleSeconds * 1000),
      clients: [clientId],
    };
    await this.store.save(session);
    return { session, cookie: `${sid}.${secret}` };
  }

  /** The live session the cookie stands for, or undefined (none, forged, expired or ended). */
  async find(cookie: string | undefined): Promise<LoginSession | undefined> {
    const parsed = parse(cookie);
    if (!parsed) return undefined;
    const session = await this.store.get(parsed.sid);
    if (!session) return undefined;
    const expected = Buffer.from(session.secretHash);
    const given = Buffer.from(hash(parsed.secret));
    return expected.length === given.length && timingSafeEqual(expected, given) ? session : undefined;
  }

  /**
   * A use of the session by a client: the idle lifetime starts again (never beyond the absolute one).
   * Written only when that moves the idle end by more than a minute or adds a client, so a page that
   * polls `prompt=none` costs no durable write per poll.
   */
  async touch(session: LoginSession, clientId: string): Promise<LoginSession> {
    const idleExpiresAt = Math.min(session.expiresAt, this.now() + this.lifetimes.idleSeconds * 1000);
    const known = session.clients.includes(clientId);
    if (known && idleExpiresAt - session.idleExpiresAt < TOUCH_GRANULARITY_MS) return session;
    const touched: LoginSession = {
      ...session,
      idleExpiresAt,
      clients: known ? session.clients : [...session.clients, clientId],
    };
    await this.store.save(touched);
    return touched;
  }

  /** Ends the session of a cookie and/or a sid (logout); the number ended. */
  async end(cookie: string | undefined, sid?: string): Promise<number> {
    const sids = new Set([parse(cookie)?.sid, sid].filter((s): s is string => !!s));
    let ended = 0;
    for (const s of sids) if (await this.store.delete(s)) ended++;
    return ended;
  }

  /** Ends every session of a user. */
  endAllForUser(userId: string): Promise<number> {
    return this.store.deleteByUser(userId);
  }

  /** Seconds the cookie should live: as long as the session can. */
  get cookieMaxAge(): number {
    return this.lifetimes.absoluteSeconds;
  }
}

function parse(cookie: string | undefined): { sid: string; secret: string } | undefined {
  const m = COOKIE_FORMAT.exec(cookie ?? "");
  return m ? { sid: m[1]!, secret: m[2]! } : undefined;
}
