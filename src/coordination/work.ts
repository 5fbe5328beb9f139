/**
 * Work status: what an agent is doing, per scope — `started`, `waiting`,
 * `blocked`, `handoff`, `completed`, `failed` — with a summary, optional
 * JSON data and an optional destination.
 *
 * - One current status per (agent, scope); a newer one replaces it.
 * - `completed` and `failed` clear the current status; the `WORK_STATUS`
 *   audit event of every change stays in the room.
 * - `handoff` requires a destination. Every status with a destination is
 *   also copied into that agent's durable inbox, in the same script.
 * - `data` is JSON text stored verbatim (never re-encoded, so large numbers
 *   and empty arrays survive).
 *
 * @module
 */
import { actorArgs, checkDuration, readSnapshot, sortWork } from "./shared.ts";
import { InvalidValueError } from "../errors.ts";
import type { AgentIdentity } from "../identity.ts";
import { DAY_MS } from "../limits.ts";
import type { Room } from "../room.ts";
import { WORK_SET } from "../scripts.ts";
import { decodeWorkSetReply, type SetWorkResult } from "./replies.ts";
import { isWorkState, WORK_STATES, type WorkState, type WorkStatus } from "./shared.ts";

export { isWorkState, WORK_STATES } from "./shared.ts";
export type { WorkState, WorkStatus } from "./shared.ts";
export type { SetWorkResult } from "./replies.ts";

/** How long a current status lives unless replaced: 24h by default. */
export const DEFAULT_WORK_TTL_MS: number = DAY_MS;
/** Longest scope or summary, in characters. */
export const MAX_WORK_TEXT_LENGTH = 500;

/** What {@linkcode setWorkStatus} needs. */
export interface SetWorkOptions {
  /** The reporter. */
  agent: AgentIdentity;
  /** The state. */
  state: WorkState;
  /** What part of the work. */
  scope: string;
  /** One line on where it stands. */
  summary: string;
  /** Destination agent id (resolved); required for `handoff`. */
  to?: string;
  /** JSON text, stored verbatim. */
  dataJson?: string;
  /** Lifetime of the current status, 1 ms to 24h. @default 24 hours */
  ttlMs?: number;
}

function checkText(what: string, value: string): string {
  const text = value.trim();
  if (text === "") throw new InvalidValueError(`Invalid work ${what}: it is empty`);
  if (Array.from(text).length > MAX_WORK_TEXT_LENGTH) {
    throw new InvalidValueError(
      `Invalid work ${what}: longer than ${MAX_WORK_TEXT_LENGTH} characters`,
    );
  }
  return text;
}

/**
 * The id of the current status of one (agent, scope): the first 16 bytes of
 * SHA-256 of `agent_id NUL scope`, as 32 hex characters (as in the Go tool).
 *
 * @param agentId the agent
 * @param scope the scope
 */
export async function workStatusId(agentId: string, scope: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${agentId}\u0000${scope}`),
  );
  return Array.from(new Uint8Array(digest).slice(0, 16), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/**
 * Records a work status and writes WORK_STATUS in one script.
 *
 * @param room the room
 * @param options reporter, state, scope, summary, destination, data, TTL
 * @returns the stored status and event ids
 * @throws {InvalidValueError} for a bad state, empty scope/summary, handoff
 * without destination, data that is not JSON or too large (nothing is sent)
 */
export async function setWorkStatus(room: Room, options: SetWorkOptions): Promise<SetWorkResult> {
  if (!isWorkState(options.state)) {
    throw new InvalidValueError(
      `Invalid work state ${JSON.stringify(options.state)}: expected ${WORK_STATES.join("|")}`,
    );
  }
  const scope = checkText("scope", options.scope);
  const summary = checkText("summary", options.summary);
  const to = (options.to ?? "").trim();
  if (options.state === "handoff" && to === "") {
    throw new InvalidValueError("Invalid work status: handoff requires a destination agent");
  }
  // deno-lint-ignore no-control-regex
  if (to.includes(":") || /[\s\u0000-\u001f\u007f-\u009f]/.test(to)) {
    throw new InvalidValueError(`Invalid work destination ${JSON.stringify(to)}: not an agent id`);
  }
  const data = (options.dataJson ?? "").trim();
  if (data !== "") {
    try {
      JSON.parse(data);
    } catch {
      throw new InvalidValueError("Invalid work data: it is not JSON");
    }
    const size = new TextEncoder().encode(data).length;
    const cap = room.config.maxPayloadBytes;
    if (cap > 0 && size > cap) {
      throw new InvalidValueError(`Invalid work data: ${size} bytes, max ${cap} bytes`);
    }
  }
  const ttl = checkDuration("work ttl", options.ttlMs ?? DEFAULT_WORK_TTL_MS);
  const { keys, config } = room;
  const id = await workStatusId(options.agent.agent_id, scope);
  const reply = await room.redis.evalScript(WORK_SET, [
    ...keys.core,
    keys.work,
    keys.workExpiry,
    ...(to === "" ? [] : [keys.inboxRecipients, keys.inbox(to)]),
  ], [
    ...actorArgs(room, options.agent),
    id,
    options.state,
    ttl,
    to,
    scope,
    summary,
    data,
    config.inboxMaxLen,
    config.inboxTtlMs,
  ]);
  return decodeWorkSetReply(reply);
}

/**
 * Current work statuses, most recently updated first. Reads the work index,
 * never the stream.
 *
 * @param room the room
 */
export async function listWork(room: Room): Promise<WorkStatus[]> {
  return sortWork((await readSnapshot(room)).work);
}
