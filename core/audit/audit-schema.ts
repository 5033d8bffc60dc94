import { z } from "zod";
import { LOG_CATEGORIES, type LogCategory } from "./log-entry.js";

const CATEGORIES = [...new Set(Object.values(LOG_CATEGORIES))] as [LogCategory, ...LogCategory[]];

/** One log stream: Auth0's custom webhook (`type: "http"`) sink. */
export const logStreamSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[\w.-]{1,64}$/, "letters, digits, `_`, `.` and `-`, up to 64")
    .describe("Stream name: its identity in the outbox (renaming a stream starts a new, empty one)."),
  url: z.string().url().describe("Endpoint that receives `POST`s of batches of log events (Auth0's `httpEndpoint`)."),
  authorization: z
    .string()
    .optional()
    .describe("Sent verbatim as the `Authorization` header (Auth0's `httpAuthorization`; no `Bearer ` is added)."),
  secret: z
    .string()
    .min(32, "must be at least 32 characters")
    .optional()
    .describe(
      "Signs each body: `X-Textlock-Signature: sha256=<hex HMAC-SHA256(secret, body)>` (docs/guides/audit-log.md).",
    ),
  format: z
    .enum(["JSONARRAY", "JSONLINES", "JSONOBJECT"])
    .default("JSONARRAY")
    .describe(
      'Body of a batch: a JSON array of `{log_id, data}`, one per line (JSON Lines), or `{"logs": [...]}` (Auth0\'s `httpContentFormat`).',
    ),
  headers: z
    .record(z.string(), z.string())
    .default({})
    .describe("Extra headers on every request (Auth0's `httpCustomHeaders`)."),
  filters: z
    .array(z.enum(CATEGORIES))
    .default([])
    .describe("Auth0 event categories to send (e.g. `auth.login.success`); empty: every event."),
  batchSize: z.number().int().min(1).max(100).default(50).describe("Most events in one request."),
  maxAttempts: z
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(10)
    .describe("Attempts of a batch before its events become dead letters and the stream moves on."),
  initialBackoffMs: z
    .number()
    .int()
    .min(10)
    .max(600_000)
    .default(1_000)
    .describe("Wait after the first failed attempt; doubled after each further failure."),
  maxBackoffMs: z.number().int().min(10).max(86_400_000).default(300_000).describe("Longest wait between attempts."),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000).describe("A request not answered by then failed."),
  leaseSeconds: z
    .number()
    .int()
    .min(1)
    .max(3_600)
    .default(30)
    .describe(
      "How long the process delivering this stream holds it; another process takes over when the holder stops renewing (killed).",
    ),
  pollMs: z
    .number()
    .int()
    .min(10)
    .max(60_000)
    .default(1_000)
    .describe("How often an idle process looks for events written by other processes."),
});

/** The `audit` section of the configuration. */
export const auditSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Record the audit log (Auth0 log event types)."),
    file: z
      .string()
      .optional()
      .describe(
        "SQLite file of the audit log and stream outbox when users are in SQLite. Defaults to `<dataDir>/audit.db`. In a config file, relative to the file.",
      ),
    retentionDays: z
      .number()
      .int()
      .min(1)
      .max(3_650)
      .default(30)
      .describe("Records older than this are purged (hourly), with their undelivered stream events."),
    stdout: z
      .boolean()
      .default(false)
      .describe("Also write each committed record to stdout as one JSON line `{log_id, data}` for log collectors."),
    streams: z.array(logStreamSchema).default([]).describe("Log streams (Auth0 custom webhooks)."),
  })
  .prefault({})
  .describe("Durable audit log and log streams (docs/guides/audit-log.md).");

export type AuditConfig = z.output<typeof auditSchema>;
export type LogStreamConfig = AuditConfig["streams"][number];
