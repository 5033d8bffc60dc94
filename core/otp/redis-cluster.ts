import { createCluster } from "@keyv/redis";
import type { Logger } from "../logger.js";

/** A Redis Cluster connection whose client stays the same object while the topology behind it is refreshed. */
export interface ClusterConnection {
  /** The node-redis cluster client (a stable handle: shared with the rate limiters and one-time store). */
  readonly client: unknown;
  disconnect(): Promise<void>;
}

type Cluster = ReturnType<typeof createCluster>;

/** At most one topology refresh in this time, however many commands fail. */
const REFRESH_EVERY_MS = 250;

/**
 * Connects to a Redis Cluster through node-redis' cluster client, with no offline queue (a command to
 * an unreachable node fails at once: textlock fails closed) and the store's timeouts.
 *
 * node-redis learns a new topology only from a `MOVED`/`ASK` reply; after a primary dies and a replica
 * is promoted, nothing answers for the dead primary's slots, so no such reply ever comes. Here every
 * failed command (at most every {@link REFRESH_EVERY_MS}) makes a fresh cluster client discover the
 * topology from the configured nodes; once it connects it replaces the old one behind the same handle.
 * Until the cluster has promoted a replica the discovery fails too and the slots stay refused (503).
 */
export async function connectCluster(
  urls: string[],
  commandTimeoutMs: number,
  logger: Logger,
): Promise<ClusterConnection> {
  const make = (): Cluster =>
    createCluster({
      rootNodes: urls.map((url) => ({ url })),
      defaults: {
        disableOfflineQueue: true,
        socket: {
          connectTimeout: commandTimeoutMs * 2,
          reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000),
        },
      },
    } as never) as Cluster;
  const open = async (): Promise<Cluster> => {
    const cluster = make();
    cluster.on("error", (err: Error) => logger.warn({ err: { message: err.message } }, "redis cluster error"));
    cluster.on("node-error", (err: Error) => logger.debug({ err: { message: err.message } }, "redis node error"));
    // A node that is down makes connect() retry for ever (the reconnect strategy): give it a deadline.
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        cluster.connect(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("redis cluster did not connect in time")), commandTimeoutMs * 4);
        }),
      ]);
      return cluster;
    } catch (err) {
      cluster.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };

  // A replaced client is closed gracefully: commands already sent on it (the give-back of a start that
  // failed on another slot, say) still get their answers; destroying it dropped them ("Disconnects
  // client") and left limits charged. One that does not close in time is destroyed.
  const retire = (old: Cluster) => {
    const destroy = () => {
      try {
        old.destroy();
      } catch {
        // already closed
      }
    };
    const timer = setTimeout(destroy, commandTimeoutMs * 2);
    timer.unref();
    old.close().then(
      () => clearTimeout(timer),
      () => {
        clearTimeout(timer);
        destroy();
      },
    );
  };

  let current = await open();
  let closed = false;
  let refreshing: Promise<void> | undefined;
  let lastRefresh = 0;
  const refresh = () => {
    if (closed || refreshing || Date.now() - lastRefresh < REFRESH_EVERY_MS) return;
    lastRefresh = Date.now();
    refreshing = open()
      .then((fresh) => {
        const old = current;
        current = fresh;
        if (closed) fresh.destroy();
        retire(old);
        logger.info("redis cluster topology refreshed");
      })
      .catch((err: unknown) => {
        logger.warn({ err: { message: (err as Error)?.message } }, "redis cluster topology refresh failed");
      })
      .finally(() => {
        refreshing = undefined;
      });
  };

  const client = new Proxy(
    {},
    {
      get(_, prop) {
        const value = Reflect.get(current, prop, current);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const target = current;
          try {
            const result = Reflect.apply(value, target, args);
            if (result instanceof Promise) {
              return result.catch((err: unknown) => {
                // A node that has not cached a script yet (EVALSHA's NOSCRIPT) is not a topology problem:
                // the caller sends the script and carries on, and a refresh would drop commands in flight.
                if (!String((err as Error)?.message).startsWith("NOSCRIPT")) refresh();
                throw err;
              });
            }
            return result;
          } catch (err) {
            refresh();
            throw err;
          }
        };
      },
    },
  );
  return {
    client,
    async disconnect() {
      closed = true;
      await refreshing;
      current.destroy();
    },
  };
}
