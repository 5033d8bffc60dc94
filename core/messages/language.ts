/**
 * The request language, Auth0 style: `x-request-language`, then `accept-language`, then the
 * connection default. The raw header value is kept (templates test it with `contains 'fr-FR'`).
 */
export function resolveRequestLanguage(
  xRequestLanguage: string | undefined,
  acceptLanguage: string | undefined,
  fallback: string,
): string {
  const pick = (v: string | undefined) => (typeof v === "string" && v.trim() ? v.trim().slice(0, 256) : undefined);
  return pick(xRequestLanguage) ?? pick(acceptLanguage) ?? fallback;
}

/** Language tags of a header value in preference order (`fr-CA,fr;q=0.8,en;q=0.5` → fr-ca, fr, en). */
export function preferredLanguages(header: string): string[] {
  return header
    .split(",")
    .map((part, index) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
      const weight = q ? Number(q.slice(2)) : 1;
      return { tag: tag.trim().toLowerCase(), weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((l) => l.tag && l.tag !== "*" && l.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index)
    .map((l) => l.tag);
}

/**
 * The best key of `available` for the header: an exact tag first, then its base language
 * (`fr-CA` → `fr`), then a regional variant of a base (`fr` → `fr-FR`). Undefined when none fits.
 */
export function matchLanguage(header: string, available: readonly string[]): string | undefined {
  const keys = new Map(available.map((k) => [k.toLowerCase(), k]));
  for (const tag of preferredLanguages(header)) {
    const exact = keys.get(tag);
    if (exact) return exact;
    const base = tag.split("-")[0]!;
    const baseMatch = keys.get(base);
    if (baseMatch) return baseMatch;
    for (const [lower, key] of keys) if (lower.split("-")[0] === base) return key;
  }
  return undefined;
}
