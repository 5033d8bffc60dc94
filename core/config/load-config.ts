import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { TextlockConfigError } from "../errors/textlock-error.js";
import { configSchema, type TextlockConfig, type TextlockConfigInput } from "./schema.js";

/** Built-in provider names; plugins add theirs through `config.providers`. */
export const BUILTIN_PROVIDERS = ["console", "twilio", "vonage", "sms_gateway", "action"] as const;

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.map(String).join(".") : "(root)";
  return `${path}: ${issue.message}`;
}

/**
 * Validates a configuration object and applies defaults. Throws one {@link TextlockConfigError} that
 * lists every problem at once, so a user fixes their file in one pass.
 */
export function validateConfig(input: TextlockConfigInput = {}, env: NodeJS.ProcessEnv = process.env): TextlockConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new TextlockConfigError(parsed.error.issues.map(formatIssue));
  const config = parsed.data;
  const problems: string[] = [];
  const known = new Set<string>([...BUILTIN_PROVIDERS, ...Object.keys(config.providers)]);
  config.connections.forEach((connection, i) => {
    const names = Array.isArray(connection.options.provider) ? connection.options.provider : [connection.options.provider];
    for (const name of names) {
      if (!known.has(name)) problems.push(`connections.${i}.options.provider: unknown provider "${name}" (known: ${[...known].join(", ")})`);
    }
    const o = connection.options;
    const need = (provider: string, option: string, value: unknown) => {
      if (names.includes(provider) && (value === undefined || value === null || value === "")) {
        problems.push(`connections.${i}.options.${option}: required by the ${provider} provider`);
      }
    };
    need("twilio", "twilio_sid", o.twilio_sid);
    need("twilio", "twilio_token", o.twilio_token);
    need("twilio", "from", o.from ?? o.messaging_service_sid);
    need("vonage", "vonage_api_key", o.vonage_api_key);
    need("vonage", "vonage_api_secret", o.vonage_api_secret);
    need("vonage", "from", o.from);
    need("sms_gateway", "gateway_url", o.gateway_url);
    if (env.NODE_ENV === "production" && names.includes("console")) {
      problems.push(`connections.${i}.options.provider: the console provider prints codes and is refused when NODE_ENV=production`);
    }
  });
  for (const [trigger, file] of Object.entries(config.hooks.scripts)) {
    if (file && !existsSync(file)) problems.push(`hooks.scripts.${trigger}: file ${file} does not exist`);
  }
  config.connections.forEach((connection, i) => {
    const names = [connection.options.provider].flat();
    const delivers = (["custom-phone-provider", "send-phone-message"] as const).some((t) => config.hooks.scripts[t] || config.hooks.functions[t]);
    if (names.includes("action") && !delivers) {
      problems.push(`connections.${i}.options.provider: "action" needs a "custom-phone-provider" (or "send-phone-message") hook in hooks.scripts or hooks.functions`);
    }
  });
  if (env.NODE_ENV === "production" && !config.secret) {
    problems.push("secret: a generated secret is refused when NODE_ENV=production; set `secret` (32+ characters)");
  }
  if (problems.length) throw new TextlockConfigError(problems);
  return config;
}

/** Reads a config file: `.json`, `.yaml`/`.yml`, or a module (`.js`, `.mjs`, `.cjs`, `.ts` under a TS loader) exporting the object as default. */
export async function readConfigFile(file: string): Promise<TextlockConfigInput> {
  const path = resolve(file);
  const ext = extname(path).toLowerCase();
  const isYaml = ext === ".yaml" || ext === ".yml";
  let text: string;
  try {
    if ([".js", ".mjs", ".cjs", ".ts", ".mts"].includes(ext)) {
      const mod = (await import(pathToFileURL(path).href)) as { default?: TextlockConfigInput };
      return mod.default ?? (mod as TextlockConfigInput);
    }
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new TextlockConfigError([`${file}: cannot be read (${(err as Error).message})`]);
  }
  try {
    const value = isYaml ? parseYaml(text) : JSON.parse(text);
    return (value ?? {}) as TextlockConfigInput;
  } catch (err) {
    throw new TextlockConfigError([`${file}: is not valid ${isYaml ? "YAML" : "JSON"} (${(err as Error).message})`]);
  }
}
