/**
 * The CLI's settings from flags and environment variables. Together with
 * `hooks/`, the only place that reads the environment.
 *
 * @module
 */
import { basename } from "node:path";
import { LOBBY } from "../config.ts";
import { endpointFromAddr, parseRedisUrl, type RedisEndpoint } from "../redis/url.ts";
import { sessionToken } from "../identity.ts";
import { gitRoom } from "./_git.ts";

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
}

/** Reads one environment variable, treating empty as unset. */
export function env(name: string): string | undefined {
  const value = Deno.env.get(name);
  return value === undefined || value.trim() === "" ? undefined : value;
}

/**
 * Resolves the Redis endpoint: `--redis`, `--addr`, `AGENTROOM_REDIS_URL`,
 * `REDIS_URL`, `REDIS_ADDR`, then `redis://127.0.0.1:6379`. The Go tool's
 * `REDIS_PASSWORD` and `REDIS_TLS` apply when the address carries none.
 *
 * @param flags the `--redis` and `--addr` values
 * @returns the endpoint
 */
export function resolveEndpoint(flags: { redis?: string; addr?: string }): RedisEndpoint {
  let endpoint: RedisEndpoint;
  if (flags.redis !== undefined) endpoint = parseRedisUrl(flags.redis);
  else if (flags.addr !== undefined) endpoint = endpointFromAddr(flags.addr);
  else if (env("AGENTROOM_REDIS_URL")) endpoint = parseRedisUrl(env("AGENTROOM_REDIS_URL")!);
  else if (env("REDIS_URL")) endpoint = parseRedisUrl(env("REDIS_URL")!);
  else if (env("REDIS_ADDR")) endpoint = endpointFromAddr(env("REDIS_ADDR")!);
  else endpoint = parseRedisUrl("redis://127.0.0.1:6379");
  const password = env("REDIS_PASSWORD");
  if (password !== undefined && endpoint.password === undefined) {
    endpoint = { ...endpoint, password };
  }
  if (/^(1|true|yes)$/i.test(env("REDIS_TLS") ?? "")) endpoint = { ...endpoint, tls: true };
  return endpoint;
}

/**
 * Resolves the room: flags, then `REPO_ID` / `BRANCH_NAME`, then git, then
 * the working directory's name and `main`. `--repo lobby` is always the lobby.
 *
 * @param flags the `--repo` and `--branch` values
 * @param cwd working directory
 * @returns repo and branch
 */
export function resolveRoomName(
  flags: { repo?: string; branch?: string },
  cwd: string,
): { repo: string; branch: string } {
  const repo = flags.repo ?? env("REPO_ID");
  if (repo === LOBBY.repo) return { ...LOBBY };
  const branch = flags.branch ?? env("BRANCH_NAME");
  if (repo !== undefined && branch !== undefined) return { repo, branch };
  const git = gitRoom(cwd);
  return {
    repo: repo ?? git?.repo ?? (basename(cwd) || "root"),
    branch: branch ?? git?.branch ?? "main",
  };
}

/**
 * The session token from `AGENTROOM_SESSION_ID`, `CLAUDE_SESSION_ID`,
 * `CODEX_THREAD_ID`, `TERM_SESSION_ID`, else `<host>-<ppid>`.
 */
export function resolveToken(): string {
  let hostname: string | undefined;
  try {
    hostname = Deno.hostname();
  } catch {
    hostname = undefined;
  }
  return sessionToken({
    agentroomSessionId: env("AGENTROOM_SESSION_ID"),
    claudeSessionId: env("CLAUDE_SESSION_ID"),
    codexThreadId: env("CODEX_THREAD_ID"),
    termSessionId: env("TERM_SESSION_ID"),
    hostname,
    ppid: Deno.ppid,
  });
}
