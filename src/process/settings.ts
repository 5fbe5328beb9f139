/**
 * Resolving where Redis is, which room, and which session from flags and
 * environment variables. The functions take the environment as a lookup
 * function, so the core never reads it itself: the CLI and the hooks pass
 * `Deno.env.get`, tests pass a map.
 *
 * @module
 */
import { lastSegment } from "./path.ts";
import { LOBBY } from "../config.ts";
import { InvalidValueError } from "../errors.ts";
import { gitRoom } from "./git.ts";
import { sessionToken } from "../identity.ts";
import { endpointFromAddr, parseRedisUrl, type RedisEndpoint } from "../redis/url.ts";
import { readServerRecord, serverRecordPath } from "./server_state.ts";

/** Looks up an environment variable (`undefined` when unset). */
export type EnvLookup = (name: string) => string | undefined;

function read(env: EnvLookup, name: string): string | undefined {
  const value = env(name);
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** Where the Redis endpoint came from (for `doctor`). */
export interface EndpointSource {
  /** The endpoint. */
  endpoint: RedisEndpoint;
  /** `--redis`, `--addr`, an environment variable's name, the record file, or `default`. */
  source: string;
}

/**
 * Resolves the Redis endpoint: `--redis`, `--addr`, `AGENTROOM_REDIS_URL`,
 * `REDIS_URL`, `REDIS_ADDR`, the server `agentroom server start` recorded for
 * this user, then `redis://127.0.0.1:6379`. The Go tool's `REDIS_PASSWORD`
 * and `REDIS_TLS` apply when the address carries none. Nothing here starts a
 * server.
 *
 * @param flags the `--redis` and `--addr` values
 * @param env environment lookup
 * @returns the endpoint
 * @throws {InvalidValueError} for a malformed URL or address
 */
export function resolveEndpoint(
  flags: { redis?: string; addr?: string },
  env: EnvLookup,
): RedisEndpoint {
  return resolveEndpointSource(flags, env).endpoint;
}

/**
 * {@linkcode resolveEndpoint}, saying where the endpoint came from.
 *
 * @param flags the `--redis` and `--addr` values
 * @param env environment lookup
 * @returns the endpoint and its source
 * @throws {InvalidValueError} for a malformed URL or address
 */
export function resolveEndpointSource(
  flags: { redis?: string; addr?: string },
  env: EnvLookup,
): EndpointSource {
  let endpoint: RedisEndpoint;
  let source: string;
  if (flags.redis !== undefined) [endpoint, source] = [parseRedisUrl(flags.redis), "--redis"];
  else if (flags.addr !== undefined) [endpoint, source] = [endpointFromAddr(flags.addr), "--addr"];
  else if (read(env, "AGENTROOM_REDIS_URL")) {
    endpoint = parseRedisUrl(read(env, "AGENTROOM_REDIS_URL")!);
    source = "AGENTROOM_REDIS_URL";
  } else if (read(env, "REDIS_URL")) {
    [endpoint, source] = [parseRedisUrl(read(env, "REDIS_URL")!), "REDIS_URL"];
  } else if (read(env, "REDIS_ADDR")) {
    [endpoint, source] = [endpointFromAddr(read(env, "REDIS_ADDR")!), "REDIS_ADDR"];
  } else {
    const recorded = readServerRecord(env);
    if (recorded) [endpoint, source] = [parseRedisUrl(recorded.url), serverRecordPath(env)!];
    else [endpoint, source] = [parseRedisUrl("redis://127.0.0.1:6379"), "default"];
  }
  const password = read(env, "REDIS_PASSWORD");
  if (password !== undefined && endpoint.password === undefined) {
    endpoint = { ...endpoint, password };
  }
  if (/^(1|true|yes)$/i.test(read(env, "REDIS_TLS") ?? "")) endpoint = { ...endpoint, tls: true };
  return { endpoint, source };
}

/**
 * Whether the endpoint is a seed node of a Redis Cluster:
 * `AGENTROOM_REDIS_CLUSTER` set to `1`, `true` or `yes` (any case). `0`,
 * `false`, `no` or unset mean a single server.
 *
 * @param env environment lookup
 * @param endpoint the resolved endpoint (a cluster has only database 0)
 * @returns `true` for cluster mode
 * @throws {InvalidValueError} for any other value, or cluster mode with a database other than 0
 */
export function resolveCluster(env: EnvLookup, endpoint: RedisEndpoint): boolean {
  const raw = read(env, "AGENTROOM_REDIS_CLUSTER");
  const value = raw?.trim().toLowerCase();
  if (value === undefined || value === "0" || value === "false" || value === "no") return false;
  if (value !== "1" && value !== "true" && value !== "yes") {
    throw new InvalidValueError(
      `AGENTROOM_REDIS_CLUSTER must be 1, true or yes (or 0, false, no), got ${
        JSON.stringify(raw)
      }`,
    );
  }
  if (endpoint.db !== 0) {
    throw new InvalidValueError(
      `Redis Cluster has only database 0, but ${endpoint.display} selects database ${endpoint.db}`,
    );
  }
  return true;
}

/**
 * Resolves the room: flags, then `REPO_ID` / `BRANCH_NAME`, then git, then
 * the working directory's name and `main`. `lobby` is always the lobby.
 *
 * @param flags the `--repo` and `--branch` values
 * @param options working directory and environment lookup
 * @returns repo and branch
 */
export function resolveRoomName(
  flags: { repo?: string; branch?: string },
  options: { cwd: string; env: EnvLookup },
): { repo: string; branch: string } {
  const repo = flags.repo ?? read(options.env, "REPO_ID");
  if (repo === LOBBY.repo) return { ...LOBBY };
  const branch = flags.branch ?? read(options.env, "BRANCH_NAME");
  if (repo !== undefined && branch !== undefined) return { repo, branch };
  const git = gitRoom(options.cwd);
  return {
    repo: repo ?? git?.repo ?? (lastSegment(options.cwd) || "root"),
    branch: branch ?? git?.branch ?? "main",
  };
}

/**
 * The session token from `AGENTROOM_SESSION_ID`, `CLAUDE_CODE_SESSION_ID`,
 * `CLAUDE_SESSION_ID`, `CODEX_THREAD_ID`, `TERM_SESSION_ID`, else
 * `<host>-<ppid>` (see `sessionToken`).
 *
 * @param env environment lookup
 * @param host host name and parent pid for the fallback
 */
export function resolveToken(env: EnvLookup, host: { hostname?: string; ppid: number }): string {
  return sessionToken({
    agentroomSessionId: read(env, "AGENTROOM_SESSION_ID"),
    claudeCodeSessionId: read(env, "CLAUDE_CODE_SESSION_ID"),
    claudeSessionId: read(env, "CLAUDE_SESSION_ID"),
    codexThreadId: read(env, "CODEX_THREAD_ID"),
    termSessionId: read(env, "TERM_SESSION_ID"),
    ...host,
  });
}

/**
 * Reads one variable, treating empty as unset.
 *
 * @param env environment lookup
 * @param name variable name
 */
export function envValue(env: EnvLookup, name: string): string | undefined {
  return read(env, name);
}
