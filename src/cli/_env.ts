/**
 * The CLI's settings from flags and the process environment. With `hooks/`,
 * the only place that hands the environment to the library.
 *
 * @module
 */
import type { RedisEndpoint } from "../redis/url.ts";
import { UsageError } from "./_args.ts";
import { envValue, resolveToken as tokenFrom } from "../process/settings.ts";

export { resolveCluster, resolveEndpoint, resolveRoomName } from "../process/settings.ts";

/** Settings every command may use. */
export interface Settings {
  /** Where Redis is. */
  endpoint: RedisEndpoint;
  /** Room repo. */
  repo: string;
  /** Room branch. */
  branch: string;
  /** Raw handle (unqualified). */
  handle: string;
  /** Session token. */
  token: string;
  /** Which transport to use. */
  transport: "resp" | "ioredis";
  /** Whether the endpoint is a seed node of a Redis Cluster (ioredis). */
  cluster: boolean;
}

/**
 * The process environment as a lookup function. A variable that is not valid
 * UTF-8 is a usage error naming it (never a crash).
 */
export const processEnv = (name: string): string | undefined => {
  try {
    return Deno.env.get(name);
  } catch {
    throw new UsageError(
      `environment variable ${name} is not valid UTF-8; unset it or fix its value`,
    );
  }
};

/** Reads one environment variable, treating empty as unset. */
export function env(name: string): string | undefined {
  return envValue(processEnv, name);
}

/** The session token of this process (see `resolveToken` in settings). */
export function resolveToken(): string {
  let hostname: string | undefined;
  try {
    hostname = Deno.hostname();
  } catch {
    hostname = undefined;
  }
  return tokenFrom(processEnv, { hostname, ppid: Deno.ppid });
}
