import { Counter, Histogram, type Registry } from "prom-client";
import type { TextlockConfig } from "../config/schema.js";
import { inject, injectable } from "../container/di.js";
import { CONFIG, EVENTS, METRICS_REGISTRY } from "../di-tokens.js";
import type { TextlockEvents } from "../events/events.js";
import { phoneFacts } from "../phone/phone-facts.js";
import { REFUSAL_REASONS } from "../protection/protection.js";

/** Outcomes of a code verification: `code.verified`, and every `code.failed` reason. */
export const VERIFY_OUTCOMES = ["verified", "wrong", "expired", "missing", "used", "exhausted", "ceiling"] as const;

/** Seconds buckets for calls that leave the process (providers, hooks) and for HTTP requests. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds buckets for a message's way to the phone (send to delivered receipt). */
const DELIVERY_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

/**
 * The instance's Prometheus metrics, in its own prom-client registry (never the global one, so several
 * instances in one process never collide). What has an event is counted from `textlock.events`; the
 * rest (provider latency and errors, store errors, hook and HTTP durations) is observed where it
 * happens. Names and PromQL examples: docs/guides/metrics.md.
 */
@injectable()
export class Metrics {
  readonly codesSent: Counter<"connection" | "provider" | "channel" | "country">;
  readonly verifications: Counter<"connection" | "outcome">;
  readonly refusals: Counter<"reason">;
  readonly deliveryFailures: Counter<"connection" | "reason">;
  readonly protectionAlerts: Counter<"alert">;
  readonly providerDuration: Histogram<"provider" | "outcome">;
  readonly providerErrors: Counter<"provider" | "kind">;
  readonly storeErrors: Counter<"store" | "operation">;
  readonly hookDuration: Histogram<"trigger" | "outcome">;
  readonly httpDuration: Histogram<"method" | "route" | "status">;
  readonly deliveryReceipts: Counter<"provider" | "status">;
  readonly refusedReceipts: Counter<"provider" | "reason">;
  readonly deliverySeconds: Histogram<"provider" | "channel" | "country">;
  readonly escalations: Counter<"connection" | "channel" | "reason">;

