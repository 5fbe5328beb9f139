/**
 * Conversion between room events and Redis stream fields.
 *
 * Stream fields: `type, agent_id, agent_handle, session_id, to, reply_to,
 * payload, timestamp`. The payload is stored as JSON text; the timestamp as
 * Unix milliseconds. Decoding is tolerant: missing fields become empty, a
 * payload that is not JSON (written by another tool) becomes a JSON string,
 * and a nanosecond timestamp (the Go tool) is converted to milliseconds.
 *
 * @module
 */

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | {
  [key: string]: JsonValue;
};

/** One immutable event of a room. */
export interface RoomEvent {
  /** Stream entry id, e.g. `1763700000000-0`. */
  id: string;
  /** Event type, e.g. `NOTE`, `TASK_DONE`. */
  type: string;
  /** Qualified id of the agent that wrote it. */
  agent_id: string;
  /** The agent's handle without the session token (may be empty). */
  agent_handle: string;
  /** Session token of the writer (may be empty). */
  session_id: string;
  /** Destination agent or room key; empty for broadcasts. */
  to: string;
  /** Id of the event this one answers; empty when none. */
  reply_to: string;
  /** The payload, always a JSON value (`null` when empty). */
  payload: JsonValue;
  /** Unix milliseconds. */
  timestamp: number;
}

/** The fields written by the stream codec, in order. */
export const EVENT_FIELDS = [
  "type",
  "agent_id",
  "agent_handle",
  "session_id",
  "to",
  "reply_to",
  "payload",
  "timestamp",
] as const;

/** An event to encode: no id, and the timestamp only when the caller sets it. */
export type EventDraft = Omit<RoomEvent, "id" | "timestamp"> & { timestamp?: number };

/**
 * Encodes an event (without id) as a flat field/value list for XADD. The
 * `timestamp` field is written only when the event has one (the publish
 * scripts add the server's).
 *
 * @param event the event; its `id` is ignored
 * @returns `[field, value, field, value, …]`
 */
export function encodeEventFields(event: EventDraft): string[] {
  const fields = [
    "type",
    event.type,
    "agent_id",
    event.agent_id,
    "agent_handle",
    event.agent_handle,
    "session_id",
    event.session_id,
    "to",
    event.to,
    "reply_to",
    event.reply_to,
    "payload",
    event.payload === null ? "" : JSON.stringify(event.payload),
  ];
  if (event.timestamp !== undefined) fields.push("timestamp", String(event.timestamp));
  return fields;
}

/**
 * The value of field `name` in a flat `[field, value, …]` list.
 *
 * @param fields the list (as encoded, or as a stream entry holds it)
 * @param name the field
 * @returns its value, or `undefined` when the list has no such string field
 */
export function fieldValue(fields: readonly unknown[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1];
    if (fields[i] === name && typeof value === "string") return value;
  }
  return undefined;
}

/**
 * Decodes one stream entry (`[id, [field, value, …]]` as Redis returns it).
 *
 * @param entry the raw entry
 * @returns the event, or `undefined` when the entry is not shaped like one
 */
export function decodeStreamEntry(entry: unknown): RoomEvent | undefined {
  if (!Array.isArray(entry) || typeof entry[0] !== "string" || !Array.isArray(entry[1])) {
    return undefined;
  }
  const raw: Record<string, string> = {};
  const list = entry[1] as unknown[];
  for (let i = 0; i + 1 < list.length; i += 2) {
    const field = list[i];
    const value = list[i + 1];
    if (typeof field === "string" && typeof value === "string") raw[field] = value;
  }
  return {
    id: entry[0],
    type: raw.type ?? "",
    agent_id: raw.agent_id ?? "",
    agent_handle: raw.agent_handle ?? "",
    session_id: raw.session_id ?? "",
    to: raw.to ?? "",
    reply_to: raw.reply_to ?? "",
    payload: decodePayload(raw.payload ?? ""),
    timestamp: decodeTimestamp(raw.timestamp ?? "", entry[0]),
  };
}

/**
 * Decodes a list of stream entries, skipping malformed ones.
 *
 * @param reply an XRANGE/XREVRANGE reply
 * @returns the events in reply order
 */
export function decodeStreamEntries(reply: unknown): RoomEvent[] {
  if (!Array.isArray(reply)) return [];
  const events: RoomEvent[] = [];
  for (const entry of reply) {
    const event = decodeStreamEntry(entry);
    if (event) events.push(event);
  }
  return events;
}

/**
 * Turns payload text into a JSON value: JSON text is parsed, anything else
 * becomes a JSON string, and empty text is `null`.
 *
 * @param text payload text as given by a user or stored in Redis
 * @returns a JSON value
 */
export function decodePayload(text: string): JsonValue {
  if (text === "") return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

function decodeTimestamp(text: string, id: string): number {
  const value = Number(text);
  if (text !== "" && Number.isFinite(value) && value > 0) {
    // The Go tool stored nanoseconds; anything past year 33658 in ms is ns.
    return value > 1e15 ? Math.floor(value / 1e6) : Math.floor(value);
  }
  const fromId = Number(id.split("-")[0]);
  return Number.isFinite(fromId) ? fromId : 0;
}
