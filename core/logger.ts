import { type Logger as PinoLogger, pino } from "pino";

export type Logger = PinoLogger;

/**
 * Paths that are never written to the log, whatever a caller passes. Codes, secrets and tokens are
 * also kept out by construction (the engine never hands them to the logger); this is the backstop.
 */
export const REDACT_PATHS = [
  "code",
  "otp",
  "*.code",
  "*.otp",
  "secret",
  "*.secret",
  "client_secret",
  "*.client_secret",
  "twilio_token",
  "*.twilio_token",
  "authorization",
  "*.authorization",
  "password",
  "*.password",
  "body",
  "*.body",
];

/** The default logger: JSON lines on stderr, secrets redacted. */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    { level, base: { name: "textlock" }, redact: { paths: REDACT_PATHS, censor: "[redacted]" } },
    destination as never,
  );
}
