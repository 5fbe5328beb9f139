/**
 * Durable inboxes: every directed event to an agent is also appended to that
 * agent's inbox (a stream keyed by the **resolved** agent id), in the same
 * script that publishes it. Each recipient has its own read cursor, so a
 * message sent while an agent was away is read exactly once when it returns.
 *
 * @module
 */
import {
  decodeStreamEntry,
  encodeEventFields,
  fieldValue,
  type JsonValue,
  type RoomEvent,
} from "./codec.ts";
import { InvalidValueError, PayloadTooLargeError } from "./errors.ts";
import type { AgentIdentity } from "./identity.ts";
import { type Room, validateEventType, validateStreamId } from "./room.ts";
import { ADVANCE_CURSOR, PRIVATE } from "./scripts.ts";
import { decodePrivateReply, textReply } from "./replies.ts";

/** The `source_id` of an inbox entry that was sent privately (it has no room entry). */
export const PRIVATE_SOURCE = "private";

/** One inbox entry: the copy of a room event. */
export interface InboxEntry {
  /** Inbox entry id (the cursor moves over these). */
  inbox_id: string;
  /** The room event, with its room id (a private message: its inbox entry id). */
  event: RoomEvent;
  /** Whether it was sent privately (in this inbox only, not in the room's feed). */
  private: boolean;
}

/**
 * Sends an event privately: into one recipient's durable inbox only, never the room's
 * shared feed. "Private" means not in the feed, not confidential: anyone with access to
 * the Redis server can read it. Its id is its inbox entry id; a reply finds it through
 * `reply_to` (a private reply goes back the same way, into the sender's inbox).
 *
 * @param room the room
 * @param input sender, resolved recipient id, type, payload, optional `reply_to`
 * @returns the delivered event (id = inbox entry id)
 * @throws {InvalidValueError} for a bad type, an empty or room-key recipient, or a bad reply_to
 * @throws {PayloadTooLargeError} when the payload's JSON exceeds the cap
 */
export async function sendPrivate(
  room: Room,
  input: { agent: AgentIdentity; to: string; type: string; payload?: JsonValue; reply_to?: string },
): Promise<RoomEvent> {
  const to = input.to;
  if (to === "" || to.includes(":")) {
    throw new InvalidValueError(
      "Cannot send privately: the recipient must be one agent id, not empty or a room key",
    );
  }
  const event = {
    type: validateEventType(input.type),
    agent_id: input.agent.agent_id,
    agent_handle: input.agent.handle,
    session_id: input.agent.session_id,
    to,
    reply_to: input.reply_to ?? "",
    payload: input.payload ?? null,
  };
  if (event.reply_to !== "") validateStreamId(event.reply_to);
  const fields = encodeEventFields(event);
  const size = new TextEncoder().encode(fieldValue(fields, "payload")).length;
  const cap = room.config.maxPayloadBytes;
  if (cap > 0 && size > cap) throw new PayloadTooLargeError(size, cap);
  const { id, timestamp } = decodePrivateReply(
    await room.redis.evalScript(PRIVATE, [room.keys.inbox(to), room.keys.inboxRecipients], [
      to,
      room.config.inboxMaxLen,
      room.config.inboxTtlMs,
      ...fields,
    ]),
  );
  return { id, ...event, timestamp };
}

function decodeInbox(reply: unknown): InboxEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: InboxEntry[] = [];
  for (const raw of reply) {
    const decoded = decodeStreamEntry(raw);
    if (!decoded) continue;
    const sourceId = fieldValue((raw as [string, unknown[]])[1], "source_id") ?? "";
    // a private message has no room entry: its id is its inbox entry id
    const id = sourceId === PRIVATE_SOURCE ? decoded.id : sourceId;
    entries.push({
      inbox_id: decoded.id,
      event: { ...decoded, id },
      private: sourceId === PRIVATE_SOURCE,
    });
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
