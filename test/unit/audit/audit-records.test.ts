import { describe, expect, it } from "vitest";
import { recordOf } from "../../../core/audit/event-records.js";
import { logIdOf, maskPhone, seqOf } from "../../../core/audit/log-entry.js";
import { parseLogQuery } from "../../../core/audit/logs-query.js";
import { batchBody, signBody } from "../../../core/audit/stream-delivery.js";
import { validateConfig } from "../../../lib/index.js";

const config = validateConfig({
  secret: "x".repeat(32),
  clients: [{ client_id: "app", name: "App" }],
  connections: [{ name: "sms", enabled_clients: ["app"] }],
});
const date = "2026-12-01T00:00:00.000Z";
const failed = (reason: "ceiling" | "exhausted") =>
  recordOf("code.failed", { connection: "sms", client_id: "app", phone_number: "+14155550100", reason }, config, date)!;

describe("audit records", () => {
  it("masks a phone to its last 4 digits", () => {
    expect(maskPhone("+14155550100")).toBe("+*******0100");
    expect(maskPhone("+447700900123")).toBe("+********0123");
    expect(maskPhone("123")).toBe("***");
  });

  it("numbers log_ids as 56 increasing digits and reads them back", () => {
    expect(logIdOf(1)).toMatch(/^90\d{54}$/);
    expect(logIdOf(10) > logIdOf(9)).toBe(true);
    expect(seqOf(logIdOf(123_456))).toBe(123_456);
    expect(seqOf("123")).toBeUndefined();
    expect(seqOf("1".repeat(56))).toBeUndefined();
  });

  it("maps events to Auth0 types, copying only named fields", () => {
    const payload = {
      connection: "sms",
      client_id: "app",
      phone_number: "+14155550100",
      channel: "sms",
      provider: "twilio",
      ip: "1.2.3.4",
      code: "123456",
    };
    const sent = recordOf("code.sent", payload as never, config, date)!;
    expect(sent).toMatchObject({ type: "cs", client_name: "App", user_name: "+*******0100", ip: "1.2.3.4" });
    expect(JSON.stringify(sent)).not.toContain("123456");
    expect(JSON.stringify(sent)).not.toContain("+14155550100");
    expect(failed("ceiling").type).toBe("limit_wc");
    expect(failed("exhausted")).toMatchObject({ type: "fepotpft", description: expect.stringContaining("maximum") });
    const blocked = { connection: "sms", client_id: "app", phone_number: "+1", reason: "user is blocked" };
    expect(recordOf("login.failed", blocked, config, date)).toMatchObject({
      type: "f",
      description: "user is blocked",
    });
    expect(recordOf("request.refused", { reason: "ip_limit" }, config, date)!.type).toBe("api_limit");
    expect(recordOf("request.refused", { reason: "resend_cooldown" }, config, date)!.type).toBe("limit_phone");
    // A successful Management read is not logged (Auth0); writes and failures are.
    const call = { method: "GET", path: "/api/v2/users", query: {}, status: 200 };
    expect(recordOf("management.called", call, config, date)).toBeUndefined();
    expect(recordOf("management.called", { ...call, status: 403 }, config, date)!.type).toBe("fapi");
    const body = { phone_number: "+14155550100", password: "hunter2", blocked: true };
    const patch = recordOf("management.called", { ...call, method: "PATCH", body }, config, date)!;
    expect(patch.type).toBe("sapi");
    expect(JSON.stringify(patch)).not.toContain("hunter2");
    expect(JSON.stringify(patch)).not.toContain("+14155550100");
  });
});

describe("log search q", () => {
  it("parses fields, quotes, type lists and date ranges", () => {
    expect(parseLogQuery('type:s AND user_id:"sms|abc" connection:sms')).toEqual({
      type: ["s"],
      user_id: "sms|abc",
      connection: "sms",
    });
    expect(parseLogQuery("type:(s OR fepotpft)")).toEqual({ type: ["s", "fepotpft"] });
    expect(parseLogQuery("date:[2026-01-01 TO *]")).toEqual({ dateFrom: "2026-01-01T00:00:00.000Z" });
    expect(parseLogQuery("date:[* TO 2026-01-02]")).toEqual({ dateTo: "2026-01-02T23:59:59.999Z" });
    expect(parseLogQuery("")).toEqual({});
  });

  it("refuses unknown fields, bad syntax and bad dates", () => {
    for (const q of ["password:x", "type:(", "just words", "date:[nope TO *]"]) {
      expect(() => parseLogQuery(q), q).toThrow();
    }
  });
});

describe("stream bodies", () => {
  const entries = [{ log_id: logIdOf(1), date, type: "cs" as const, description: "Code sent" }];
  it("formats a batch as a JSON array, JSON lines or {logs}", () => {
    expect(JSON.parse(batchBody("JSONARRAY", entries))).toEqual([{ log_id: entries[0]!.log_id, data: entries[0] }]);
    expect(batchBody("JSONLINES", [...entries, ...entries]).split("\n")).toHaveLength(2);
    expect(JSON.parse(batchBody("JSONOBJECT", entries)).logs).toHaveLength(1);
  });

  it("signs the raw body with HMAC-SHA256 (as `openssl dgst -sha256 -hmac key` does)", () => {
    expect(signBody("key", "[]")).toBe("sha256=8cf3d584bac42070e44f249a550910bd0077d18a9cc62a54c59c6758458bf01a");
  });
});
