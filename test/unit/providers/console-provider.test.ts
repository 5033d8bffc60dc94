import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createConsoleProvider } from "../../../providers/console/index.js";

describe("console provider", () => {
  it("prints each message and appends it to the JSON-lines outbox", async () => {
    const outboxFile = join(mkdtempSync(join(tmpdir(), "textlock-outbox-")), "deep", "outbox.jsonl");
    const stream = new PassThrough();
    let printed = "";
    stream.on("data", (c) => (printed += c));
    const provider = createConsoleProvider({ outboxFile, stream });
    const ctx = { signal: new AbortController().signal, options: {}, request: { language: null } };
    const base = { code: "1", language: "fr", connection: "sms", client: { client_id: "c", name: "C" } };
    const a = await provider.send({ ...base, to: "+14155550100", body: "Code 111111", channel: "sms" }, ctx);
    const b = await provider.send(
      { ...base, to: "+14155550101", body: "Code 222222", channel: "voice", from: "+15550000" },
      ctx,
    );
    expect(a.id).not.toBe(b.id);
    const lines = readFileSync(outboxFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({
        id: a.id,
        to: "+14155550100",
        body: "Code 111111",
        channel: "sms",
        client_id: "c",
        language: "fr",
      }),
      expect.objectContaining({ id: b.id, to: "+14155550101", from: "+15550000", channel: "voice" }),
    ]);
    expect(printed).toContain("to +14155550100: Code 111111");
    expect(printed).toContain("[textlock console voice]");
  });
});
