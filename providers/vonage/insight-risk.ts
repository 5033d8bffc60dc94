import type { RiskChecker, RiskVerdict } from "../../core/plugin/index.js";

export interface VonageInsightRiskOptions {
  apiKey: string;
  apiSecret: string;
  /** Number Insight v2 host, e.g. `https://api.nexmo.com`. */
  baseUrl: string;
  /** Refuse a SIM changed in the last 7 days (Vonage's window). */
  refuseSimSwap: boolean;
  /** `fraud_score.risk_recommendation` values refused; empty = fraud score not asked for. */
  refuseRecommendations: readonly string[];
}

interface NiAnswer {
  fraud_score?: { risk_score?: string; risk_recommendation?: string; status?: string } | null;
  sim_swap?: { status?: string; swapped?: boolean; reason?: string } | null;
}

/**
 * Vonage Number Insight v2 (`POST {baseUrl}/v2/ni`, HTTP Basic) over plain `fetch`: the
 * `@vonage/number-insight-v2` SDK needs Node 22. Refuses recent SIM swaps and the configured fraud
 * score recommendations; an insight whose `status` is not `completed` is a failed lookup.
 */
export function createVonageInsightRisk(options: VonageInsightRiskOptions): RiskChecker {
  const insights = [
    ...(options.refuseRecommendations.length ? ["fraud_score"] : []),
    ...(options.refuseSimSwap ? ["sim_swap"] : []),
  ];
  const endpoint = new URL("/v2/ni", options.baseUrl);
  const authorization = `Basic ${Buffer.from(`${options.apiKey}:${options.apiSecret}`).toString("base64")}`;
  return {
    name: "vonage",
    async check(phone: string, signal?: AbortSignal): Promise<RiskVerdict> {
      if (!insights.length) return {};
      const res = await fetch(endpoint, {
        method: "POST",
        headers: { authorization, "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ type: "phone", phone: phone.replace(/^\+/, ""), insights }),
        redirect: "error",
        signal,
      });
      if (res.status !== 200) throw new Error(`vonage number insight answered ${res.status}`);
      const answer = (await res.json()) as NiAnswer;
      if (options.refuseSimSwap) {
        const swap = answer.sim_swap;
        if (swap?.status !== "completed") throw new Error(`vonage sim_swap ${swap?.status ?? "missing"}`);
        if (swap.swapped === true) return { refuse: "vonage: SIM swapped in the last 7 days" };
      }
      if (options.refuseRecommendations.length) {
        const score = answer.fraud_score;
        if (score?.status !== "completed") throw new Error(`vonage fraud_score ${score?.status ?? "missing"}`);
        if (score.risk_recommendation && options.refuseRecommendations.includes(score.risk_recommendation))
          return { refuse: `vonage: fraud score ${score.risk_score} (${score.risk_recommendation})` };
      }
      return {};
    },
  };
}
