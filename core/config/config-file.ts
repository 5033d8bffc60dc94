import { isAbsolute, resolve } from "node:path";

type Json = unknown;

const PLACEHOLDER = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

const where = (path: readonly (string | number)[]) => (path.length ? path.join(".") : "(root)");

/**
 * `${NAME}` in every string value of a parsed config file, replaced by the environment variable; `$${`
 * writes a literal `${`. Returns the substituted copy and one problem per missing variable, naming it
 * and the option that uses it.
 */
export function substituteEnv(value: Json, env: NodeJS.ProcessEnv): { value: Json; problems: string[] } {
  const problems: string[] = [];
  const walk = (v: Json, path: (string | number)[]): Json => {
    if (typeof v === "string") {
      return v.replace(PLACEHOLDER, (match, name: string | undefined) => {
        if (name === undefined) return "${";
        const found = env[name];
        if (found === undefined) {
          problems.push(`${where(path)}: environment variable ${name} is not set (used as \${${name}})`);
          return match;
        }
        return found;
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...path, k])]));
    }
    return v;
  };
  return { value: walk(value, []), problems };
}

/**
 * The options that name files or folders, resolved against the config file's folder: a config file
 * means the same thing whichever directory the server is started from.
 */
export function resolveConfigPaths(config: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const abs = (v: unknown) => (typeof v === "string" && v !== "" && !isAbsolute(v) ? resolve(baseDir, v) : v);
  const obj = (v: unknown): Record<string, unknown> | undefined =>
    v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  const out: Record<string, unknown> = { ...config };
  if ("dataDir" in out) out.dataDir = abs(out.dataDir);
  const users = obj(out.users);
  if (users && "file" in users) out.users = { ...users, file: abs(users.file) };
  const audit = obj(out.audit);
  if (audit && "file" in audit) out.audit = { ...audit, file: abs(audit.file) };
  const server = obj(out.server);
  const https = obj(server?.https);
  if (server && https) {
    out.server = {
      ...server,
      https: {
        ...https,
        ...("cert" in https ? { cert: abs(https.cert) } : {}),
        ...("key" in https ? { key: abs(https.key) } : {}),
      },
    };
  }
  const hooks = obj(out.hooks);
  const scripts = obj(hooks?.scripts);
  if (hooks && scripts) {
    out.hooks = { ...hooks, scripts: Object.fromEntries(Object.entries(scripts).map(([k, v]) => [k, abs(v)])) };
  }
  return out;
}
