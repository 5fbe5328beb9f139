/**
 * The CLI's settings from flags and the environment it was given (see
 * `CliIo`): it never reads the process environment itself.
 *
 * @module
 */
import type { RedisEndpoint } from "../redis/url.ts";
import { type EnvLookup, envValue } from "../process/settings.ts";
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
  /** The durability option: replicas to wait for (0: off) and how long. */
  durability: { replicas: number; timeoutMs: number };
}

/**
 * The durability option from `AGENTROOM_DURABILITY` (`replica`: wait for one
 * replica after claims and leases; `none` or unset: do not wait) and
 * `AGENTROOM_DURABILITY_TIMEOUT_MS` (default 1000).
 *
 * @param env environment lookup
 * @throws {UsageError} for any other value
 */
export function resolveDurability(env: EnvLookup): { replicas: number; timeoutMs: number } {
  const mode = (envValue(env, "AGENTROOM_DURABILITY") ?? "none").trim().toLowerCase();
  if (mode !== "none" && mode !== "replica" && mode !== "") {
    throw new UsageError(`AGENTROOM_DURABILITY must be replica or none, got ${mode}`);
  }
  const rawTimeout = envValue(env, "AGENTROOM_DURABILITY_TIMEOUT_MS");
  const timeoutMs = rawTimeout === undefined || rawTimeout === "" ? 1000 : Number(rawTimeout);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(
      `AGENTROOM_DURABILITY_TIMEOUT_MS must be a positive whole number of ms, got ${rawTimeout}`,
    );
  }
  return { replicas: mode === "replica" ? 1 : 0, timeoutMs };
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
