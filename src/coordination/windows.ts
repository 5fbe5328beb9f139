/**
 * Quiet windows: exclusive use of resources for a while (a migration, a
 * release), agreed with the agents it affects.
 *
 * - **request**: refused while any live window overlaps. Owners of other
 *   agents' live leases that overlap become required acknowledgers next to
 *   the agents named, and each required agent gets `WINDOW_ACK_REQUIRED` in
 *   the room and in its durable inbox. With nobody to ask the window is
 *   active at once (`WINDOW_REQUESTED`, then `WINDOW_ACTIVATED`); otherwise
 *   it is pending until the ack deadline. The requester's own leases never
 *   block its own window.
 * - A pending window blocks new overlapping leases of other agents and
 *   renewals of their overlapping leases, so they drain.
 * - **ack**, **activate**, **release**, **cancel**: see `window_lifecycle.ts`.
 * - **status** and **list** read one window or all, deriving `expired`; an
 *   ended window stays visible for 24h.
 * - A live window never overlaps another live window, and an active window
 *   never overlaps a live lease of another agent.
 *
 * @module
 */
import {
  actorArgs,
  checkDuration,
  checkId,
  checkPurpose,
  coordKeys,
  decodeWindow,
  newCoordinationId,
  readSnapshot,
  WINDOW_RETENTION_MS,
} from "./shared.ts";
import { InvalidValueError, UnexpectedReplyError } from "../errors.ts";
import type { AgentIdentity } from "../identity.ts";
import type { QuietWindow } from "./shared.ts";
import { decodeWindowRequestReply, type WindowRequestResult } from "./replies.ts";
import { normalizeResources } from "./resources.ts";
import type { Room } from "../room.ts";
import { WINDOW_REQUEST } from "../scripts.ts";

export type { QuietWindow, WindowState } from "./shared.ts";
export type { WindowRequestResult } from "./replies.ts";

/** Default length of an active window: 5 minutes. */
export const DEFAULT_WINDOW_TTL_MS = 5 * 60_000;
/** Default time the required agents have to acknowledge: 2 minutes. */
export const DEFAULT_ACK_TIMEOUT_MS = 2 * 60_000;

/** What {@linkcode requestWindow} needs. */
export interface RequestWindowOptions {
  /** The owner. */
  agent: AgentIdentity;
  /** One or more resources (`<kind>:<name>`). */
  resources: readonly string[];
  /** What it is for (one line). */
  purpose: string;
  /** Length once active, 1 ms to 24h. @default 5 minutes */
  ttlMs?: number;
  /** Time to acknowledge, 1 ms to 24h. @default 2 minutes */
  ackTimeoutMs?: number;
  /** Agent ids that must acknowledge (resolved ids; the owner is ignored). */
  require?: readonly string[];
}

function checkAgents(agents: readonly string[], owner: string): string[] {
  const out = new Set<string>();
  for (const raw of agents) {
    const agent = raw.trim();
    // deno-lint-ignore no-control-regex
    if (agent === "" || agent.includes(":") || /[\s\u0000-\u001f\u007f-\u009f]/.test(agent)) {
      throw new InvalidValueError(
        `Invalid required agent ${
          JSON.stringify(raw)
        }: expected an agent id such as reviewer-1a2b3c4d`,
      );
    }
    if (agent !== owner) out.add(agent);
  }
  return [...out].sort();
}

/**
 * Requests a quiet window (see the module description).
 *
 * @param room the room
 * @param options owner, resources, purpose, TTL, ack timeout, required agents
 * @returns the window (active or pending), or the overlapping live window
 * @throws {InvalidValueError} for a bad resource, purpose, duration or agent id (nothing is sent)
 */
export async function requestWindow(
  room: Room,
  options: RequestWindowOptions,
): Promise<WindowRequestResult> {
  const resources = normalizeResources(options.resources);
  const purpose = checkPurpose(options.purpose);
  const ttl = checkDuration("window ttl", options.ttlMs ?? DEFAULT_WINDOW_TTL_MS);
  const ack = checkDuration("ack timeout", options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS);
  const named = checkAgents(options.require ?? [], options.agent.agent_id);
  let candidates = named;
  let id = newCoordinationId();
  // Lease holders are found by the script; it asks again (declaring their inboxes)
  // when one was not expected. Each round adds at least one agent.
  for (let round = 0;; round++) {
    const reply = await room.redis.evalScript(WINDOW_REQUEST, [
      ...coordKeys(room),
      room.keys.inboxRecipients,
      ...candidates.map((agent) => room.keys.inbox(agent)),
    ], [
      ...actorArgs(room, options.agent),
      id,
      ttl,
      ack,
      purpose,
      WINDOW_RETENTION_MS,
      room.config.inboxMaxLen,
      room.config.inboxTtlMs,
      JSON.stringify(resources),
      JSON.stringify(named),
      JSON.stringify(candidates),
    ]);
    const result = decodeWindowRequestReply(reply);
    if (result.outcome === "exists") id = newCoordinationId();
    else if (result.outcome !== "retry") return result;
    else if (round < 20) candidates = [...new Set([...candidates, ...result.required])].sort();
    else throw new UnexpectedReplyError(WINDOW_REQUEST.name, reply);
  }
}

/**
 * One window, with `expired` derived on the server clock.
 *
 * @param room the room
 * @param windowId the id
 * @returns the window, or `undefined` when unknown or past its 24h retention
 */
export async function windowStatus(room: Room, windowId: string): Promise<QuietWindow | undefined> {
  const id = checkId("window", windowId);
  const [json, time] = await room.redis.pipeline([["HGET", room.keys.windows, id], ["TIME"]]);
  if (json instanceof Error) throw json;
  if (time instanceof Error) throw time;
  if (typeof json !== "string") return undefined;
  const [seconds, micros] = time as [string, string];
  return decodeWindow(json, Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
}

/**
 * Windows: by default the live ones (pending before the deadline, active
 * before their end); with `all`, every retained one, ended and lapsed included.
 *
 * @param room the room
 * @param options `all`
 */
export async function listWindows(
  room: Room,
  options: { all?: boolean } = {},
): Promise<QuietWindow[]> {
  return (await readSnapshot(room, { windows: options.all ? "all" : "live" })).windows;
}
