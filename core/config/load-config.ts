import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { TextlockConfigError } from "../errors/textlock-error.js";
import { type ProviderDescriptor, providerOptionNames } from "../providers/provider-descriptor.js";
import { validateProviderOptions } from "../providers/provider-options.js";
import { collectProviders, type ProviderSet } from "../providers/provider-set.js";
import { resolveConfigPaths, substituteEnv } from "./config-file.js";
import { exampleSecretReason, secretStrings } from "./example-secrets.js";
import { configSchema, connectionOptionsSchema, type TextlockConfig, type TextlockConfigInput } from "./schema.js";
import { knownKeysAt, unknownOptionMessage } from "./unknown-keys.js";

function formatIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(configSchema, issue.path, input);
    return issue.keys.map((key) => `${path ? `${path}.` : ""}${key}: ${unknownOptionMessage(key, known)}`);
  }
  return [`${path || "(root)"}: ${issue.message}`];
}

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

/**
 * Connection option keys that neither textlock nor any registered provider declares. Checked on the
 * input, so they are reported together with the schema's own problems.
 */
function unknownConnectionOptions(input: TextlockConfigInput, providers: ProviderSet): string[] {
  const known = new Set(Object.keys(connectionOptionsSchema.shape));
  for (const descriptor of providers.descriptors.values()) {
    for (const name of providerOptionNames(descriptor) ?? []) known.add(name);
  }
  const problems: string[] = [];
  const connections = Array.isArray(input.connections) ? input.connections : [];
  connections.forEach((connection, i) => {
    const options = isRecord(connection) ? connection.options : undefined;
    if (!isRecord(options)) return;
    for (const key of Object.keys(options)) {
      if (!known.has(key)) problems.push(`connections.${i}.options.${key}: ${unknownOptionMessage(key, [...known])}`);
    }
  });
  return problems;
}

/** Secret values that are placeholders or copied examples (`changeme`, `AC...`, a leftover `${NAME}`). */
function exampleSecrets(config: TextlockConfig, providers: ProviderSet): string[] {
  const secrets: Array<[string, string]> = [];
  if (config.secret) secrets.push(["secret", config.secret]);
  config.clients.forEach((c, i) => {
    if (c.client_secret) secrets.push([`clients.${i}.client_secret`, c.client_secret]);
  });
  if (config.metrics.bearerToken) secrets.push(["metrics.bearerToken", config.metrics.bearerToken]);
  for (const [name, value] of Object.entries(config.hooks.secrets)) secrets.push([`hooks.secrets.${name}`, value]);
  if (config.protection.captcha.secret) secrets.push(["protection.captcha.secret", config.protection.captcha.secret]);
  if (config.risk.twilioLookup) secrets.push(["risk.twilioLookup.authToken", config.risk.twilioLookup.authToken]);
  if (config.risk.vonage) secrets.push(["risk.vonage.apiSecret", config.risk.vonage.apiSecret]);
  const secretOptions = new Set([...providers.descriptors.values()].flatMap((d) => d.secretOptions ?? []));
  config.connections.forEach((connection, i) => {
    for (const name of secretOptions) {
      const value = (connection.options as Record<string, unknown>)[name];
      secrets.push(...secretStrings(value, `connections.${i}.options.${name}`));
    }
  });
  return secrets.flatMap(([path, value]) => {
    const reason = exampleSecretReason(value);
    return reason ? [`${path}: ${reason}; set a real secret (for example from an environment variable)`] : [];
  });
}

/** The plugins of an input whose schema check failed, so its connection options can still be checked. */
function pluginsOf(input: TextlockConfigInput): TextlockConfig["providers"] {
  const parsed = configSchema.shape.providers.safeParse(input.providers);
  return parsed.success ? parsed.data : [];
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
  if (!parsed.success) {
    const providers = collectProviders(builtins, pluginsOf(input));
    throw new TextlockConfigError([
      ...parsed.error.issues.flatMap((issue) => formatIssue(issue, input)),
      ...unknownConnectionOptions(input, providers),
    ]);
  }
  const config = parsed.data;
  const providers = collectProviders(builtins, config.providers);
  const problems: string[] = [...providers.problems, ...unknownConnectionOptions(input, providers)];
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
    if (
      env.NODE_ENV === "production" &&
      connection.options.test_numbers.length &&
      !connection.options.allow_test_numbers_in_production
    ) {
      problems.push(
        `connections.${i}.options.test_numbers: test numbers log in with a fixed code and are refused when NODE_ENV=production; set allow_test_numbers_in_production: true to keep them (app-store review)`,
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
    if (file && !existsSync(file)) problems.push(`hooks.scripts.${trigger}: file not found: ${resolve(file)}`);
  }
  for (const part of ["cert", "key"] as const) {
    const file = config.server.https?.[part];
    if (file !== undefined && !existsSync(file))
      problems.push(`server.https.${part}: file not found: ${resolve(file)}`);
  }
  problems.push(...exampleSecrets(config, providers));
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

/**
 * Reads a config file: `.json`, `.yaml`/`.yml`, or a module (`.js`, `.mjs`, `.cjs`, `.ts` under a TS
 * loader) exporting the object as default. In JSON and YAML files `${NAME}` in a string value is
 * replaced by the environment variable `NAME` (`$${` writes a literal `${`); a missing variable is an
 * error naming it and the option. In every format, relative paths (`dataDir`, `users.file`,
 * `server.https.cert`/`key`, `hooks.scripts.*`) are resolved against the file's folder.
 */
export async function readConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<TextlockConfigInput> {
  const path = resolve(file);
  const ext = extname(path).toLowerCase();
  const isYaml = ext === ".yaml" || ext === ".yml";
  const withPaths = (value: unknown) =>
    (isRecord(value) ? resolveConfigPaths(value, dirname(path)) : value) as TextlockConfigInput;
  let text: string;
  try {
    if ([".js", ".mjs", ".cjs", ".ts", ".mts"].includes(ext)) {
      const mod = (await import(pathToFileURL(path).href)) as { default?: TextlockConfigInput };
      return withPaths(mod.default ?? mod);
    }
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new TextlockConfigError([`${file}: cannot be read (${(err as Error).message})`]);
  }
  let value: unknown;
  try {
    value = isYaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new TextlockConfigError([`${file}: is not valid ${isYaml ? "YAML" : "JSON"} (${(err as Error).message})`]);
  }
  const substituted = substituteEnv(value ?? {}, env);
  if (substituted.problems.length) throw new TextlockConfigError(substituted.problems);
  return withPaths(substituted.value);
}
