import { join } from "node:path";
import { defineProvider, TEXTLOCK_VERSION } from "../../core/plugin/index.js";

/** `console`: the development provider. Prints each message and appends it to `<dataDir>/outbox.jsonl`. */
export const consoleProvider = defineProvider({
  id: "console",
  version: TEXTLOCK_VERSION,
  textlock: TEXTLOCK_VERSION,
  channels: ["sms", "voice", "whatsapp"],
  async create(_options, context) {
    const { createConsoleProvider } = await import("./console-provider.js");
    return createConsoleProvider({ outboxFile: join(context.dataDir, "outbox.jsonl") });
  },
});
