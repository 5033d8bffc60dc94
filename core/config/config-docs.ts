import { z } from "zod";
import { type ProviderDescriptor, providerOptionNames } from "../providers/provider-descriptor.js";
import { configSchema } from "./schema.js";

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  pattern?: string;
  required?: string[];
  format?: string;
}

interface Row {
  path: string;
  type: string;
  default: string;
  description: string;
}

const code = (value: unknown) => `\`${JSON.stringify(value)}\``;

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return s.enum.map(code).join(" \\| ");
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return [...new Set(variants.map(typeOf))].join(" \\| ");
  if (s.type === "array") return `${s.items ? typeOf(s.items) : "any"}[]`;
  if (s.type === "object" && s.additionalProperties && typeof s.additionalProperties === "object" && !s.properties) {
    return `map of ${typeOf(s.additionalProperties)}`;
  }
  return Array.isArray(s.type) ? s.type.join(" \\| ") : (s.type ?? "any");
}

function bounds(s: JsonSchema): string {
  const parts: string[] = [];
  if (s.minimum !== undefined && s.maximum !== undefined) parts.push(`${s.minimum}–${s.maximum}`);
  else if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  else if (s.maximum !== undefined) parts.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined) parts.push(`min length ${s.minLength}`);
  if (s.format === "uri") parts.push("URL");
  return parts.length ? ` (${parts.join(", ")})` : "";
}

function walk(s: JsonSchema, path: string, rows: Row[]): void {
  const variants = s.anyOf ?? s.oneOf;
  if (path) {
    rows.push({
      path,
      type: typeOf(s) + bounds(s),
      default: s.default === undefined ? "" : code(s.default),
      description: (s.description ?? "").replace(/\|/g, "\\|").replace(/\n/g, " "),
    });
  }
  if (s.properties)
    for (const [key, child] of Object.entries(s.properties)) walk(child, path ? `${path}.${key}` : key, rows);
  if (s.type === "array" && s.items?.properties)
    walk({ ...s.items, description: undefined, default: undefined, type: "object" }, `${path}[]`, rows);
  if (variants) {
    for (const variant of variants) {
      const tag = variant.properties?.type?.const;
      if (variant.properties && tag !== undefined) {
        for (const [key, child] of Object.entries(variant.properties)) {
          if (key !== "type") walk(child, `${path} (type ${JSON.stringify(tag)}).${key}`, rows);
        }
      }
    }
  }
}

function table(rows: Row[]): string[] {
  const seen = new Set<string>();
  const unique = rows.filter((r) => !r.path.endsWith("[]") && !seen.has(r.path) && seen.add(r.path));
  return [
    "| option | type | default | description |",
    "|---|---|---|---|",
    ...unique.map((r) => `| \`${r.path}\` | ${r.type} | ${r.default} | ${r.description} |`),
  ];
}

/** One section per provider: its options, read from the connection's `options`. */
function providerSection(d: ProviderDescriptor): string[] {
  const head = [`### \`${d.id}\``, ""];
  if (!d.options) return [...head, "No options of its own.", ""];
  let schema: JsonSchema | undefined;
  try {
    schema = z.toJSONSchema(d.options as unknown as z.ZodType, { io: "input", unrepresentable: "any" }) as JsonSchema;
  } catch {
    // Not a zod schema: list the names it declares.
  }
  if (!schema?.properties)
    return [...head, `Options: ${(providerOptionNames(d) ?? []).map((n) => `\`${n}\``).join(", ")}.`, ""];
  const rows: Row[] = [];
  for (const [key, child] of Object.entries(schema.properties)) {
    walk(
      {
        ...child,
        description: `${child.description ?? ""}${schema.required?.includes(key) ? " Required." : ""}`.trim(),
      },
      `connections[].options.${key}`,
      rows,
    );
  }
  const secrets = d.secretOptions?.length
    ? [`Secrets: ${d.secretOptions.map((n) => `\`${n}\``).join(", ")} (given to no other provider).`, ""]
    : [];
  return [...head, ...table(rows), "", ...secrets];
}

/**
 * The configuration reference, generated from the schema and the options of every built-in provider
 * (docs/reference/configuration.md).
 */
export function renderConfigurationReference(providers: readonly ProviderDescriptor[] = []): string {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const rows: Row[] = [];
  walk(schema, "", rows);
  return [
    "# Configuration reference",
    "",
    "<!-- Generated from core/config/schema.ts and each built-in provider's option schema by `npm run docs:config`. Do not edit by hand: a test checks it is fresh. -->",
    "",
    "Pass these options to `createTextlock({...})` or put them in `textlock.config.json` / `.yaml` for `textlock serve --config`.",
    "Every mistake is reported at once in one `TextlockConfigError`. Field names follow Auth0's Management API where Auth0 has the concept.",
    "",
    ...table(rows),
    "",
    "## Provider options",
    "",
    "Each provider owns its options. They sit in the connection's `options`, next to the options above, with Auth0's names for the built-in",
    "providers; a provider is given only the options it declares. Plugins document their own.",
    "",
    ...providers.flatMap(providerSection),
  ].join("\n");
}
