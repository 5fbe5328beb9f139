/**
 * Picks a Redis transport. The RESP transport is the default; ioredis is
 * loaded only when asked for (or for a Redis Cluster), so short-lived
 * processes never pay for it otherwise.
 *
 * @module
 */
import { InvalidValueError } from "../errors.ts";
import type { RedisPort } from "./port.ts";
import { connectResp } from "./resp.ts";
import type { RedisEndpoint } from "./url.ts";

/** Which adapter implements the port. */
export type RedisTransport = "resp" | "ioredis";

/** Options of {@linkcode connectRedis}. */
export interface ConnectOptions {
  /** The adapter to use. @default "resp" */
  transport?: RedisTransport;
  /**
   * Treat the endpoint as a seed node of a Redis Cluster: ioredis discovers
   * the other nodes and follows redirections. Always uses the ioredis adapter,
   * whatever `transport` says; the endpoint's db must be 0.
   * @default false
   */
  cluster?: boolean;
  /** Deadline for connecting and AUTH/SELECT in milliseconds. @default 1500 */
  connectTimeoutMs?: number;
  /** Default deadline of each command in milliseconds; `0` disables it. @default 2000 */
  commandTimeoutMs?: number;
  /** Extra PEM root certificates trusted for `rediss://`. */
  caCerts?: string[];
  /**
   * Aborts the connection: connecting stops with `AbortedError`, and once
   * connected the socket is closed and every pending command rejects with
   * `AbortedError`. For a deadline over the whole of some work.
   */
  signal?: AbortSignal;
}

/**
 * Connects to `endpoint` with the chosen transport.
 * @throws {RedisUnavailableError} when the server cannot be reached in time or rejects AUTH/SELECT
 * @throws {InvalidValueError} for cluster mode with a database other than 0
 * @throws {AbortedError} when `signal` aborts before the port is ready
 */
export async function connectRedis(
  endpoint: RedisEndpoint,
  options: ConnectOptions = {},
): Promise<RedisPort> {
  const { transport = "resp", cluster = false, ...rest } = options;
  if (cluster) {
    if (endpoint.path !== undefined) {
      throw new InvalidValueError(
        `Redis Cluster nodes are addressed by host and port, not a Unix socket (${endpoint.display})`,
      );
    }
    if (endpoint.db !== 0) {
      throw new InvalidValueError(
        `Redis Cluster has only database 0, but ${endpoint.display} selects database ${endpoint.db}`,
      );
    }
    const { connectIoredisCluster } = await import("./ioredis.ts");
    return await connectIoredisCluster([endpoint], rest);
  }
  if (transport === "ioredis") {
    const { connectIoredis } = await import("./ioredis.ts");
    return await connectIoredis(endpoint, rest);
  }
  return await connectResp(endpoint, rest);
}

const BLOCKED = /\bEPERM\b|\bconnect EACCES\b|Operation not permitted|os error 1\)/i;

/**
 * Whether a connection failure means this process may not use the network
 * at all: connect() failed with EPERM ("Operation not permitted"), which is
 * what a sandbox that forbids network access returns (Codex's default
 * `workspace-write` sandbox does, for loopback TCP and Unix sockets alike),
 * not what a missing or refusing server returns. Node's socket layer (ioredis)
 * reports the same refusal as `connect EACCES`. Looks through the error's
 * `cause` chain.
 *
 * @param error the error a connect attempt threw
 * @returns true when the network is blocked for this process
 */
export function isNetworkBlocked(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (current instanceof Deno.errors.PermissionDenied) return true;
    const code = (current as { code?: unknown }).code;
    if (
      code === "EPERM" ||
      (code === "EACCES" && (current as { syscall?: unknown }).syscall === "connect")
    ) {
      return true;
    }
    const message = current instanceof Error ? current.message : String(current);
    if (BLOCKED.test(message)) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}
