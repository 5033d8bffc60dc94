import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { TextlockConfigError } from "../errors/textlock-error.js";
import type { ProviderDescriptor } from "../providers/provider-descriptor.js";
import { validateProviderOptions } from "../providers/provider-options.js";
import { collectProviders, type ProviderSet } from "../providers/provider-set.js";
import { configSchema, type TextlockConfig, type TextlockConfigInput } from "./schema.js";

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.map(String).join(".") : "(root)";
  return `${path}: ${issue.message}`;
}

/**
 * Validates a configuration object and applies defaults. Throws one {@link TextlockConfigError} that
 * lists every problem at once, so a user fixes their file in one pass. `providers` are the
 * descriptors the instance knows besides the config's own plugins (the built-ins); each connection's
 * provider options are checked by the schema of the provider that owns them.
 */
export function validateConfig(
  input: TextlockConfigInput = {},
  env: NodeJS.ProcessEnv = process.env,
  providers: readonly ProviderDescriptor[] = [],
): TextlockConfig {
  return validateConfigWithProviders(input, env, providers).config;
}

/** {@link validateConfig}, also returning the provider descriptors the configuration registers. */
export function validateConfigWithProviders(
  input: TextlockConfigInput,
  env: NodeJS.ProcessEnv,
  builtins: readonly ProviderDescriptor[],
): { config: TextlockConfig; providers: ProviderSet } {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new TextlockConfigError(parsed.error.issues.map(formatIssue));
  const config = parsed.data;
  const providers = collectProviders(builtins, config.providers);
  const problems: string[] = [...providers.problems];
  config.connections.forEach((connection, i) => {
    const names = [connection.options.provider].flat();
    for (const name of names) {
      const descriptor = providers.descriptors.get(name);
      if (!descriptor) {
        problems.push(
          `connections.${i}.options.provider: unknown provider "${name}" (known: ${[...providers.descriptors.keys()].join(", ")})`,
        );
        continue;
      }
      const options = validateProviderOptions(descriptor, connection.options);
      if (!options.ok) problems.push(...options.problems.map((p) => `connections.${i}.${p}`));
    }
    if (env.NODE_ENV === "production" && names.includes("console")) {
      problems.push(
        `connections.${i}.options.provider: the console provider prints codes and is refused when NODE_ENV=production`,
      );
    }
    const delivers = (["custom-phone-provider", "send-phone-message"] as const).some(
      (t) => config.hooks.scripts[t] || config.hooks.functions[t],
    );
    if (names.includes("action") && !delivers) {
      problems.push(
        `connections.${i}.options.provider: "action" needs a "custom-phone-provider" (or "send-phone-message") hook in hooks.scripts or hooks.functions`,
      );
    }
  });
  for (const [trigger, file] of Object.entries(config.hooks.scripts)) {
    if (file && !existsSync(file)) problems.push(`hooks.scripts.${trigger}: file ${file} does not exist`);
  }
  if (env.NODE_ENV === "production" && !config.secret) {
    problems.push("secret: a generated secret is refused when NODE_ENV=production; set `secret` (32+ characters)");
  }
  if (env.NODE_ENV === "production" && !config.issuer) {
    problems.push(
      "issuer: required when NODE_ENV=production (the public base URL, e.g. https://auth.example.com/); without it the issuer is the server's own listen address, for development only",
    );
  }
  if (problems.length) throw new TextlockConfigError(problems);
  return { config, providers };
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
