/**
 * Picks a Redis transport. The RESP transport is the default; ioredis is
 * loaded only when asked for, so short-lived processes never pay for it.
 *
 * @module
 */
import type { RedisPort } from "./port.ts";
import { connectResp } from "./resp.ts";
import type { RedisEndpoint } from "./url.ts";

/** Which adapter implements the port. */
export type RedisTransport = "resp" | "ioredis";

/** Options of {@linkcode connectRedis}. */
export interface ConnectOptions {
  /** The adapter to use. @default "resp" */
  transport?: RedisTransport;
  /** Deadline for connecting and AUTH/SELECT in milliseconds. @default 1500 */
  connectTimeoutMs?: number;
  /** Default deadline of each command in milliseconds; `0` disables it. @default 2000 */
  commandTimeoutMs?: number;
  /** Extra PEM root certificates trusted for `rediss://`. */
  caCerts?: string[];
}

/**
 * Connects to `endpoint` with the chosen transport.
 * @throws {RedisUnavailableError} when the server cannot be reached in time or rejects AUTH/SELECT
 */
export async function connectRedis(
  endpoint: RedisEndpoint,
  options: ConnectOptions = {},
): Promise<RedisPort> {
  const { transport = "resp", ...rest } = options;
  if (transport === "ioredis") {
    const { connectIoredis } = await import("./ioredis.ts");
    return await connectIoredis(endpoint, rest);
  }
  return await connectResp(endpoint, rest);
}
