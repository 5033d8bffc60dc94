import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

// Script authors check their plain-JS hooks with `// @ts-check` against `textlock/hooks`. This compiles
// the documented examples as such a project would, with "textlock/hooks" mapped to the source.
const root = new URL("../..", import.meta.url).pathname;
const examples = join(root, "docs/examples/hooks");
const tsc = join(root, "node_modules/typescript/bin/tsc");
const work = mkdtempSync(join(tmpdir(), "textlock-hook-types-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function typecheck(files: string[]): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(work, "project-"));
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "Bundler",
      lib: ["ES2023"],
      types: ["node"],
      typeRoots: [join(root, "node_modules/@types")],
      strict: true,
      allowJs: true,
      checkJs: true,
      noEmit: true,
      skipLibCheck: true,
      baseUrl: root,
      paths: { "textlock/hooks": ["core/hooks/index.ts"] },
    },
    files,
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [
      tsc,
      "-p",
      join(dir, "tsconfig.json"),
      "--pretty",
      "false",
    ]);
    return { code: 0, output: stdout };
  } catch (err) {
    const { code, stdout } = err as { code: number; stdout: string };
    return { code, output: stdout };
  }
}

function script(name: string, source: string): string {
  const file = join(mkdtempSync(join(work, "script-")), name);
  writeFileSync(file, source);
  return file;
}

describe("textlock/hooks types", () => {
  it("the documented examples compile with checkJs", async () => {
    const files = readdirSync(examples).map((f) => join(examples, f));
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(await typecheck(files)).toEqual({ code: 0, output: "" });
  }, 60_000);

  it("catch mistakes: a missing argument, a misspelt event field, an api method of another trigger", async () => {
    const bad = script(
      "post-login.js",
      `// @ts-check
/** @type {import("textlock/hooks").PostLoginHandler} */
exports.onExecutePostLogin = async (event, api) => {
  api.idToken.setCustomClaim();
  console.log(event.user.phone_numbr);
  api.notification.drop("no");
};
`,
    );
    const { code, output } = await typecheck([bad]);
    expect(code).not.toBe(0);
    expect(output).toMatch(/post-login\.js\(4,15\): error TS2554: Expected 2 arguments, but got 0\./);
    expect(output).toMatch(
      /post-login\.js\(5,26\): error TS2551: Property 'phone_numbr' does not exist on type 'HookUser'/,
    );
    expect(output).toMatch(
      /post-login\.js\(6,7\): error TS2339: Property 'notification' does not exist on type 'PostLoginApi'/,
    );
  }, 60_000);

  it("infers event and api per trigger in defineHooks", async () => {
    const bad = script(
      "hooks.ts",
      `import { defineHooks } from "textlock/hooks";
export const hooks = defineHooks({
  "pre-user-registration": (event, api) => api.idToken.setCustomClaim("x", event.user.phone_number),
});
`,
    );
    const { output } = await typecheck([bad]);
    expect(output).toMatch(
      /hooks\.ts\(3,48\): error TS2339: Property 'idToken' does not exist on type 'PreUserRegistrationApi'/,
    );
  }, 60_000);

  it("the guide shows the example files as they are", () => {
    const guide = readFileSync(join(root, "docs/guides/hooks.md"), "utf8");
    const shown = [...guide.matchAll(/```(?:js|ts)\n\/\/ (docs\/examples\/hooks\/[\w.-]+)\n([\s\S]*?)```/g)];
    expect(shown.map(([, file]) => file).sort()).toEqual(
      readdirSync(examples)
        .map((f) => `docs/examples/hooks/${f}`)
        .sort(),
    );
    for (const [, file, body] of shown) expect(body, file).toBe(readFileSync(join(root, file!), "utf8"));
  });
});
