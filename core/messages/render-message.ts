import { Liquid, type Template } from "liquidjs";
import type { ConnectionConfig } from "../config/schema.js";
import type { DeliveryChannel } from "../providers/sms-provider.js";
import { matchLanguage } from "./language.js";

/** Variables a template may use (Auth0's names). */
export interface MessageVariables {
  code: string;
  phone_number: string;
  application: { name: string };
  request_language: string;
}

export interface MessageRendererOptions {
  renderLimitMs: number;
  memoryLimit: number;
}

const MACRO = /@@([a-z_]+(?:\.[a-z_]+)?)@@/gi;
const MAX_CACHED_TEMPLATES = 1_000;

/**
 * Renders connection templates. Liquid templates are parsed once and cached; the engine runs with
 * limits (parse size, render time, memory, own properties only, no file access) because templates are
 * operator input and request data is only ever passed as variables, never as template source.
 */
export class MessageRenderer {
  private readonly liquid: Liquid;
  private readonly parsed = new Map<string, Template[]>();

  constructor(options: MessageRendererOptions) {
    this.liquid = new Liquid({
      templates: {},
      strictFilters: true,
      ownPropertyOnly: true,
      parseLimit: 10_000,
      renderLimit: options.renderLimitMs,
      memoryLimit: options.memoryLimit,
    });
  }

  /** Checks a template at startup so a typo fails `createTextlock()`, not a login. */
  validate(source: string, syntax: "md_with_macros" | "liquid"): void {
    if (syntax === "liquid") this.parse(source);
  }

  /** The template for a connection, channel and request language (per-language templates first). */
  templateFor(connection: ConnectionConfig, channel: DeliveryChannel, language: string): string {
    const { templates, template, voice_template } = connection.options;
    const key = matchLanguage(language, Object.keys(templates));
    const localized = key ? templates[key] : undefined;
    if (channel === "voice") return localized?.voice ?? voice_template ?? localized?.text ?? template;
    return localized?.text ?? template;
  }

  render(connection: ConnectionConfig, channel: DeliveryChannel, vars: MessageVariables): string {
    const source = this.templateFor(connection, channel, vars.request_language);
    if (connection.options.syntax === "liquid") {
      const context = { ...vars, password: vars.code };
      return String(this.liquid.renderSync(this.parse(source), context)).trim();
    }
    return source.replace(MACRO, (whole, name: string) => macroValue(name.toLowerCase(), vars) ?? whole);
  }

  private parse(source: string): Template[] {
    let templates = this.parsed.get(source);
    if (!templates) {
      templates = this.liquid.parse(source);
      if (this.parsed.size >= MAX_CACHED_TEMPLATES) this.parsed.clear();
      this.parsed.set(source, templates);
    }
    return templates;
  }
}

function macroValue(name: string, vars: MessageVariables): string | undefined {
  switch (name) {
    case "password":
    case "code":
      return vars.code;
    case "phone_number":
      return vars.phone_number;
    case "application.name":
      return vars.application.name;
    case "request_language":
      return vars.request_language;
    default:
      return undefined;
  }
}
