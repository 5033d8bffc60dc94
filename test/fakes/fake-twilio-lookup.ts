import { type FakeServer, type RecordedRequest, startFakeServer } from "./fake-server.js";

/** What the fake answers for one number; unlisted numbers are valid mobiles without a SIM swap. */
export interface LookupAnswer {
  valid?: boolean;
  lineType?: string;
  /** `sim_swap.last_sim_swap`; `null` makes the whole `sim_swap` package null (country not covered). */
  lastSimSwap?: { last_sim_swap_date?: string | null; swapped_period?: string; swapped_in_period?: boolean } | null;
  simSwapErrorCode?: number;
}

/**
 * Fake Twilio Lookup v2 on loopback: `GET /v2/PhoneNumbers/{E.164}?Fields=…`, HTTP Basic
 * `AccountSid:AuthToken`, answering Twilio's JSON with the requested packages only (the others
 * `null`). Twilio's magic numbers answer as documented: +12345678900 swapped within PT48H = false,
 * +12345678901 swapped within PT24H = true.
 */
export async function startFakeTwilioLookup(options: {
  accountSid: string;
  authToken: string;
  numbers?: Record<string, LookupAnswer>;
}): Promise<FakeServer & { lookups(): RecordedRequest[] }> {
  const expectedAuth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString("base64")}`;
  const magic: Record<string, LookupAnswer> = {
    "+12345678900": { lastSimSwap: { last_sim_swap_date: null, swapped_period: "PT48H", swapped_in_period: false } },
    "+12345678901": { lastSimSwap: { last_sim_swap_date: null, swapped_period: "PT24H", swapped_in_period: true } },
  };
  const server = await startFakeServer((req) => {
    const m = req.path.match(/^\/v2\/PhoneNumbers\/([^/]+)$/);
    if (req.method !== "GET" || !m)
      return { status: 404, body: { code: 20404, message: "The requested resource was not found", status: 404 } };
    if (req.headers.authorization !== expectedAuth)
      return { status: 401, body: { code: 20003, message: "Authenticate", status: 401 } };
    const phone = decodeURIComponent(m[1]!);
    const fields = (req.query.Fields ?? "").split(",");
    const a = options.numbers?.[phone] ?? magic[phone] ?? {};
    const simSwap =
      a.lastSimSwap === null
        ? null
        : {
            last_sim_swap: a.lastSimSwap ?? {
              last_sim_swap_date: null,
              swapped_period: "PT48H",
              swapped_in_period: false,
            },
            carrier_name: "Fake Mobile",
            mobile_country_code: "310",
            mobile_network_code: "260",
            error_code: a.simSwapErrorCode ?? null,
          };
    return {
      status: 200,
      body: {
        calling_country_code: "1",
        country_code: "US",
        phone_number: phone,
        national_format: phone,
        valid: a.valid ?? true,
        validation_errors: a.valid === false ? ["NOT_A_NUMBER"] : [],
        caller_name: null,
        sim_swap: fields.includes("sim_swap") ? simSwap : null,
        call_forwarding: null,
        line_status: null,
        line_type_intelligence: fields.includes("line_type_intelligence")
          ? {
              mobile_country_code: "310",
              mobile_network_code: "260",
              carrier_name: "Fake Mobile",
              type: a.lineType ?? "mobile",
              error_code: null,
            }
          : null,
        identity_match: null,
        reassigned_number: null,
        sms_pumping_risk: null,
        phone_number_quality_score: null,
        pre_fill: null,
        url: `https://lookups.twilio.com/v2/PhoneNumbers/${encodeURIComponent(phone)}`,
      },
    };
  });
  return Object.assign(server, {
    lookups: () => server.requests.filter((r) => r.path.startsWith("/v2/PhoneNumbers/")),
  });
}
