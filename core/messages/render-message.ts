import { Liquid, type Template } from "liquidjs";
import type { ConnectionConfig } from "../config/schema.js";
import { TextlockConfigError } from "../errors/textlock-error.js";
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

  /**
   * Checks a template at startup so a typo fails `createTextlock()`, not a login: it must parse, and a
   * sample rendering must show the code (a message without its code would be sent, paid for and useless).
   */
  validate(source: string, syntax: "md_with_macros" | "liquid"): void {
    const sample: MessageVariables = {
      code: "93817264",
      phone_number: "+14155550100",
      application: { name: "app" },
      request_language: "en",
    };
    const output = this.renderSource(source, syntax, sample);
    // Digits only, so templates that space the code out for voice ("9 3 8 …") pass too.
    if (!output.replace(/\D/g, "").includes(sample.code)) {
      throw new TextlockConfigError([
        `template "${source.length > 60 ? `${source.slice(0, 57)}...` : source}" never shows the code: use ${syntax === "liquid" ? "{{ code }}" : "@@password@@"}`,
      ]);
    }
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
    return this.renderSource(
      this.templateFor(connection, channel, vars.request_language),
      connection.options.syntax,
      vars,
    );
  }

  private renderSource(source: string, syntax: "md_with_macros" | "liquid", vars: MessageVariables): string {
    const macros = (text: string) =>
      text.replace(MACRO, (whole, name: string) => macroValue(name.toLowerCase(), vars) ?? whole);
    if (syntax === "liquid") {
      // Macros work in Liquid templates too, so the default template ("… @@password@@") suits both syntaxes.
      return macros(String(this.liquid.renderSync(this.parse(source), { ...vars, password: vars.code })).trim());
    }
    return macros(source);
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
