/**
 * Per-session read cursors: where a session last read a room. Hooks inject
 * only what is new since then, and commit the cursor only after the output
 * was written, so a failed write re-delivers instead of losing events.
 *
 * @module
 */
import type { Room } from "../src/room.ts";
import { validateStreamId } from "../src/room.ts";
import { ADVANCE_CURSOR } from "../src/scripts.ts";
import { textReply } from "../src/replies.ts";

/**
 * Whether stream id `a` comes after stream id `b` (`ms-seq`, compared as numbers).
 *
 * @param a a stream id
 * @param b a stream id
 */
export function streamIdAfter(a: string, b: string): boolean {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am > bm || (am === bm && as > bs);
}

/**
 * The session's cursor in this room, or `undefined` when it never read it.
 *
 * @param room the room
 * @param sessionId the full session id
 */
export async function readCursor(room: Room, sessionId: string): Promise<string | undefined> {
  const value = await room.redis.call(["GET", room.keys.cursor(sessionId)]);
  return typeof value === "string" ? value : undefined;
}

/**
 * The cursor a joining session starts from: `config.joinReplayMs` before now
 * on the Redis server clock, so events that landed just before the session
 * started are still seen.
 *
 * @param room the room
 */
export async function joinCursor(room: Room): Promise<string> {
  return `${Math.max(0, (await room.serverTime()) - room.config.joinReplayMs)}-0`;
}

/**
 * Moves the session's cursor forward to `id` (never back) and re-arms its TTL.
 *
 * @param room the room
 * @param options session id and the last event id read
 */
export async function commitCursor(
  room: Room,
  options: { sessionId: string; id: string },
): Promise<void> {
  validateStreamId(options.id);
  const reply = await room.redis.evalScript(ADVANCE_CURSOR, [room.keys.cursor(options.sessionId)], [
    options.id,
    room.config.cursorTtlMs,
  ]);
  textReply(ADVANCE_CURSOR, reply);
}
