/**
 * The CLI's settings from flags and the environment it was given (see
 * `CliIo`): it never reads the process environment itself.
 *
 * @module
 */
import type { RedisEndpoint } from "../redis/url.ts";

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
