import parsePhoneNumber, { type CountryCode, type NumberType } from "libphonenumber-js/max";
import { LRUCache } from "lru-cache";

/** What libphonenumber-js says about an E.164 number: its country and line type, when known. */
export interface PhoneFacts {
  country: CountryCode | undefined;
  /** `MOBILE`, `FIXED_LINE`, `PREMIUM_RATE`, `VOIP`…; undefined for a number that is not valid. */
  lineType: NumberType | undefined;
}

/** How many numbers' facts are remembered (about 150 bytes each). */
const CAPACITY = 10_000;
/**
 * The 10,000 numbers used last. Not a `Map` trimmed with `map.delete(map.keys().next().value)`: a
 * deleted entry stays a hole at the front of V8's ordered table until it is rebuilt, so each new
 * number (most starts) skipped thousands of them, ~6 µs, more than typing a valid number costs.
 */
const cache = new LRUCache<string, PhoneFacts>({ max: CAPACITY });
const UNKNOWN: PhoneFacts = Object.freeze({ country: undefined, lineType: undefined });

/**
 * The country and line type of `phone`, parsed with libphonenumber-js's full metadata once per number:
 * parsing and typing a number (~20 µs for a valid one, ~40 µs for one no country claims) is the dearest
 * step of a code request after the HMAC, and one request asks for it several times (phone policy,
 * metrics, budgets, pumping, the pre-send hook), as do a returning user's later logins.
 */
export function phoneFacts(phone: string): PhoneFacts {
  let facts = cache.get(phone);
  if (facts) return facts;
  facts = parse(phone);
  cache.set(phone, facts);
  return facts;
}

function parse(phone: string): PhoneFacts {
  try {
    const parsed = parsePhoneNumber(phone);
    if (!parsed) return UNKNOWN;
    // Not `isValid() ? getType() : undefined`: with the full metadata isValid() *is* getType() !== undefined
    // (and for an entry without type patterns getType() is undefined whatever isValid() says), so that
    // typed each valid number twice, ~5 µs (test/unit/phone/phone-facts.test.ts checks the two agree).
    return { country: parsed.country, lineType: parsed.getType() };
  } catch {
    return UNKNOWN;
  }
}
