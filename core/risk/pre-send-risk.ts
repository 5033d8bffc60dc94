import type { ClientConfig, ConnectionConfig, TextlockConfig } from "../config/schema.js";
import { inject, injectable } from "../container/di.js";
import { CONFIG, HOOKS, LOGGER, PROTECTION, RISK_CHECKERS } from "../di-tokens.js";
import type { RequestFacts } from "../engine/types.js";
import { TextlockError } from "../errors/textlock-error.js";
import type { HookRunner } from "../hooks/hook-runner.js";
import type { Logger } from "../logger.js";
import type { Protection } from "../protection/protection.js";
import type { RiskChecker } from "./risk-checker.js";

const MAX_REASON = 256;

/** What the risk step knows about a send it is asked to allow. */
export interface PreSendFacts {
  client: ClientConfig;
  connection: ConnectionConfig;
  request: RequestFacts;
  phone: string;
  channel: "sms" | "voice" | "whatsapp";
}

/**
 * The pre-send risk step of `/passwordless/start`: the `pre-send` hook, then each configured vendor
 * checker, in that order (the hook is free, lookups are billed). The first refusal ends it with
 * `403 access_denied` and a generic description; the reason goes only to the log, the `risk`
 * refusal counter and a `request.refused` event. A hook or a lookup that fails (throws, times out,
 * is killed) refuses too, unless the operator opted into failing open for it.
 */
@injectable()
export class PreSendRisk {
  constructor(
    @inject(CONFIG) private readonly config: TextlockConfig,
    @inject(HOOKS) private readonly hooks: HookRunner,
    @inject(RISK_CHECKERS) private readonly checkers: readonly RiskChecker[],
    @inject(PROTECTION) private readonly protection: Protection,
    @inject(LOGGER) private readonly logger: Logger,
  ) {}

  async check(facts: PreSendFacts): Promise<void> {
    const refusal = (await this.hookRefusal(facts)) ?? (await this.checkerRefusal(facts.phone));
    if (!refusal) return;
    this.logger.info(
      { source: refusal.source, reason: refusal.reason.slice(0, MAX_REASON), connection: facts.connection.name },
      "send refused by the pre-send risk step",
    );
    this.protection.refuse("risk");
    throw new TextlockError("ERR_RISK_REFUSED");
  }

  private async hookRefusal(facts: PreSendFacts): Promise<Refusal | undefined> {
    try {
      const result = await this.hooks.preSend({
        client: facts.client,
        connection: facts.connection,
        request: facts.request,
        phone: facts.phone,
        channel: facts.channel,
      });
      return result.denied ? { source: "pre-send", reason: result.denied.reason } : undefined;
    } catch (err) {
      const why = `hook failed: ${(err as { reason?: string })?.reason ?? "threw"}`;
      if (this.config.hooks.failOpen["pre-send"]) {
        this.logger.warn({ source: "pre-send" }, `${why}; sending anyway (hooks.failOpen["pre-send"])`);
        return undefined;
      }
      this.logger.warn({ source: "pre-send" }, `${why}; refusing the send`);
      return { source: "pre-send", reason: why };
    }
  }

  private async checkerRefusal(phone: string): Promise<Refusal | undefined> {
    for (const checker of this.checkers) {
      try {
        const verdict = await checker.check(phone);
        if (verdict.refuse) return { source: checker.name, reason: verdict.refuse };
      } catch (err) {
        const why = `lookup failed: ${((err as Error)?.message ?? String(err)).slice(0, MAX_REASON)}`;
        if (this.config.risk.failOpen) {
          this.logger.warn({ source: checker.name }, `${why}; sending anyway (risk.failOpen)`);
          continue;
        }
        this.logger.warn({ source: checker.name }, `${why}; refusing the send`);
        return { source: checker.name, reason: why };
      }
    }
    return undefined;
  }
}

interface Refusal {
  source: string;
  reason: string;
}
