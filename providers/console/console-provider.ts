import { randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";
import { defineSmsProvider, type SmsProvider } from "../../core/plugin/index.js";

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
  channel: "sms" | "voice" | "whatsapp";
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
  // One append stream for the process: opening the file per message cost more than the rest of /start.
  let outbox: WriteStream | undefined;
  const open = () => {
    if (!outbox && options.outboxFile) {
      mkdirSync(dirname(options.outboxFile), { recursive: true });
      outbox = createWriteStream(options.outboxFile, { flags: "a" });
    }
    return outbox;
  };
  return defineSmsProvider({
    name: "console",
    channels: ["sms", "voice", "whatsapp"],
    async send(message) {
      const entry: OutboxEntry = {
        id: `console_${randomUUID()}`,
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
      const file = open();
      // Resolves once the line is handed to the kernel, so a reader of the file sees it.
      if (file)
        await new Promise<void>((resolve, reject) =>
          file.write(`${JSON.stringify(entry)}\n`, (err) => (err ? reject(err) : resolve())),
        );
      return { id: entry.id };
    },
    close: () => new Promise<void>((resolve) => (outbox ? outbox.end(() => resolve()) : resolve())),
  });
}
