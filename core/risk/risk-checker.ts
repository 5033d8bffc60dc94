import { LRUCache } from "lru-cache";
import type { TextlockConfig } from "../config/schema.js";

/** A checker's answer for one number: `refuse` (a reason for the log) when the send must not happen. */
export interface RiskVerdict {
  refuse?: string;
}

/**
 * A vendor risk lookup run before a code is generated or sent (Twilio Lookup, Vonage Number Insight).
 * It throws when it cannot answer (network, vendor error, unreadable reply): the caller fails closed
 * unless `risk.failOpen`. `signal` (given by the timeout wrapper) aborts a lookup that ran out of time.
 */
export interface RiskChecker {
  readonly name: string;
  check(phone: string, signal?: AbortSignal): Promise<RiskVerdict>;
  /** Loads what the checker needs (a vendor SDK); awaited before a lookup's time starts to run. */
  ready?(): Promise<void>;
}

type RiskConfig = TextlockConfig["risk"];

/**
 * Makers of the built-in checkers from their configuration. The core knows no vendor: the package's
 * root entry provides these (from `providers/`) under the `RISK_PLUGINS` token.
 */
export interface RiskPlugins {
  twilioLookup?: (options: NonNullable<RiskConfig["twilioLookup"]>) => RiskChecker;
  vonage?: (options: NonNullable<RiskConfig["vonage"]>) => RiskChecker;
}

/** The configured checkers, each with its own timeout and answer cache. */
export function createRiskCheckers(config: RiskConfig, plugins: RiskPlugins, now: () => number): RiskChecker[] {
  const checkers: RiskChecker[] = [];
  for (const name of ["twilioLookup", "vonage"] as const) {
    const options = config[name];
    if (!options) continue;
    const make = plugins[name] as ((o: typeof options) => RiskChecker) | undefined;
    if (!make) throw new Error(`risk.${name} is configured but this build of textlock has no ${name} checker`);
    checkers.push(limitedChecker(make(options), options.timeoutMs, options.cacheTtlSeconds * 1000, now));
  }
  return checkers;
}

const MAX_CACHE = 10_000;

/**
 * Wraps a checker with its timeout (the lookup is aborted and the check rejects) and an in-memory
 * cache of answers per number for `ttlMs`. Only answers are cached, never failures, so a vendor
 * outage is retried on the next send. Concurrent checks of one number share one lookup.
 */
export function limitedChecker(inner: RiskChecker, timeoutMs: number, ttlMs: number, now: () => number): RiskChecker {
  // The numbers asked about last (a Map trimmed from its front would skip its deleted entries' holes).
  const answers = new LRUCache<string, { verdict: RiskVerdict; until: number }>({ max: MAX_CACHE });
  const pending = new Map<string, Promise<RiskVerdict>>();
  const lookup = async (phone: string): Promise<RiskVerdict> => {
    // Loading a vendor SDK on a cold start is not the vendor being slow.
    await inner.ready?.();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Rejected before the abort, so the log says "timeout", not the aborted request's own error.
        reject(new Error(`${inner.name}: no answer within ${timeoutMs} ms`));
        controller.abort();
      }, timeoutMs);
    });
    try {
      const verdict = await Promise.race([inner.check(phone, controller.signal), timeout]);
      if (ttlMs > 0) {
        answers.set(phone, { verdict, until: now() + ttlMs });
      }
      return verdict;
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    name: inner.name,
    async check(phone) {
      const cached = answers.get(phone);
      if (cached && cached.until > now()) return cached.verdict;
      if (cached) answers.delete(phone);
      let running = pending.get(phone);
      if (!running) {
        running = lookup(phone).finally(() => pending.delete(phone));
        pending.set(phone, running);
      }
      return running;
    },
  };
}
