import { describe, expect, it } from "vitest";
import { configSchema } from "../../../core/config/schema.js";
import { matchLanguage, preferredLanguages, resolveRequestLanguage } from "../../../core/messages/language.js";
import { MessageRenderer } from "../../../core/messages/render-message.js";

const renderer = () => new MessageRenderer({ renderLimitMs: 50, memoryLimit: 1_000_000 });
const connection = (options: Record<string, unknown>) =>
  configSchema.parse({ connections: [{ name: "sms", enabled_clients: ["textlock-dev"], options }] }).connections[0]!;
const vars = (request_language = "en") => ({
  code: "012345",
  phone_number: "+14155550100",
  application: { name: "Acme" },
  request_language,
});

// Auth0's documented multi-language Liquid template.
const AUTH0_LIQUID =
  "{% if request_language contains 'fr-FR' %}Ceci est votre code: {{ password }}{% elsif request_language contains 'es' %}Este es tu código: {{ code }}{% else %}Your code for {{ application.name }}: {{ password }}{% endif %}";

describe("MessageRenderer", () => {
  it("replaces @@password@@ and the other macros", () => {
    const c = connection({
      template: "@@application.name@@: @@password@@ (@@code@@) to @@phone_number@@ in @@request_language@@ @@unknown@@",
    });
    expect(renderer().render(c, "sms", vars())).toBe("Acme: 012345 (012345) to +14155550100 in en @@unknown@@");
  });

  it("renders Auth0's Liquid example by request language", () => {
    const c = connection({ syntax: "liquid", template: AUTH0_LIQUID });
    const r = renderer();
    expect(r.render(c, "sms", vars("fr-FR,fr;q=0.9"))).toBe("Ceci est votre code: 012345");
    expect(r.render(c, "sms", vars("es-ES"))).toBe("Este es tu código: 012345");
    expect(r.render(c, "sms", vars("en-US"))).toBe("Your code for Acme: 012345");
  });

  it("picks per-language and voice templates", () => {
    const c = connection({
      template: "Code @@code@@",
      voice_template: "Your code is @@code@@",
      templates: {
        fr: { text: "Code FR @@code@@" },
        "pt-BR": { text: "Código @@code@@", voice: "Seu código é @@code@@" },
      },
    });
    const r = renderer();
    expect(r.render(c, "sms", vars("fr-CA,fr;q=0.8"))).toBe("Code FR 012345");
    expect(r.render(c, "sms", vars("pt"))).toBe("Código 012345");
    expect(r.render(c, "voice", vars("pt-BR"))).toBe("Seu código é 012345");
    expect(r.render(c, "voice", vars("de"))).toBe("Your code is 012345");
    expect(r.render(c, "sms", vars("de"))).toBe("Code 012345");
  });

  it("parses each Liquid template once", () => {
    const r = renderer();
    const c = connection({ syntax: "liquid", template: "{{ code }}" });
    const liquid = (r as unknown as { liquid: { parse: (s: string) => unknown } }).liquid;
    let parses = 0;
    const original = liquid.parse.bind(liquid);
    liquid.parse = (s: string) => {
      parses++;
      return original(s);
    };
    for (let i = 0; i < 50; i++) expect(r.render(c, "sms", vars())).toBe("012345");
    expect(parses).toBe(1);
  });

  it("keeps templates inside their limits", () => {
    const r = renderer();
    // No file access.
    expect(() =>
      r.render(connection({ syntax: "liquid", template: "{% include '/etc/passwd' %}" }), "sms", vars()),
    ).toThrow();
    // No prototype walking.
    expect(
      r.render(
        connection({ syntax: "liquid", template: "[{{ code.constructor }}{{ application.__proto__ }}]" }),
        "sms",
        vars(),
      ),
    ).toBe("[]");
    // Memory bombs stop.
    expect(() =>
      r.render(
        connection({ syntax: "liquid", template: "{% for i in (1..100000000) %}{{ code }}{% endfor %}" }),
        "sms",
        vars(),
      ),
    ).toThrow(/limit/);
    // Unknown filters fail at parse time (startup), not silently.
    expect(() => r.validate("{{ code | nope }}", "liquid")).toThrow();
  });

  it("keeps the default template (@@password@@) working when the connection says syntax liquid", () => {
    const c = connection({ syntax: "liquid" });
    expect(renderer().render(c, "sms", vars())).toBe("Your verification code is: 012345");
  });

  it("refuses at startup a template that never shows the code, in either syntax", () => {
    const r = renderer();
    expect(() => r.validate("Welcome to {{ application.name }}!", "liquid")).toThrow(
      /never shows the code: use \{\{ code \}\}/,
    );
    expect(() => r.validate("Your code is: @@pasword@@", "md_with_macros")).toThrow(
      /never shows the code: use @@password@@/,
    );
    // Spelled out for voice, digit by digit, is fine.
    expect(() => r.validate(`Your code is {{ code | split: "" | join: ", " }}`, "liquid")).not.toThrow();
    expect(() => r.validate(AUTH0_LIQUID, "liquid")).not.toThrow();
  });

  it("treats request data as data, never as template source", () => {
    const c = connection({ syntax: "liquid", template: "{{ request_language }}" });
    expect(renderer().render(c, "sms", vars("{{ code }}"))).toBe("{{ code }}");
  });
});

describe("request language", () => {
  it("takes x-request-language, then accept-language, then the connection default", () => {
    expect(resolveRequestLanguage("fr-FR", "de", "en")).toBe("fr-FR");
    expect(resolveRequestLanguage(undefined, "de-DE,de;q=0.9", "en")).toBe("de-DE,de;q=0.9");
    expect(resolveRequestLanguage("  ", "", "en")).toBe("en");
  });

  it("orders accept-language by weight and matches tags", () => {
    expect(preferredLanguages("en;q=0.5, fr-CA, fr;q=0.8, *;q=0.1, de;q=0")).toEqual(["fr-ca", "fr", "en"]);
    expect(matchLanguage("fr-CA", ["en", "fr"])).toBe("fr");
    expect(matchLanguage("fr", ["en", "fr-FR"])).toBe("fr-FR");
    expect(matchLanguage("de", ["en", "fr"])).toBeUndefined();
  });
});
