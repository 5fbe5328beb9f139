/**
 * The steps of a quiet window after its request (see `windows.ts`):
 *
 * - **ack**: a required agent, before the deadline (twice is fine).
 * - **activate**: the owner, before the deadline, once every required agent
 *   acknowledged and no other agent's overlapping lease lives. An agent that
 *   was required only because it held a lease counts as acknowledged once
 *   that lease is gone (released or lapsed), so an owner who went away
 *   cannot block a window forever. Of concurrent activations one wins.
 * - **release** ends an active window, **cancel** a pending one (also after
 *   they lapsed); ending twice is fine. The record stays visible for 24h.
 *
 * Each step writes its audit event (`WINDOW_ACKNOWLEDGED`,
 * `WINDOW_ACTIVATED`, `WINDOW_RELEASED`, `WINDOW_CANCELLED`) in the same
 * script, on Redis server time.
 *
 * @module
 */
import {
  actorArgs,
  checkId,
  coordKeys,
  decodeConflict,
  decodeWindow,
  WINDOW_RETENTION_MS,
} from "./shared.ts";
import type { AgentIdentity } from "../identity.ts";
import type { QuietWindow, ResourceConflict, WindowState } from "./shared.ts";
import type { Room } from "../room.ts";
import { WINDOW_ACK, WINDOW_ACTIVATE, WINDOW_FINISH } from "../scripts.ts";

/** The result of {@linkcode ackWindow}. */
export type WindowAckResult =
  | { outcome: "acknowledged"; window: QuietWindow; auditId: string; already: boolean }
  | { outcome: "missing" }
  | { outcome: "expired" }
  | { outcome: "state"; state: WindowState }
  | { outcome: "not_required"; owner: string };

/** The result of {@linkcode activateWindow}. */
export type WindowActivateResult =
  | { outcome: "activated"; window: QuietWindow; auditId: string }
  | { outcome: "missing" }
  | { outcome: "expired" }
  | { outcome: "not_owner"; owner: string }
  | { outcome: "state"; state: WindowState }
  | { outcome: "acks"; outstanding: string[]; checkedAt: number }
  | { outcome: "conflict"; conflict: ResourceConflict };

/** The result of {@linkcode releaseWindow} and {@linkcode cancelWindow}. */
export type WindowFinishResult =
  | { outcome: "released" | "cancelled"; window: QuietWindow; auditId: string; already: boolean }
  | { outcome: "missing" }
  | { outcome: "not_owner"; owner: string }
  | { outcome: "state"; state: WindowState };

async function windowScript(
  room: Room,
  script: typeof WINDOW_ACK,
  agent: AgentIdentity,
  args: (string | number)[],
): Promise<unknown[]> {
  return await room.redis.evalScript(script, coordKeys(room), [
    ...actorArgs(room, agent),
    ...args,
  ]) as unknown[];
}

/**
 * Acknowledges a pending window (a required agent, before the deadline).
 *
 * @param room the room
 * @param options the acknowledging agent and the window id
 * @returns the outcome
 */
export async function ackWindow(
  room: Room,
  options: { agent: AgentIdentity; windowId: string },
): Promise<WindowAckResult> {
  const id = checkId("window", options.windowId);
  const reply = await windowScript(room, WINDOW_ACK, options.agent, [id]);
  switch (reply[0]) {
    case "ok":
      return {
        outcome: "acknowledged",
        window: decodeWindow(String(reply[1]), 0),
        auditId: String(reply[2]),
        already: reply[2] === "",
      };
    case "state":
      return { outcome: "state", state: reply[1] as WindowState };
    case "not_required":
      return { outcome: "not_required", owner: String(reply[1]) };
    case "expired":
      return { outcome: "expired" };
    default:
      return { outcome: "missing" };
  }
}

/**
 * Activates a pending window (the owner, before the deadline, all acks in,
 * no overlapping lease of another agent).
 *
 * @param room the room
 * @param options the owner and the window id
 * @returns the outcome
 */
export async function activateWindow(
  room: Room,
  options: { agent: AgentIdentity; windowId: string },
): Promise<WindowActivateResult> {
  const id = checkId("window", options.windowId);
  const reply = await windowScript(room, WINDOW_ACTIVATE, options.agent, [
    id,
    WINDOW_RETENTION_MS,
  ]);
  switch (reply[0]) {
    case "ok":
      return {
        outcome: "activated",
        window: decodeWindow(String(reply[1]), 0),
        auditId: String(reply[2]),
      };
    case "not_owner":
      return { outcome: "not_owner", owner: String(reply[1]) };
    case "state":
      return { outcome: "state", state: reply[1] as WindowState };
    case "expired":
      return { outcome: "expired" };
    case "acks":
      return {
        outcome: "acks",
        checkedAt: Number(reply[1]),
        outstanding: reply.slice(2).map(String),
      };
    case "lease":
      return { outcome: "conflict", conflict: decodeConflict(reply) };
    default:
      return { outcome: "missing" };
  }
}

async function finishWindow(
  room: Room,
  options: { agent: AgentIdentity; windowId: string },
  how: "release" | "cancel",
): Promise<WindowFinishResult> {
  const id = checkId("window", options.windowId);
  const reply = await windowScript(room, WINDOW_FINISH, options.agent, [
    id,
    how,
    WINDOW_RETENTION_MS,
  ]);
  switch (reply[0]) {
    case "ok":
      return {
        outcome: how === "release" ? "released" : "cancelled",
        window: decodeWindow(String(reply[1]), 0),
        auditId: String(reply[2]),
        already: reply[2] === "",
      };
    case "not_owner":
      return { outcome: "not_owner", owner: String(reply[1]) };
    case "state":
      return { outcome: "state", state: reply[1] as WindowState };
    default:
      return { outcome: "missing" };
  }
}

/**
 * Ends an active window (the owner; also once it lapsed). Releasing twice is fine.
 *
 * @param room the room
 * @param options the owner and the window id
 * @returns the outcome
 */
export async function releaseWindow(
  room: Room,
  options: { agent: AgentIdentity; windowId: string },
): Promise<WindowFinishResult> {
  return await finishWindow(room, options, "release");
}

/**
 * Withdraws a pending window (the owner; also after its deadline). Cancelling twice is fine.
 *
 * @param room the room
 * @param options the owner and the window id
 * @returns the outcome
 */
export async function cancelWindow(
  room: Room,
  options: { agent: AgentIdentity; windowId: string },
): Promise<WindowFinishResult> {
  return await finishWindow(room, options, "cancel");
}
