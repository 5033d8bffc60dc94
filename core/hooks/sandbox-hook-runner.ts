import { readFileSync } from "node:fs";
import type { TextlockConfig } from "../config/schema.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { Logger } from "../logger.js";
import type { SmsMessage } from "../providers/sms-provider.js";
import { clientEvent, connectionEvent, messageOptionsEvent, notificationEvent, requestEvent, userEvent } from "./events.js";
import type { HookContext, HookRunner, PostLoginResult, PreUserRegistrationResult } from "./hook-runner.js";
import { type ApiCall, HookSandbox } from "./sandbox.js";

export type Trigger = "pre-user-registration" | "post-user-registration" | "post-login" | "custom-phone-provider" | "send-phone-message";

const HANDLERS: Record<Trigger, string> = {
  "pre-user-registration": "onExecutePreUserRegistration",
  "post-user-registration": "onExecutePostUserRegistration",
  "post-login": "onExecutePostLogin",
  "custom-phone-provider": "onExecuteCustomPhoneProvider",
  "send-phone-message": "onExecuteSendPhoneMessage",
};

const API: Record<Trigger, string[]> = {
  "pre-user-registration": ["access.deny", "validation.error", "user.setUserMetadata", "user.setAppMetadata"],
  "post-user-registration": [],
  "post-login": ["access.deny", "idToken.setCustomClaim", "accessToken.setCustomClaim", "user.setUserMetadata", "user.setAppMetadata"],
  "custom-phone-provider": ["notification.drop", "notification.retry"],
  "send-phone-message": [],
};

const str = (v: unknown, max = 1024) => (typeof v === "string" ? v.slice(0, max) : v === undefined || v === null ? "" : String(v).slice(0, max));

/**
 * Runs the configured Actions-style scripts in the sandbox with Auth0's `event`/`api` shapes.
 * A script that fails stops the login with `extensibility_error`; its output never reaches the caller.
 */
export class SandboxHookRunner implements HookRunner {
  private readonly sources = new Map<Trigger, string>();
  private readonly sandbox: HookSandbox;

  constructor(
    private readonly config: TextlockConfig,
    logger: Logger,
  ) {
    for (const [trigger, file] of Object.entries(config.hooks.scripts) as Array<[Trigger, string | undefined]>) {
      if (file) this.sources.set(trigger, readFileSync(file, "utf8"));
    }
    this.sandbox = new HookSandbox({ ...config.hooks, redact: Object.values(config.hooks.secrets) }, logger);
  }

  has(trigger: Trigger): boolean {
    return this.sources.has(trigger);
  }

  /** Runs a trigger; unknown api names in the result are impossible (the api only records its own methods). */
  async run(trigger: Trigger, event: Record<string, unknown>): Promise<ApiCall[]> {
    const source = this.sources.get(trigger);
    if (!source) return [];
    return this.sandbox.run(trigger, source, HANDLERS[trigger], { ...event, secrets: { ...this.config.hooks.secrets } }, API[trigger]);
  }

  async preUserRegistration(ctx: HookContext & { phone_number: string }): Promise<PreUserRegistrationResult> {
    const calls = await this.guard(() =>
      this.run("pre-user-registration", {
        user: { phone_number: ctx.phone_number, user_metadata: {}, app_metadata: {} },
        connection: connectionEvent(ctx.connection),
        client: clientEvent(ctx.client),
        request: requestEvent(ctx.request),
        transaction: { protocol: "oauth2-password", requested_scopes: (ctx.scope ?? "").split(" ").filter(Boolean) },
        tenant: { id: "textlock" },
      }),
    );
    const result: PreUserRegistrationResult = {};
    for (const [method, a, b] of calls) {
      if (method === "access.deny") result.denied = { reason: str(a), userMessage: b === null || b === undefined ? undefined : str(b) };
      if (method === "validation.error") result.denied = { reason: str(b || a) };
      if (method === "user.setUserMetadata") (result.user_metadata ??= {})[str(a, 255)] = b;
      if (method === "user.setAppMetadata") (result.app_metadata ??= {})[str(a, 255)] = b;
    }
    return result;
  }

  async postUserRegistration(ctx: HookContext & { user: import("../users/user-store.js").User }): Promise<void> {
    // Like Auth0's, this trigger cannot stop the login: a failure is logged (by the sandbox) and ignored.
    await this.run("post-user-registration", {
      user: userEvent(ctx.user),
      connection: connectionEvent(ctx.connection),
      client: clientEvent(ctx.client),
      request: requestEvent(ctx.request),
      tenant: { id: "textlock" },
    }).catch(() => {});
  }

  async postLogin(ctx: HookContext & { user: import("../users/user-store.js").User }): Promise<PostLoginResult> {
    const calls = await this.guard(() =>
      this.run("post-login", {
        user: userEvent(ctx.user),
        connection: connectionEvent(ctx.connection),
        client: clientEvent(ctx.client),
        request: requestEvent(ctx.request),
        stats: { logins_count: ctx.user.logins_count },
        transaction: { protocol: "oauth2-password", requested_scopes: (ctx.scope ?? "").split(" ").filter(Boolean) },
        authentication: { methods: [{ name: "sms", timestamp: new Date().toISOString() }] },
        resource_server: ctx.audience ? { identifier: ctx.audience } : undefined,
        tenant: { id: "textlock" },
      }),
    );
    const result: PostLoginResult = { idTokenClaims: {}, accessTokenClaims: {} };
    for (const [method, a, b] of calls) {
      if (method === "access.deny") result.denied = { reason: str(a) || "Access denied" };
      if (method === "idToken.setCustomClaim") result.idTokenClaims[str(a, 255)] = b;
      if (method === "accessToken.setCustomClaim") result.accessTokenClaims[str(a, 255)] = b;
      if (method === "user.setUserMetadata") (result.user_metadata ??= {})[str(a, 255)] = b;
      if (method === "user.setAppMetadata") (result.app_metadata ??= {})[str(a, 255)] = b;
    }
    return result;
  }

  /** Runs the delivery trigger of the `action` provider; returns the api calls (drop/retry). */
  async deliver(message: SmsMessage, request: { ip?: string; userAgent?: string }): Promise<ApiCall[]> {
    const trigger: Trigger = this.has("custom-phone-provider") ? "custom-phone-provider" : "send-phone-message";
    const client = this.config.clients.find((c) => c.client_id === message.client.client_id);
    const connection = this.config.connections.find((c) => c.name === message.connection);
    return this.run(trigger, {
      ...(trigger === "custom-phone-provider" ? { notification: notificationEvent(message) } : { message_options: messageOptionsEvent(message) }),
      client: client ? clientEvent(client) : message.client,
      connection: connection ? connectionEvent(connection) : { name: message.connection },
      request: requestEvent({ ip: request.ip, userAgent: request.userAgent, xRequestLanguage: message.language ?? undefined }),
      tenant: { id: "textlock" },
    });
  }

  async close(): Promise<void> {}

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw new TextlockError("ERR_HOOK_FAILED", { cause: err });
    }
  }
}
