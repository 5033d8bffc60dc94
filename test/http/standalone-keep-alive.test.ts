import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { closeStandalone, serveStandalone } from "../helpers/standalone.js";

// server.keepAliveTimeoutSeconds: how long the standalone server keeps an idle keep-alive connection.
// Behind a load balancer it must outlast the balancer's idle timeout (AWS ALB: 60 s), or the balancer
// sends a request into a connection the server is closing and answers 502; node's own default is 5 s.
afterEach(closeStandalone);

/** One GET on a raw keep-alive connection; resolves with the answer's head and when the server closed the connection. */
async function idleAfterOneRequest(port: number): Promise<{ head: string; closedAfterMs: Promise<number> }> {
  const socket = connect(port, "127.0.0.1");
  let text = "";
  let answeredAt = 0;
  const answered = new Promise<void>((resolve) => {
    socket.on("data", (d) => {
      text += d;
      if (!answeredAt && text.includes('"keys"')) {
        answeredAt = performance.now();
        resolve();
      }
    });
  });
  const closedAfterMs = new Promise<number>((resolve) =>
    socket.once("close", () => resolve(performance.now() - answeredAt)),
  );
  socket.write("GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  await answered;
  return { head: text.split("\r\n\r\n")[0]!.toLowerCase(), closedAfterMs };
}

describe("standalone server keep-alive", () => {
  it("keeps idle connections 72 s by default, above AWS ALB's 60 s idle timeout, and says so", async () => {
    const { server } = await serveStandalone();
    const { head } = await idleAfterOneRequest(server.port);
    expect(head).toContain("keep-alive: timeout=72");
  });

  it("closes an idle connection after server.keepAliveTimeoutSeconds, not before", async () => {
    const { server } = await serveStandalone({ server: { keepAliveTimeoutSeconds: 1 } });
    const { head, closedAfterMs } = await idleAfterOneRequest(server.port);
    expect(head).toContain("keep-alive: timeout=1");
    const ms = await closedAfterMs;
    // node checks its timers about once a second: closed no sooner than the timeout, and soon after it.
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(5_000);
  });
});
