import { type RunningServer, type StandaloneOptions, startServer } from "../../adapters/standalone/index.js";
import { createTestTextlock, type TestTextlock } from "./create-test-textlock.js";

const open: Array<{ textlock: TestTextlock; server: RunningServer }> = [];

/** A test instance served by the standalone server on 127.0.0.1, on a free port; {@link closeStandalone} ends it. */
export async function serveStandalone(
  config: Parameters<typeof createTestTextlock>[0] = {},
  options: StandaloneOptions = {},
): Promise<{ textlock: TestTextlock; server: RunningServer }> {
  const textlock = await createTestTextlock(config);
  const server = await startServer(textlock, { host: "127.0.0.1", port: 0, ...options });
  open.push({ textlock, server });
  return { textlock, server };
}

/** Closes every server {@link serveStandalone} started (without a drain), then its instance: an `afterEach`. */
export async function closeStandalone(): Promise<void> {
  for (const { textlock, server } of open.splice(0)) {
    await server.close({ graceMs: 0 });
    await textlock.close();
  }
}
