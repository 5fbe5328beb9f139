/**
 * The CLI's settings from flags and the environment it was given (see
 * `CliIo`): it never reads the process environment itself.
 *
 * @module
 */
import type { RedisEndpoint } from "../redis/url.ts";
import type { EnvLookup } from "../process/settings.ts";
import { UsageError } from "./_args.ts";

export {
  type EnvLookup,
  envValue,
  resolveCluster,
  resolveEndpoint,
  resolveRoomName,
  resolveToken,
} from "../process/settings.ts";

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
 * The environment lookup a command uses: `lookup`, where a variable that
 * cannot be read (not valid UTF-8) is a usage error naming it, never a crash.
 *
 * @param lookup the environment given to the CLI
 */
export function checkedEnv(lookup: EnvLookup): EnvLookup {
  return (name) => {
    try {
      return lookup(name);
    } catch {
      throw new UsageError(
        `environment variable ${name} is not valid UTF-8; unset it or fix its value`,
      );
    }
  };
}
