/**
 * What every hook handler gets: the session's identity, its room and the
 * lobby on one connection, a fence for untrusted content, and the budget.
 *
 * @module
 */
import { LOBBY, roomConfig } from "../src/config.ts";
import { Fence } from "../src/fence.ts";
import type { AgentIdentity } from "../src/identity.ts";
import { resolveIdentity, sessionToken } from "../src/identity.ts";
import type { RedisPort } from "../src/redis/port.ts";
import { Room } from "../src/room.ts";
import { type EnvLookup, envValue, resolveRoomName } from "../src/process/settings.ts";
import type { HookInput } from "./_input.ts";

/** A hook's reply: context to inject, or a pre-tool-use decision. */
export interface HookReply {
  /** Text for `additionalContext` (omit for none). */
  context?: string;
  /** `deny` blocks the tool call (pre-tool-use). */
  decision?: "deny";
  /** Keep the agent working instead of stopping (stop hook): `{"decision":"block"}`. */
  block?: boolean;
  /** Why (shown with a deny or a block; agentroom's own words only). */
  reason?: string;
  /** Writes to run only after the reply was written (cursor commits). */
  commit?: () => Promise<void>;
}

/** The context of one hook run. */
export interface HookContext {
  /** The parsed stdin payload. */
  input: HookInput;
  /** The full session id (cursor keys use it). */
  sessionId: string;
  /** The short session token (identities end with it). */
  token: string;
  /** This session's identity in the room. */
  identity: AgentIdentity;
  /** The session's room (repo + branch of its cwd). */
  room: Room;
  /** The lobby. */
  lobby: Room;
  /** A fence with a fresh marker for this output. */
  fence: Fence;
  /** Hard size budget of the injected context, in characters. */
  budget: number;
  /** Environment lookup (for `AGENTROOM_GUARD` and friends). */
  env: EnvLookup;
  /** The process working directory (when the payload has no `cwd`). */
  cwd: string;
}

/**
 * Builds the context of one hook run.
 *
 * @param options input, port, env, process cwd and budget
 */
export function hookContext(
  options: { input: HookInput; redis: RedisPort; env: EnvLookup; cwd: string; budget: number },
): HookContext {
  const { input, redis, env } = options;
  // The same order as the CLI, with the harness's stdin session id standing in for its
  // variable, so the hooks and the CLI run through the agent's shell tool agree.
  const token = sessionToken({
    agentroomSessionId: envValue(env, "AGENTROOM_SESSION_ID"),
    claudeCodeSessionId: input.session_id,
  });
  const name = resolveRoomName({}, { cwd: input.cwd ?? options.cwd, env });
  return {
    input,
    sessionId: input.session_id,
    token,
    identity: resolveIdentity(envValue(env, "AGENTROOM_AGENT") ?? "", token),
    room: new Room(redis, roomConfig(name)),
    lobby: new Room(redis, roomConfig(LOBBY)),
    fence: new Fence(),
    budget: options.budget,
    env,
    cwd: options.cwd,
  };
}

/**
 * Whether an agent id belongs to this session (the bare token or `<handle>-<token>`).
 *
 * @param agentId an agent id
 * @param token the session token
 */
export function isOwnSession(agentId: string, token: string): boolean {
  return agentId === token || agentId.endsWith(`-${token}`);
}
