import { type FakeServer, startFakeServer } from "./fake-server.js";

/** What the fake answers for one number (digits, no `+`); unlisted numbers are low risk, not swapped. */
export interface InsightAnswer {
  swapped?: boolean;
  recommendation?: "allow" | "flag" | "block";
  riskScore?: string;
}

/**
 * Fake Vonage Number Insight v2 on loopback: `POST /v2/ni`, HTTP Basic `apiKey:apiSecret`, JSON
 * `{type:"phone", phone, insights}`, answering only the insights asked for.
 */
export async function startFakeVonageInsight(options: {
  apiKey: string;
  apiSecret: string;
  numbers?: Record<string, InsightAnswer>;
}): Promise<FakeServer> {
  const expectedAuth = `Basic ${Buffer.from(`${options.apiKey}:${options.apiSecret}`).toString("base64")}`;
  return startFakeServer((req) => {
    if (req.method !== "POST" || req.path !== "/v2/ni") return { status: 404, body: { title: "Not Found" } };
    if (req.headers.authorization !== expectedAuth) return { status: 401, body: { title: "Unauthorized" } };
    const f = req.fields as { type?: string; phone?: string; insights?: string[] };
    if (f.type !== "phone" || !f.phone || !Array.isArray(f.insights))
      return { status: 422, body: { title: "Invalid request" } };
    const a = options.numbers?.[f.phone] ?? {};
    const recommendation = a.recommendation ?? "allow";
    return {
      status: 200,
      body: {
        request_id: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        type: "phone",
        phone: { phone: f.phone, carrier: "Fake Mobile", type: "MOBILE" },
        ...(f.insights.includes("fraud_score")
          ? {
              fraud_score: {
                risk_score: a.riskScore ?? (recommendation === "allow" ? "10" : "90"),
                risk_recommendation: recommendation,
                label: recommendation === "allow" ? "low" : "high",
                status: "completed",
              },
            }
          : {}),
        ...(f.insights.includes("sim_swap") ? { sim_swap: { status: "completed", swapped: a.swapped ?? false } } : {}),
      },
    };
  });
}
