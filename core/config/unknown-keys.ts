import type { z } from "zod";

/**
 * Names operators reach for from other tools, mapped to textlock's. Used before edit distance, which
 * cannot see that `tls` means `https`.
 */
const ALIASES: Record<string, readonly string[]> = {
  tls: ["https"],
  ssl: ["https"],
  certificate: ["cert"],
  address: ["host"],
  listen: ["host", "port"],
};

/** Options that live elsewhere than where operators look for them, by the names they try. */
const ELSEWHERE: Record<string, string> = {
  codelifetime: "connections[].options.totp.time_step",
  codettl: "connections[].options.totp.time_step",
  otplifetime: "connections[].options.totp.time_step",
  expiry: "connections[].options.totp.time_step",
  codelength: "connections[].options.totp.length",
  otplength: "connections[].options.totp.length",
  allowedorigins: "clients[].allowed_origins",
  corsorigins: "clients[].allowed_origins",
  ratelimit: "protection",
};

/** Lower case without `_` and `-`, so `allowedOrigins` and `allowed_origins` are the same word. */
const normalize = (s: string) => s.toLowerCase().replace(/[_-]/g, "");

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known key an unknown one most likely meant, or undefined when none is close. */
export function closestKey(unknown: string, known: readonly string[]): string | undefined {
  const alias = ALIASES[unknown.toLowerCase()]?.find((k) => known.includes(k));
  if (alias) return alias;
  let best: { key: string; distance: number; ratio: number } | undefined;
  for (const key of known) {
    const a = normalize(unknown);
    const b = normalize(key);
    const distance = editDistance(a, b);
    const ratio = distance / Math.max(a.length, b.length, 1);
    if (distance > 2 && ratio > 0.4) continue;
    if (!best || ratio < best.ratio || (ratio === best.ratio && distance < best.distance)) {
      best = { key, distance, ratio };
    }
  }
  return best?.key ?? ELSEWHERE[normalize(unknown)];
}

/** `unknown option (did you mean "https"?)`, or just `unknown option`. */
export function unknownOptionMessage(unknown: string, known: readonly string[]): string {
  const suggestion = closestKey(unknown, known);
  return suggestion ? `unknown option (did you mean "${suggestion}"?)` : "unknown option";
}

type AnySchema = z.core.$ZodType;

/** Wrapper schemas (defaults, optionals, pipes) down to the schemas that hold the value's shape. */
function shapes(schema: AnySchema): AnySchema[] {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "nonoptional":
    case "catch":
      return shapes(def.innerType as AnySchema);
    case "pipe":
      return shapes(def.in as AnySchema);
    case "union":
      return (def.options as AnySchema[]).flatMap(shapes);
    default:
      return [schema];
  }
}

/** The variants of a union that fit `value`'s `type` (a discriminated union); all when none fits. */
function narrow(schemas: AnySchema[], value: unknown): AnySchema[] {
  const type = value && typeof value === "object" ? (value as { type?: unknown }).type : undefined;
  if (type === undefined) return schemas;
  const fitting = schemas.filter((s) => {
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    if (def.type !== "object") return false;
    const tag = (def.shape as Record<string, AnySchema>).type?._zod.def as unknown as
      | { values?: unknown[] }
      | undefined;
    return !tag?.values || tag.values.includes(type);
  });
  return fitting.length ? fitting : schemas;
}

/**
 * The keys an object schema declares at `path` inside `schema`; `input` (the value being validated)
 * picks the variant of a discriminated union by its `type`.
 */
export function knownKeysAt(schema: AnySchema, path: readonly PropertyKey[], input?: unknown): string[] {
  let value = input;
  let current = narrow(shapes(schema), value);
  for (const segment of path) {
    value = value && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[segment] : undefined;
    current = current.flatMap((s) => {
      const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
      if (def.type === "object") {
        const child = (def.shape as Record<string, AnySchema>)[String(segment)];
        return child ? shapes(child) : [];
      }
      if (def.type === "array") return shapes(def.element as AnySchema);
      if (def.type === "record") return shapes(def.valueType as AnySchema);
      return [];
    });
    current = narrow(current, value);
  }
  const keys = current.flatMap((s) => {
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    return def.type === "object" ? Object.keys(def.shape as object) : [];
  });
  return [...new Set(keys)];
}
