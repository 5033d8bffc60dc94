import { randomBytes } from "node:crypto";
import type { ClientConfig } from "../config/schema.js";
import type { HttpResponse } from "../http/types.js";
import type { PageLanguage } from "./i18n.js";

/** Escapes text for HTML element content and double-quoted attributes. */
export function esc(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A JSON literal safe inside a `<script>` element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028|\u2029/g, "");
}

interface PageOptions {
  language: PageLanguage;
  title: string;
  client?: ClientConfig;
  body: string;
  script?: string;
  status?: number;
  /** Extra CSP directives (`form-action`, `frame-src`, `frame-ancestors`). */
  csp?: Record<string, string>;
  /** Sources added to CSP directives (a third-party widget's origins); a directive absent above is created. */
  cspSources?: Record<string, string[]>;
  /** External scripts (a third-party widget), loaded with the page's nonce. */
  scripts?: string[];
  headers?: Record<string, string | string[]>;
}

const CSS = `
:root{--primary:#3949ab;--bg:#f2f4f8;--text:#1c1f26;--muted:#59606e;--danger:#b3261e;--radius:12px}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:16px;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--text)}
main{width:100%;max-width:400px;background:#fff;border-radius:var(--radius);padding:32px 24px;box-shadow:0 4px 24px rgba(0,0,0,.08)}
.logo{display:block;max-height:56px;max-width:160px;margin:0 auto 16px}
h1{font-size:1.4rem;margin:0 0 8px;text-align:center}
p{margin:0 0 16px;color:var(--muted)}
label{display:block;font-weight:600;margin:16px 0 4px}
input,select{width:100%;font:inherit;padding:12px;border:1px solid #9aa1ad;border-radius:8px;background:#fff;color:var(--text);min-height:48px}
input:focus,select:focus,button:focus{outline:3px solid var(--primary);outline-offset:2px}
input[aria-invalid=true]{border-color:var(--danger)}
.hint{font-size:.875rem;margin:4px 0 0}
button{width:100%;margin-top:24px;min-height:48px;font:inherit;font-weight:600;border:0;border-radius:8px;background:var(--primary);color:#fff;cursor:pointer}
button[disabled]{opacity:.55;cursor:not-allowed}
button.link{background:none;color:var(--primary);margin-top:8px;text-decoration:underline}
.alert{border-radius:8px;padding:12px;margin:0 0 16px;background:#fdecea;color:var(--danger);font-weight:600}
.notice{border-radius:8px;padding:12px;margin:0 0 16px;background:#e8f0fe;color:#174ea6}
.code{letter-spacing:.3em;font-size:1.4rem;text-align:center}
.inline{margin:0}
.captcha{margin-top:16px}
dt{font-weight:600;margin-top:8px}dd{margin:0;overflow-wrap:anywhere}
pre{overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f7f9;padding:12px;border-radius:8px;font-size:.8rem}
`;

/** A complete page with a strict Content-Security-Policy: inline code runs only with this page's nonce. */
export function page(o: PageOptions): HttpResponse {
  const nonce = randomBytes(16).toString("base64");
  const b = o.client?.branding;
  const vars = [
    b?.primary_color && `--primary:${b.primary_color}`,
    b?.page_background && `--bg:${b.page_background}`,
    b?.text_color && `--text:${b.text_color}`,
  ]
    .filter(Boolean)
    .join(";");
  const csp = {
    "default-src": "'none'",
    "style-src": `'nonce-${nonce}'`,
    "script-src": `'nonce-${nonce}'`,
    "img-src": "https: data:",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    ...o.csp,
  } as Record<string, string>;
  for (const [directive, sources] of Object.entries(o.cspSources ?? {})) {
    const current = csp[directive];
    csp[directive] = current && current !== "'none'" ? `${current} ${sources.join(" ")}` : sources.join(" ");
  }
  const html = `<!doctype html>
<html lang="${esc(o.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(o.title)}</title>
<style nonce="${nonce}">${CSS}${vars ? `:root{${vars}}` : ""}</style>
</head>
<body>
<main>
${b?.logo_url ? `<img class="logo" src="${esc(b.logo_url)}" alt="${esc(o.client?.name)}">` : ""}
${o.body}
</main>
${(o.scripts ?? []).map((src) => `<script nonce="${nonce}" src="${esc(src)}" async defer></script>`).join("\n")}
${o.script ? `<script nonce="${nonce}">${o.script}</script>` : ""}
</body>
</html>`;
  return {
    status: o.status ?? 200,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy": Object.entries(csp)
        .map(([k, v]) => `${k} ${v}`)
        .join("; "),
      ...(csp["frame-ancestors"] === "'none'" ? { "x-frame-options": "DENY" } : {}),
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      ...o.headers,
    },
    body: html,
  };
}
