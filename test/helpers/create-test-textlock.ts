import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { TextlockConfigInput } from "../../core/config/schema.js";
import type { Textlock, TextlockOverrides } from "../../core/create-textlock.js";
import { createTextlock } from "../../lib/index.js";

export const TEST_SECRET = "test-secret-test-secret-test-secret-0123";

export interface TestTextlock extends Textlock {
  dataDir: string;
  /** Outbox entries (console provider) for a phone, oldest first. */
  messages(phone?: string): Array<{ to: string; body: string; channel: string; language: string | null }>;
  /** The code in the newest message to `phone` (the last run of 4–10 digits in its body). */
  lastCode(phone: string): string;
}

/**
 * A textlock instance for tests: its own temp data folder, memory stores, a silent logger, and the
 * console provider writing to an outbox file the test reads codes from (as a person reads their SMS).
 */
export async function createTestTextlock(
  config: TextlockConfigInput = {},
  overrides: TextlockOverrides = {},
): Promise<TestTextlock> {
  const dataDir = mkdtempSync(join(tmpdir(), "textlock-test-"));
  const textlock = await createTextlock(
    // Send limits are off unless a test configures them: most tests send many codes to one number at once.
    {
      secret: TEST_SECRET,
      store: { type: "memory" },
      users: { type: "memory" },
      protection: { enabled: false },
      ...config,
      dataDir,
    },
    { logger: pino({ level: "silent" }), ...overrides },
  );
  const outbox = join(dataDir, "outbox.jsonl");
  const messages = (phone?: string) => {
    let text = "";
    try {
      text = readFileSync(outbox, "utf8");
    } catch {
      return [];
    }
    return text
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((m) => !phone || m.to === phone);
  };
  return Object.assign(Object.create(null), textlock, {
    dataDir,
    messages,
    lastCode(phone: string) {
      const last = messages(phone).at(-1);
      if (!last) throw new Error(`no message was sent to ${phone}`);
      const match = last.body.match(/(\d{4,10})(?!.*\d{4,10})/);
      if (!match) throw new Error(`no code in message to ${phone}`);
      return match[1];
    },
    async close() {
      await textlock.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  }) as TestTextlock;
}
