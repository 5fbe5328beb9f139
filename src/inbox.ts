/**
 * Durable inboxes: every directed event to an agent is also appended to that
 * agent's inbox (a stream keyed by the **resolved** agent id), in the same
 * script that publishes it. Each recipient has its own read cursor, so a
 * message sent while an agent was away is read exactly once when it returns.
 *
 * @module
 */
import { decodeStreamEntry, fieldValue, type RoomEvent } from "./codec.ts";
import { type Room, validateStreamId } from "./room.ts";
import { ADVANCE_CURSOR } from "./scripts.ts";
import { textReply } from "./replies.ts";

/** One inbox entry: the copy of a room event. */
export interface InboxEntry {
  /** Inbox entry id (the cursor moves over these). */
  inbox_id: string;
  /** The room event, with its room id. */
  event: RoomEvent;
}

function decodeInbox(reply: unknown): InboxEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: InboxEntry[] = [];
  for (const raw of reply) {
    const decoded = decodeStreamEntry(raw);
    if (!decoded) continue;
    const sourceId = fieldValue((raw as [string, unknown[]])[1], "source_id") ?? "";
    entries.push({ inbox_id: decoded.id, event: { ...decoded, id: sourceId } });
  }
  return entries;
}

/**
 * The recipient's read cursor (last inbox entry read), `0-0` when none.
 *
 * @param room the room
 * @param recipient agent id
 */
export async function inboxCursor(room: Room, recipient: string): Promise<string> {
  const cursor = await room.redis.call(["GET", room.keys.inboxCursor(recipient)]);
  return typeof cursor === "string" ? cursor : "0-0";
}

/**
 * Unread entries (after the cursor), oldest first; does not move the cursor.
 *
 * @param room the room
 * @param options recipient and how many at most (default 100)
 */
export async function unreadInbox(
  room: Room,
  options: { recipient: string; count?: number },
): Promise<InboxEntry[]> {
  const cursor = await inboxCursor(room, options.recipient);
  const reply = await room.redis.call([
    "XRANGE",
    room.keys.inbox(options.recipient),
    `(${cursor}`,
    "+",
    "COUNT",
    options.count ?? 100,
  ]);
  return decodeInbox(reply);
}

/**
 * The whole inbox (read and unread), oldest first, newest `count` kept.
 *
 * @param room the room
 * @param options recipient and how many at most (default 100)
 */
export async function inboxHistory(
  room: Room,
  options: { recipient: string; count?: number },
): Promise<InboxEntry[]> {
  const reply = await room.redis.call([
    "XREVRANGE",
    room.keys.inbox(options.recipient),
    "+",
    "-",
    "COUNT",
    options.count ?? 100,
  ]);
  return decodeInbox(reply).reverse();
}

/**
 * Marks entries up to `inboxId` as read. The cursor only moves forward, so a
 * late or repeated commit never re-delivers or skips.
 *
 * @param room the room
 * @param options recipient and the last inbox entry id read
 * @returns the cursor after the call
 */
export async function markInboxRead(
  room: Room,
  options: { recipient: string; inboxId: string },
): Promise<string> {
  validateStreamId(options.inboxId);
  return textReply(
    ADVANCE_CURSOR,
    await room.redis.evalScript(
      ADVANCE_CURSOR,
      [room.keys.inboxCursor(options.recipient)],
      [options.inboxId, room.config.inboxTtlMs],
    ),
  );
}
