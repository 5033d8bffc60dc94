import { base64url, SignJWT } from "jose";
import { defineSmsProvider, ProviderError, parseRetryAfter, type SmsProvider } from "../../core/plugin/index.js";

export interface SmsGatewayOptions {
  /** The gateway endpoint (`gateway_url`). */
  url: string;
  /** `options.from`, sent as `sender`. */
  from?: string;
  /** `gateway_authentication`: a Bearer JWT signed HS256 with the secret. */
  authentication?: { subject?: string; audience: string; secret: string; secret_base64_encoded?: boolean } | null;
  /** `forward_req_info`: add `req: {ip, user-agent}` to the body. */
  forwardReqInfo?: boolean;
  /** Auth0 waits 30 s. */
  timeoutMs?: number;
}

/**
 * Auth0's legacy SMS gateway contract: POST JSON `{recipient, body, sender}` (+ `req` when asked), an
 * optional Bearer JWT, and only HTTP 200 counts as sent. Failures use Auth0's exact descriptions.
 */
export function createSmsGatewayProvider(options: SmsGatewayOptions): SmsProvider {
  const key = options.authentication
    ? options.authentication.secret_base64_encoded
      ? base64url.decode(options.authentication.secret)
      : new TextEncoder().encode(options.authentication.secret)
    : undefined;
  return defineSmsProvider({
    name: "sms_gateway",
    channels: ["sms"],
    async send(message, ctx) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (options.authentication && key) {
        const jwt = new SignJWT({})
          .setProtectedHeader({ alg: "HS256", typ: "JWT" })
          .setAudience(options.authentication.audience)
          .setIssuedAt()
          .setExpirationTime("5m");
        if (options.authentication.subject) jwt.setSubject(options.authentication.subject);
        headers.authorization = `Bearer ${await jwt.sign(key)}`;
      }
      const body = {
        recipient: message.to,
        body: message.body,
        ...((message.from ?? options.from) ? { sender: message.from ?? options.from } : {}),
        ...(options.forwardReqInfo ? { req: { ip: ctx.request.ip, "user-agent": ctx.request.userAgent } } : {}),
      };
      const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
      let res: Response;
      try {
        res = await fetch(options.url, {
          method: "POST",
          headers,
          body: JSON.stringify(body),
          signal: AbortSignal.any([ctx.signal, timeout]),
        });
      } catch (err) {
        const code =
          timeout.aborted || ctx.signal.aborted
            ? "ETIMEDOUT"
            : ((err as { cause?: { code?: string } }).cause?.code ?? "ECONNREFUSED");
        const description = `Timeout while calling the SMS gateway: ${code}`;
        throw new ProviderError("transient", description, {
          vendorCode: code,
          callerDescription: description,
          cause: err,
        });
      }
      await res.body?.cancel().catch(() => {});
      if (res.status === 200) return { id: res.headers.get("x-message-id") ?? `gateway-${Date.now()}` };
      // Auth0's documented descriptions name only the HTTP status or the network error code, never
      // the gateway's text, so they stay the caller's description.
      const said = (description: string) => ({ callerDescription: description, httpStatus: res.status });
      if (res.status === 401) {
        const description = "Authentication failed while calling the SMS gateway: 401";
        throw new ProviderError("rejected", description, { vendorCode: 401, ...said(description) });
      }
      const kind = res.status === 429 || res.status >= 500 ? "transient" : "rejected";
      const description = `Unexpected response while calling the SMS gateway: ${res.status}`;
      throw new ProviderError(kind, description, {
        vendorCode: res.status,
        retryAfter: parseRetryAfter(res.headers.get("retry-after")),
        ...said(description),
      });
    },
  });
}
