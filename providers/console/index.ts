import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { randomId } from "../../core/otp/generate-code.js";
import { defineSmsProvider, type SmsProvider } from "../../core/providers/sms-provider.js";

export interface ConsoleProviderOptions {
  /** JSON-lines file every message is appended to (tests and benchmarks read codes from it). */
  outboxFile?: string;
  /** Where the message is printed; `null` prints nothing. Default: stdout. */
  stream?: NodeJS.WritableStream | null;
}

/** One line of the outbox file. */
export interface OutboxEntry {
  id: string;
  at: string;
  to: string;
  from?: string;
  channel: "sms" | "voice";
  body: string;
  connection: string;
  client_id: string;
  language: string | null;
}

/**
 * The development provider: prints each message and appends it to an outbox file instead of sending
 * it. It prints codes by design, so textlock refuses it when NODE_ENV=production.
 */
export function createConsoleProvider(options: ConsoleProviderOptions = {}): SmsProvider {
  const stream = options.stream === undefined ? process.stdout : options.stream;
  let dirReady: Promise<unknown> | undefined;
  return defineSmsProvider({
    name: "console",
    channels: ["sms", "voice"],
    async send(message) {
      const entry: OutboxEntry = {
        id: `console_${randomId()}`,
        at: new Date().toISOString(),
        to: message.to,
        ...(message.from ? { from: message.from } : {}),
        channel: message.channel,
        body: message.body,
        connection: message.connection,
        client_id: message.client.client_id,
        language: message.language,
      };
      stream?.write(`[textlock console ${message.channel}] to ${message.to}: ${message.body}\n`);
      if (options.outboxFile) {
        dirReady ??= mkdir(dirname(options.outboxFile), { recursive: true });
        await dirReady;
        await appendFile(options.outboxFile, `${JSON.stringify(entry)}\n`);
      }
      return { id: entry.id };
    },
  });
}
