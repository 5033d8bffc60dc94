// @ts-check
/**
 * pre-send: before any code exists, refuse numbers your own risk service flags, and numbers from
 * countries this client does not serve. The reason goes to the log only; the caller gets a generic 403.
 * @type {import("textlock/hooks").PreSendHandler}
 */
exports.onExecutePreSend = async (event, api) => {
  if (event.client.client_id === "us-app" && event.phone.country !== "US") {
    return api.access.deny(`us-app: number from ${event.phone.country ?? "unknown country"}`);
  }
  const res = await fetch(event.secrets.RISK_API_URL, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${event.secrets.RISK_API_KEY}` },
    body: JSON.stringify({ phone: event.phone.number, ip: event.request.ip, user_agent: event.request.user_agent }),
  });
  // A failed check throws: the send is refused (fail closed) unless hooks.failOpen["pre-send"] is set.
  if (!res.ok) throw new Error(`risk API answered ${res.status}`);
  const { verdict } = /** @type {{ verdict?: string }} */ (await res.json());
  if (verdict === "block") api.access.deny(`risk API: ${verdict} (${event.phone.line_type ?? "unknown line"})`);
};
