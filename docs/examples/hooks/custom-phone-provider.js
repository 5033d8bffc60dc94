// @ts-check
/**
 * custom-phone-provider: deliver the code through your own SMS API.
 * `fetch` reaches only the hosts listed in `hooks.allowedHosts`.
 * @type {import("textlock/hooks").CustomPhoneProviderHandler}
 */
exports.onExecuteCustomPhoneProvider = async (event, api) => {
  const res = await fetch(event.secrets.SMS_API_URL, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${event.secrets.SMS_API_KEY}` },
    body: JSON.stringify({
      to: event.notification.recipient,
      text: event.notification.as_text,
      locale: event.notification.locale,
    }),
  });
  if (res.status === 429 || res.status >= 500) return api.notification.retry(`SMS API answered ${res.status}`);
  if (!res.ok) return api.notification.drop(`SMS API answered ${res.status}`);
  console.log(`sent to ${event.notification.recipient.slice(0, 5)}…`);
};
