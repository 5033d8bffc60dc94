import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { closeStandalone, serveStandalone } from "../helpers/standalone.js";

// The standalone server's close(): what `textlock serve` does on SIGTERM (a rolling deploy, `docker
// stop`). Requests in flight finish; nothing new is accepted; idle keep-alive connections go at once;
// a request still running after the grace period is cut. Before, close() cut every connection at once,
// so each deploy failed the logins and starts it caught mid-way.
afterEach(closeStandalone);

/** A server whose SMS provider waits for the test to let each send go (`release`). */
async function gatedServer() {
  let entered!: () => void;
  const inSend = new Promise<void>((resolve) => {
    entered = resolve;
  });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const { server } = await serveStandalone({
    connections: [{ name: "sms", enabled_clients: ["textlock-dev"], options: { provider: "action" } }],
    hooks: {
      functions: {
        "custom-phone-provider": async () => {
          entered();
          await gate;
        },
      },
    },
  });
  return { server, inSend, release };
}

/** A start on a connection of its own; resolves with its status and `Connection` header, rejects if the connection is cut. */
function start(port: number): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/passwordless/start",
        agent: false,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
      },
    );
    req.once("error", reject);
    req.end(JSON.stringify({ client_id: "textlock-dev", connection: "sms", phone_number: "+14155550100" }));
  });
}

/** Whether a new TCP connection to `port` is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** A keep-alive connection that has had one answer and sits idle; `closed` resolves when the server ends it. */
async function idleKeepAlive(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const answered = new Promise<void>((resolve) => {
    let text = "";
    socket.on("data", (d) => {
      text += d;
      if (text.includes("\r\n\r\n") && text.includes('"keys"')) resolve();
    });
  });
  socket.write("GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n");
  await answered;
  return { socket, closed };
}

describe("standalone server shutdown", () => {
  it("close() lets a request in flight finish, refuses new connections and closes idle ones at once", async () => {
    const { server, inSend, release } = await gatedServer();
    const idle = await idleKeepAlive(server.port);
    const inFlight = start(server.port);
    await inSend;

    const closed = server.close();
    // A second close() (a second signal) waits for the same drain instead of cutting it short.
    const again = server.close({ graceMs: 0 });
    await idle.closed;
    expect(await accepts(server.port)).toBe(false);
    // Still waiting for its send: close() has not resolved.
    const settled = (p: Promise<void>) =>
      Promise.race([p.then(() => "closed"), new Promise((r) => setTimeout(() => r("open"), 200))]);
    expect(await settled(closed)).toBe("open");
    expect(await settled(again)).toBe("open");

    release();
    // The request finishes with its answer, and ends its connection.
    expect(await inFlight).toEqual({ status: 200, connection: "close" });
    await Promise.all([closed, again]);
  });

  it("a request still running after graceMs is cut, and close() resolves", async () => {
    const { server, inSend, release } = await gatedServer();
    const inFlight = start(server.port);
    await inSend;
    const t0 = performance.now();
    await server.close({ graceMs: 300 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    await expect(inFlight).rejects.toThrow(/socket hang up|ECONNRESET/);
    release();
  });
});
