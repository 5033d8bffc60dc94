import twilio from "twilio";
import { parseRetryAfter } from "../../core/plugin/index.js";

// Internal to the provider folder (not re-exported by its index): its declaration would pull the
// whole twilio SDK's types into the package's public types.
/**
 * The SDK's own request client (auth, form encoding, error mapping stay real), optionally pointed at
 * another host. The SDK's RestException drops response headers, so a failed answer is raised here as
 * the same RestException with the vendor's Retry-After (seconds) attached.
 */
export class HeaderKeepingRequestClient extends twilio.RequestClient {
  private readonly base: URL | undefined;
  constructor(timeout: number, baseUrl?: string) {
    super({ timeout });
    this.base = baseUrl ? new URL(baseUrl) : undefined;
  }
  override async request<T>(opts: Parameters<twilio.RequestClient["request"]>[0]) {
    let uri = opts.uri;
    if (this.base) {
      const url = new URL(opts.uri);
      url.protocol = this.base.protocol;
      url.host = this.base.host;
      uri = url.href;
    }
    const response = await super.request<T>({ ...opts, uri } as never);
    if (response.statusCode >= 300) {
      const headers = (response.headers ?? {}) as Record<string, string | undefined>;
      const retryAfter = parseRetryAfter(headers["retry-after"] ?? headers["Retry-After"]);
      if (retryAfter !== undefined) throw Object.assign(new twilio.RestException(response), { retryAfter });
    }
    return response;
  }
}