  constructor(
    @inject(METRICS_REGISTRY) readonly registry: Registry,
    @inject(CONFIG) config: TextlockConfig,
    @inject(EVENTS) events: TextlockEvents,
  ) {
    const registers = [registry];
    this.codesSent = new Counter({
      name: "textlock_codes_sent_total",
      help: "Codes delivered (or, for test numbers, issued without sending), by provider, channel and country.",
      labelNames: ["connection", "provider", "channel", "country"],
      registers,
    });
    this.verifications = new Counter({
      name: "textlock_verifications_total",
      help: "Code verifications by outcome (verified, wrong, expired, missing, used, exhausted, ceiling).",
      labelNames: ["connection", "outcome"],
      registers,
    });
    this.refusals = new Counter({
      name: "textlock_refusals_total",
      help: "Requests refused by protection, by reason.",
      labelNames: ["reason"],
      registers,
    });
    this.protectionAlerts = new Counter({
      name: "textlock_protection_alerts_total",
      help: "Pumping detections and clearances, and money-budget thresholds crossed, reported by this process.",
      labelNames: ["alert"],
      registers,
    });
    this.deliveryFailures = new Counter({
      name: "textlock_delivery_failures_total",
      help: "Codes that could not be delivered by any provider, by error code.",
      labelNames: ["connection", "reason"],
      registers,
    });
    this.providerDuration = new Histogram({
      name: "textlock_provider_request_duration_seconds",
      help: "Duration of one send attempt to a provider, by outcome (ok or error).",
      labelNames: ["provider", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.providerErrors = new Counter({
      name: "textlock_provider_errors_total",
      help: "Failed send attempts by provider and kind (bad_phone, transient, rejected, timeout, unavailable).",
      labelNames: ["provider", "kind"],
      registers,
    });
    this.storeErrors = new Counter({
      name: "textlock_store_errors_total",
      help: "Store operations that failed (unreachable, timed out or unexpected), by store and operation.",
      labelNames: ["store", "operation"],
      registers,
    });
    this.hookDuration = new Histogram({
      name: "textlock_hook_duration_seconds",
      help: "Duration of one hook run by trigger and outcome (ok or error).",
      labelNames: ["trigger", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.httpDuration = new Histogram({
      name: "textlock_http_request_duration_seconds",
      help: "Duration of HTTP requests by method, route and status.",
      labelNames: ["method", "route", "status"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.deliveryReceipts = new Counter({
      name: "textlock_delivery_receipts_total",
      help: "Authentic delivery receipts that moved a message forward, by provider and new status.",
      labelNames: ["provider", "status"],
      registers,
    });
    this.refusedReceipts = new Counter({
      name: "textlock_delivery_receipts_refused_total",
      help: "Status callbacks refused: unsigned (401) or forged, stale or tampered with (403).",
      labelNames: ["provider", "reason"],
      registers,
    });
    this.deliverySeconds = new Histogram({
      name: "textlock_delivery_seconds",
      help: "Time from a send to its delivered receipt, by provider, channel and country of the number.",
      labelNames: ["provider", "channel", "country"],
      buckets: DELIVERY_BUCKETS,
      registers,
    });
    this.escalations = new Counter({
      name: "textlock_escalations_total",
      help: "Codes re-sent over the next channel of the escalation list, by channel and reason (timeout, failed, undelivered).",
      labelNames: ["connection", "channel", "reason"],
      registers,
    });

    // Series that alerts divide by or watch exist from the start at 0, not from their first event.
    for (const reason of REFUSAL_REASONS) this.refusals.labels(reason).inc(0);
    for (const alert of ["pumping_detected", "pumping_cleared", "budget_threshold"])
      this.protectionAlerts.labels(alert).inc(0);
    for (const connection of config.connections) {
      for (const outcome of VERIFY_OUTCOMES) this.verifications.labels(connection.name, outcome).inc(0);
    }

    events.on("code.sent", (e) =>
      this.codesSent.labels(e.connection, e.provider ?? "unknown", e.channel, countryOf(e.phone_number)).inc(),
    );
    events.on("code.verified", (e) => this.verifications.labels(e.connection, "verified").inc());
    events.on("code.failed", (e) => this.verifications.labels(e.connection, e.reason).inc());
    events.on("request.refused", (e) => this.refusals.labels(e.reason).inc());
    events.on("delivery.failed", (e) => this.deliveryFailures.labels(e.connection, e.reason).inc());
    events.on("delivery.updated", (e) => {
      this.deliveryReceipts.labels(e.provider, e.status).inc();
      if (e.seconds !== undefined)
        this.deliverySeconds.labels(e.provider, e.channel, countryOf(e.phone_number)).observe(e.seconds);
    });
    events.on("receipt.refused", (e) => this.refusedReceipts.labels(e.provider, e.reason).inc());
    events.on("delivery.escalated", (e) => this.escalations.labels(e.connection, e.channel, e.reason).inc());
    events.on("pumping.detected", () => this.protectionAlerts.labels("pumping_detected").inc());
    events.on("pumping.cleared", () => this.protectionAlerts.labels("pumping_cleared").inc());
    events.on("budget.threshold", () => this.protectionAlerts.labels("budget_threshold").inc());
  }

  /** The registry's content in the Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** ISO country of a number for the `country` label (bounded: about 250 values), `unknown` when none. */
function countryOf(phone: string): string {
  return phoneFacts(phone).country ?? "unknown";
}

/** A monotonic stopwatch for histograms: the returned function gives the seconds elapsed since the call. */
export function stopwatch(): () => number {
  const started = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - started) / 1e9;
}
