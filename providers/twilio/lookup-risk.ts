import twilio from "twilio";
import type { RiskChecker, RiskVerdict } from "../../core/plugin/index.js";
import { HeaderKeepingRequestClient } from "./request-client.js";

export interface TwilioLookupRiskOptions {
  accountSid: string;
  authToken: string;
  /** Another base URL for the lookups (a test double). */
  baseUrl?: string;
  /** Line type intelligence `type` values refused; empty = not looked up. */
  refuseLineTypes: readonly string[];
  /** Refuse a SIM changed within this many hours; unset = not looked up. */
  simSwapMaxAgeHours?: number;
  timeoutMs: number;
}

// The SDK types the nested sim_swap.last_sim_swap in camelCase but passes the vendor's JSON through.
interface LastSimSwap {
  last_sim_swap_date?: string | null;
  lastSimSwapDate?: string | null;
  swapped_period?: string | null;
  swappedPeriod?: string | null;
  swapped_in_period?: boolean | null;
  swappedInPeriod?: boolean | null;
}

/**
 * Twilio Lookup v2 through the real `twilio` SDK (`lookups.v2.phoneNumbers(n).fetch({ fields })`):
 * refuses configured line types (line type intelligence) and recent SIM swaps. A package Twilio
 * answered with an `error_code` is a failed lookup (the caller fails closed unless configured open);
 * a `sim_swap` of `null` (country not covered) refuses nothing.
 */
export function createTwilioLookupRisk(options: TwilioLookupRiskOptions): RiskChecker {
  const httpClient = new HeaderKeepingRequestClient(options.timeoutMs, options.baseUrl);
  const client = twilio(options.accountSid, options.authToken, { httpClient, timeout: options.timeoutMs });
  const fields = [
    ...(options.refuseLineTypes.length ? ["line_type_intelligence"] : []),
    ...(options.simSwapMaxAgeHours ? ["sim_swap"] : []),
  ];
  return {
    name: "twilioLookup",
    async check(phone: string): Promise<RiskVerdict> {
      if (!fields.length) return {};
      const answer = await client.lookups.v2.phoneNumbers(phone).fetch({ fields: fields.join(",") });
      if (answer.valid === false) return { refuse: `twilio lookup: invalid number (${answer.validationErrors})` };
      if (options.refuseLineTypes.length) {
        const lti = answer.lineTypeIntelligence;
        if (!lti?.type) throw new Error(`twilio lookup: no line type (error ${lti?.errorCode ?? "none"})`);
        if (options.refuseLineTypes.includes(lti.type)) return { refuse: `twilio lookup: line type ${lti.type}` };
      }
      if (options.simSwapMaxAgeHours) {
        const swap = answer.simSwap;
        if (swap?.errorCode) throw new Error(`twilio lookup: sim swap error ${swap.errorCode}`);
        const last = swap?.lastSimSwap as LastSimSwap | undefined;
        if (last && simSwappedRecently(last, options.simSwapMaxAgeHours, Date.now()))
          return { refuse: `twilio lookup: SIM swapped within ${options.simSwapMaxAgeHours} h` };
      }
      return {};
    },
  };
}

/**
 * With a date, its age decides. Without one (Twilio often only says whether the swap happened within
 * `swapped_period`), `swapped_in_period: true` refuses: the swap may be more recent than the limit.
 */
export function simSwappedRecently(last: LastSimSwap, maxAgeHours: number, now: number): boolean {
  const date = last.last_sim_swap_date ?? last.lastSimSwapDate;
  if (date) {
    const at = Date.parse(date);
    if (Number.isNaN(at)) throw new Error("twilio lookup: unreadable last_sim_swap_date");
    return now - at < maxAgeHours * 3_600_000;
  }
  return (last.swapped_in_period ?? last.swappedInPeriod) === true;
}
