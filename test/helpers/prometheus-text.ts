/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** `# TYPE` of each metric family. */
  types: Map<string, string>;
  samples: Sample[];
  /** The value of the one sample with this name and exactly these labels; throws when there is none. */
  value(name: string, labels?: Record<string, string>): number;
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*,?)?\\})? (\\S+)(?: -?\\d+)?$`);
const FAMILY_SUFFIXES = ["_bucket", "_sum", "_count", ""];

/**
 * A strict parser of the Prometheus text format 0.0.4, as a scraper reads it: every line is a
 * `# HELP`, a `# TYPE` (once per family, before its samples), or a sample of a declared family
 * with well-formed labels and a float value. Anything else throws, naming the line.
 */
export function parsePrometheusText(text: string): Exposition {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  text
    .slice(0, -1)
    .split("\n")
    .forEach((line, i) => {
      const fail = (why: string) => {
        throw new Error(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
      };
      if (line === "") return;
      const help = line.match(new RegExp(`^# HELP (${NAME}) (.*)$`));
      if (help) return;
      const type = line.match(new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`));
      if (type) {
        if (types.has(type[1]!)) fail("second TYPE for a family");
        types.set(type[1]!, type[2]!);
        return;
      }
      if (line.startsWith("#")) fail("unknown comment");
      const m = line.match(SAMPLE);
      if (!m) fail("not a sample");
      const [, name, labelText, valueText] = m!;
      const family = FAMILY_SUFFIXES.map((s) => (name!.endsWith(s) ? name!.slice(0, name!.length - s.length) : ""))
        .filter(Boolean)
        .find((f) => types.has(f));
      if (!family) fail("sample of an undeclared family");
      const value = valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : Number(valueText);
      if (Number.isNaN(value) && valueText !== "NaN") fail("value is not a float");
      const labels: Record<string, string> = {};
      for (const l of (labelText ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        if (l[1]! in labels) fail(`label ${l[1]} twice`);
        labels[l[1]!] = l[2]!.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
      }
      samples.push({ name: name!, labels, value });
    });
  const same = (a: Record<string, string>, b: Record<string, string>) =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
  return {
    types,
    samples,
    value(name, labels = {}) {
      const found = samples.filter((s) => s.name === name && same(s.labels, labels));
      if (found.length !== 1) throw new Error(`${found.length} samples ${name}${JSON.stringify(labels)}`);
      return found[0]!.value;
    },
  };
}
