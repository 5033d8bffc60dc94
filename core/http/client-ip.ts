/**
 * The end user's IP from the socket peer and `X-Forwarded-For`, by the `server.trustProxy` rule:
 * - `false` (default): the peer; forwarded headers are ignored, since anyone can send them;
 * - `true`: the left-most forwarded address (every proxy in front is trusted);
 * - a number n: n proxies in front are trusted, so the n-th address from the right;
 * - a list of proxy addresses: walk from the right past trusted proxies; the first other one is the client.
 */
export function resolveClientIp(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trustProxy: boolean | number | string[],
): string | undefined {
  const clean = (ip: string | undefined) => (ip?.startsWith("::ffff:") ? ip.slice(7) : ip);
  if (!trustProxy || !forwardedFor) return clean(peer);
  const hops = forwardedFor
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (!hops.length) return clean(peer);
  if (trustProxy === true) return clean(hops[0]);
  const chain = [...hops, clean(peer) ?? ""];
  if (typeof trustProxy === "number") return clean(chain[Math.max(0, chain.length - 1 - trustProxy)]);
  const trusted = new Set(trustProxy);
  for (let i = chain.length - 1; i >= 0; i--) if (!trusted.has(clean(chain[i])!)) return clean(chain[i]);
  return clean(chain[0]);
}
