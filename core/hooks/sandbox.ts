import type { Logger } from "../logger.js";
import type { ApiCall } from "./api-calls.js";
import { HookScriptError } from "./hook-script-error.js";

/** Limits of one script run. */
export interface SandboxLimits {
  /** Values replaced by `[redacted]` in anything the script logs (its configured secrets). */
  redact?: readonly string[];
  /** Wall-clock limit for the whole run, awaited work included. */
  timeoutMs: number;
  /** Heap of the isolate, MB. */
  memoryLimitMb: number;
  /** `host:port` pairs the script's `fetch` may reach. */
  allowedHosts: readonly string[];
}

const MAX_LOG = 256;
const MAX_FETCH_BODY = 1_048_576;

// Runs inside the isolate before the user's script: the CommonJS shape, a console that forwards to the
// host log, a fetch that goes through the host's allow-list, and an `api` whose every method only
// records the call (the twin of recordingApi in api-calls.ts, with the same copying rules). Nothing
// else of the host is reachable.
const BOOTSTRAP = `
const __calls = [];
const module = { exports: {} };
const exports = module.exports;
const __str = (v) => { try { return typeof v === "string" ? v : JSON.stringify(v); } catch { return String(v); } };
const console = Object.freeze(Object.fromEntries(["log", "info", "warn", "error", "debug"].map((level) =>
  [level, (...args) => { __log.applyIgnored(undefined, [level, args.map(__str).join(" ")]); }])));
async function fetch(url, init) {
  const raw = await __fetch.apply(undefined, [String(url), JSON.stringify(init ?? {})], { result: { promise: true, copy: true } });
  const res = JSON.parse(raw);
  if (res.error) throw new Error(res.error);
  return { status: res.status, ok: res.status >= 200 && res.status < 300, headers: res.headers,
           text: async () => res.body, json: async () => JSON.parse(res.body) };
}
const __api = (methods) => {
  const api = {};
  for (const path of methods) {
    const [group, name] = path.split(".");
    api[group] ??= {};
    api[group][name] = (...args) => { __calls.push([path, ...args.map((a) => a === undefined ? null : JSON.parse(JSON.stringify(a)))]); };
  }
  return api;
};
`;

/**
 * Runs untrusted hook scripts in isolated-vm: a fresh isolate per run with a heap limit, a CPU timeout
 * for synchronous code and a host wall-clock timer that disposes the isolate, so a never-resolving
 * promise or a loop after an `await` is stopped too. The isolate runs on its own thread: a script that
 * spins does not block the event loop serving other requests.
 */
export class HookSandbox {
  constructor(
    private readonly limits: SandboxLimits,
    private readonly logger: Logger,
  ) {}

  /**
   * Runs `exportName(event, api)` from `source`. `apiMethods` lists the `group.method` names the api
   * offers; the calls the script made come back in order.
   */
  async run(
    hook: string,
    source: string,
    exportName: string,
    event: unknown,
    apiMethods: readonly string[],
  ): Promise<ApiCall[]> {
    // Loaded on first use: an instance whose hooks are all trusted functions never loads the native module.
    const { default: ivm } = await import("isolated-vm");
    const isolate = new ivm.Isolate({ memoryLimit: this.limits.memoryLimitMb });
    let timedOut = false;
    let nearHeapLimit = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // On a starved CPU a memory bomb can reach the wall clock before the heap limit: its heap tells.
      try {
        const heap = isolate.getHeapStatisticsSync();
        nearHeapLimit = heap.used_heap_size > 0.75 * heap.heap_size_limit;
      } catch {
        // Already disposed: the error message decides.
      }
      if (!isolate.isDisposed) isolate.dispose();
    }, this.limits.timeoutMs);
    try {
      const context = await isolate.createContext();
      const jail = context.global;
      await jail.set("__event", new ivm.ExternalCopy(event).copyInto());
      await jail.set("__methods", new ivm.ExternalCopy(apiMethods).copyInto());
      await jail.set(
        "__log",
        new ivm.Reference((level: string, text: string) =>
          this.logger.info({ hook, level }, `hook output: ${this.redact(String(text)).slice(0, MAX_LOG)}`),
        ),
      );
      // Failures come back as data: a rejected host promise would surface as an unhandled rejection.
      await jail.set(
        "__fetch",
        new ivm.Reference((url: string, init: string) =>
          this.fetch(hook, url, init).catch((err: Error) => JSON.stringify({ error: err.message })),
        ),
      );
      const program = `${BOOTSTRAP}
;(function (exports, module) {
${source}
})(exports, module);
(async () => {
  const handler = module.exports[${JSON.stringify(exportName)}];
  if (typeof handler !== "function") throw new Error("__missing_handler__");
  await handler(__event, __api(__methods));
  return JSON.stringify(__calls);
})()`;
      const raw = await context.eval(program, {
        timeout: this.limits.timeoutMs,
        promise: true,
        copy: true,
        filename: `${hook}.js`,
      });
      const calls = typeof raw === "string" ? (JSON.parse(raw) as unknown) : undefined;
      if (!Array.isArray(calls) || !calls.every((c) => Array.isArray(c) && typeof c[0] === "string")) {
        throw new HookScriptError("bad_output", "the script's api calls could not be read");
      }
      return calls as ApiCall[];
    } catch (err) {
      if (err instanceof HookScriptError) throw err;
      const message = (err as Error)?.message ?? String(err);
      // The heap limit is checked first: a memory bomb on a busy machine can also outlive the timer.
      const reason =
        /memory limit/i.test(message) || nearHeapLimit
          ? "memory"
          : timedOut || /timed out|disposed|abandoned/i.test(message)
            ? "timeout"
            : message.includes("__missing_handler__")
              ? "missing_handler"
              : "threw";
      this.logger.warn({ hook, reason, message: this.redact(message).slice(0, MAX_LOG) }, "hook script failed");
      throw new HookScriptError(reason, message);
    } finally {
      clearTimeout(timer);
      if (!isolate.isDisposed) isolate.dispose();
    }
  }

  private redact(text: string): string {
    let out = text;
    for (const secret of this.limits.redact ?? []) if (secret.length >= 4) out = out.split(secret).join("[redacted]");
    return out;
  }

  /** The only network door of a script: allowed hosts only, bounded in time and size. */
  private async fetch(hook: string, url: string, initJson: string): Promise<string> {
    const target = new URL(url);
    if (!["http:", "https:"].includes(target.protocol) || !this.limits.allowedHosts.includes(target.host)) {
      this.logger.warn({ hook, host: target.host }, "hook fetch refused: host not allowed");
      throw new Error(`fetch to ${target.host} is not allowed`);
    }
    const init = JSON.parse(initJson) as { method?: string; headers?: Record<string, string>; body?: string };
    const res = await fetch(target, {
      method: init.method ?? "GET",
      headers: init.headers,
      body: typeof init.body === "string" ? init.body : undefined,
      redirect: "manual",
      signal: AbortSignal.timeout(this.limits.timeoutMs),
    });
    const body = (await res.text()).slice(0, MAX_FETCH_BODY);
    return JSON.stringify({ status: res.status, headers: Object.fromEntries(res.headers), body });
  }
}
