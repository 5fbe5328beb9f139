/**
 * The AUTH/SELECT handshake both adapters send right after connecting, in
 * one round trip, with one way of reporting its failures.
 *
 * @module
 */
import { RedisUnavailableError, TimeoutError } from "../errors.ts";
import type { RedisArg } from "./port.ts";
import type { RedisEndpoint } from "./url.ts";

/**
 * Sends AUTH (with the user when set) and SELECT (when the db is not 0)
 * through `send` and turns a failure into a {@linkcode RedisUnavailableError}.
 *
 * @param endpoint where we connect, with credentials and db
 * @param options address for messages, deadline, and the adapter's pipeline
 *   sender, which returns each reply or an object with the error `message`
 */
export async function handshake(
  endpoint: RedisEndpoint,
  options: {
    address: string;
    timeoutMs: number;
    send: (commands: RedisArg[][], timeoutMs: number) => Promise<unknown[]>;
    isError: (reply: unknown) => reply is { message: string };
  },
): Promise<void> {
  const commands: RedisArg[][] = [];
  if (endpoint.password !== undefined) {
    commands.push(
      endpoint.username === undefined
        ? ["AUTH", endpoint.password]
        : ["AUTH", endpoint.username, endpoint.password],
    );
  }
  if (endpoint.db !== 0) commands.push(["SELECT", endpoint.db]);
  if (commands.length === 0) return;
  let replies: unknown[];
  try {
    replies = await options.send(commands, options.timeoutMs);
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    throw new RedisUnavailableError(
      options.address,
      `no answer to AUTH/SELECT within ${options.timeoutMs} ms`,
    );
  }
  for (const [i, reply] of replies.entries()) {
    if (!options.isError(reply)) continue;
    const what = commands[i]![0] === "AUTH"
      ? "authentication failed"
      : `cannot select database ${endpoint.db}`;
    throw new RedisUnavailableError(options.address, `${what}: ${reply.message}`);
  }
}

/**
 * Runs a freshly opened port's handshake and closes the port when it fails,
 * so a rejected AUTH/SELECT never leaves a socket open.
 *
 * @param port the new port
 * @param endpoint credentials and db
 * @param timeoutMs deadline of the handshake
 * @returns the port, ready for commands
 */
export async function readyPort<
  P extends { handshake(e: RedisEndpoint, ms: number): Promise<void>; close(): Promise<void> },
>(port: P, endpoint: RedisEndpoint, timeoutMs: number): Promise<P> {
  try {
    await port.handshake(endpoint, timeoutMs);
  } catch (error) {
    await port.close();
    throw error;
  }
  return port;
}
