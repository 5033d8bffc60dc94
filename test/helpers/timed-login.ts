/** One answer and how long it took, in ms. */
export interface Timed {
  status: number;
  body: Record<string, unknown>;
  ms: number;
}

/**
 * A start and a code exchange (JSON, the default client and connection) against the server at `url()`,
 * each timed: the outage tests check that an answer came, and how soon.
 */
export function timedLogin(url: () => string) {
  const post = async (path: string, body: Record<string, string>): Promise<Timed> => {
    const t0 = performance.now();
    const res = await fetch(`${url()}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, ms: performance.now() - t0 };
  };
  return {
    start: (phone: string) =>
      post("/passwordless/start", { client_id: "textlock-dev", connection: "sms", phone_number: phone }),
    exchange: (phone: string, otp: string) =>
      post("/oauth/token", {
        grant_type: "http://auth0.com/oauth/grant-type/passwordless/otp",
        client_id: "textlock-dev",
        realm: "sms",
        username: phone,
        otp,
        scope: "openid",
      }),
  };
}
