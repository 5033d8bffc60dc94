import { isTextlockError } from "../errors/textlock-error.js";
import { type HookRunner, NO_HOOKS } from "../hooks/hook-runner.js";
import type { HookTrigger } from "../hooks/types.js";
import { type Metrics, stopwatch } from "./metrics.js";

/** A store failure rather than an answer: unreachable (`ERR_STORE_UNAVAILABLE`) or anything unexpected. */
const isStoreFailure = (err: unknown) => !isTextlockError(err) || err.code === "ERR_STORE_UNAVAILABLE";

/**
 * `store` with every failed operation counted in `textlock_store_errors_total{store, operation}`.
 * Methods run on the store itself (not the proxy), so stores with private fields keep working.
 */
export function observeStore<T extends object>(store: T, name: string, metrics: Metrics): T {
  const count = (operation: string, err: unknown) => {
    if (isStoreFailure(err)) metrics.storeErrors.labels(name, operation).inc();
    throw err;
  };
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (typeof prop !== "string" || prop === "close") return value.bind(target);
      return (...args: unknown[]) => {
        try {
          const result = value.apply(target, args);
          return result instanceof Promise ? result.catch((err: unknown) => count(prop, err)) : result;
        } catch (err) {
          return count(prop, err);
        }
      };
    },
  });
}

/** The hook runner's entry points and the trigger each one runs. */
const TRIGGERS: Record<string, (runner: { has?(t: HookTrigger): boolean }) => HookTrigger> = {
  preUserRegistration: () => "pre-user-registration",
  postUserRegistration: () => "post-user-registration",
  postLogin: () => "post-login",
  deliver: (r) => (r.has?.("custom-phone-provider") ? "custom-phone-provider" : "send-phone-message"),
};

/**
 * `hooks` with each run of a configured trigger timed in `textlock_hook_duration_seconds{trigger,
 * outcome}`. Triggers without a hook (the runner says so with `has`) are not timed: they do nothing.
 */
export function observeHooks(hooks: HookRunner, metrics: Metrics): HookRunner {
  if (hooks === NO_HOOKS) return hooks;
  const runner = hooks as HookRunner & { has?(t: HookTrigger): boolean };
  return new Proxy(runner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      const triggerOf = typeof prop === "string" ? TRIGGERS[prop] : undefined;
      if (typeof value !== "function") return value;
      if (!triggerOf) return value.bind(target);
      return async (...args: unknown[]) => {
        const trigger = triggerOf(target);
        if (typeof target.has === "function" && !target.has(trigger)) return value.apply(target, args);
        const elapsed = stopwatch();
        let outcome = "error";
        try {
          const result = await value.apply(target, args);
          outcome = "ok";
          return result;
        } finally {
          metrics.hookDuration.labels(trigger, outcome).observe(elapsed());
        }
      };
    },
  });
}
