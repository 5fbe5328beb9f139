/**
 * Test support: a TCP server that accepts connections, never answers, and
 * tells when the client closed its side.
 *
 * @module
 */

/** A listening silent server. */
export interface SilentServer {
  /** Its port on 127.0.0.1. */
  port: number;
  /** How many connections it accepted so far. */
  accepted(): number;
  /**
   * Resolves once the client closed the `index`-th accepted connection
   * (0-based); rejects when that has not happened within `hangGuardMs` (a
   * guard against hanging, not a timing assertion).
   */
  closedByClient(index: number, hangGuardMs?: number): Promise<void>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Starts a server that accepts and never answers; it reads only to see the client's close. */
export function silentServer(): SilentServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const closes: Promise<void>[] = [];
  const waiters: (() => void)[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.push(conn);
        closes.push(drain(conn));
        for (const wake of waiters.splice(0)) wake();
      }
    } catch {
      // listener closed
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: () => conns.length,
    async closedByClient(index, hangGuardMs = 10_000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const guard = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`connection ${index} still open after ${hangGuardMs} ms`)),
          hangGuardMs,
        );
      });
      try {
        await Promise.race([
          (async () => {
            while (closes[index] === undefined) await new Promise<void>((r) => waiters.push(r));
            await closes[index];
          })(),
          guard,
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      listener.close();
      await accepting;
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // closed already
        }
      }
      await Promise.all(closes);
    },
  };
}

/** Reads and discards until the client closes (end of stream) or the socket fails. */
async function drain(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(4096);
  try {
    while ((await conn.read(buf)) !== null) {
      // discard: the server never answers
    }
  } catch {
    // reset or closed here
  }
}
