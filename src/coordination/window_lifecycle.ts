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
import { actorArgs, checkId, coordKeys, WINDOW_RETENTION_MS } from "./shared.ts";
import type { AgentIdentity } from "../identity.ts";
import {
  decodeWindowAckReply,
  decodeWindowActivateReply,
  decodeWindowFinishReply,
  type WindowAckResult,
  type WindowActivateResult,
  type WindowFinishResult,
} from "./replies.ts";
import type { Room } from "../room.ts";
import { WINDOW_ACK, WINDOW_ACTIVATE, WINDOW_FINISH } from "../scripts.ts";

export type { WindowAckResult, WindowActivateResult, WindowFinishResult } from "./replies.ts";

async function windowScript(
  room: Room,
  script: typeof WINDOW_ACK,
  agent: AgentIdentity,
  args: (string | number)[],
): Promise<unknown> {
  return await room.redis.evalScript(script, coordKeys(room), [
    ...actorArgs(room, agent),
    ...args,
  ]);
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
  return decodeWindowAckReply(reply);
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
  return decodeWindowActivateReply(reply);
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
  return decodeWindowFinishReply(reply, how);
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
